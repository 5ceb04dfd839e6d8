/* tools/train_opts.c: the shared options of the training commands. */
#define _POSIX_C_SOURCE 200809L
#include "train_opts.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(attn_norm) == sizeof(int) && sizeof(attn_schedule_kind) == sizeof(int),
               "CLI_ENUM writes enums as int");

void train_opts_model(attn_config *cfg, const char *layers_what, cli_opt *t, int *n) {
    const cli_opt rows[] = {
        CLI_HEADING("Model"),
        CLI_OPT("layers", CLI_INT, &cfg->n_layers, layers_what, .min = 1, .max = 1000),
        CLI_OPT("d-model", CLI_INT, &cfg->d_model, "model width C", .min = 1, .max = 65536),
        CLI_OPT("heads", CLI_INT, &cfg->n_heads, "attention heads (must divide --d-model)",
                .min = 1, .max = 65536),
        CLI_OPT("d-ff", CLI_INT, &cfg->d_ff, "feed-forward hidden size", .min = 1, .max = 1 << 20,
                .default_text = "4 * d-model"),
        CLI_OPT("dropout", CLI_FLOAT, &cfg->dropout, "dropout on embeddings and sublayer outputs",
                .min = 0, .max = 0.99),
        CLI_OPT("norm", CLI_ENUM, &cfg->norm, "LayerNorm placement", .choices = attn_norm_names()),
        CLI_OPT("pos", CLI_ENUM, &cfg->pos, "position embeddings", .choices = attn_pos_names()),
        CLI_OPT("act", CLI_ENUM, &cfg->act, "feed-forward activation", .choices = attn_act_names()),
        CLI_OPT("pool", CLI_ENUM, &cfg->pool,
                "what the head reads: the [CLS] position or the mean of all",
                .choices = attn_pool_names()),
    };
    int count = (int)(sizeof rows / sizeof rows[0]) - (cfg->arch != ATTN_ARCH_CLASSIFIER);
    cli_append(t, n, rows, count);
}

void train_opts_optim(attn_train_params *tp, attn_adamw_params *hp, attn_config *cfg, cli_opt *t,
                      int *n) {
    attn_schedule *s = &tp->schedule;
    const cli_opt rows[] = {
        CLI_HEADING("Optimisation (AdamW)"),
        CLI_OPT("lr", CLI_FLOAT, &s->lr,
                "peak learning rate (invsqrt: a multiplier, 1 in the paper)", .min = 0, .max = 1e6),
        CLI_OPT("min-lr", CLI_FLOAT, &s->min_lr, "final learning rate of the cosine schedule",
                .min = 0, .max = 1e6),
        CLI_OPT("schedule", CLI_ENUM, &s->kind, "learning-rate schedule after warm-up",
                .choices = attn_schedule_names()),
        CLI_OPT("warmup", CLI_LONG, &s->warmup, "steps of linear warm-up", .min = 0, .max = 1e18),
        CLI_OPT("weight-decay", CLI_FLOAT, &hp->weight_decay,
                "decoupled weight decay (matrices and embeddings)", .min = 0, .max = 1e3),
        CLI_OPT("clip", CLI_FLOAT, &hp->clip_norm, "clip the global gradient norm (0: off)",
                .min = 0, .max = 1e30),
        CLI_OPT("label-smoothing", CLI_FLOAT, &cfg->label_smoothing,
                "label smoothing of the training loss (evaluation reports the plain loss)",
                .min = 0, .max = 0.99),
        CLI_OPT("seed", CLI_U64, &tp->seed, "seed of the initial weights, batches and dropout"),
    };
    cli_append(t, n, rows, (int)(sizeof rows / sizeof rows[0]));
}

int train_opts_check(attn_config *cfg, const attn_train_params *tp, cli_opt *t) {
    if (cfg->d_model % cfg->n_heads != 0) {
        cli_error("--d-model %d is not divisible by --heads %d", cfg->d_model, cfg->n_heads);
        return CLI_USAGE;
    }
    const attn_schedule *s = &tp->schedule;
    if (s->min_lr > s->lr && s->kind == ATTN_SCHEDULE_COSINE) {
        cli_error("--min-lr %g is above --lr %g", (double)s->min_lr, (double)s->lr);
        return CLI_USAGE;
    }
    if (!cli_find(t, "d-ff")->seen) cfg->d_ff = 4 * cfg->d_model;
    return CLI_OK;
}

/* Row o's value and the same field of `have` (o->dest lies in [base, base + size)) as numbers;
 * 0 when o does not point into that struct. */
static int field_pair(const cli_opt *o, const void *base, size_t size, const void *have,
                      double *want, double *got) {
    const char *d = o->dest, *b = base;
    if (!d || d < b || d >= b + size) return 0;
    const char *h = (const char *)have + (d - b);
    switch (o->type) {
    case CLI_INT:
    case CLI_ENUM:
        *want = *(const int *)d, *got = *(const int *)h;
        return 1;
    case CLI_FLOAT:
        *want = *(const float *)d, *got = *(const float *)h;
        return 1;
    default:
        return 0;
    }
}

int train_opts_same(const cli_opt *t, const attn_config *cfg, const attn_config *have_cfg,
                    const attn_adamw_params *hp, const attn_adamw_params *have_hp,
                    const attn_train_params *tp, uint64_t have_seed) {
    for (const cli_opt *o = t; o->name || o->help; o++) {
        if (!o->seen) continue;
        double want, got;
        int known = field_pair(o, cfg, sizeof *cfg, have_cfg, &want, &got) ||
                    field_pair(o, hp, sizeof *hp, have_hp, &want, &got);
        if (o->dest == &tp->seed) {
            known = 1;
            want = (double)tp->seed, got = (double)have_seed;
        }
        if (!known || want == got) continue;
        if (o->type == CLI_ENUM)
            cli_error("--%s %s differs from the checkpoint's %s (with --resume the model comes "
                      "from the checkpoint)",
                      o->name, o->choices[(int)want], o->choices[(int)got]);
        else
            cli_error("--%s %g differs from the checkpoint's %g (with --resume the model, seed "
                      "and AdamW settings come from the checkpoint)",
                      o->name, want, got);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int train_opts_check_writable(const char *path) {
    attn_status s = attn_file_check_writable(path);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "%s", "");
}

static volatile sig_atomic_t interrupted = 0;
static struct sigaction old_sigint;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

void train_opts_catch_sigint(void) {
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sigint);
}

void train_opts_release_sigint(void) {
    sigaction(SIGINT, &old_sigint, NULL);
}

int train_opts_interrupted(void *user) {
    (void)user;
    return interrupted;
}

void train_opts_beside(const char *ckpt, const char *suffix, char *buf, size_t n) {
    static const char ext[] = ".safetensors";
    size_t len = strlen(ckpt), e = sizeof ext - 1;
    if (len > e && strcmp(ckpt + len - e, ext) == 0) len -= e;
    snprintf(buf, n, "%.*s%s", (int)len, ckpt, suffix);
}
