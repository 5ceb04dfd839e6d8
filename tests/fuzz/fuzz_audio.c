/* tests/fuzz/fuzz_audio.c: audio decoding through libsndfile (attn_audio_read_memory and the
 * resampling stream, src/audio/audio_read.c) on any bytes, then features of what was decoded: what
 * is accepted has at least one frame, a sane channel count and finite samples, and its features are
 * finite. At most 16 Ki samples are streamed, to keep each input fast. The stream resamples to
 * 16 kHz for one input in sixteen (chosen by a hash of its bytes, so the corpus keeps both kinds)
 * and reads at the file's own rate otherwise: libsamplerate's best converter allocates and clears
 * about half a megabyte per stream and its sinc filter is slow, which made the resampling inputs
 * ten times slower than the rest (one in four of them still took half of the target's time). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "attn/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_audio a;
    if (attn_audio_read_memory(data, size, &a) == ATTN_OK) {
        if (a.n_frames < 1 || a.channels < 1 || a.channels > 256 || a.sample_rate < 1) abort();
        for (long i = 0; i < a.n_frames * a.channels; i++)
            if (!isfinite(a.samples[i])) abort();
        attn_audio_free(&a);
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    attn_audio_stream *s;
    if (attn_audio_stream_open_memory(data, size, h % 16 == 0 ? 16000 : 0, &s) != ATTN_OK) return 0;
    static float buf[4096], feats[64 * 80];
    attn_fbank_params p = attn_fbank_default_params();
    attn_fbank *fb;
    if (attn_fbank_create(&p, &fb) != ATTN_OK) abort();
    long got, total = 0, frames;
    while (total < 16384 && attn_audio_stream_read(s, buf, 1024, &got) == ATTN_OK && got > 0) {
        total += got;
        if (attn_fbank_pending(fb, got) > 64) abort(); /* 1024 samples make at most 3 frames */
        if (attn_fbank_accept(fb, buf, got, feats, 64, &frames) != ATTN_OK) abort();
        for (long i = 0; i < frames * 80; i++)
            if (!isfinite(feats[i])) abort();
    }
    attn_fbank_free(fb);
    attn_audio_stream_close(s);
    return 0;
}
