/* tests/text/test_split.c: chains of Split patterns (src/text/pretokenize.c) and the
 * tokenizer.json layouts that carry them (src/text/tokenizer_json_read.c, _write.c): matches and
 * gaps, empty matches, the translation of (?i:...), the constructs refused, the match limit, and
 * every new key of a file refused with a message naming it. The published files themselves are
 * compared with their reference implementations in test_real_tokenizers.c. */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "text_testutil.h"

#include <cjson/cJSON.h>
#include <time.h>

#include "text/text_internal.h"

/* ---- the chain --------------------------------------------------------------------------------
 */

typedef struct {
    char pieces[4096];
    int n;
} joined;

/* Pieces joined with '|' (an invalid byte shown as '#'). */
static attn_status join(const char *piece, size_t len, int is_byte, void *user) {
    joined *j = user;
    size_t at = strlen(j->pieces);
    assert_true(len > 0 && at + len + 2 < sizeof j->pieces);
    if (j->n++) j->pieces[at++] = '|';
    if (is_byte)
        j->pieces[at++] = '#';
    else
        memcpy(j->pieces + at, piece, len), at += len;
    j->pieces[at] = '\0';
    return ATTN_OK;
}

static void expect_split(const char *const *patterns, int n, const char *text, const char *want) {
    text_regex *re;
    if (text_regex_create_chain(patterns, n, &re) != ATTN_OK) fail_msg("%s", attn_last_error());
    joined j = {{0}, 0};
    assert_int_equal(text_pretokenize(re, text, strlen(text), join, &j), ATTN_OK);
    if (strcmp(j.pieces, want) != 0)
        fail_msg("'%s' split as '%s', want '%s'", text, j.pieces, want);
    text_regex_free(re);
}

static void expect_one(const char *pattern, const char *text, const char *want) {
    expect_split(&pattern, 1, text, want);
}

static void test_matches_and_gaps(void **state) {
    (void)state;
    expect_one("\\p{N}+", "ab12cd3", "ab|12|cd|3");
    expect_one("x*", "abxxc", "ab|xx|c"); /* empty matches are skipped, the gap grows */
    expect_one("(?=b)", "abc", "abc");    /* only empty matches: the text is one piece */
    expect_one("\\p{N}{1,3}", "1234567", "123|456|7");
    const char *none[1] = {NULL};
    expect_split(none, 0, "a b\xff c", "a b|#| c"); /* no stage: a valid run is one piece */
    const char *two[] = {"[^ ]+| +", "\\p{N}+"};
    expect_split(two, 2, "ab12 c3", "ab|12| |c|3");
    /* each invalid byte is a piece; the runs around it are split on their own */
    expect_one("\\p{L}+|\\s+", "ab\xc3(cd", "ab|#|(|cd");
    /* Llama 3's pattern, checked against transformers.js by hand */
    expect_one("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
               "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
               "I'M here,  2026!\n\nOK", "I|'M| here|,| | |202|6|!\n\n|OK");
}

/* (?i:...) means ASCII case only, as transformers.js spells it: PCRE2's Unicode caseless match
 * would take U+017F (long s) for 's' and U+212A (Kelvin) for 'k'. */
static void test_caseless_groups(void **state) {
    (void)state;
    const char *p = "(?i:'s|'k)|\\p{L}+|[^\\p{L}]";
    expect_one(p, "IT'S it's", "IT|'S| |it|'s");
    expect_one(p, "it'\xc5\xbf", "it|'|\xc5\xbf");       /* 'ſ is not 's */
    expect_one(p, "o'\xe2\x84\xaa", "o|'|\xe2\x84\xaa"); /* 'K (Kelvin) is not 'k */
    expect_one("(?i:a(?:b|c))|[^\\p{L}]+|\\p{L}", "ABAcab", "AB|Ac|ab");
}

static void expect_refused(const char *pattern, const char *needle) {
    text_regex *re = (text_regex *)&re;
    attn_status s = text_regex_create_chain(&pattern, 1, &re);
    if (s != ATTN_ERR_FORMAT) fail_msg("'%s' gave %d (%s)", pattern, s, attn_last_error());
    assert_null(re);
    tt_assert_error_mentions(needle);
}

