/* tests/train/test_schedule.c: learning-rate schedules (src/train/schedule.c). */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "attn/train.h"

#define assert_lr(got, want)                                                                       \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (!(fabs(g_ - w_) <= 1e-6 * fabs(w_) + 1e-12))                                           \
            fail_msg("%s = %.9g, want %.9g", #got, g_, w_);                                        \
    } while (0)

static void test_constant(void **state) {
    (void)state;
    attn_schedule s = {.kind = ATTN_SCHEDULE_CONSTANT, .lr = 3e-4f};
    assert_lr(attn_schedule_lr(&s, 0), 3e-4);
    assert_lr(attn_schedule_lr(&s, 1000000), 3e-4);
    s.warmup = 4;
    assert_lr(attn_schedule_lr(&s, 0), 3e-4 * 1 / 4.0);
    assert_lr(attn_schedule_lr(&s, 1), 3e-4 * 2 / 4.0);
    assert_lr(attn_schedule_lr(&s, 2), 3e-4 * 3 / 4.0);
    assert_lr(attn_schedule_lr(&s, 3), 3e-4);
    assert_lr(attn_schedule_lr(&s, 4), 3e-4);
    assert_lr(attn_schedule_lr(&s, 99), 3e-4);
    assert_lr(attn_schedule_lr(&s, -5), 3e-4 / 4.0); /* negative steps count as 0 */
}

static void test_cosine(void **state) {
    (void)state;
    attn_schedule s = {
        .kind = ATTN_SCHEDULE_COSINE, .lr = 1e-3f, .min_lr = 1e-5f, .warmup = 10, .total = 110};
    /* warm-up: lr·(step+1)/warmup */
    assert_lr(attn_schedule_lr(&s, 0), 1e-4);
    assert_lr(attn_schedule_lr(&s, 4), 5e-4);
    assert_lr(attn_schedule_lr(&s, 9), 1e-3);
    /* decay from lr at step = warmup, through the midpoint, to min_lr at total and beyond */
    assert_lr(attn_schedule_lr(&s, 10), 1e-3);
    assert_lr(attn_schedule_lr(&s, 60), 1e-5 + 0.5 * (1e-3 - 1e-5));
    assert_lr(attn_schedule_lr(&s, 35),
              1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + cos(3.14159265358979323846 * 0.25)));
    assert_lr(attn_schedule_lr(&s, 110), 1e-5);
    assert_lr(attn_schedule_lr(&s, 5000), 1e-5);
    /* monotone non-increasing after warm-up */
    for (long t = 10; t < 120; t++)
        assert_true(attn_schedule_lr(&s, t + 1) <= attn_schedule_lr(&s, t));

    /* no warm-up: starts at lr */
    s.warmup = 0;
    assert_lr(attn_schedule_lr(&s, 0), 1e-3);
    assert_lr(attn_schedule_lr(&s, 55), 1e-5 + 0.5 * (1e-3 - 1e-5));
    /* total not past warm-up: min_lr once warm-up ends */
    s.warmup = 10, s.total = 5;
    assert_lr(attn_schedule_lr(&s, 9), 1e-3);
    assert_lr(attn_schedule_lr(&s, 10), 1e-5);
}

static void test_invsqrt(void **state) {
    (void)state;
    /* The paper: d_model 512, warmup 4000, lr multiplier 1. s = step + 1. */
    attn_schedule s = {.kind = ATTN_SCHEDULE_INVSQRT, .lr = 1.0f, .warmup = 4000, .d_model = 512};
    double peak = pow(512, -0.5) * pow(4000, -0.5);
    assert_lr(attn_schedule_lr(&s, 3999), peak); /* s = warmup */
    assert_lr(attn_schedule_lr(&s, 0), pow(512, -0.5) * 1 * pow(4000, -1.5));
    assert_lr(attn_schedule_lr(&s, 1999), pow(512, -0.5) * 2000 * pow(4000, -1.5));
    assert_lr(attn_schedule_lr(&s, 15999), pow(512, -0.5) * pow(16000, -0.5));
    /* the peak is the maximum */
    for (long t = 0; t < 20000; t += 7)
        assert_true(attn_schedule_lr(&s, t) <= (float)peak * 1.000001f);
    assert_true(attn_schedule_lr(&s, 3998) < attn_schedule_lr(&s, 3999));
    assert_true(attn_schedule_lr(&s, 4000) < attn_schedule_lr(&s, 3999));
    /* lr scales it */
    s.lr = 2.0f;
    assert_lr(attn_schedule_lr(&s, 3999), 2 * peak);
    /* no warm-up: pure inverse square root */
    s.warmup = 0;
    assert_lr(attn_schedule_lr(&s, 0), 2 * pow(512, -0.5));
    assert_lr(attn_schedule_lr(&s, 99), 2 * pow(512, -0.5) * 0.1);
}

static void test_names(void **state) {
    (void)state;
    const char *names[] = {"constant", "cosine", "invsqrt"};
    for (int i = 0; i < 3; i++) {
        attn_schedule_kind k;
        assert_int_equal(attn_schedule_parse(names[i], &k), ATTN_OK);
        assert_int_equal(k, i);
        assert_string_equal(attn_schedule_name(k), names[i]);
    }
    attn_schedule_kind k = ATTN_SCHEDULE_COSINE;
    assert_int_equal(attn_schedule_parse("linear", &k), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "linear"));
    assert_int_equal(k, ATTN_SCHEDULE_COSINE); /* untouched on error */
    assert_int_equal(attn_schedule_parse(NULL, &k), ATTN_ERR_INVALID);
    assert_int_equal(attn_schedule_parse("Cosine", &k), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_invsqrt),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
