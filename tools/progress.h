/* tools/progress.h: the one-line training progress display on stderr.
 *
 * On a terminal the line is redrawn in place with '\r' (at most ten times a second); when stderr is
 * a file or a pipe, a plain line is written for the first step, then at most every few seconds,
 * and for the last step. Messages (validation losses, saves) are printed on their own lines without
 * breaking the bar. */
#ifndef ATTN_TOOLS_PROGRESS_H
#define ATTN_TOOLS_PROGRESS_H

typedef struct {
    long first_step; /* step the run (or resumed run) started from */
    long total;      /* last step number */
    int tty;         /* stderr is a terminal */
    int quiet;       /* print nothing */
    int drawn;       /* a bar is on the terminal line now */
    double t_start;  /* cli_now() at init */
    double t_last;   /* time of the last draw */
    double loss_sum; /* losses since the last draw */
    long loss_n;
} progress;

void progress_init(progress *p, long first_step, long total, int quiet);

/* After finishing step `step` (1-based: steps done) with this loss and learning rate, having
 * processed `tokens` tokens since init. */
void progress_update(progress *p, long step, float loss, float lr, long tokens);

/* Prints one line (printf-style, no trailing newline needed) above the bar. */
void progress_message(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the bar's line. */
void progress_finish(progress *p);

/* "1h02m", "3m05s", "12s" */
void progress_format_duration(double seconds, char *buf, int n);

#endif
