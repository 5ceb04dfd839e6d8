/* tools/progress.c: the training progress line. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "args.h"

#define TTY_INTERVAL 0.1   /* seconds between redraws on a terminal */
#define PLAIN_INTERVAL 5.0 /* seconds between lines when stderr is not a terminal */

void progress_init(progress *p, long first_step, long total, int quiet) {
    p->first_step = first_step;
    p->total = total;
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->drawn = 0;
    p->t_start = cli_now();
    p->t_last = -1e30;
    p->loss_sum = 0;
    p->loss_n = 0;
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

/* "12.3k" style rate. */
static void format_rate(double r, char *buf, int n) {
    if (r >= 1e6)
        snprintf(buf, (size_t)n, "%.2fM", r / 1e6);
    else if (r >= 1e3)
        snprintf(buf, (size_t)n, "%.1fk", r / 1e3);
    else
        snprintf(buf, (size_t)n, "%.0f", r);
}

void progress_update(progress *p, long step, float loss, float lr, long tokens) {
    if (p->quiet) return;
    p->loss_sum += loss;
    p->loss_n++;
    double now = cli_now();
    int last = step >= p->total;
    int first = step == p->first_step + 1;
    double interval = p->tty ? TTY_INTERVAL : PLAIN_INTERVAL;
    if (!last && !first && now - p->t_last < interval) return;

    double elapsed = now - p->t_start;
    long done = step - p->first_step;
    double eta = done > 0 ? elapsed / (double)done * (double)(p->total - step) : 0;
    char rate[32], when[32];
    format_rate(elapsed > 0 ? (double)tokens / elapsed : 0, rate, sizeof rate);
    progress_format_duration(last ? elapsed : eta, when, sizeof when);
    int width = 0;
    for (long t = p->total; t > 0; t /= 10)
        width++;
    char line[160];
    snprintf(line, sizeof line, "step %*ld/%ld  loss %.4f  lr %.2e  %s tok/s  %s %s", width, step,
             p->total, p->loss_sum / (double)p->loss_n, (double)lr, rate, last ? "took" : "ETA",
             when);
    if (p->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        p->drawn = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    p->t_last = now;
    p->loss_sum = 0;
    p->loss_n = 0;
}

void progress_message(progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    if (p->drawn) fputs("\r\033[K", stderr);
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
