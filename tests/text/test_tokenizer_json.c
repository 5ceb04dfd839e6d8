/* tests/text/test_tokenizer_json.c: tokenizer.json and vocab.txt (src/text/tokenizer_json_*.c,
 * src/text/wordpiece.c): save -> load gives identical encodings and identical JSON; a file laid
 * out like GPT-2's (foreign ids, pair-form merges) encodes as Python's GPT-2 loop does; every kind
 * of malformed input is ATTN_ERR_FORMAT with a message naming the problem; truncated and
 * corrupted files never crash. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "text_testutil.h"

#include <cjson/cJSON.h>
#include <unistd.h>

#include "core/rng.h"
#include "text/text_internal.h"

static const char *const samples[] = {
    "the cat sat on the mat",  "Don't STOP: it's 2024!", "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac",
    "bytes \xff\xfe and \xc3", "  spaces   and\ttabs\n", "",
    "Hello, World! unaffable",
};

static attn_tokenizer *bpe, *bpe_lower, *wp;
static char dir[256];

static int setup(void **state) {
    (void)state;
    size_t len;
    char *corpus = tt_read_fixture("corpus.txt", &len);
    const char *texts[] = {corpus};
    len /= 4;
    attn_status s =
        attn_tokenizer_train_bpe(texts, &len, 1, (attn_bpe_train_params){400, 2, 0}, &bpe);
    if (s == ATTN_OK)
        s = attn_tokenizer_train_bpe(texts, &len, 1, (attn_bpe_train_params){400, 2, 1},
                                     &bpe_lower);
    free(corpus);
    const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nhello\nworld\n,\n!\n"
                         "un\n##aff\n##able\ncafe\n##s\n";
    if (s == ATTN_OK) s = text_load_vocab_txt(vocab, strlen(vocab), &wp);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn_test_tokjson_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return s == ATTN_OK && mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    attn_tokenizer_free(bpe);
    attn_tokenizer_free(bpe_lower);
    attn_tokenizer_free(wp);
    char path[512];
    const char *names[] = {"t.json", "bad.json", "vocab.txt"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static const char *in_dir(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Same vocabulary and the same ids for every sample (skipping invalid UTF-8 for WordPiece). */
static void assert_same_encodings(const attn_tokenizer *a, const attn_tokenizer *b) {
    assert_int_equal(attn_tokenizer_vocab_size(a), attn_tokenizer_vocab_size(b));
    assert_int_equal(attn_tokenizer_get_kind(a), attn_tokenizer_get_kind(b));
    for (int i = 0; i < ATTN_SPECIAL_COUNT; i++)
        assert_int_equal(attn_tokenizer_special(a, (attn_special)i),
                         attn_tokenizer_special(b, (attn_special)i));
    for (int i = 0; i < attn_tokenizer_vocab_size(a); i++) {
        assert_string_equal(attn_tokenizer_token(a, i), attn_tokenizer_token(b, i));
        assert_int_equal(a->flags[i], b->flags[i]);
    }
    for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
        size_t len = strlen(samples[k]);
        if (attn_tokenizer_get_kind(a) == ATTN_TOKENIZER_WORDPIECE &&
            text_utf8_valid_prefix((const unsigned char *)samples[k], len) != len)
            continue;
        int na, nb;
        int *ia = tt_encode(a, samples[k], len, &na), *ib = tt_encode(b, samples[k], len, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(ia, ib, (size_t)na * sizeof *ia);
        free(ia);
        free(ib);
    }
}

static void check_save_load(const attn_tokenizer *t) {
    assert_int_equal(attn_tokenizer_save(t, in_dir("t.json")), ATTN_OK);
    attn_tokenizer *back;
    if (attn_tokenizer_load(in_dir("t.json"), &back) != ATTN_OK)
        fail_msg("load: %s", attn_last_error());
    assert_same_encodings(t, back);
    char *j1, *j2;
    assert_int_equal(attn_tokenizer_to_json(t, &j1), ATTN_OK);
    assert_int_equal(attn_tokenizer_to_json(back, &j2), ATTN_OK);
    assert_string_equal(j1, j2);
    attn_tokenizer *mem;
    assert_int_equal(attn_tokenizer_from_json(j1, strlen(j1), &mem), ATTN_OK);
    assert_same_encodings(t, mem);
    free(j1);
    free(j2);
    attn_tokenizer_free(mem);
    attn_tokenizer_free(back);
}

