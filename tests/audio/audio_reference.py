#!/usr/bin/python3
"""tests/audio/audio_reference.py OUTDIR: test audio and torchaudio's features of it.

Writes deterministic WAV files into OUTDIR with Python's `wave` module (no libsndfile involved):
  speech_16k.wav  16 kHz mono 16-bit, 1.23 s: a voiced-speech-like signal (harmonics of a gliding
                  f0 under three formants, amplitude-modulated) plus seeded white noise at -45 dB;
  stereo_48k.wav  48 kHz stereo 16-bit, 0.8 s: tones (300, 1000, 2500, 5000 Hz) in the left channel,
                  a 150..6000 Hz chirp in the right, and a 12 kHz tone in both that resampling to
                  16 kHz must remove (it would alias to 4 kHz);
  tone_8k.wav     8 kHz mono 16-bit, 0.6 s: tones at 200, 1000 and 3000 Hz;
  silence_16k.wav 16 kHz mono 16-bit, 0.5 s of zeros;
  pcm24_16k.wav   speech_16k as 24-bit PCM.
then, for each reference array NAME, OUTDIR/NAME.f32 (float32, little-endian, row-major) computed by
torchaudio 0.13 from the samples the `wave` module wrote (int / 2^(bits-1), as libsndfile reads
them), and prints one JSON object {NAME: [rows, cols]} on stdout. Exit 77 without torchaudio.
"""
import json
import math
import os
import sys
import wave

try:
    import numpy as np
    import torch
    import torchaudio
    import torchaudio.compliance.kaldi as kaldi
except ImportError:
    sys.exit(77)

out = sys.argv[1]
rng = np.random.default_rng(20240901)
shapes = {}