static void test_refused_patterns(void **state) {
    (void)state;
    expect_refused("\\d+", "'\\d' is not supported");
    expect_refused("[\\w]+", "'\\w' is not supported");
    expect_refused("a\\b", "'\\b' is not supported");
    expect_refused("a.b", "'.' is not supported");
    expect_refused("(?i)abc", "inline flags");
    expect_refused("(?x) a", "inline flags");
    expect_refused("(?i:\\Qab\\E)", "quoting");
    expect_refused("(?i:[a-z])", "character class inside (?i:");
    expect_refused("(ab", "offset"); /* PCRE2's own message, with the offset */
    expect_refused("\\p{Nonsense}", "offset");
    expect_refused("ab\\", "ends in");
    expect_refused("\\p{L", "without '}'");
    expect_refused("\xff", "not valid UTF-8");
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    expect_refused(big, "more than");
    free(big);
    const char *five[] = {"a", "b", "c", "d", "e"};
    text_regex *re;
    assert_int_equal(text_regex_create_chain(five, 5, &re), ATTN_ERR_FORMAT);
    tt_assert_error_mentions("more than 4");
}

/* A pattern that backtracks exponentially stops at the match limit with an error. */
static void test_match_limit(void **state) {
    (void)state;
    const char *p = "(a|a)+\\z"; /* no required character to look for first */
    text_regex *re;
    assert_int_equal(text_regex_create_chain(&p, 1, &re), ATTN_OK);
    char text[64];
    memset(text, 'a', 40);
    text[40] = '!';
    joined j = {{0}, 0};
    clock_t t0 = clock();
    assert_int_equal(text_pretokenize(re, text, 41, join, &j), ATTN_ERR_INVALID);
    tt_assert_error_mentions("pre-tokenising");
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20);
    text_regex_free(re);
}

/* ---- tokenizer.json
 * ------------------------------------------------------------------------------ */

/* A byte-level BPE file: the 256 byte tokens (ids in byte order), then "ab" and "abc", with
 * `merges` (NULL: "a b", "ab c"); pre_tokenizer, added tokens, more model keys and more root
 * keys as given (JSON text, "" for none). malloc'd. */
