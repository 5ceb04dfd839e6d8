/* tools/lm_model.c: loading and checking a byte-level language model. */
#include "lm_model.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"

int lm_model_load(const char *path, attn_model **out) {
    *out = NULL;
    attn_model *m = NULL;
    attn_status s = attn_model_load(path, &m);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot load model '%s'", path);
    const attn_config *cfg = attn_model_config(m);
    if (cfg->arch != ATTN_ARCH_DECODER_LM) {
        cli_error("'%s' is a %s model; this command needs a decoder_lm (attn train lm)", path,
                  attn_arch_name(cfg->arch));
        attn_model_free(m);
        return CLI_RUNTIME;
    }
    char *tokenizer = NULL;
    if (attn_checkpoint_read_meta(path, "tokenizer", &tokenizer) == ATTN_OK &&
        strcmp(tokenizer, "bytes") != 0) {
        cli_error("'%s' uses the tokenizer '%s'; this command only knows bytes", path, tokenizer);
        free(tokenizer);
        attn_model_free(m);
        return CLI_RUNTIME;
    }
    free(tokenizer);
    if (cfg->vocab_size != 256) {
        cli_error("'%s' has a vocabulary of %d tokens, not the 256 bytes of a byte-level model",
                  path, cfg->vocab_size);
        attn_model_free(m);
        return CLI_RUNTIME;
    }
    *out = m;
    return CLI_OK;
}
