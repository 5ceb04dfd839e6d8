/* tools/progress.h: the one-line training progress display on stderr, drawn from attn_train's
 * progress callback (attn/train.h).
 *
 * On a terminal the line is redrawn in place with '\r' (at most ten times a second); when stderr is
 * a file or a pipe, a plain line is written for the first step, then at most every few seconds,
 * and for the last step. The line shows the epoch (epoch-based runs), the step, the mean loss (and
 * training accuracy, for classifiers) since the last line, the rate and the ETA. Messages
 * (validation, saves) are printed on their own lines without breaking the bar. */
#ifndef ATTN_TOOLS_PROGRESS_H
#define ATTN_TOOLS_PROGRESS_H

#include "attn/train.h"

typedef struct {
    const char *tag;  /* prefix of every line ("fold 2/5"), or NULL */
    const char *unit; /* what the rate counts: "tok" or "ex" */
    int quiet;        /* print nothing */
    int tty;          /* stderr is a terminal */
    int drawn;        /* a bar is on the terminal line now */
    double t_last;    /* time of the last draw (attn_train_progress.seconds) */
    double loss_sum;  /* since the last draw */
    long loss_n, correct, counted;
} progress;

void progress_init(progress *p, const char *unit, const char *tag, int quiet);

/* Draws the bar for an ATTN_TRAIN_STEP event (when it is time to). */
void progress_step(progress *p, const attn_train_progress *t);

/* Prints one line (printf-style, no trailing newline needed) above the bar, after the tag. */
void progress_message(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the bar's line. */
void progress_finish(progress *p);

/* "1h02m", "3m05s", "12s", "4.2s" */
void progress_format_duration(double seconds, char *buf, int n);

#endif
