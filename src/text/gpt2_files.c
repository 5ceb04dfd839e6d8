/* text/gpt2_files.c: GPT-2's own vocabulary files, encoder.json + vocab.bpe, as a tokenizer.
 *
 * encoder.json is {token: id} in GPT-2's byte-mapped form; vocab.bpe is a "#version: 0.2" line
 * and then one merge "left right" per line, in rank order. Together they are the tokenizer.json
 * Hugging Face publishes for gpt2: a ByteLevel pre-tokenizer with GPT-2's pattern, no prefix
 * space, the ByteLevel decoder, and <|endoftext|> as a special added token. We build exactly that
 * object and read it through the tokenizer.json reader, so the files get every check a
 * tokenizer.json gets. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"
#include "text/text_internal.h"

/* The merges of vocab.bpe in data[0..len) as a JSON array of "left right" strings. */
static attn_status merges_of(const char *data, size_t len, cJSON *arr) {
    size_t pos = 0;
    int line = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - pos;
        if (n > 0 && data[pos + n - 1] == '\r') n--;
        line++;
        int skip = n == 0 || (line == 1 && n >= 8 && memcmp(data + pos, "#version", 8) == 0);
        if (!skip) {
            if (memchr(data + pos, '\0', n))
                return attn_error(ATTN_ERR_FORMAT, "vocab.bpe line %d holds a NUL byte", line);
            char *s = malloc(n + 1);
            if (!s) return attn_error(ATTN_ERR_NOMEM, "out of memory for vocab.bpe");
            memcpy(s, data + pos, n);
            s[n] = '\0';
            cJSON *item = cJSON_CreateString(s);
            free(s);
            if (!item || !cJSON_AddItemToArray(arr, item)) {
                cJSON_Delete(item);
                return attn_error(ATTN_ERR_NOMEM, "out of memory for vocab.bpe");
            }
        }
        pos = end + 1;
    }
    return ATTN_OK;
}

/* The tokenizer.json object of GPT-2 around the parsed encoder and merges (both taken over:
 * owned by the result, or freed); NULL when out of memory. */
static cJSON *gpt2_json(cJSON *encoder, cJSON *merges) {
    cJSON *root = cJSON_CreateObject(), *model = NULL;
    if (root && (model = cJSON_AddObjectToObject(root, "model")) &&
        cJSON_AddItemToObject(model, "vocab", encoder))
        encoder = NULL;
    if (model && !encoder && cJSON_AddItemToObject(model, "merges", merges)) merges = NULL;
    int ok = root && !encoder && !merges && cJSON_AddStringToObject(model, "type", "BPE");
    cJSON *pre = ok ? cJSON_AddObjectToObject(root, "pre_tokenizer") : NULL;
    ok = pre && cJSON_AddStringToObject(pre, "type", "ByteLevel") &&
         cJSON_AddFalseToObject(pre, "add_prefix_space") && cJSON_AddTrueToObject(pre, "use_regex");
    cJSON *dec = ok ? cJSON_AddObjectToObject(root, "decoder") : NULL;
    ok = dec && cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON *added = ok ? cJSON_AddArrayToObject(root, "added_tokens") : NULL;
    ok = added != NULL;
    const cJSON *eot = ok ? cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(model, "vocab"), "<|endoftext|>")
                          : NULL;
    if (ok && cJSON_IsNumber(eot)) {
        cJSON *tok = cJSON_CreateObject();
        ok = tok && cJSON_AddItemToArray(added, tok);
        if (!ok) cJSON_Delete(tok);
        ok = ok && cJSON_AddNumberToObject(tok, "id", eot->valuedouble) &&
             cJSON_AddStringToObject(tok, "content", "<|endoftext|>") &&
             cJSON_AddTrueToObject(tok, "special");
    }
    cJSON_Delete(encoder); /* NULL once the root owns it */
    cJSON_Delete(merges);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

attn_status attn_tokenizer_import_gpt2(const char *encoder_json_path, const char *vocab_bpe_path,
                                       attn_tokenizer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "import gpt2: NULL output");
    *out = NULL;
    if (!encoder_json_path || !vocab_bpe_path)
        return attn_error(ATTN_ERR_INVALID, "import gpt2: NULL path");
    void *enc_data = NULL, *bpe_data = NULL;
    size_t enc_len, bpe_len;
    ATTN_TRY(attn_file_read_all(encoder_json_path, &enc_data, &enc_len));
    attn_status s = attn_file_read_all(vocab_bpe_path, &bpe_data, &bpe_len);
    cJSON *encoder = NULL, *merges = NULL;
    if (s == ATTN_OK) {
        encoder = cJSON_ParseWithLength(enc_data, enc_len);
        if (!cJSON_IsObject(encoder))
            s = attn_error(ATTN_ERR_FORMAT, "%s is not a JSON object {token: id}",
                           encoder_json_path);
    }
    if (s == ATTN_OK && !(merges = cJSON_CreateArray()))
        s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    if (s == ATTN_OK) s = merges_of(bpe_data, bpe_len, merges);
    free(enc_data);
    free(bpe_data);
    if (s != ATTN_OK) {
        cJSON_Delete(encoder);
        cJSON_Delete(merges);
        return s;
    }
    cJSON *root = gpt2_json(encoder, merges); /* takes encoder and merges */
    if (!root) return attn_error(ATTN_ERR_NOMEM, "out of memory for GPT-2's files");
    s = text_tokenizer_from_parsed(root, out);
    cJSON_Delete(root);
    if (s != ATTN_OK)
        return attn_error_context(s, "importing %s + %s", encoder_json_path, vocab_bpe_path);
    return ATTN_OK;
}