static void test_save_load_roundtrip(void **state) {
    (void)state;
    check_save_load(bpe);
    check_save_load(bpe_lower);
    check_save_load(wp);
    /* a cased WordPiece keeps its options through JSON */
    wp->bert.lowercase = wp->bert.strip_accents = 0;
    check_save_load(wp);
    wp->bert.lowercase = wp->bert.strip_accents = 1;
}

/* The JSON has the Hugging Face layout. */
static void test_json_layout(void **state) {
    (void)state;
    char *text;
    assert_int_equal(attn_tokenizer_to_json(bpe_lower, &text), ATTN_OK);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "version")->valuestring, "1.0");
    const cJSON *added = cJSON_GetObjectItem(j, "added_tokens");
    assert_int_equal(cJSON_GetArraySize(added), 5);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(added, 4), "content")->valuestring,
                        "[MASK]");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(added, 0), "special")));
    const cJSON *norm = cJSON_GetObjectItem(j, "normalizer");
    assert_string_equal(cJSON_GetObjectItem(norm, "type")->valuestring, "Sequence");
    const cJSON *pre = cJSON_GetObjectItem(j, "pre_tokenizer");
    assert_string_equal(cJSON_GetObjectItem(pre, "type")->valuestring, "ByteLevel");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(pre, "add_prefix_space")));
    const cJSON *model = cJSON_GetObjectItem(j, "model");
    assert_string_equal(cJSON_GetObjectItem(model, "type")->valuestring, "BPE");
    const cJSON *vocab = cJSON_GetObjectItem(model, "vocab");
    assert_int_equal(cJSON_GetArraySize(vocab), 400);
    assert_int_equal(cJSON_GetObjectItem(vocab, "\xc4\xa0")->valueint, 5 + ' ');
    const cJSON *merges = cJSON_GetObjectItem(model, "merges");
    assert_int_equal(cJSON_GetArraySize(merges), 400 - 261);
    assert_true(cJSON_IsString(cJSON_GetArrayItem(merges, 0)));
    cJSON_Delete(j);

    assert_int_equal(attn_tokenizer_to_json(wp, &text), ATTN_OK);
    j = cJSON_Parse(text);
    free(text);
    norm = cJSON_GetObjectItem(j, "normalizer");
    assert_string_equal(cJSON_GetObjectItem(norm, "type")->valuestring, "BertNormalizer");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(norm, "lowercase")));
    model = cJSON_GetObjectItem(j, "model");
    assert_string_equal(cJSON_GetObjectItem(model, "type")->valuestring, "WordPiece");
    assert_string_equal(cJSON_GetObjectItem(model, "unk_token")->valuestring, "[UNK]");
    assert_int_equal(cJSON_GetObjectItem(model, "max_input_chars_per_word")->valueint, 100);
    cJSON_Delete(j);
}

/* A file laid out like GPT-2's: ids in bytes_to_unicode order, merges as strings and pairs. */
static void test_gpt2_style_file(void **state) {
    (void)state;
    attn_tokenizer *t;
    if (attn_tokenizer_load(tt_fixture("gpt2_style.json"), &t) != ATTN_OK)
        fail_msg("load: %s", attn_last_error());
    assert_int_equal(attn_tokenizer_token(t, 0)[0], '!');
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_PAD), -1);
    size_t len;
    char *json = tt_read_fixture("reference.json", &len);
    cJSON *ref = cJSON_ParseWithLength(json, len);
    free(json);
    const cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "gpt2_style"), "cases")) {
        const cJSON *ids = cJSON_GetObjectItem(c, "ids");
        int n = cJSON_GetArraySize(ids), want[512];
        assert_true(n < 512);
        for (int i = 0; i < n; i++)
            want[i] = cJSON_GetArrayItem(ids, i)->valueint;
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        tt_assert_encodes_to(t, text, want, n);
        tt_assert_decodes_to(t, want, n, text, strlen(text));
        n_cases++;
    }
    assert_true(n_cases > 5);
    cJSON_Delete(ref);
    /* the end-of-text token is special: skipped by decode */
    int eot = attn_tokenizer_vocab_size(t) - 1;
    assert_string_equal(attn_tokenizer_token(t, eot), "<|endoftext|>");
    tt_assert_decodes_to(t, (int[]){eot, 'h' - '!', eot}, 3, "h", 1);
    check_save_load(t);
    attn_tokenizer_free(t);
}

