/* models/config.c: defaults, validation and enum names of attn_config (include/attn/config.h).
 * The JSON form lives in io/config_json.c. */
#include "attn/config.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

/* Upper bounds that no sensible model reaches; they keep a corrupt or mistyped config from asking
 * for an absurd allocation (every size below multiplies into a tensor size). */
#define MAX_VOCAB (1 << 24)
#define MAX_LEN (1 << 20)
#define MAX_D_MODEL 65536
#define MAX_D_FF (1 << 20)
#define MAX_LAYERS 1024
#define MAX_CLASSES (1 << 24)

attn_config attn_config_default(attn_arch arch) {
    attn_config cfg = {
        .arch = arch,
        .vocab_size = 256,
        .max_len = 256,
        .d_model = 128,
        .n_heads = 4,
        .d_ff = 512,
        .n_layers = 2,
        .n_dec_layers = arch == ATTN_ARCH_SEQ2SEQ ? 2 : 0,
        .n_classes = arch == ATTN_ARCH_CLASSIFIER ? 2 : 0,
        .norm = ATTN_NORM_PRE,
        .pos = ATTN_POS_LEARNED,
        .act = ATTN_ACT_GELU_TANH,
        .pool = ATTN_POOL_CLS,
        .dropout = 0.1f,
        .ln_eps = 1e-5f,
        .scale_embeddings = 0,
        .pad_id = 0,
    };
    return cfg;
}

/* name[value], NULL-terminated (attn_*_names) */
static const char *const arch_names[] = {"classifier", "decoder_lm", "seq2seq", "ctc", NULL};
static const char *const norm_names[] = {"pre", "post", NULL};
static const char *const pos_names[] = {"learned", "sinusoidal", NULL};
static const char *const act_names[] = {"gelu_tanh", "gelu_erf", "relu", NULL};
static const char *const pool_names[] = {"cls", "mean", NULL};
#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]) - 1)

static attn_status check_enum(const char *field, int value, int count) {
    if (value < 0 || value >= count)
        return attn_error(ATTN_ERR_INVALID, "config: %s = %d is not a known value", field, value);
    return ATTN_OK;
}

static attn_status check_range(const char *field, int value, int lo, int hi) {
    if (value < lo || value > hi)
        return attn_error(ATTN_ERR_INVALID, "config: %s = %d is outside [%d, %d]", field, value, lo,
                          hi);
    return ATTN_OK;
}