def write_wav(name, x, rate, width=2):
    """x: (n, channels) float in [-1, 1) -> PCM of `width` bytes; returns the samples as read."""
    scale = float(1 << (8 * width - 1))
    q = np.clip(np.round(x * scale), -scale, scale - 1).astype(np.int64)
    with wave.open(os.path.join(out, name), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        flat = q.reshape(-1)
        if width == 2:
            w.writeframes(flat.astype("<i2").tobytes())
        else:  # 24-bit: the low three bytes of each little-endian int32
            b = flat.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
            w.writeframes(b.tobytes())
    return (q / scale).astype(np.float32)


def save(name, a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    if a.ndim == 1:
        a = a[:, None]
    a.astype("<f4").tofile(os.path.join(out, name + ".f32"))
    shapes[name] = list(a.shape)


def speech_like(n, rate):
    t = np.arange(n) / rate
    f0 = 120 + 100 * t / t[-1]  # a glide from 120 to 220 Hz
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = np.zeros(n)
    for h in range(1, 30):
        fh = h * f0
        # three formants at 700, 1200, 2600 Hz
        gain = sum(a / (1 + ((fh - fc) / bw) ** 2) for fc, bw, a in
                   ((700, 130, 1.0), (1200, 150, 0.5), (2600, 250, 0.25)))
        x += np.where(fh < rate / 2, gain * np.sin(h * phase), 0)
    x *= 0.35 / np.max(np.abs(x)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return x + 10 ** (-45 / 20) * rng.standard_normal(n)


speech = write_wav("speech_16k.wav", speech_like(19680, 16000)[:, None], 16000)[:, 0]
write_wav("pcm24_16k.wav", speech[:, None].astype(np.float64), 16000, width=3)
write_wav("silence_16k.wav", np.zeros((8000, 1)), 16000)

n48 = 38400
t48 = np.arange(n48) / 48000
left = sum(0.1 * np.sin(2 * np.pi * f * t48) for f in (300, 1000, 2500, 5000))
right = 0.3 * np.sin(2 * np.pi * (150 * t48 + (6000 - 150) / (2 * t48[-1]) * t48 ** 2))
alias = 0.2 * np.sin(2 * np.pi * 12000 * t48)
stereo = write_wav("stereo_48k.wav", np.stack([left + alias, right + alias], 1), 48000)

t8 = np.arange(4800) / 8000
tone8 = write_wav("tone_8k.wav", (sum(0.25 * np.sin(2 * np.pi * f * t8) for f in (200, 1000, 3000)))[:, None],
                  8000)[:, 0]

x = torch.from_numpy(speech)[None, :]
# Kaldi's features with its defaults (povey window, pre-emphasis 0.97, DC removal, n_fft 512, 20 Hz
# to Nyquist, snip_edges) and no dither.
save("kaldi_fbank", kaldi.fbank(x, num_mel_bins=80, dither=0.0))
save("kaldi_mfcc", kaldi.mfcc(x, dither=0.0))
# The options one by one away from the defaults: hamming, no pre-emphasis or DC removal, n_fft = 400,
# magnitude, 40 bands from 0 Hz to Nyquist - 400 Hz, no log; and MFCC of 40 bands without lifter.
save("kaldi_fbank_options", kaldi.fbank(x, num_mel_bins=40, dither=0.0, window_type="hamming",
                                        preemphasis_coefficient=0.0, remove_dc_offset=False,
                                        round_to_power_of_two=False, use_power=False, low_freq=0.0,
                                        high_freq=-400.0, use_log_fbank=False))
save("kaldi_fbank_hanning", kaldi.fbank(x, num_mel_bins=64, dither=0.0, window_type="hanning",
                                        frame_length=20.0, frame_shift=12.5))
# The frame's log energy: as column 0 of fbank (raw, floored at 1 as torchaudio's default), and in
# place of c0 of MFCC (after the window, no floor), as Kaldi's compute-mfcc-feats does by default.
save("kaldi_fbank_energy", kaldi.fbank(x, num_mel_bins=80, dither=0.0, use_energy=True))
save("kaldi_mfcc_energy", kaldi.mfcc(x, dither=0.0, use_energy=True, raw_energy=False, energy_floor=0.0))
save("kaldi_mfcc_options", kaldi.mfcc(x, dither=0.0, num_mel_bins=40, num_ceps=40, cepstral_lifter=0.0,
                                      window_type="rectangular"))
# The ends mirrored (snip_edges=False): 25 / 10 ms, and 10 ms frames every 25 ms (a negative pad).
save("kaldi_fbank_noedges", kaldi.fbank(x, num_mel_bins=80, dither=0.0, snip_edges=False))
save("kaldi_fbank_noedges_skip", kaldi.fbank(x, num_mel_bins=23, dither=0.0, snip_edges=False,
                                             frame_length=10.0, frame_shift=25.0))
# torchaudio's MelSpectrogram (HTK filters in Hz, periodic Hann window, n_fft 400), with its default
# centring (reflection padding of n_fft / 2) and without.
mel_c = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=80,
                                             power=2.0)(x)[0].T
save("mel_htk_center_log", torch.clamp(mel_c, min=float(np.finfo(np.float32).eps)).log())
mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=80,
                                           center=False, power=2.0)(x)[0].T
save("mel_htk_log", torch.clamp(mel, min=float(np.finfo(np.float32).eps)).log())

# Resampling: the channels' mean, then torchaudio's Kaiser-windowed sinc resampler with a long filter.
def resample(sig, rate_in, rate_out):
    y = torchaudio.functional.resample(torch.from_numpy(sig.astype(np.float64))[None, :], rate_in, rate_out,
                                       lowpass_filter_width=128, rolloff=0.96, resampling_method="kaiser_window",
                                       beta=14.769656459379492)
    return y[0].numpy()


mono48 = stereo.astype(np.float64).mean(1)
save("mono_48k", mono48)
r48 = resample(mono48, 48000, 16000)
save("resampled_48k", r48)
save("resampled_48k_fbank", kaldi.fbank(torch.from_numpy(r48.astype(np.float32))[None, :], num_mel_bins=80,
                                        dither=0.0))
r8 = resample(tone8.astype(np.float64), 8000, 16000)
save("resampled_8k", r8)
# Speed perturbation by 1.1: the samples resampled by 10 / 11 (the same samples played 1.1 times
# faster at the same rate).
save("speed_1.1", resample(r8, 11, 10))
json.dump(shapes, sys.stdout)