/* ---- malformed input --------------------------------------------------------------------- */

static void expect_json_error(const char *json, attn_status want, const char *needle) {
    attn_tokenizer *t = (attn_tokenizer *)&t;
    attn_status s = attn_tokenizer_from_json(json, strlen(json), &t);
    if (s != want)
        fail_msg("status %d (%s), want %d, for: %.300s", s, attn_last_error(), want, json);
    assert_null(t);
    tt_assert_error_mentions(needle);
}

/* The JSON of `base` after edit(root) (malloc'd). */
static char *edited(const attn_tokenizer *base, void (*edit)(cJSON *root)) {
    char *text;
    assert_int_equal(attn_tokenizer_to_json(base, &text), ATTN_OK);
    cJSON *root = cJSON_Parse(text);
    free(text);
    edit(root);
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static cJSON *model_of(cJSON *root) {
    return cJSON_GetObjectItem(root, "model");
}
static cJSON *vocab_of(cJSON *root) {
    return cJSON_GetObjectItem(model_of(root), "vocab");
}
static void set_number(cJSON *obj, const char *key, double v) {
    cJSON_ReplaceItemInObject(obj, key, cJSON_CreateNumber(v));
}
static void no_vocab(cJSON *r) {
    cJSON_DeleteItemFromObject(model_of(r), "vocab");
}
static void no_merges(cJSON *r) {
    cJSON_DeleteItemFromObject(model_of(r), "merges");
}
static void no_model(cJSON *r) {
    cJSON_DeleteItemFromObject(r, "model");
}
static void dup_id(cJSON *r) {
    set_number(vocab_of(r), "a", 5 + 'b');
}
static void wp_dup_id(cJSON *r) { set_number(vocab_of(r), "hello", 5); }
static void id_too_big(cJSON *r) {
    set_number(vocab_of(r), "a", 99999);
}
static void id_negative(cJSON *r) {
    set_number(vocab_of(r), "a", -1);
}
static void id_fraction(cJSON *r) {
    set_number(vocab_of(r), "a", 3.5);
}
static void id_string(cJSON *r) {
    cJSON_ReplaceItemInObject(vocab_of(r), "a", cJSON_CreateString("7"));
}
static void id_gap(cJSON *r) { /* the last token moves from id n-1 to n */
    cJSON *v = vocab_of(r);
    cJSON *last = v->child->prev;
    cJSON_SetNumberValue(last, last->valuedouble + 1);
}
static void set_merge(cJSON *r, cJSON *item) {
    cJSON_ReplaceItemInArray(cJSON_GetObjectItem(model_of(r), "merges"), 0, item);
}
static void merge_unknown(cJSON *r) {
    set_merge(r, cJSON_CreateString("zzzz q"));
}
static void merge_no_space(cJSON *r) {
    set_merge(r, cJSON_CreateString("ab"));
}
static void merge_two_spaces(cJSON *r) {
    set_merge(r, cJSON_CreateString("a b c"));
}
static void merge_number(cJSON *r) {
    set_merge(r, cJSON_CreateNumber(3));
}
static void merge_short_pair(cJSON *r) {
    const char *one[] = {"a"};
    set_merge(r, cJSON_CreateStringArray(one, 1));
}
static void merge_not_in_vocab(cJSON *r) {
    set_merge(r, cJSON_CreateString("q q"));
}
static void merge_special(cJSON *r) {
    /* "[PA" + "D]" would give the special "[PAD]": add both halves so only that check fails */
    cJSON *v = vocab_of(r);
    int n = cJSON_GetArraySize(v);
    cJSON_AddNumberToObject(v, "[PA", n);
    cJSON_AddNumberToObject(v, "D]", n + 1);
    set_merge(r, cJSON_CreateString("[PA D]"));
}
static void no_byte_token(cJSON *r) { /* byte 0x00 is "Ā" (U+0100), id 5 */
    cJSON_DeleteItemFromObject(vocab_of(r), "\xc4\x80");
    cJSON_AddNumberToObject(vocab_of(r), "\xc4\x80\xc4\x80", 5);
}
static void empty_token(cJSON *r) {
    cJSON_DeleteItemFromObject(vocab_of(r), "\xc4\x80");
    cJSON_AddNumberToObject(vocab_of(r), "", 5);
}
static void added_mismatch(cJSON *r) {
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "added_tokens"), 0);
    cJSON_ReplaceItemInObject(a, "content", cJSON_CreateString("[XXX]"));
}
static void added_no_id(cJSON *r) {
    cJSON_DeleteItemFromObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "added_tokens"), 1), "id");
}
static void added_not_array(cJSON *r) {
    cJSON_ReplaceItemInObject(r, "added_tokens", cJSON_CreateString("x"));
}
static void set_type(cJSON *r, const char *key, const char *type) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_ReplaceItemInObject(r, key, o);
}
static void pre_whitespace(cJSON *r) {
    set_type(r, "pre_tokenizer", "Whitespace");
}
static void pre_prefix_space(cJSON *r) {
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "pre_tokenizer"), "add_prefix_space",
                              cJSON_CreateTrue());
}
static void pre_missing(cJSON *r) {
    cJSON_DeleteItemFromObject(r, "pre_tokenizer");
}
static void pre_not_object(cJSON *r) {
    cJSON_ReplaceItemInObject(r, "pre_tokenizer", cJSON_CreateNumber(1));
}
static void norm_nfkc(cJSON *r) {
    set_type(r, "normalizer", "NFKC");
}
static void decoder_wordpiece(cJSON *r) {
    set_type(r, "decoder", "WordPiece");
}
static void dropout(cJSON *r) {
    set_number(model_of(r), "dropout", 0.1);
}
static void model_unigram(cJSON *r) {
    cJSON_ReplaceItemInObject(model_of(r), "type", cJSON_CreateString("Unigram"));
}
static void wp_unk_missing(cJSON *r) {
    cJSON_ReplaceItemInObject(model_of(r), "unk_token", cJSON_CreateString("<unk>"));
}
static void wp_max_negative(cJSON *r) {
    set_number(model_of(r), "max_input_chars_per_word", -1);
}
static void wp_norm_nfc(cJSON *r) {
    set_type(r, "normalizer", "NFC");
}
static void wp_norm_bad_option(cJSON *r) {
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "normalizer"), "lowercase",
                              cJSON_CreateString("yes"));
}
static void wp_decoder_prefix(cJSON *r) {
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "decoder"), "prefix",
                              cJSON_CreateString("@@"));
}

