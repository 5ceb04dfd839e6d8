/* tests/audio/test_audio_errors.c: src/audio on bad and unusual input: missing, empty, truncated,
 * non-audio and unsupported files, files in memory, FLAC and Ogg/Vorbis, NaN samples, a file over
 * the whole-read limit (read as a stream instead), bad rates and feature parameters. Each gives
 * one clear error or the documented behaviour, never a crash. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "attn/audio.h"

static char dir[] = "/tmp/attn_audio_err_XXXXXX";

static const char *path_of(const char *name) {
    static char buf[4][4096];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

static void write_bytes(const char *name, const void *data, size_t n) {
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A 16-bit PCM WAV of n frames of a 440 Hz tone through libsndfile, in `format`. */
static void write_tone(const char *name, int format, int rate, int channels, long n) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path_of(name), SFM_WRITE, &info);
    assert_non_null(sf);
    float buf[1024];
    for (long done = 0; done < n;) {
        long k = n - done < 1024 / channels ? n - done : 1024 / channels;
        for (long i = 0; i < k; i++)
            for (int c = 0; c < channels; c++)
                buf[i * channels + c] =
                    0.5f * sinf(2 * 3.14159265f * 440 * (float)(done + i) / rate);
        assert_int_equal(sf_writef_float(sf, buf, k), k);
        done += k;
    }
    sf_close(sf);
}

