/* tests/data/test_parallel.c: parallel text (src/data/parallel.c), token-budget batch plans
 * (src/data/batches.c) and translation batches (src/data/pairs_source.c). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/data.h"
#include "attn/tokenizer.h"

static const char tsv[] =
    "Gen.1.1\tIn the beginning\tEn el principio\n"
    "\n"
    "Gen.1.2\tThe earth was formless and empty\tY la tierra estaba desordenada\n"
    "Gen.1.3\tLet there be light\tSea la luz\n"
    "Gen.1.4\tGod saw the light, that it was good\tY vio Dios que la luz era "
    "buena\n"
    "Gen.1.5\tDay\tDía\n";

static char path[64];

static void write_file(const char *text) {
    strcpy(path, "/tmp/attn_test_parallel_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_read(void **state) {
    (void)state;
    write_file(tsv);
    attn_parallel p;
    assert_int_equal(attn_parallel_read(path, 2, 1, &p), ATTN_OK); /* es -> en */
    assert_int_equal(p.n, 5);
    assert_string_equal(p.src[0], "En el principio");
    assert_string_equal(p.tgt[0], "In the beginning");
    assert_string_equal(p.src[4], "Día");
    assert_int_equal(p.lines[1], 3); /* the blank line is skipped but counted */
    attn_parallel_free(&p);
    assert_int_equal(attn_parallel_read(path, 1, 3, &p), ATTN_ERR_FORMAT);
    assert_non_null(strstr(attn_last_error(), ":1: 4 columns needed"));
    assert_int_equal(attn_parallel_read(path, 1, 1, &p), ATTN_ERR_INVALID);
    unlink(path);
}

/* The same text parsed from memory: the same pairs; the name given is the FILE of FILE:LINE. */
static void test_parse_memory(void **state) {
    (void)state;
    attn_parallel p;
    assert_int_equal(attn_parallel_parse(tsv, strlen(tsv), "mem.tsv", 1, 2, &p), ATTN_OK);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.src[1], "The earth was formless and empty");
    assert_string_equal(p.tgt[3], "Y vio Dios que la luz era buena");
    assert_int_equal(p.lines[4], 6);
    attn_parallel_free(&p);
    static const char bad[] = "a\tb\tc\nd\te\n";
    assert_int_equal(attn_parallel_parse(bad, strlen(bad), "mem.tsv", 1, 2, &p), ATTN_ERR_FORMAT);
    assert_string_equal(attn_last_error(), "mem.tsv:2: 3 columns needed (tab-separated)");
    assert_null(p.src);
    assert_int_equal(attn_parallel_parse(bad, 3, NULL, 0, 1, &p), ATTN_OK); /* "a\tb" */
    assert_int_equal(p.n, 1);
    assert_string_equal(p.tgt[0], "b");
    attn_parallel_free(&p);
    assert_int_equal(attn_parallel_parse("", 0, NULL, 1, 2, &p), ATTN_OK);
    assert_int_equal(p.n, 0);
    attn_parallel_free(&p);
}

static void test_token_plan(void **state) {
    (void)state;
    int lengths[200];
    attn_rng rng;
    attn_rng_init(&rng, 3, 0);
    for (int i = 0; i < 200; i++)
        lengths[i] = 1 + (int)attn_rng_below(&rng, 60);
    lengths[7] = 500; /* longer than the budget: a batch of its own */
    attn_batch_plan plan;
    assert_int_equal(attn_batch_plan_make_tokens(lengths, 200, 256, 64, 1, 9, 1, &plan), ATTN_OK);
    int seen[200] = {0};
    for (long b = 0; b < plan.n_batches; b++) {
        long n = plan.offsets[b + 1] - plan.offsets[b];
        int longest = 0;
        for (long k = plan.offsets[b]; k < plan.offsets[b + 1]; k++) {
            seen[plan.order[k]]++;
            if (lengths[plan.order[k]] > longest) longest = lengths[plan.order[k]];
        }
        assert_true(n >= 1);
        assert_true(n == 1 || n * longest <= 256);
    }
    for (int i = 0; i < 200; i++)
        assert_int_equal(seen[i], 1);
    attn_batch_plan again;
    assert_int_equal(attn_batch_plan_make_tokens(lengths, 200, 256, 64, 1, 9, 1, &again), ATTN_OK);
    assert_int_equal(again.n_batches, plan.n_batches);
    assert_memory_equal(again.order, plan.order, 200 * sizeof(long));
    attn_batch_plan_free(&again);
    attn_batch_plan_free(&plan);
    assert_int_equal(attn_batch_plan_make_tokens(lengths, 200, 0, 64, 1, 9, 1, &plan),
                     ATTN_ERR_INVALID);
}

