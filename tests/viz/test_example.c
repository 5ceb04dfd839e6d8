/* tests/viz/test_example.c: the pictures of docs/VIZ.md, end to end through the public API.
 *
 * Trains a tiny byte-level language model on a few repetitive sentences, then draws its training
 * curve (train loss and dev loss on the left axis, learning rate on the right) and the attention
 * map of its most focused head over a new sentence. The test checks that training worked and that
 * both pictures are written; to refresh the figures of docs/VIZ.md run
 *     ATTN_VIZ_EXAMPLE_DIR=docs/images build/tests/viz_test_example */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"
#include "pngcheck.h"
#include "viz/heatmap.h"

static const char *corpus = "the cat sat on the mat. the dog sat on the log. the cat saw the dog. "
                            "the dog saw the cat on the mat. a cat and a dog sat on a log. ";
static const char *dev_text = "the dog sat on the mat. a cat saw the log.";
static const char *shown_text = "the cat sat on the log. the dog saw a cat.";

enum { B = 8, T = 40, EVAL_EVERY = 20 };

static attn_model *make_lm(void) {
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.vocab_size = 256, c.max_len = 64, c.d_model = 64, c.n_heads = 4, c.d_ff = 128;
    c.n_layers = 2, c.dropout = 0;
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
    return m;
}

/* ids[t] = text[t], targets[t] = text[t + 1] over n + 1 bytes of text */
static void window(const char *text, int n, int *ids, int *targets) {
    for (int t = 0; t < n; t++)
        ids[t] = (unsigned char)text[t], targets[t] = (unsigned char)text[t + 1];
}

static float dev_loss(attn_model *m) {
    int n = (int)strlen(dev_text) - 1, ids[64], tg[64];
    window(dev_text, n, ids, tg);
    attn_batch b = {.B = 1, .T = n, .tokens = ids, .targets = tg};
    float loss;
    assert_int_equal(attn_model_forward(m, &b, 0, &loss), ATTN_OK);
    return loss;
}

typedef struct {
    int steps;
    double *step, *loss, *lr, *dev_step, *dev;
    int n_dev;
} curves;

static void train(attn_model *m, curves *cv) {
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_schedule sched = {.kind = ATTN_SCHEDULE_COSINE,
                           .lr = 3e-3f,
                           .min_lr = 3e-4f,
                           .warmup = cv->steps / 10,
                           .total = cv->steps};
    attn_rng rng;
    attn_rng_init(&rng, 2024, 0);
    int n = (int)strlen(corpus), ids[B * T], tg[B * T];
    for (int s = 0; s < cv->steps; s++) {
        for (int b = 0; b < B; b++)
            window(corpus + attn_rng_below(&rng, (uint32_t)(n - T - 1)), T, ids + b * T,
                   tg + b * T);
        attn_batch batch = {.B = B, .T = T, .tokens = ids, .targets = tg};
        float loss, lr = attn_schedule_lr(&sched, s);
        attn_model_zero_grad(m);
        assert_int_equal(attn_model_forward(m, &batch, 1, &loss), ATTN_OK);
        assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK);
        assert_int_equal(attn_optimizer_step(opt, m, lr, NULL), ATTN_OK);
        cv->step[s] = s + 1, cv->loss[s] = loss, cv->lr[s] = lr;
        if ((s + 1) % EVAL_EVERY == 0 || s + 1 == cv->steps) {
            cv->dev_step[cv->n_dev] = s + 1;
            cv->dev[cv->n_dev++] = dev_loss(m);
        }
    }
    attn_optimizer_free(opt);
}

/* The head of the last layer whose rows are most concentrated (mean of the row maxima). */
static int most_focused_head(const attn_maps *maps, double *focus) {
    int best = 0, l = maps->n_layers - 1;
    *focus = -1;
    for (int h = 0; h < maps->n_heads; h++) {
        const float *P = attn_maps_head(maps, l, h);
        double sum = 0;
        for (int i = 0; i < maps->n_queries; i++) {
            float mx = 0;
            for (int j = 0; j < maps->n_keys; j++)
                mx = fmaxf(mx, P[i * maps->n_keys + j]);
            sum += mx;
        }
        if (sum / maps->n_queries > *focus) *focus = sum / maps->n_queries, best = h;
    }
    return best;
}

static void test_example(void **state) {
    (void)state;
    const char *out_dir = getenv("ATTN_VIZ_EXAMPLE_DIR");
    const char *dir = out_dir ? out_dir : pc_tmpdir();
    curves cv = {.steps = tu_sanitized() ? 30 : 200};
    double *buf = calloc((size_t)cv.steps * 5, sizeof *buf);
    cv.step = buf, cv.loss = buf + cv.steps, cv.lr = buf + 2 * cv.steps;
    cv.dev_step = buf + 3 * cv.steps, cv.dev = buf + 4 * cv.steps;
    attn_model *m = make_lm();
    train(m, &cv);
    assert_true(cv.loss[cv.steps - 1] < 0.6 * cv.loss[0]);

    char curve_path[512], map_path[512], title[128];
    snprintf(curve_path, sizeof curve_path, "%s/training_curve.png", dir);
    snprintf(map_path, sizeof map_path, "%s/attention_map.png", dir);
    attn_series series[3] = {
        {.name = "train loss", .x = cv.step, .y = cv.loss, .n = cv.steps},
        {.name = "dev loss", .x = cv.dev_step, .y = cv.dev, .n = cv.n_dev},
        {.name = "learning rate", .x = cv.step, .y = cv.lr, .n = cv.steps, .right_axis = 1}};
    assert_int_equal(attn_plot_png(curve_path, "A tiny byte-level LM learning a few sentences",
                                   "step", series, 3),
                     ATTN_OK);
    cairo_surface_destroy(pc_load(curve_path, 960, 540));

    /* tokens are bytes; a space is drawn as the open box U+2423 */
    int n = (int)strlen(shown_text), ids[64];
    char names[64][4];
    const char *labels[64];
    for (int t = 0; t < n; t++) {
        ids[t] = (unsigned char)shown_text[t];
        snprintf(names[t], sizeof names[t], "%c", shown_text[t]);
        labels[t] = shown_text[t] == ' ' ? "\xE2\x90\xA3" : names[t];
    }
    attn_batch one = {.B = 1, .T = n, .tokens = ids};
    attn_maps maps;
    assert_int_equal(attn_model_attention_maps(m, &one, ATTN_MAPS_DECODER_SELF, &maps), ATTN_OK);
    double focus;
    int head = most_focused_head(&maps, &focus);
    if (!tu_sanitized()) /* trained (not in the short sanitizer run), heads focus */
        assert_true(focus > 0.3);
    snprintf(title, sizeof title,
             "Decoder self-attention, layer %d, head %d (rows attend to columns)",
             maps.n_layers - 1, head);
    const float *P = attn_maps_head(&maps, maps.n_layers - 1, head);
    assert_int_equal(attn_heatmap_png(map_path, P, n, n, labels, labels, title), ATTN_OK);
    viz_heatmap_layout L;
    assert_int_equal(viz_heatmap_plan(P, n, n, labels, labels, title, &L), ATTN_OK);
    cairo_surface_destroy(pc_load(map_path, L.width, L.height));

    attn_maps_free(&maps);
    attn_model_free(m);
    free(buf);
    if (!out_dir) {
        remove(curve_path), remove(map_path);
        assert_int_equal(rmdir(dir), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_example)};
    return cmocka_run_group_tests(tests, NULL, pc_release_fonts);
}
