/* bench/bench_tokenizer_js.c: attn's encoding of real tokenizer files against the JavaScript
 * reference implementations (tests/text/js_reference.js), for bench/bench_tokenizer_js.sh.
 *
 *   bench_tokenizer_js corpus OUT.bin MEGABYTES
 *       writes records (u32 little-endian length, then the bytes) of varied text that Debian
 *       ships: fortunes, licences, changelogs (16 KB pieces), the Bible samples of data/samples
 *       (and data/corpora/bible when it was built), then 2% random Unicode and 1% invalid UTF-8;
 *   bench_tokenizer_js encode KIND PATH... IN.bin IDS.txt [--allow-special]
 *       KIND gpt2 ENCODER_JSON VOCAB_BPE (attn_tokenizer_import_gpt2) or json TOKENIZER_JSON;
 *       encodes every record (best of 3 runs, one thread), checks the ids against IDS.txt (one
 *       line per record, from js_reference.js) and that decode gives each record back (with
 *       special tokens off), and prints one line: tokens, seconds, tokens/s, identical or not. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"
#include "bench_util.h"

/* ---- corpus ------------------------------------------------------------------------------------
 */

static FILE *out;
static size_t left;

static void put_record(const char *s, size_t n) {
    if (n > left) n = left;
    if (n == 0) return;
    uint32_t len = (uint32_t)n;
    unsigned char le[4] = {len & 255, (len >> 8) & 255, (len >> 16) & 255, len >> 24};
    fwrite(le, 1, 4, out);
    fwrite(s, 1, n, out);
    left -= n;
}

static void put_command(const char *command, size_t cap) {
    FILE *f = popen(command, "r");
    if (!f) return;
    static char buf[16384];
    size_t n;
    while (cap > 0 && left > 0 && (n = fread(buf, 1, cap < sizeof buf ? cap : sizeof buf, f)) > 0) {
        put_record(buf, n);
        cap -= n;
    }
    pclose(f);
}

/* Every entry of dir (sorted), as `format` (with the path twice at most) gives it. */
static void put_dir(const char *dir, const char *format, size_t cap_each) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char path[4096], cmd[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && !strstr(names[i]->d_name, ".dat")) {
            snprintf(cmd, sizeof cmd, format, path, path);
            put_command(cmd, cap_each);
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
}

static uint64_t rng_state = 20261202;
static uint64_t next_random(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Random text from blocks where PCRE2 and JavaScript agree (tests/text/test_real_tokenizers.c). */
static void put_random_unicode(size_t bytes) {
    static const int32_t blocks[][2] = {
        {0x20, 0x7E},     {0xA0, 0x24F},    {0x370, 0x3FF},     {0x400, 0x52F},   {0x5D0, 0x5EA},
        {0x600, 0x6FF},   {0x900, 0x97F},   {0xE00, 0xE5B},     {0x2000, 0x206F}, {0x3040, 0x30FF},
        {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0x1F300, 0x1F64F},
    };
    char buf[2048];
    while (bytes > 0 && left > 0) {
        size_t len = 0;
        while (len + 4 < sizeof buf) {
            size_t b = next_random() % (sizeof blocks / sizeof blocks[0]);
            int32_t cp = blocks[b][0] +
                         (int32_t)(next_random() % (uint64_t)(blocks[b][1] - blocks[b][0] + 1));
            if (next_random() % 5 == 0) cp = ' ';
            unsigned char *o = (unsigned char *)buf + len;
            if (cp < 0x80) {
                o[0] = (unsigned char)cp, len += 1;
            } else if (cp < 0x800) {
                o[0] = 0xC0 | cp >> 6, o[1] = 0x80 | (cp & 63), len += 2;
            } else if (cp < 0x10000) {
                o[0] = 0xE0 | cp >> 12, o[1] = 0x80 | ((cp >> 6) & 63), o[2] = 0x80 | (cp & 63);
                len += 3;
            } else {
                o[0] = 0xF0 | cp >> 18, o[1] = 0x80 | ((cp >> 12) & 63);
                o[2] = 0x80 | ((cp >> 6) & 63), o[3] = 0x80 | (cp & 63), len += 4;
            }
        }
        put_record(buf, len);
        bytes = bytes > len ? bytes - len : 0;
    }
}

static void put_invalid(size_t bytes) {
    char buf[512];
    while (bytes > 0 && left > 0) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)(next_random() % 3 ? 'a' + next_random() % 26 : next_random());
        put_record(buf, sizeof buf);
        bytes = bytes > sizeof buf ? bytes - sizeof buf : 0;
    }
}

