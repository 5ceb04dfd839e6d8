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

static cli_opt row(const char *name, cli_type type, void *dest, const char *help, double min,
                   double max, const char *const *choices, const char *default_text) {
    return (cli_opt){name, type, dest, NULL, help, min, max, choices, default_text, 0};
}

void train_opts_model(attn_config *cfg, const char *layers_what, cli_opt *t, int *n) {
    int i = *n;
    t[i++] = row(NULL, CLI_SECTION, NULL, "Model", CLI_ANY, NULL, NULL);
    t[i++] = row("layers", CLI_INT, &cfg->n_layers, layers_what, 1, 1000, NULL, NULL);
    t[i++] = row("d-model", CLI_INT, &cfg->d_model, "model width C", 1, 65536, NULL, NULL);
    t[i++] = row("heads", CLI_INT, &cfg->n_heads, "attention heads (must divide --d-model)", 1,
                 65536, NULL, NULL);
    t[i++] = row("d-ff", CLI_INT, &cfg->d_ff, "feed-forward hidden size", 1, 1 << 20, NULL,
                 "4 * d-model");
    t[i++] = row("dropout", CLI_FLOAT, &cfg->dropout, "dropout on embeddings and sublayer outputs",
                 0, 0.99, NULL, NULL);
    t[i++] =
        row("norm", CLI_ENUM, &cfg->norm, "LayerNorm placement", CLI_ANY, attn_norm_names(), NULL);
    t[i++] =
        row("pos", CLI_ENUM, &cfg->pos, "position embeddings", CLI_ANY, attn_pos_names(), NULL);
    t[i++] =
        row("act", CLI_ENUM, &cfg->act, "feed-forward activation", CLI_ANY, attn_act_names(), NULL);
    if (cfg->arch == ATTN_ARCH_CLASSIFIER)
        t[i++] = row("pool", CLI_ENUM, &cfg->pool,
                     "what the head reads: the [CLS] position or the mean of all", CLI_ANY,
                     attn_pool_names(), NULL);
    *n = i;
}

void train_opts_optim(attn_train_params *tp, attn_adamw_params *hp, attn_config *cfg, cli_opt *t,
                      int *n) {
    int i = *n;
    attn_schedule *s = &tp->schedule;
    t[i++] = row(NULL, CLI_SECTION, NULL, "Optimisation (AdamW)", CLI_ANY, NULL, NULL);
    t[i++] = row("lr", CLI_FLOAT, &s->lr,
                 "peak learning rate (invsqrt: a multiplier, 1 in the paper)", 0, 1e6, NULL, NULL);
    t[i++] = row("min-lr", CLI_FLOAT, &s->min_lr, "final learning rate of the cosine schedule", 0,
                 1e6, NULL, NULL);
    t[i++] = row("schedule", CLI_ENUM, &s->kind, "learning-rate schedule after warm-up", CLI_ANY,
                 attn_schedule_names(), NULL);
    t[i++] = row("warmup", CLI_LONG, &s->warmup, "steps of linear warm-up", 0, 1e18, NULL, NULL);
    t[i++] = row("weight-decay", CLI_FLOAT, &hp->weight_decay,
                 "decoupled weight decay (matrices and embeddings)", 0, 1e3, NULL, NULL);
    t[i++] = row("clip", CLI_FLOAT, &hp->clip_norm, "clip the global gradient norm (0: off)", 0,
                 1e30, NULL, NULL);
    t[i++] = row("label-smoothing", CLI_FLOAT, &cfg->label_smoothing,
                 "label smoothing of the training loss (evaluation reports the plain loss)", 0,
                 0.99, NULL, NULL);
    t[i++] = row("seed", CLI_U64, &tp->seed, "seed of the initial weights, batches and dropout",
                 CLI_ANY, NULL, NULL);
    *n = i;
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
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error("cannot write checkpoint '%s': it is a directory", path);
        return CLI_RUNTIME;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (access(dir, W_OK) == 0) return CLI_OK;
    cli_error("cannot write checkpoint '%s': %s: %s", path, dir, strerror(errno));
    return CLI_RUNTIME;
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

void train_opts_state_path(const char *ckpt, char *buf, size_t n) {
    static const char ext[] = ".safetensors";
    size_t len = strlen(ckpt), e = sizeof ext - 1;
    if (len > e && strcmp(ckpt + len - e, ext) == 0) len -= e;
    snprintf(buf, n, "%.*s.resume.safetensors", (int)len, ckpt);
}