static unsigned char *read_bytes(const char *name, size_t *n) {
    FILE *f = fopen(path_of(name), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* attn_audio_read(path) fails with `status` and a message containing `part`. */
static void expect_read_error(const char *path, attn_status status, const char *part) {
    attn_audio a = {.n_frames = 7};
    attn_status st = attn_audio_read(path, &a);
    if (st != status || !strstr(attn_last_error(), part))
        fail_msg("%s: status %d, message \"%s\" (wanted %d with \"%s\")", path, st,
                 attn_last_error(), status, part);
    assert_null(a.samples);
    assert_int_equal(a.n_frames, 0);
}

static void test_not_audio(void **state) {
    (void)state;
    expect_read_error(path_of("missing.wav"), ATTN_ERR_IO, "missing.wav");
    expect_read_error(dir, ATTN_ERR_IO, "directory");
    write_bytes("empty.wav", "", 0);
    expect_read_error(path_of("empty.wav"), ATTN_ERR_FORMAT, "libsndfile");
    const char text[] = "label\tthis is a line of text, not audio\n";
    write_bytes("text.wav", text, sizeof text - 1);
    expect_read_error(path_of("text.wav"), ATTN_ERR_FORMAT, "not audio");
    /* A WAV header whose codec is no codec (format tag 0x7777). */
    unsigned char odd[44 + 8] =
        "RIFF\x2c\0\0\0WAVEfmt \x10\0\0\0\x77\x77\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0"
        "data\x08\0\0\0";
    write_bytes("codec.wav", odd, sizeof odd);
    expect_read_error(path_of("codec.wav"), ATTN_ERR_FORMAT, "codec.wav");
    attn_audio_stream *s = (attn_audio_stream *)1;
    assert_int_equal(attn_audio_stream_open(path_of("text.wav"), 16000, &s), ATTN_ERR_FORMAT);
    assert_null(s);
    /* The same from memory. */
    attn_audio a;
    assert_int_equal(attn_audio_read_memory(NULL, 0, &a), ATTN_ERR_FORMAT);
    assert_int_equal(attn_audio_read_memory(text, sizeof text - 1, &a), ATTN_ERR_FORMAT);
    assert_int_equal(attn_audio_read_memory(NULL, 10, &a), ATTN_ERR_INVALID);
    assert_int_equal(attn_audio_read(NULL, &a), ATTN_ERR_INVALID);
}

static void test_truncated(void **state) {
    (void)state;
    write_tone("tone.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 2000);
    size_t n;
    unsigned char *b = read_bytes("tone.wav", &n);
    assert_int_equal(n, 44 + 2 * 2000);
    /* Cut inside the header: not readable. */
    write_bytes("cut20.wav", b, 20);
    expect_read_error(path_of("cut20.wav"), ATTN_ERR_FORMAT, "cut20.wav");
    /* The header alone, which promises 2000 frames: no samples. */
    write_bytes("cut44.wav", b, 44);
    expect_read_error(path_of("cut44.wav"), ATTN_ERR_FORMAT, "no audio samples");
    /* Cut in the data: what is there is read (the header's count is not trusted). */
    write_bytes("cut1044.wav", b, 1044);
    attn_audio a, whole;
    assert_int_equal(attn_audio_read(path_of("cut1044.wav"), &a), ATTN_OK);
    assert_int_equal(a.n_frames, 500);
    assert_int_equal(attn_audio_read(path_of("tone.wav"), &whole), ATTN_OK);
    assert_memory_equal(a.samples, whole.samples, 500 * sizeof(float));
    attn_audio_free(&a);
    /* Every cut from memory is an error or a prefix of the samples, never a crash. */
    for (size_t cut = 0; cut <= n; cut += 7) {
        attn_status st = attn_audio_read_memory(b, cut, &a);
        if (st == ATTN_OK) {
            assert_true(a.n_frames <= 2000);
            assert_memory_equal(a.samples, whole.samples, (size_t)a.n_frames * sizeof(float));
            attn_audio_free(&a);
        } else {
            assert_int_equal(st, ATTN_ERR_FORMAT);
        }
    }
    attn_audio_free(&whole);
    /* A WAV of no frames. */
    write_tone("zero.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0);
    expect_read_error(path_of("zero.wav"), ATTN_ERR_FORMAT, "no audio samples");
    free(b);
}

static void test_flac_ogg(void **state) {
    (void)state;
    attn_audio wav, a;
    write_tone("ref.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 2, 5000);
    assert_int_equal(attn_audio_read(path_of("ref.wav"), &wav), ATTN_OK);
    /* FLAC is lossless: the same samples. */
    write_tone("t.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 2, 5000);
    assert_int_equal(attn_audio_read(path_of("t.flac"), &a), ATTN_OK);
    assert_int_equal(a.channels, 2);
    assert_int_equal(a.sample_rate, 22050);
    assert_int_equal(a.n_frames, 5000);
    assert_memory_equal(a.samples, wav.samples, 2 * 5000 * sizeof(float));
    attn_audio_free(&a);
    /* Ogg/Vorbis is lossy: the same length and a close signal. */
    write_tone("t.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 2, 5000);
    assert_int_equal(attn_audio_read(path_of("t.ogg"), &a), ATTN_OK);
    assert_int_equal(a.n_frames, 5000);
    double e = 0, s = 0;
    for (long i = 0; i < 2 * 5000; i++) {
        e += (double)(a.samples[i] - wav.samples[i]) * (a.samples[i] - wav.samples[i]);
        s += (double)wav.samples[i] * wav.samples[i];
    }
    assert_true(sqrt(e / s) < 0.05);
    attn_audio_free(&a);
    attn_audio_free(&wav);
    /* Mono 16 kHz from the FLAC file, through the stream. */
    attn_audio_stream *st;
    assert_int_equal(attn_audio_stream_open(path_of("t.flac"), 16000, &st), ATTN_OK);
    float buf[8192];
    long got, total = 0;
    do {
        assert_int_equal(attn_audio_stream_read(st, buf, 8192, &got), ATTN_OK);
        total += got;
    } while (got > 0);
    assert_true(labs(total - 5000L * 16000 / 22050) <= 1);
    assert_int_equal(attn_audio_stream_read(st, buf, 8192, &got),
                     ATTN_OK); /* after the end: 0 again */
    assert_int_equal(got, 0);
    attn_audio_stream_close(st);
}

static void test_nan_samples(void **state) {
    (void)state;
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(path_of("nan.wav"), SFM_WRITE, &info);
    assert_non_null(sf);
    float x[1000] = {0};
    x[700] = NAN;
    assert_int_equal(sf_writef_float(sf, x, 1000), 1000);
    sf_close(sf);
    expect_read_error(path_of("nan.wav"), ATTN_ERR_FORMAT, "frame 700");
    /* Features refuse it too. */
    attn_fbank_params p = attn_fbank_default_params();
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    float *f;
    long T;
    assert_int_equal(attn_fbank_compute(fb, x, 1000, &f, &T), ATTN_ERR_NUMERIC);
    assert_non_null(strstr(attn_last_error(), "700"));
    assert_null(f);
    assert_int_equal(attn_fbank_compute(fb, x, 399, &f, &T),
                     ATTN_ERR_INVALID); /* under one frame */
    assert_non_null(strstr(attn_last_error(), "400"));
    /* Finite but huge: 1e20 would overflow the energies; at 1e10 they stay finite. */
    x[700] = 1e20f;
    assert_int_equal(attn_fbank_compute(fb, x, 1000, &f, &T), ATTN_ERR_NUMERIC);
    x[700] = 1e10f;
    assert_int_equal(attn_fbank_compute(fb, x, 1000, &f, &T), ATTN_OK);
    for (long i = 0; i < T * 80; i++)
        assert_true(isfinite(f[i]));
    free(f);
    attn_fbank_free(fb);
    /* A float file with a sample of 1e7: corrupt, refused. */
    sf = sf_open(path_of("huge.wav"), SFM_WRITE, &info);
    assert_non_null(sf);
    x[700] = 1e7f;
    assert_int_equal(sf_writef_float(sf, x, 1000), 1000);
    sf_close(sf);
    expect_read_error(path_of("huge.wav"), ATTN_ERR_FORMAT, "beyond 1e6");
}

/* Over an hour (at 1000 Hz, the smallest file that is): refused by the whole-file read with the
 * limit named; the stream reads all of it, and the features take it, in fixed buffers. */
static void test_long_file(void **state) {
    (void)state;
    long frames = (long)ATTN_AUDIO_MAX_SECONDS * 1000 + 1000;
    write_tone("long.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1000, 1, frames);
    expect_read_error(path_of("long.wav"), ATTN_ERR_INVALID, "3600 s");
    float *x;
    long n;
    assert_int_equal(attn_audio_load(path_of("long.wav"), 0, &x, &n, NULL), ATTN_ERR_INVALID);
    /* Streamed into features with fixed buffers: 25-sample frames every 10 at 1000 Hz. */
    attn_audio_stream *s;
    assert_int_equal(attn_audio_stream_open(path_of("long.wav"), 0, &s), ATTN_OK);
    attn_fbank_params p = attn_fbank_default_params();
    p.sample_rate = 1000;
    p.n_mels = 8;
    p.low_freq = 0;
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    static float buf[4096], feats[(4096 / 10 + 1) * 8];
    long got, total = 0, n_feats = 0, made;
    do {
        assert_int_equal(attn_audio_stream_read(s, buf, 4096, &got), ATTN_OK);
        assert_true(attn_fbank_pending(fb, got) <= 4096 / 10 + 1);
        assert_int_equal(attn_fbank_accept(fb, buf, got, feats, 4096 / 10 + 1, &made), ATTN_OK);
        total += got;
        n_feats += made;
    } while (got > 0);
    assert_int_equal(total, frames);
    assert_int_equal(n_feats, attn_fbank_frame_count(fb, frames));
    attn_fbank_free(fb);
    attn_audio_stream_close(s);
    unlink(path_of("long.wav"));
}

static void test_bad_arguments(void **state) {
    (void)state;
    float x[100] = {0}, *y = (float *)1;
    long n = 5;
    assert_int_equal(attn_audio_resample(x, 100, 500, 16000, &y, &n), ATTN_ERR_INVALID);
    assert_null(y);
    assert_int_equal(attn_audio_resample(x, 100, 16000, 1000000, &y, &n), ATTN_ERR_INVALID);
    assert_int_equal(attn_audio_resample(x, -1, 16000, 8000, &y, &n), ATTN_ERR_INVALID);
    assert_int_equal(attn_audio_resample(x, 0, 16000, 8000, &y, &n),
                     ATTN_OK); /* nothing in, nothing out */
    assert_int_equal(n, 0);
    free(y);
    assert_int_equal(attn_audio_mix_mono(x, 10, 0, x), ATTN_ERR_INVALID);
    attn_fbank *fb = (attn_fbank *)1;
    attn_fbank_params p = attn_fbank_default_params();
    p.n_mels = 300; /* more bands than 257 bins can hold */
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "mel band"));
    assert_null(fb);
    p = attn_fbank_default_params();
    p.n_fft = 256; /* under the 400-sample frame */
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "n_fft"));
    p = attn_fbank_default_params();
    p.high_freq = 9000;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    p = attn_fbank_default_params();
    p.n_mfcc = 13; /* with 80 bands but no log */
    p.use_log = 0;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    p = attn_fbank_default_params();
    p.sample_rate = 100;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    p = attn_fbank_default_params();
    p.window = (attn_window)99;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    assert_int_equal(attn_fbank_create(NULL, &fb), ATTN_ERR_INVALID);
    p = attn_fbank_default_params();
    p.edges = ATTN_EDGES_CENTER; /* with n_fft 512 for 400-sample frames */
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    p.n_fft = 400;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    long made;
    float out[8 * 80];
    assert_int_equal(attn_fbank_accept(fb, x, 100, out, 8, &made), ATTN_ERR_INVALID); /* padding */
    assert_non_null(strstr(attn_last_error(), "attn_fbank_compute"));
    attn_fbank_free(fb);
    /* Padded utterances of every length from one frame to three: the counts of the formulas,
     * and no read outside the samples (the sanitizer build watches). */
    static float tone[1000];
    for (int i = 0; i < 1000; i++)
        tone[i] = sinf(0.01f * (float)i * (float)i);
    for (int mode = 0; mode < 3; mode++)
        for (int shift = 0; shift < 2; shift++) {
            p = attn_fbank_default_params();
            p.edges = (attn_frame_edges)mode;
            p.n_fft = mode == ATTN_EDGES_CENTER ? 400 : 0;
            p.frame_shift_ms = shift ? 30 : 10; /* 480: more than the 400-sample frame */
            assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
            for (long len = 400; len <= 1000; len++) {
                float *f;
                long T;
                assert_int_equal(attn_fbank_compute(fb, tone, len, &f, &T), ATTN_OK);
                long hop = shift ? 480 : 160;
                long want = mode == ATTN_EDGES_SNIP    ? 1 + (len - 400) / hop
                            : mode == ATTN_EDGES_KALDI ? (len + hop / 2) / hop
                                                       : 1 + len / hop;
                assert_int_equal(T, want);
                free(f);
            }
            attn_fbank_free(fb);
        }
    /* 8 kHz features: a 25 ms frame is 200 samples, n_fft 256: 80 bands of 20..4000 Hz still have
     * a bin each, 200 do not. */
    p = attn_fbank_default_params();
    p.sample_rate = 8000;
    p.n_mels = 200;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_ERR_INVALID);
    p.n_mels = 80;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    assert_int_equal(attn_fbank_frame_count(fb, 8000), 98);
    attn_fbank_free(fb);
    /* The largest configuration allowed is made at once: the filters are stored by band, not
     * as a (4096, 2^19 + 1) matrix. */
    p = attn_fbank_default_params();
    p.sample_rate = 384000;
    p.frame_length_ms = 1000;
    p.n_fft = 1 << 20;
    p.n_mels = 4096;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    attn_fbank_free(fb);
    attn_fbank_free(NULL);
    attn_audio_free(NULL);
    attn_audio_stream_close(NULL);
}

static int make_dir(void **state) {
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    (void)state;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_audio), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flac_ogg),  cmocka_unit_test(test_nan_samples),
        cmocka_unit_test(test_long_file), cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