static void test_pairs_and_source(void **state) {
    (void)state;
    write_file(tsv);
    attn_parallel p;
    assert_int_equal(attn_parallel_read(path, 1, 2, &p), ATTN_OK);
    unlink(path);
    const char *texts[10];
    size_t lens[10];
    for (int i = 0; i < 5; i++) {
        texts[2 * i] = p.src[i], texts[2 * i + 1] = p.tgt[i];
        lens[2 * i] = strlen(p.src[i]), lens[2 * i + 1] = strlen(p.tgt[i]);
    }
    attn_bpe_train_params bp = attn_bpe_train_default_params();
    bp.vocab_size = 300;
    attn_tokenizer *tok;
    assert_int_equal(attn_tokenizer_train_bpe(texts, lens, 10, bp, &tok), ATTN_OK);
    int eos = attn_tokenizer_special(tok, ATTN_SPECIAL_SEP),
        bos = attn_tokenizer_special(tok, ATTN_SPECIAL_CLS);
    attn_pairs pr;
    assert_int_equal(attn_pairs_encode(&p, tok, 6, 64, eos, &pr), ATTN_OK);
    assert_int_equal(pr.n, 5);
    for (long i = 0; i < pr.n; i++) {
        assert_true(pr.src_len[i] <= 6);
        assert_int_equal(pr.ids[pr.src_off[i] + pr.src_len[i] - 1], eos);
        assert_int_equal(pr.ids[pr.tgt_off[i] + pr.tgt_len[i] - 1], eos);
        /* the target decodes back to its text */
        char *back;
        size_t n;
        assert_int_equal(
            attn_tokenizer_decode(tok, pr.ids + pr.tgt_off[i], pr.tgt_len[i] - 1, &back, &n),
            ATTN_OK);
        assert_string_equal(back, p.tgt[i]);
        free(back);
    }
    assert_true(pr.n_truncated >= 1); /* the long English sources do not fit 6 ids */

    attn_pairs_source_params q = attn_pairs_source_default_params();
    q.max_tokens = 40, q.bucket = 3, q.bos_id = bos, q.pad_id = 0, q.seed = 5;
    attn_batch_source *src;
    assert_int_equal(attn_pairs_source(&pr, q, &src), ATTN_OK);
    long bpe = src->batches_per_epoch, seen[5] = {0};
    for (long i = 0; i < bpe; i++) {
        attn_batch b;
        assert_int_equal(src->next(src->self, i, 0, 1, &b), ATTN_OK);
        assert_true(b.B == 1 || (long)b.B * (b.T > b.Tt ? b.T : b.Tt) <= 40);
        for (int r = 0; r < b.B; r++) {
            assert_int_equal(b.tgt_in[r * b.Tt], bos);
            int n = 0;
            while (n < b.Tt && b.targets[r * b.Tt + n] != ATTN_IGNORE_INDEX)
                n++;
            assert_int_equal(b.targets[r * b.Tt + n - 1], eos);
            for (long k = 0; k < pr.n; k++) /* which pair is it? its target ids */
                if (pr.tgt_len[k] == n &&
                    !memcmp(pr.ids + pr.tgt_off[k], b.targets + r * b.Tt, (size_t)n * sizeof(int)))
                    seen[k]++;
            for (int t = 1; t < n; t++) /* teacher forcing: the input is the target shifted */
                assert_int_equal(b.tgt_in[r * b.Tt + t], b.targets[r * b.Tt + t - 1]);
            assert_true(b.lengths[r] >= 2 && b.lengths[r] <= b.T);
        }
    }
    for (int k = 0; k < 5; k++)
        assert_int_equal(seen[k], 1);
    attn_batch_source_free(src);
    attn_pairs_free(&pr);
    attn_tokenizer_free(tok);
    attn_parallel_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_parse_memory),
        cmocka_unit_test(test_token_plan),
        cmocka_unit_test(test_pairs_and_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