static void test_load_errors(void **state) {
    (void)state;
    expect_json_error("", ATTN_ERR_FORMAT, "not valid JSON");
    expect_json_error("{\"model\": {", ATTN_ERR_FORMAT, "not valid JSON");
    expect_json_error("[1, 2]", ATTN_ERR_FORMAT, "\"model\"");
    expect_json_error("{}", ATTN_ERR_FORMAT, "\"model\"");
    expect_json_error("{\"model\": 3}", ATTN_ERR_FORMAT, "\"model\"");
    expect_json_error("{\"model\": {\"type\": 3}}", ATTN_ERR_FORMAT, "\"type\"");
    expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
                      "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}}",
                      ATTN_ERR_FORMAT, "model.vocab is empty");
    expect_json_error(
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"\xff\": 1}}}",
        ATTN_ERR_FORMAT, "not valid UTF-8");

    static const struct {
        void (*edit)(cJSON *);
        const char *needle;
    } bpe_cases[] = {
        {no_vocab, "model.vocab must be an object"},
        {no_merges, "model.merges must be an array"},
        {no_model, "\"model\""},
        {dup_id, "is given to both"},
        {id_too_big, "id 99999, outside"},
        {id_negative, "not an integer >= 0"},
        {id_fraction, "not an integer >= 0"},
        {id_string, "not an integer >= 0"},
        {id_gap, "gap"},
        {merge_unknown, "'zzzz' is not in the vocabulary"},
        {merge_no_space, "model.merges[0] is neither"},
        {merge_two_spaces, "model.merges[0] is neither"},
        {merge_number, "model.merges[0] is neither"},
        {merge_short_pair, "model.merges[0] is neither"},
        {merge_not_in_vocab, "gives 'qq', which is not in the vocabulary"},
        {merge_special, "special token"},
        {no_byte_token, "lacks the token '\xc4\x80' of byte 0x00"},
        {empty_token, "empty string"},
        {added_mismatch, "id 0 is given to both '[PAD]' and '[XXX]'"},
        {added_no_id, "added_tokens[1] needs"},
        {added_not_array, "added_tokens must be an array"},
        {pre_whitespace, "pre_tokenizer must be ByteLevel"},
        {pre_prefix_space, "add_prefix_space"},
        {pre_missing, "pre_tokenizer must be ByteLevel"},
        {pre_not_object, "\"pre_tokenizer\" must be null or an object"},
        {norm_nfkc, "normalizer 'NFKC' is not supported"},
        {decoder_wordpiece, "decoder 'WordPiece' is not supported"},
        {dropout, "model.dropout"},
        {model_unigram, "model.type 'Unigram' is not supported"},
    };
    for (size_t i = 0; i < sizeof bpe_cases / sizeof *bpe_cases; i++) {
        char *json = edited(bpe, bpe_cases[i].edit);
        expect_json_error(json, ATTN_ERR_FORMAT, bpe_cases[i].needle);
        free(json);
    }
    static const struct {
        void (*edit)(cJSON *);
        const char *needle;
    } wp_cases[] = {
        {wp_unk_missing, "unk_token '<unk>' is not in the vocabulary"},
        {wp_max_negative, "max_input_chars_per_word"},
        {wp_norm_nfc, "normalizer 'NFC' is not supported for WordPiece"},
        {wp_norm_bad_option, "must be booleans"},
        {wp_decoder_prefix, "decoder.prefix"},
        {pre_whitespace, "pre_tokenizer 'Whitespace' is not supported"},
        {wp_dup_id, "id 5 is given to both 'the' and 'hello'"},
    };
    for (size_t i = 0; i < sizeof wp_cases / sizeof *wp_cases; i++) {
        char *json = edited(wp, wp_cases[i].edit);
        expect_json_error(json, ATTN_ERR_FORMAT, wp_cases[i].needle);
        free(json);
    }
}

