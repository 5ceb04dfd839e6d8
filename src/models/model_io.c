/* models/model_io.c: a model's parameters to and from safetensors (docs/FORMATS.md). */
#include "models/model_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "models/model_internal.h"

#define ATTN_CHECKPOINT_FORMAT "attn-checkpoint-v1"

attn_status attn_model_write_tensors(const attn_model *m, attn_st_writer *w) {
    char *config = NULL;
    ATTN_TRY(attn_config_to_json(&m->cfg, &config));
    attn_status st = attn_st_writer_set_metadata(w, "format", ATTN_CHECKPOINT_FORMAT);
    if (st == ATTN_OK) st = attn_st_writer_set_metadata(w, "config", config);
    free(config);
    for (int i = 0; st == ATTN_OK && i < m->n_tensors; i++) {
        const attn_tensor_info *t = &m->tensors[i];
        st = attn_st_writer_add(w, t->name, ATTN_DTYPE_F32, m->params + t->offset, t->ndim,
                                t->shape);
    }
    return st;
}

static int is_optimizer_tensor(const char *name) {
    return strncmp(name, "optim.", 6) == 0;
}

/* Every tensor in the file must be one of the model's (or optimizer state). */
static attn_status check_no_strangers(const attn_model *m, const attn_safetensors *f) {
    for (int i = 0; i < attn_safetensors_count(f); i++) {
        const char *name = attn_safetensors_at(f, i)->name;
        if (is_optimizer_tensor(name)) continue;
        int known = 0;
        for (int j = 0; j < m->n_tensors && !known; j++)
            known = !strcmp(m->tensors[j].name, name);
        if (!known)
            return attn_error(ATTN_ERR_FORMAT,
                              "unexpected tensor '%s': not a checkpoint of this model (%s)", name,
                              attn_arch_name(m->cfg.arch));
    }
    return ATTN_OK;
}

/* One parameter of the config's model must be in the file as a float tensor of its shape. */
static attn_status check_in_file(void *file, const attn_tensor_info *t) {
    return attn_safetensors_check_f32(file, t->name, t->ndim, t->shape);
}

attn_status attn_model_check_finite(const attn_model *m) {
    for (int i = 0; i < m->n_tensors; i++) {
        const attn_tensor_info *t = &m->tensors[i];
        const float *p = m->params + t->offset;
        for (size_t j = 0; j < t->size; j++)
            if (!isfinite(p[j]))
                return attn_error(ATTN_ERR_NUMERIC, "tensor '%s' holds %s at element %zu", t->name,
                                  isnan(p[j]) ? "a NaN" : "an infinity", j);
    }
    return ATTN_OK;
}

attn_status attn_model_from_st(const attn_safetensors *f, attn_model **out) {
    *out = NULL;
    const char *format = attn_safetensors_metadata(f, "format");
    const char *config_json = attn_safetensors_metadata(f, "config");
    if (!config_json)
        return attn_error(ATTN_ERR_MISSING,
                          "no \"config\" in the metadata: not an attn checkpoint");
    if (format && strcmp(format, ATTN_CHECKPOINT_FORMAT) != 0)
        return attn_error(ATTN_ERR_FORMAT, "unsupported checkpoint format '%s' (want %s)", format,
                          ATTN_CHECKPOINT_FORMAT);
    attn_config cfg;
    attn_status st = attn_config_from_json(config_json, &cfg);
    if (st != ATTN_OK) return attn_error_context(st, "checkpoint config");
    /* Before allocating what the config asks for, the file must hold all of it: a corrupt or
     * hostile config cannot make a small file allocate gigabytes. */
    st = attn_model_each_tensor(&cfg, check_in_file, (void *)f);
    if (st != ATTN_OK)
        return attn_error_context(st,
                                  "the file does not hold the model its config describes "
                                  "(%s, d_model %d, %d layers)",
                                  attn_arch_name(cfg.arch), cfg.d_model, cfg.n_layers);
    attn_model *m;
    ATTN_TRY(attn_model_create_uninit(&cfg, &m)); /* every parameter is read below, or m freed */
    st = check_no_strangers(m, f);
    for (int i = 0; st == ATTN_OK && i < m->n_tensors; i++) {
        const attn_tensor_info *t = &m->tensors[i];
        st = attn_safetensors_read_f32(f, t->name, m->params + t->offset, t->ndim, t->shape);
    }
    if (st == ATTN_OK) st = attn_model_check_finite(m);
    if (st != ATTN_OK) {
        attn_model_free(m);
        return st;
    }
    *out = m;
    return ATTN_OK;
}

attn_status attn_model_save(const attn_model *m, const char *path) {
    attn_st_writer *w;
    ATTN_TRY(attn_st_writer_create(&w));
    attn_status st = attn_model_write_tensors(m, w);
    if (st == ATTN_OK) st = attn_st_writer_write(w, path);
    attn_st_writer_free(w);
    return st;
}

attn_status attn_model_load(const char *path, attn_model **out) {
    *out = NULL;
    attn_safetensors *f;
    attn_status st = attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f);
    if (st != ATTN_OK) return st;
    st = attn_model_from_st(f, out);
    attn_safetensors_close(f);
    if (st != ATTN_OK) return attn_error_context(st, "%s", path);
    return ATTN_OK;
}