static char *bpe_json_merges(const char *pre_tokenizer, const char *added, const char *merges,
                             const char *model_extra, const char *rest) {
    text_buf b = {0};
    char tmp[64];
    static const char start[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {";
    assert_int_equal(text_buf_append(&b, start, strlen(start)), 0);
    for (int i = 0; i < 256; i++) {
        char c[3] = {0};
        text_byte_to_utf8((unsigned char)i, c);
        const char *esc = c[0] == '"' ? "\\\"" : c[0] == '\\' ? "\\\\" : c;
        snprintf(tmp, sizeof tmp, "\"%s\": %d, ", esc, i);
        assert_int_equal(text_buf_append(&b, tmp, strlen(tmp)), 0);
    }
    char *head = NULL;
    if (!merges) merges = "\"a b\", \"ab c\"";
    size_t need = strlen(pre_tokenizer) + strlen(added) + strlen(merges) + strlen(model_extra) +
                  strlen(rest) + 512;
    head = malloc(need);
    snprintf(head, need,
             "\"ab\": 256, \"abc\": 257}, \"merges\": [%s]%s}, "
             "\"pre_tokenizer\": %s, \"added_tokens\": [%s]%s}",
             merges, model_extra, pre_tokenizer, added, rest);
    assert_int_equal(text_buf_append(&b, head, strlen(head) + 1), 0);
    free(head);
    return b.data;
}

static char *bpe_json(const char *pre_tokenizer, const char *added, const char *model_extra,
                      const char *rest) {
    return bpe_json_merges(pre_tokenizer, added, NULL, model_extra, rest);
}

static const char seq_split[] =
    "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
    "\"\\\\p{L}+|\\\\p{N}{1,3}|\\\\s+|[^\\\\s\\\\p{L}\\\\p{N}]+\"}, \"behavior\": \"Isolated\", "
    "\"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
    "\"use_regex\": false}]}";

static attn_tokenizer *load_json(const char *json) {
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_from_json(json, strlen(json), &t) != ATTN_OK)
        fail_msg("%s\n%.400s", attn_last_error(), json);
    return t;
}

static void test_sequence_file(void **state) {
    (void)state;
    char *json = bpe_json(seq_split, "", "", "");
    attn_tokenizer *t = load_json(json);
    /* 1234 is cut 123|4 by the file's pattern (GPT-2's would keep it whole) */
    tt_assert_encodes_to(t, "abc 1234", (int[]){257, ' ', '1', '2', '3', '4'}, 6);
    tt_assert_decodes_to(t, (int[]){257, ' ', '1'}, 3, "abc 1", 5);
    /* written back as the same Sequence, and read again to the same ids */
    char *out;
    assert_int_equal(attn_tokenizer_to_json(t, &out), ATTN_OK);
    assert_non_null(strstr(out, "\"Split\""));
    assert_non_null(strstr(out, "\\\\p{N}{1,3}"));
    attn_tokenizer *back = load_json(out);
    tt_assert_encodes_to(back, "abc 1234", (int[]){257, ' ', '1', '2', '3', '4'}, 6);
    free(out);
    attn_tokenizer_free(back);
    attn_tokenizer_free(t);
    free(json);
    /* ByteLevel alone without its regex: the whole text is one pre-token */
    json = bpe_json("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}",
                    "", "", "");
    t = load_json(json);
    tt_assert_encodes_to(t, "ab c", (int[]){256, ' ', 'c'}, 3);
    tt_assert_encodes_to(t, "abc", (int[]){257}, 1);
    attn_tokenizer_free(t);
    free(json);
    /* a String pattern is literal text */
    json = bpe_json("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
                    "\"pattern\": {\"String\": \".\"}, \"behavior\": \"Isolated\"}, "
                    "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": "
                    "false}]}",
                    "", "", "");
    t = load_json(json);
    tt_assert_encodes_to(t, "ab.abc", (int[]){256, '.', 257}, 3);
    attn_tokenizer_free(t);
    free(json);
}

/* ignore_merges: a pre-token that is a model token is that token (Llama 3). */
static void test_ignore_merges(void **state) {
    (void)state;
    const char *pre = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}";
    char *json = bpe_json_merges(pre, "", "", ", \"ignore_merges\": true", ""); /* no merges */
    attn_tokenizer *t = load_json(json);
    tt_assert_encodes_to(t, "abc", (int[]){257}, 1);                 /* a token: itself */
    tt_assert_encodes_to(t, "abcd", (int[]){'a', 'b', 'c', 'd'}, 4); /* not one: the merges */
    char *out;
    assert_int_equal(attn_tokenizer_to_json(t, &out), ATTN_OK);
    assert_non_null(strstr(out, "\"ignore_merges\":\ttrue"));
    free(out);
    attn_tokenizer_free(t);
    free(json);
}

static void expect_file_refused(const char *pre, const char *added, const char *model_extra,
                                const char *rest, const char *needle) {
    char *json = bpe_json(pre, added, model_extra, rest);
    attn_tokenizer *t = (attn_tokenizer *)&t;
    attn_status s = attn_tokenizer_from_json(json, strlen(json), &t);
    if (s != ATTN_ERR_FORMAT) fail_msg("status %d (%s) for %s", s, attn_last_error(), pre);
    assert_null(t);
    tt_assert_error_mentions(needle);
    free(json);
}

