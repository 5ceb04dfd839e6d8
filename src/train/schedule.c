/* train/schedule.c: learning-rate schedules (attn/train.h): constant and cosine after a linear
 * warm-up, and the inverse square root schedule of "Attention Is All You Need". */
#include "attn/train.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

static const double PI = 3.14159265358979323846;

/* Linear warm-up factor (step+1)/warmup for step < warmup, else 1. */
static double warmup_factor(long step, long warmup) {
    if (warmup > 0 && step < warmup) return (double)(step + 1) / (double)warmup;
    return 1.0;
}

/* min_lr + (lr - min_lr)·½(1 + cos(π·progress)), progress = (step - warmup)/(total - warmup)
 * clamped to [0, 1] (a run with total <= warmup is past its decay as soon as warm-up ends). */
static double cosine_lr(const attn_schedule *s, long step) {
    if (s->warmup > 0 && step < s->warmup) return s->lr * warmup_factor(step, s->warmup);
    long warmup = s->warmup > 0 ? s->warmup : 0;
    long span = s->total - warmup;
    double progress = span > 0 ? (double)(step - warmup) / (double)span : 1.0;
    if (progress < 0.0) progress = 0.0;
    if (progress > 1.0) progress = 1.0;
    return s->min_lr + 0.5 * ((double)s->lr - s->min_lr) * (1.0 + cos(PI * progress));
}

/* lr·d^-0.5·min(n^-0.5, n·warmup^-1.5), n = step + 1: rises linearly to its peak
 * lr·d^-0.5·warmup^-0.5 at n = warmup (step = warmup - 1), then decays as n^-0.5. warmup <= 0
 * means no warm-up; d_model <= 0 is taken as 1. */
static double invsqrt_lr(const attn_schedule *s, long step) {
    double n = (double)step + 1.0;
    double d = s->d_model > 0 ? (double)s->d_model : 1.0;
    double f = 1.0 / sqrt(n);
    if (s->warmup > 0) f = fmin(f, n * pow((double)s->warmup, -1.5));
    return s->lr * f / sqrt(d);
}

/* The learning rate of 0-based update `step` (a negative step is taken as 0). An unknown kind
 * gives the constant schedule. No errors. */
float attn_schedule_lr(const attn_schedule *s, long step) {
    if (step < 0) step = 0;
    switch (s->kind) {
    case ATTN_SCHEDULE_COSINE:
        return (float)cosine_lr(s, step);
    case ATTN_SCHEDULE_INVSQRT:
        return (float)invsqrt_lr(s, step);
    case ATTN_SCHEDULE_CONSTANT:
        break;
    }
    return (float)(s->lr * warmup_factor(step, s->warmup));
}

/* "constant", "cosine" or "invsqrt" -> kind; ATTN_ERR_INVALID listing the choices otherwise. */
/* name[kind], NULL-terminated */
static const char *const schedule_names[] = {"constant", "cosine", "invsqrt", NULL};

const char *const *attn_schedule_names(void) {
    return schedule_names;
}

attn_status attn_schedule_parse(const char *name, attn_schedule_kind *out) {
    for (int i = 0; name && schedule_names[i]; i++) {
        if (strcmp(name, schedule_names[i]) == 0) {
            *out = (attn_schedule_kind)i;
            return ATTN_OK;
        }
    }
    return attn_error(ATTN_ERR_INVALID,
                      "unknown learning-rate schedule \"%s\" (expected constant, cosine, invsqrt)",
                      name ? name : "(null)");
}

/* The name attn_schedule_parse accepts for kind; "unknown" for a value outside the enum. */
const char *attn_schedule_name(attn_schedule_kind kind) {
    switch (kind) {
    case ATTN_SCHEDULE_CONSTANT:
        return "constant";
    case ATTN_SCHEDULE_COSINE:
        return "cosine";
    case ATTN_SCHEDULE_INVSQRT:
        return "invsqrt";
    }
    return "unknown";
}
