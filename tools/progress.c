/* tools/progress.c: the training progress line. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define TTY_INTERVAL 0.1   /* seconds between redraws on a terminal */
#define PLAIN_INTERVAL 5.0 /* seconds between lines when stderr is not a terminal */

void progress_init(progress *p, const char *unit, const char *tag, int quiet) {
    *p = (progress){.tag = tag, .unit = unit, .quiet = quiet, .t_last = -1e30};
    p->tty = isatty(STDERR_FILENO);
}

void progress_format_duration(double s, char *buf, int n) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, (size_t)n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, (size_t)n, "%ldm%02lds", t / 60, t % 60);
    else if (s >= 10)
        snprintf(buf, (size_t)n, "%lds", t);
    else
        snprintf(buf, (size_t)n, "%.1fs", s);
}

static const char *tag_of(const progress *p, const char **sep) {
    *sep = p->tag ? "  " : "";
    return p->tag ? p->tag : "";
}

void progress_step(progress *p, const attn_train_progress *t) {
    if (p->quiet) return;
    p->loss_sum += t->loss;
    p->loss_n++;
    if (t->correct >= 0) p->correct += t->correct, p->counted += t->count;
    int last = t->step >= t->total_steps, first = t->step == t->first_step + 1;
    double interval = p->tty ? TTY_INTERVAL : PLAIN_INTERVAL;
    if (!last && !first && t->seconds - p->t_last < interval) return;

    long done = t->step - t->first_step;
    double eta = done > 0 ? t->seconds / (double)done * (double)(t->total_steps - t->step) : 0;
    char when[32], epoch[48] = "", acc[32] = "", lr[32] = "";
    progress_format_duration(last ? t->seconds : eta, when, sizeof when);
    if (t->epochs > 0) snprintf(epoch, sizeof epoch, "epoch %d/%d  ", t->epoch, t->epochs);
    if (p->counted > 0)
        snprintf(acc, sizeof acc, "  acc %.3f", (double)p->correct / p->counted);
    else
        snprintf(lr, sizeof lr, "  lr %.2e", (double)t->lr);
    int width = 0;
    for (long s = t->total_steps; s > 0 && t->epochs == 0; s /= 10)
        width++;
    const char *sep, *tag = tag_of(p, &sep);
    char line[256];
    snprintf(line, sizeof line, "%s%s%sstep %*ld/%ld  loss %.4f%s%s  %.0f %s/s  %s %s", tag, sep,
             epoch, width, t->step, t->total_steps, p->loss_sum / (double)p->loss_n, acc, lr,
             t->seconds > 0 ? (double)t->counted_run / t->seconds : 0.0, p->unit,
             last ? "took" : "ETA", when);
    if (p->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        p->drawn = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    p->t_last = t->seconds;
    p->loss_sum = 0;
    p->loss_n = p->correct = p->counted = 0;
}

void progress_message(progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    if (p->drawn) fputs("\r\033[K", stderr);
    const char *sep, *tag = tag_of(p, &sep);
    fprintf(stderr, "%s%s", tag, sep);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    /* On a terminal the bar comes back at the next update. */
    if (p->drawn) p->t_last = -1e30;
    p->drawn = 0;
}

void progress_finish(progress *p) {
    if (p->quiet) return;
    if (p->drawn) fputc('\n', stderr);
    p->drawn = 0;
    fflush(stderr);
}