static void test_file_refusals(void **state) {
    (void)state;
    const char *bl = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}";
    char pre[1024];
    static const struct {
        const char *split, *needle;
    } splits[] = {
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Removed\"}",
         "behavior 'Removed' is not supported"},
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Isolated\", "
         "\"invert\": true}",
         "invert"},
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": 3}, \"behavior\": \"Isolated\"}",
         "\"pattern\" must be"},
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, \"behavior\": \"Isolated\"}",
         "'\\d' is not supported"},
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}",
         "offset"},
        {"{\"type\": \"Split\", \"pattern\": {\"String\": \"\"}, \"behavior\": \"Isolated\"}",
         "empty pattern"},
        {"{\"type\": \"Digits\", \"individual_digits\": true}", "'Digits' is not supported"},
        {"{\"type\": \"Metaspace\"}", "'Metaspace' is not supported"},
    };
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        snprintf(pre, sizeof pre, "{\"type\": \"Sequence\", \"pretokenizers\": [%s, %s]}",
                 splits[i].split, bl);
        expect_file_refused(pre, "", "", "", splits[i].needle);
    }
    expect_file_refused("{\"type\": \"Sequence\", \"pretokenizers\": []}", "", "", "",
                        "needs a ByteLevel step");
    snprintf(pre, sizeof pre, "{\"type\": \"Sequence\", \"pretokenizers\": [%s, %s]}", bl, bl);
    expect_file_refused(pre, "", "", "", "after ByteLevel");
    expect_file_refused("{\"type\": \"Sequence\", \"pretokenizers\": 1}", "", "", "",
                        "pretokenizers must be an array");
    expect_file_refused("{\"type\": \"Metaspace\", \"replacement\": \"\\u2581\"}", "", "", "",
                        "(found Metaspace)");
    expect_file_refused(bl, "", ", \"byte_fallback\": true", "",
                        "pre_tokenizer 'ByteLevel' is not supported for a SentencePiece-style");
    expect_file_refused(bl, "", ", \"fuse_unk\": true", "", "SentencePiece");
    expect_file_refused(bl, "", ", \"ignore_merges\": 1", "", "ignore_merges");
    expect_file_refused(bl,
                        "{\"id\": 258, \"content\": \"<x>\", \"special\": true, \"lstrip\": true}",
                        "", "", "\"lstrip\" other than false");
    expect_file_refused(
        bl, "{\"id\": 258, \"content\": \"<x>\", \"special\": false, \"single_word\": true}", "",
        "", "single_word");
    expect_file_refused(bl,
                        "{\"id\": 258, \"content\": \"<x>\", \"special\": true, \"normalized\": "
                        "true}",
                        "", ", \"normalizer\": {\"type\": \"NFC\"}", "normalized");
    expect_file_refused(bl, "", "",
                        ", \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": "
                        "\"Prepend\", \"prepend\": \"\\u2581\"}]}",
                        "normalizer 'Prepend' is not supported");
    expect_file_refused(bl, "", "",
                        ", \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": "
                        "[{\"SpecialToken\": {\"id\": \"<none>\"}}, {\"Sequence\": {\"id\": "
                        "\"A\"}}]}",
                        "'<none>' is unknown");
    expect_file_refused(bl, "", "",
                        ", \"post_processor\": {\"type\": \"BertProcessing\", \"cls\": [\"a\", "
                        "9999], \"sep\": [\"b\", 1]}",
                        "9999 is not in the vocabulary");
}

static void test_normalized_added_without_normalizer(void **state) {
    (void)state;
    /* GPT-2's published file marks <|endoftext|> "normalized": true; without a normalizer that
     * is the raw text, and it loads */
    const char *bl = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}";
    char *json = bpe_json(bl,
                          "{\"id\": 258, \"content\": \"<|endoftext|>\", \"special\": true, "
                          "\"normalized\": true}",
                          "", "");
    attn_tokenizer *t = load_json(json);
    assert_int_equal(attn_tokenizer_vocab_size(t), 259);
    attn_tokenizer_free(t);
    free(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_and_gaps),
        cmocka_unit_test(test_caseless_groups),
        cmocka_unit_test(test_refused_patterns),
        cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_sequence_file),
        cmocka_unit_test(test_ignore_merges),
        cmocka_unit_test(test_file_refusals),
        cmocka_unit_test(test_normalized_added_without_normalizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