static int make_corpus(const char *path, double mb) {
    out = fopen(path, "wb");
    if (!out) return 1;
    size_t total = (size_t)(mb * 1e6);
    left = total - total / 100 * 3;
    const char *src = getenv("ATTN_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/samples/bible", src ? src : ".");
    put_dir(dir, "cat '%s'", (size_t)-1);
    snprintf(dir, sizeof dir, "%s/data/corpora/bible", src ? src : ".");
    put_dir(dir, "cat '%s'", total / 10);
    put_dir("/usr/share/games/fortunes", "cat '%s'", (size_t)-1);
    put_dir("/usr/share/common-licenses", "cat '%s'", (size_t)-1);
    put_dir("/usr/share/doc", "gzip -dc '%s/changelog.Debian.gz' 2>/dev/null", 64 * 1024);
    left += total / 100 * 3;
    put_random_unicode(total / 50);
    put_invalid(total / 100);
    fclose(out);
    printf("corpus: %.1f MB in %s\n", (double)(total - left) / 1e6, path);
    return 0;
}

/* ---- encoding ---------------------------------------------------------------------------------
 */

typedef struct {
    char **text;
    size_t *len;
    size_t n;
} records;

static int read_records(const char *path, records *r) {
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    size_t cap = 0;
    unsigned char le[4];
    while (fread(le, 1, 4, f) == 4) {
        size_t len = (size_t)le[0] | (size_t)le[1] << 8 | (size_t)le[2] << 16 | (size_t)le[3] << 24;
        if (r->n == cap) {
            cap = cap ? 2 * cap : 1024;
            r->text = realloc(r->text, cap * sizeof *r->text);
            r->len = realloc(r->len, cap * sizeof *r->len);
        }
        r->text[r->n] = malloc(len + 1);
        if (fread(r->text[r->n], 1, len, f) != len) break;
        r->len[r->n++] = len;
    }
    fclose(f);
    return 0;
}

static int encode_bench(int argc, char **argv) {
    attn_tokenizer *t = NULL;
    attn_status s;
    int at;
    if (argc >= 5 && strcmp(argv[0], "gpt2") == 0) {
        s = attn_tokenizer_import_gpt2(argv[1], argv[2], &t);
        at = 3;
    } else if (argc >= 4 && strcmp(argv[0], "json") == 0) {
        s = attn_tokenizer_load(argv[1], &t);
        at = 2;
    } else {
        fprintf(stderr, "usage: bench_tokenizer_js encode gpt2 ENC BPE | json FILE IN IDS\n");
        return 2;
    }
    if (s != ATTN_OK) {
        fprintf(stderr, "bench_tokenizer_js: %s\n", attn_last_error());
        return 1;
    }
    records r = {0};
    if (read_records(argv[at], &r)) return 1;
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = at + 2 < argc && strcmp(argv[at + 2], "--allow-special") == 0;
    int **ids = calloc(r.n, sizeof *ids), *counts = calloc(r.n, sizeof *counts);
    double best = 1e30;
    size_t tokens = 0;
    for (int run = 0; run < 3; run++) {
        tokens = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < r.n; i++) {
            free(ids[i]);
            if (attn_tokenizer_encode_with(t, r.text[i], r.len[i], p, &ids[i], &counts[i])) {
                fprintf(stderr, "bench_tokenizer_js: %s\n", attn_last_error());
                return 1;
            }
            tokens += (size_t)counts[i];
        }
        double dt = bench_now() - t0;
        if (dt < best) best = dt;
    }
    FILE *f = fopen(argv[at + 1], "r");
    char *line = NULL;
    size_t cap = 0, differ = r.n, lost = 0;
    for (size_t i = 0; f && i < r.n && differ == r.n; i++) {
        if (getline(&line, &cap, f) < 0) {
            differ = i;
            break;
        }
        char *c = line, *end;
        for (int k = 0; k <= counts[i]; k++) {
            long v = strtol(c, &end, 10);
            if (k == counts[i] ? end != c : end == c || v != ids[i][k]) {
                differ = i;
                break;
            }
            c = end;
        }
        char *back;
        size_t n;
        if (!p.allow_special && attn_tokenizer_decode(t, ids[i], counts[i], &back, &n) == ATTN_OK) {
            lost += n != r.len[i] || memcmp(back, r.text[i], n) != 0;
            free(back);
        }
    }
    if (f) fclose(f);
    printf("attn: %zu records, %zu tokens in %.3f s: %.0f tokens/s; ids %s", r.n, tokens, best,
           tokens / best, differ == r.n ? "identical" : "DIFFER");
    if (differ < r.n) printf(" (first at record %zu)", differ);
    if (!p.allow_special) printf("; decode %s", lost ? "LOSES TEXT" : "round-trips");
    printf("\n");
    return differ == r.n && !lost ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "corpus") == 0) return make_corpus(argv[2], atof(argv[3]));
    if (argc >= 2 && strcmp(argv[1], "encode") == 0) return encode_bench(argc - 2, argv + 2);
    fprintf(stderr,
            "usage: bench_tokenizer_js corpus OUT.bin MB | encode KIND ... IN.bin IDS.txt\n");
    return 2;
}
