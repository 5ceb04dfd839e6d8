/* audio/audio_read.c: audio files through libsndfile, from a path or from memory (sf_open_virtual),
 * whole or as a stream mixed to mono and resampled in chunks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>

#include "audio/audio_internal.h"
#include "core/error.h"

#define CHUNK 4096       /* frames decoded at a time */
#define MAX_CHANNELS 256 /* more is no microphone array we know of, and a corrupt header */
/* Float files hold [-1, 1], with some headroom in practice; a sample beyond this is a corrupt file
 * (and 1e30 would overflow the resampler's and the features' sums to infinity). */
#define MAX_SAMPLE 1e6f

static int bad_sample(float x) {
    return !(fabsf(x) <= MAX_SAMPLE);
}

/* ---- libsndfile's virtual I/O over a memory buffer ----------------------------------------- */

typedef struct {
    const unsigned char *data;
    sf_count_t size, pos;
} mem_file;

static sf_count_t mem_len(void *user) {
    return ((mem_file *)user)->size;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user) {
    mem_file *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    /* Positions are kept in [0, size]: a seek outside is refused without moving. */
    if (offset < -base || offset > m->size - base) return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user) {
    mem_file *m = user;
    if (count <= 0) return 0;
    sf_count_t left = m->size - m->pos;
    if (count > left) count = left;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user) {
    return 0;
}

static sf_count_t mem_tell(void *user) {
    return ((mem_file *)user)->pos;
}

/* ---- the stream ---------------------------------------------------------------------------- */

struct attn_audio_stream {
    SNDFILE *sf;
    SF_INFO info;
    mem_file mem;
    int rate; /* output rate */
    attn_resampler rs;
    float *raw;  /* (CHUNK, channels) decoded */
    float *mono; /* (CHUNK) mixed, waiting for the resampler */
    long mono_n, mono_pos;
    long frames; /* decoded so far */
    int eof;
};

/* Checks what the header says and sets up the buffers and the resampler. */
static attn_status stream_setup(attn_audio_stream *s, int rate) {
    const SF_INFO *in = &s->info;
    if (in->channels < 1 || in->channels > MAX_CHANNELS)
        return attn_error(ATTN_ERR_FORMAT, "%d channels (at most %d)", in->channels, MAX_CHANNELS);
    if (in->samplerate < 1) return attn_error(ATTN_ERR_FORMAT, "sample rate %d", in->samplerate);
    if (rate == 0 || rate == in->samplerate) {
        s->rate = in->samplerate;
        attn_resampler_init_ratio(&s->rs, 1.0, SRC_SINC_BEST_QUALITY); /* cannot fail */
    } else {
        s->rate = rate;
        ATTN_TRY(attn_resampler_init(&s->rs, in->samplerate, rate, SRC_SINC_BEST_QUALITY));
    }
    s->raw = malloc((size_t)CHUNK * (size_t)in->channels * sizeof *s->raw);
    s->mono = malloc(CHUNK * sizeof *s->mono);
    if (!s->raw || !s->mono) return attn_error(ATTN_ERR_NOMEM, "audio stream buffers");
    return ATTN_OK;
}

static attn_status stream_open(const char *path, const void *data, size_t size, int rate,
                               attn_audio_stream **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "audio_stream_open: NULL output");
    *out = NULL;
    if ((!path && !data) || rate < 0)
        return attn_error(ATTN_ERR_INVALID, "audio_stream_open: bad arguments");
    attn_audio_stream *s = calloc(1, sizeof *s);
    if (!s) return attn_error(ATTN_ERR_NOMEM, "audio stream");
    if (path) {
        struct stat st;
        if (stat(path, &st) != 0) {
            free(s);
            return attn_error(ATTN_ERR_IO, "%s: %s", path, strerror(errno));
        }
        if (S_ISDIR(st.st_mode)) {
            free(s);
            return attn_error(ATTN_ERR_IO, "%s: is a directory", path);
        }
        s->sf = sf_open(path, SFM_READ, &s->info);
    } else {
        if (size > (size_t)INT64_MAX / 2) size = (size_t)INT64_MAX / 2;
        s->mem = (mem_file){data, (sf_count_t)size, 0};
        SF_VIRTUAL_IO vio = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
        s->sf = sf_open_virtual(&vio, SFM_READ, &s->info, &s->mem);
    }
    const char *name = path ? path : "audio in memory";
    if (!s->sf) {
        attn_status st = attn_error(ATTN_ERR_FORMAT, "%s: not audio that libsndfile can read (%s)",
                                    name, sf_strerror(NULL));
        free(s);
        return st;
    }
    attn_status st = stream_setup(s, rate);
    if (st != ATTN_OK) {
        attn_error_context(st, "%s", name);
        attn_audio_stream_close(s);
        return st;
    }
    *out = s;
    return ATTN_OK;
}

