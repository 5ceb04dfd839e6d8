/* tools/train_opts.h: the options every `attn train ...` command shares, as rows of an option
 * table (tools/args.h) that point straight into the library's structs: the model's attn_config,
 * attn_train_params (schedule, seed) and attn_adamw_params. Defaults are whatever the structs hold
 * when the rows are made (the library's *_default_* functions), and the names of enums come from
 * the library (attn_norm_names, ...), so nothing here repeats the library. */
#ifndef ATTN_TOOLS_TRAIN_OPTS_H
#define ATTN_TOOLS_TRAIN_OPTS_H

#include "attn/attn.h"

#include "args.h"

/* Room the rows below need in a table. */
#define TRAIN_OPTS_ROWS 24

/* "Model" rows: layers (described as `layers_what`), d-model, heads, d-ff (default 4 d-model),
 * dropout, norm, pos, act, and pool for a classifier. */
void train_opts_model(attn_config *cfg, const char *layers_what, cli_opt *t, int *n);

/* "Optimisation (AdamW)" rows: lr, min-lr, schedule, warmup, weight-decay, clip,
 * label-smoothing (into cfg), seed. */
void train_opts_optim(attn_train_params *tp, attn_adamw_params *hp, attn_config *cfg, cli_opt *t,
                      int *n);

/* What the rows cannot check: heads dividing d-model, d-ff's default, min-lr above lr for the
 * cosine. CLI_OK or CLI_USAGE (with the message printed). */
int train_opts_check(attn_config *cfg, const attn_train_params *tp, cli_opt *t);

/* With --resume: every row pointing into cfg / hp / tp->seed that was given on the command line
 * must equal the checkpoint's value (have_*). CLI_OK or CLI_USAGE. */
int train_opts_same(const cli_opt *t, const attn_config *cfg, const attn_config *have_cfg,
                    const attn_adamw_params *hp, const attn_adamw_params *have_hp,
                    const attn_train_params *tp, uint64_t have_seed);

/* Fails early, before any training, when the checkpoint cannot be written there: its folder is
 * not writable, or the path names a directory. */
int train_opts_check_writable(const char *path);

/* A file beside the checkpoint: CKPT less ".safetensors", plus suffix (m.safetensors and
 * ".resume.safetensors": the run's resumable state, m.resume.safetensors; ".png": its plot). */
void train_opts_beside(const char *ckpt, const char *suffix, char *buf, size_t n);

/* Ctrl-C during a run: the first one sets a flag that train_opts_interrupted (an abort callback
 * for attn_train_params) returns, so the step in progress finishes and the run saves and stops;
 * a second one kills (SA_RESETHAND). train_opts_release_sigint puts the old handler back. */
void train_opts_catch_sigint(void);
void train_opts_release_sigint(void);
int train_opts_interrupted(void *user);

#endif