attn_status attn_config_validate(const attn_config *cfg) {
    if (!cfg) return attn_error(ATTN_ERR_INVALID, "config: NULL");
    ATTN_TRY(check_enum("arch", (int)cfg->arch, COUNT(arch_names)));
    ATTN_TRY(check_enum("norm", (int)cfg->norm, COUNT(norm_names)));
    ATTN_TRY(check_enum("pos", (int)cfg->pos, COUNT(pos_names)));
    ATTN_TRY(check_enum("act", (int)cfg->act, COUNT(act_names)));
    ATTN_TRY(check_enum("pool", (int)cfg->pool, COUNT(pool_names)));
    ATTN_TRY(check_range("vocab_size", cfg->vocab_size, 1, MAX_VOCAB));
    ATTN_TRY(check_range("max_len", cfg->max_len, 1, MAX_LEN));
    ATTN_TRY(check_range("d_model", cfg->d_model, 1, MAX_D_MODEL));
    ATTN_TRY(check_range("n_heads", cfg->n_heads, 1, cfg->d_model));
    if (cfg->d_model % cfg->n_heads != 0)
        return attn_error(ATTN_ERR_INVALID, "config: d_model = %d is not divisible by n_heads = %d",
                          cfg->d_model, cfg->n_heads);
    ATTN_TRY(check_range("d_ff", cfg->d_ff, 1, MAX_D_FF));
    ATTN_TRY(check_range("n_layers", cfg->n_layers, 1, MAX_LAYERS));
    const char *arch = attn_arch_name(cfg->arch);
    /* A field another family ignores must be 0, so that a config never claims layers or classes
     * the model does not have (an LM's depth is n_layers, not n_dec_layers). */
    if (cfg->arch == ATTN_ARCH_SEQ2SEQ)
        ATTN_TRY(check_range("n_dec_layers", cfg->n_dec_layers, 1, MAX_LAYERS));
    else if (cfg->n_dec_layers != 0)
        return attn_error(ATTN_ERR_INVALID,
                          "config: n_dec_layers = %d must be 0 for %s (only seq2seq has a "
                          "separate decoder; set n_layers)",
                          cfg->n_dec_layers, arch);
    if (cfg->arch == ATTN_ARCH_CLASSIFIER)
        ATTN_TRY(check_range("n_classes", cfg->n_classes, 2, MAX_CLASSES));
    else if (cfg->n_classes != 0)
        return attn_error(ATTN_ERR_INVALID,
                          "config: n_classes = %d must be 0 for %s (only classifier has a head)",
                          cfg->n_classes, arch);
    if (!(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return attn_error(ATTN_ERR_INVALID, "config: dropout = %g is outside [0, 1)",
                          (double)cfg->dropout);
    if (!(cfg->label_smoothing >= 0.0f && cfg->label_smoothing < 1.0f))
        return attn_error(ATTN_ERR_INVALID, "config: label_smoothing = %g is outside [0, 1)",
                          (double)cfg->label_smoothing);
    if (!(cfg->ln_eps > 0.0f) || isinf(cfg->ln_eps))
        return attn_error(ATTN_ERR_INVALID, "config: ln_eps = %g must be positive and finite",
                          (double)cfg->ln_eps);
    ATTN_TRY(check_range("pad_id", cfg->pad_id, 0, cfg->vocab_size - 1));
    if (cfg->arch == ATTN_ARCH_DECODER_LM && cfg->n_features != 0)
        return attn_error(ATTN_ERR_INVALID,
                          "config: n_features = %d must be 0 for decoder_lm (it has no encoder)",
                          cfg->n_features);
    if (cfg->n_features) ATTN_TRY(check_range("n_features", cfg->n_features, 1, MAX_D_FF));
    if (cfg->arch == ATTN_ARCH_CTC) {
        if (!cfg->n_features)
            return attn_error(ATTN_ERR_INVALID,
                              "config: ctc reads feature vectors: n_features must be set");
        ATTN_TRY(check_range("vocab_size", cfg->vocab_size, 2, MAX_VOCAB)); /* blank + a label */
    }
    if (!(cfg->ctc_weight >= 0.0f && cfg->ctc_weight < 1.0f))
        return attn_error(ATTN_ERR_INVALID, "config: ctc_weight = %g is outside [0, 1)",
                          (double)cfg->ctc_weight);
    if (cfg->ctc_weight > 0 && (cfg->arch != ATTN_ARCH_SEQ2SEQ || !cfg->n_features))
        return attn_error(ATTN_ERR_INVALID,
                          "config: ctc_weight is for a seq2seq model over features (a ctc model "
                          "is all CTC)");
    if (cfg->subsample != 0 && cfg->subsample != 4)
        return attn_error(ATTN_ERR_INVALID, "config: subsample = %d must be 0 (none) or 4",
                          cfg->subsample);
    if (cfg->subsample) {
        if (cfg->n_features < 7)
            return attn_error(ATTN_ERR_INVALID,
                              "config: subsample 4 needs a feature-input encoder with n_features "
                              ">= 7 (got %d)",
                              cfg->n_features);
        ATTN_TRY(check_range("conv_channels", cfg->conv_channels, 1, 4096));
    } else if (cfg->conv_channels != 0) {
        return attn_error(ATTN_ERR_INVALID, "config: conv_channels = %d must be 0 without subsample",
                          cfg->conv_channels);
    }
    return ATTN_OK;
}

/* ---- names ---- */

/* names[value], or "unknown" for a value out of range (never NULL, so it can go to printf). */
static const char *name_of(const char *const *names, int n, int value) {
    return value >= 0 && value < n ? names[value] : "unknown";
}

static attn_status parse_name(const char *what, const char *const *names, int n, const char *name,
                              int *out) {
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = i;
            return ATTN_OK;
        }
    char choices[128] = "";
    for (int i = 0; i < n; i++) {
        strcat(choices, i ? ", " : "");
        strcat(choices, names[i]);
    }
    return attn_error(ATTN_ERR_INVALID, "unknown %s \"%.64s\" (expected one of: %s)", what,
                      name ? name : "(null)", choices);
}

const char *attn_arch_name(attn_arch arch) {
    return name_of(arch_names, COUNT(arch_names), arch);
}
const char *attn_norm_name(attn_norm norm) {
    return name_of(norm_names, COUNT(norm_names), norm);
}
const char *attn_pos_name(attn_pos pos) {
    return name_of(pos_names, COUNT(pos_names), pos);
}
const char *attn_act_name(attn_act act) {
    return name_of(act_names, COUNT(act_names), act);
}
const char *attn_pool_name(attn_pool pool) {
    return name_of(pool_names, COUNT(pool_names), pool);
}

const char *const *attn_arch_names(void) {
    return arch_names;
}
const char *const *attn_norm_names(void) {
    return norm_names;
}
const char *const *attn_pos_names(void) {
    return pos_names;
}
const char *const *attn_act_names(void) {
    return act_names;
}
const char *const *attn_pool_names(void) {
    return pool_names;
}

#define DEFINE_PARSE(fn, type, what, names)                                                        \
    attn_status fn(const char *name, type *out) {                                                  \
        int v = 0;                                                                                 \
        ATTN_TRY(parse_name(what, names, COUNT(names), name, &v));                                 \
        if (out) *out = (type)v;                                                                   \
        return ATTN_OK;                                                                            \
    }
DEFINE_PARSE(attn_arch_parse, attn_arch, "arch", arch_names)
DEFINE_PARSE(attn_norm_parse, attn_norm, "norm", norm_names)
DEFINE_PARSE(attn_pos_parse, attn_pos, "pos", pos_names)
DEFINE_PARSE(attn_act_parse, attn_act, "act", act_names)
DEFINE_PARSE(attn_pool_parse, attn_pool, "pool", pool_names)
