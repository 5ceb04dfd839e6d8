/* bench/bench_tokenizer.c: byte-level BPE training and encoding speed on ~10 MB of English text
 * that Debian ships, nothing downloaded.
 *
 * The corpus: the fortune files (/usr/share/games/fortunes), the licenses in
 * /usr/share/common-licenses, then /usr/share/doc/<package>/copyright files in path order, until
 * the target size; written to $TMPDIR/attn_bench_tokenizer_corpus.txt (kept, so that other tools
 * can be timed on the same bytes). Then:
 *   train   attn_tokenizer_train_bpe on the corpus as one text (vocab 16000, min_frequency 2);
 *   encode  the whole corpus in one call (the pre-token cache at work), and line by line (one call
 *           per line, as `attn tokenizer encode` does on stdin);
 *   decode  the whole corpus, checked to give the corpus back byte for byte.
 * Usage: bench_tokenizer [MEGABYTES [VOCAB_SIZE]] (defaults 10 and 16000). Single-threaded. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn/attn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    char *data;
    size_t len, cap;
} corpus;

/* Appends the file at path (up to the capacity). */
static void add_file(corpus *c, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    c->len += fread(c->data + c->len, 1, c->cap - c->len, f);
    fclose(f);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every regular file of dir (sorted by name) whose name passes keep(), or, with
 * `inner`, the file dir/<entry>/<inner> of every entry. */
static void add_dir(corpus *c, const char *dir, const char *inner, int (*keep)(const char *)) {
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (keep && !keep(e->d_name))) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        if (inner)
            snprintf(path, sizeof path, "%s/%s/%s", dir, names[i], inner);
        else
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (c->len < c->cap) add_file(c, path);
        free(names[i]);
    }
    free(names);
}

/* Fortune text files, not their .dat indexes or .u8 links. */
static int is_fortune_text(const char *name) {
    size_t n = strlen(name);
    return !(n > 4 && (strcmp(name + n - 4, ".dat") == 0 || strcmp(name + n - 3, ".u8") == 0));
}

static corpus build_corpus(size_t target) {
    corpus c = {malloc(target + 1), 0, target};
    if (!c.data) return c;
    add_dir(&c, "/usr/share/games/fortunes", NULL, is_fortune_text);
    add_dir(&c, "/usr/share/common-licenses", NULL, NULL);
    add_dir(&c, "/usr/share/doc", "copyright", NULL);
    c.data[c.len] = '\0';
    return c;
}

/* Encodes the corpus one line at a time; returns the token count. */
static long encode_lines(const attn_tokenizer *t, const corpus *c) {
    long tokens = 0;
    for (size_t start = 0; start < c->len;) {
        const char *nl = memchr(c->data + start, '\n', c->len - start);
        size_t end = nl ? (size_t)(nl - c->data) : c->len;
        int *ids, n;
        if (attn_tokenizer_encode(t, c->data + start, end - start, &ids, &n) != ATTN_OK) return -1;
        tokens += n;
        free(ids);
        start = end + 1;
    }
    return tokens;
}

int main(int argc, char **argv) {
    double mb = argc > 1 ? atof(argv[1]) : 10;
    int vocab = argc > 2 ? atoi(argv[2]) : 16000;
    corpus c = build_corpus((size_t)(mb * 1e6));
    if (!c.data || c.len == 0) {
        fprintf(stderr, "bench_tokenizer: no text found under /usr/share\n");
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/attn_bench_tokenizer_corpus.txt", tmp && *tmp ? tmp : "/tmp");
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(c.data, 1, c.len, f);
        fclose(f);
    }
    printf("corpus: %.2f MB (%s)\n", c.len / 1e6, path);

    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = vocab;
    attn_tokenizer *t;
    const char *texts[] = {c.data};
    double t0 = now();
    attn_status s = attn_tokenizer_train_bpe(texts, &c.len, 1, p, &t);
    double train_s = now() - t0;
    if (s != ATTN_OK) {
        fprintf(stderr, "bench_tokenizer: training failed: %s\n", attn_last_error());
        return 1;
    }
    printf("train: vocab %d in %.2f s\n", attn_tokenizer_vocab_size(t), train_s);

    int *ids, n;
    t0 = now();
    s = attn_tokenizer_encode(t, c.data, c.len, &ids, &n);
    double enc_s = now() - t0;
    if (s != ATTN_OK) {
        fprintf(stderr, "bench_tokenizer: encode failed: %s\n", attn_last_error());
        return 1;
    }
    printf("encode (one call): %d tokens in %.3f s: %.2f M tokens/s, %.1f MB/s, %.2f bytes/token\n",
           n, enc_s, n / enc_s / 1e6, c.len / enc_s / 1e6, (double)c.len / n);

    t0 = now();
    long line_tokens = encode_lines(t, &c);
    double lines_s = now() - t0;
    printf("encode (per line): %ld tokens in %.3f s: %.2f M tokens/s, %.1f MB/s\n", line_tokens,
           lines_s, line_tokens / lines_s / 1e6, c.len / lines_s / 1e6);

    char *back;
    size_t back_len;
    t0 = now();
    s = attn_tokenizer_decode(t, ids, n, &back, &back_len);
    double dec_s = now() - t0;
    int same = s == ATTN_OK && back_len == c.len && memcmp(back, c.data, c.len) == 0;
    printf("decode: %.3f s: %.1f M tokens/s; round trip %s\n", dec_s, n / dec_s / 1e6,
           same ? "exact" : "DIFFERS");
    free(back);
    free(ids);
    attn_tokenizer_free(t);
    free(c.data);
    return same ? 0 : 1;
}