static void write_file(const char *path, const char *text, size_t len) {
    const void *parts[] = {text};
    size_t sizes[] = {len};
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 1), ATTN_OK);
}

static void expect_file_error(const char *text, attn_status want, const char *needle) {
    write_file(in_dir("vocab.txt"), text, strlen(text));
    attn_tokenizer *t = (attn_tokenizer *)&t;
    attn_status s = attn_tokenizer_load(in_dir("vocab.txt"), &t);
    if (s != want) fail_msg("status %d (%s), want %d, for: %s", s, attn_last_error(), want, text);
    assert_null(t);
    tt_assert_error_mentions(needle);
    tt_assert_error_mentions("vocab.txt");
}

static void test_vocab_txt(void **state) {
    (void)state;
    /* CRLF line ends, a byte order mark and trailing blank lines are fine */
    const char ok[] = "\xef\xbb\xbf[PAD]\r\n[UNK]\r\nhello\r\n##s\r\n\r\n";
    write_file(in_dir("vocab.txt"), ok, strlen(ok));
    attn_tokenizer *t;
    assert_int_equal(attn_tokenizer_load(in_dir("vocab.txt"), &t), ATTN_OK);
    assert_int_equal(attn_tokenizer_vocab_size(t), 4);
    assert_int_equal(attn_tokenizer_get_kind(t), ATTN_TOKENIZER_WORDPIECE);
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_PAD), 0);
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_UNK), 1);
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_CLS), -1);
    assert_string_equal(attn_tokenizer_token(t, 2), "hello");
    tt_assert_encodes_to(t, "Hellos", (int[]){2, 3}, 2);
    attn_tokenizer_free(t);

    expect_file_error("", ATTN_ERR_FORMAT, "vocab.txt is empty");
    expect_file_error("[UNK]\nhello\n\nworld\n", ATTN_ERR_FORMAT, "line 3: empty token");
    expect_file_error("[UNK]\nhello\nhello\n", ATTN_ERR_FORMAT, "line 3");
    expect_file_error("[UNK]\nhello\nhello\n", ATTN_ERR_FORMAT, "appears twice");
    expect_file_error("[PAD]\nhello\n", ATTN_ERR_FORMAT, "no [UNK]");
    expect_file_error("[UNK]\nh\xffllo\n", ATTN_ERR_FORMAT, "line 2: not valid UTF-8");
    expect_file_error("{\"model\": ", ATTN_ERR_FORMAT, "not valid JSON");

    attn_tokenizer *none = (attn_tokenizer *)&none;
    assert_int_equal(attn_tokenizer_load(in_dir("missing.json"), &none), ATTN_ERR_IO);
    assert_null(none);
    tt_assert_error_mentions("missing.json");
    assert_int_equal(attn_tokenizer_load(dir, &none), ATTN_ERR_IO);
    assert_int_equal(attn_tokenizer_save(bpe, in_dir("no/such/dir.json")), ATTN_ERR_IO);
    assert_int_equal(attn_tokenizer_from_json(NULL, 0, &none), ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_to_json(bpe, NULL), ATTN_ERR_INVALID);
}