attn_status attn_audio_stream_open(const char *path, int rate, attn_audio_stream **out) {
    if (!path) return attn_error(ATTN_ERR_INVALID, "audio_stream_open: NULL path");
    return stream_open(path, NULL, 0, rate, out);
}

attn_status attn_audio_stream_open_memory(const void *data, size_t size, int rate,
                                          attn_audio_stream **out) {
    if (!data && size > 0)
        return attn_error(ATTN_ERR_INVALID, "audio_stream_open_memory: NULL data");
    static const unsigned char empty[1];
    return stream_open(NULL, data ? data : empty, size, rate, out);
}

void attn_audio_stream_info(const attn_audio_stream *s, int *file_rate, int *channels, int *rate) {
    if (file_rate) *file_rate = s ? s->info.samplerate : 0;
    if (channels) *channels = s ? s->info.channels : 0;
    if (rate) *rate = s ? s->rate : 0;
}

/* Decodes the next chunk into s->mono (s->eof at the end). */
static attn_status decode_chunk(attn_audio_stream *s) {
    sf_count_t got = sf_readf_float(s->sf, s->raw, CHUNK);
    int err = sf_error(s->sf);
    if (got < 0 || (got == 0 && err != SF_ERR_NO_ERROR))
        return attn_error(ATTN_ERR_FORMAT, "decoding error after %ld frames: %s", s->frames,
                          sf_strerror(s->sf));
    if (got == 0) {
        s->eof = 1;
        return ATTN_OK;
    }
    int c = s->info.channels;
    for (sf_count_t i = 0; i < got * c; i++)
        if (bad_sample(s->raw[i]))
            return attn_error(ATTN_ERR_FORMAT, "sample %g in frame %ld is not finite or beyond 1e6",
                              s->raw[i], s->frames + (long)(i / c));
    attn_audio_mix_mono(s->raw, (long)got, c, s->mono);
    s->mono_n = (long)got;
    s->mono_pos = 0;
    s->frames += (long)got;
    return ATTN_OK;
}

attn_status attn_audio_stream_read(attn_audio_stream *s, float *out, long cap, long *n) {
    if (!n) return attn_error(ATTN_ERR_INVALID, "audio_stream_read: NULL count");
    *n = 0;
    if (!s || !out || cap < 1)
        return attn_error(ATTN_ERR_INVALID, "audio_stream_read: bad arguments");
    while (*n < cap && !s->rs.done) {
        if (s->mono_pos == s->mono_n && !s->eof) {
            ATTN_TRY(decode_chunk(s));
            continue;
        }
        long used, made;
        ATTN_TRY(attn_resampler_run(&s->rs, s->mono + s->mono_pos, s->mono_n - s->mono_pos, s->eof,
                                    out + *n, cap - *n, &used, &made));
        if (used == 0 && made == 0 && !s->rs.done) /* never seen: a converter that stalls */
            return attn_error(ATTN_ERR_INVALID,
                              "audio stream: the resampler made no progress "
                              "after %ld frames",
                              s->frames);
        s->mono_pos += used;
        *n += made;
        /* Input left over but no output room: the caller comes back for the rest. */
    }
    return ATTN_OK;
}

void attn_audio_stream_close(attn_audio_stream *s) {
    if (!s) return;
    if (s->sf) sf_close(s->sf);
    attn_resampler_free(&s->rs);
    free(s->raw);
    free(s->mono);
    free(s);
}

/* ---- whole files --------------------------------------------------------------------------- */