/* Every truncation and random corruptions of a valid file: an error or a working tokenizer,
 * never a crash (the sanitizer build checks the memory accesses). */
static void test_truncated_and_corrupted(void **state) {
    (void)state;
    attn_bpe_train_params p = {270, 1, 0};
    const char *text = "abc abd abe";
    attn_tokenizer *small;
    assert_int_equal(attn_tokenizer_train_bpe(&text, NULL, 1, p, &small), ATTN_OK);
    char *json;
    assert_int_equal(attn_tokenizer_to_json(small, &json), ATTN_OK);
    attn_tokenizer_free(small);
    size_t len = strlen(json);
    size_t step = tu_sanitized() ? 13 : 3;
    for (size_t cut = 0; cut < len; cut += (cut + 200 > len ? 1 : step)) {
        attn_tokenizer *t = NULL;
        attn_status s = attn_tokenizer_from_json(json, cut, &t);
        assert_int_equal(s, ATTN_ERR_FORMAT);
        assert_null(t);
    }
    attn_rng rng;
    attn_rng_init(&rng, 99, 0);
    char *copy = malloc(len + 1);
    int loaded = 0, trials = tu_sanitized() ? 300 : 2000;
    for (int k = 0; k < trials; k++) {
        memcpy(copy, json, len + 1);
        int flips = 1 + (int)attn_rng_below(&rng, 4);
        for (int f = 0; f < flips; f++) {
            static const char pool[] = "{}[]\":,0123456789 abq\\-.e";
            size_t at = attn_rng_below(&rng, (uint32_t)len);
            copy[at] = attn_rng_below(&rng, 2) ? pool[attn_rng_below(&rng, sizeof pool - 1)]
                                               : (char)attn_rng_below(&rng, 256);
        }
        attn_tokenizer *t = NULL;
        attn_status s = attn_tokenizer_from_json(copy, len, &t);
        assert_true(s == ATTN_OK || s == ATTN_ERR_FORMAT);
        if (s == ATTN_OK) { /* whatever it loaded must still round-trip */
            loaded++;
            const char sample[] = "abc abd \xff zz";
            int n;
            int *ids = tt_encode(t, sample, sizeof sample - 1, &n);
            tt_assert_decodes_to(t, ids, n, sample, sizeof sample - 1);
            free(ids);
            attn_tokenizer_free(t);
        }
    }
    assert_true(loaded > 0); /* some flips hit harmless places (whitespace, ...) */
    free(copy);
    free(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_roundtrip), cmocka_unit_test(test_json_layout),
        cmocka_unit_test(test_gpt2_style_file),     cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_vocab_txt),           cmocka_unit_test(test_truncated_and_corrupted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