/* Grows *buf (of *cap floats) to hold at least need floats. */
static attn_status grow(float **buf, long *cap, long need) {
    if (need <= *cap) return ATTN_OK;
    long c = *cap ? *cap : 1 << 16;
    while (c < need)
        c *= 2;
    float *b = realloc(*buf, (size_t)c * sizeof *b);
    if (!b) return attn_error(ATTN_ERR_NOMEM, "audio: %ld samples", c);
    *buf = b;
    *cap = c;
    return ATTN_OK;
}

static attn_status read_all(const char *path, const void *data, size_t size, attn_audio *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "audio_read: NULL output");
    memset(out, 0, sizeof *out);
    attn_audio_stream *s;
    ATTN_TRY(stream_open(path, data, size, 0, &s));
    const char *name = path ? path : "audio in memory";
    int c = s->info.channels;
    long limit = (long)ATTN_AUDIO_MAX_SECONDS * s->info.samplerate, cap = 0, n = 0;
    float *buf = NULL;
    attn_status st = ATTN_OK;
    for (;;) {
        sf_count_t got = sf_readf_float(s->sf, s->raw, CHUNK);
        if (got < 0 || (got == 0 && sf_error(s->sf) != SF_ERR_NO_ERROR)) {
            st = attn_error(ATTN_ERR_FORMAT, "%s: decoding error after %ld frames: %s", name, n,
                            sf_strerror(s->sf));
            break;
        }
        if (got == 0) break;
        if (n + got > limit) {
            st = attn_error(ATTN_ERR_INVALID,
                            "%s: longer than %d s (ATTN_AUDIO_MAX_SECONDS): read it as a stream "
                            "(attn_audio_stream_open)",
                            name, ATTN_AUDIO_MAX_SECONDS);
            break;
        }
        if ((st = grow(&buf, &cap, (n + (long)got) * c)) != ATTN_OK) break;
        for (sf_count_t i = 0; i < got * c; i++) {
            if (bad_sample(s->raw[i])) {
                st = attn_error(ATTN_ERR_FORMAT,
                                "%s: sample %g in frame %ld is not finite or beyond 1e6", name,
                                s->raw[i], n + (long)(i / c));
                break;
            }
        }
        if (st != ATTN_OK) break;
        memcpy(buf + n * c, s->raw, (size_t)got * (size_t)c * sizeof *buf);
        n += (long)got;
    }
    if (st == ATTN_OK && n == 0)
        st = attn_error(ATTN_ERR_FORMAT, "%s: holds no audio samples", name);
    if (st != ATTN_OK) {
        free(buf);
        attn_audio_stream_close(s);
        return st;
    }
    out->samples = buf;
    out->n_frames = n;
    out->channels = c;
    out->sample_rate = s->info.samplerate;
    attn_audio_stream_close(s);
    return ATTN_OK;
}

attn_status attn_audio_read(const char *path, attn_audio *out) {
    if (!path) return attn_error(ATTN_ERR_INVALID, "audio_read: NULL path");
    return read_all(path, NULL, 0, out);
}

attn_status attn_audio_read_memory(const void *data, size_t size, attn_audio *out) {
    if (!data && size > 0) return attn_error(ATTN_ERR_INVALID, "audio_read_memory: NULL data");
    static const unsigned char empty[1];
    return read_all(NULL, data ? data : empty, size, out);
}

void attn_audio_free(attn_audio *a) {
    if (!a) return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}

attn_status attn_audio_load(const char *path, int rate, float **samples, long *n, int *file_rate) {
    if (!samples || !n) return attn_error(ATTN_ERR_INVALID, "audio_load: NULL output");
    *samples = NULL;
    *n = 0;
    attn_audio a;
    ATTN_TRY(attn_audio_read(path, &a));
    if (file_rate) *file_rate = a.sample_rate;
    attn_audio_mix_mono(a.samples, a.n_frames, a.channels, a.samples);
    if (rate == 0 || rate == a.sample_rate) {
        float *m = realloc(a.samples, (size_t)a.n_frames * sizeof *m);
        *samples = m ? m : a.samples;
        *n = a.n_frames;
        return ATTN_OK;
    }
    attn_status st = attn_audio_resample(a.samples, a.n_frames, a.sample_rate, rate, samples, n);
    if (st != ATTN_OK) attn_error_context(st, "%s", path);
    attn_audio_free(&a);
    return st;
}
