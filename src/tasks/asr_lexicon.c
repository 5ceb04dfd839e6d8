/* tasks/asr_lexicon.c: a lexicon for a recognizer's beam searches (attn_recognizer_set_lexicon,
 * include/attn/asr.h): the words as a trie over the labels, read as an automaton for
 * attn_ctc_prefix_beam_search_dfa and the joint search.
 *
 * State 0 is a word's start (accepting: nothing, or a complete last word followed by a space);
 * every other state is a trie node, accepting where a word ends there. A node moves on each of
 * its children's labels; a word end moves on the space back to state 0; state 0 has no space
 * move, so there are no leading or double spaces. */
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"
#include "core/error.h"
#include "tasks/asr_internal.h"
#include "text/text_internal.h"

/* The label of code point cp (-1: none). */
static int label_of(const attn_recognizer *r, int32_t cp) {
    for (int i = 1; i < r->n_labels; i++)
        if (r->labels[i] == cp) return i;
    return -1;
}

typedef struct {
    int *next; /* (cap, V) */
    unsigned char *accept;
    int n, cap, V;
} trie;

/* A new state with no moves; -1 when out of memory. */
static int add_state(trie *t) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        int *next = realloc(t->next, (size_t)cap * (size_t)t->V * sizeof *next);
        unsigned char *accept = realloc(t->accept, (size_t)cap);
        if (next) t->next = next;
        if (accept) t->accept = accept;
        if (!next || !accept) return -1;
        t->cap = cap;
    }
    for (int v = 0; v < t->V; v++)
        t->next[(size_t)t->n * t->V + v] = -1;
    t->accept[t->n] = 0;
    return t->n++;
}

/* Adds the word text[0..len) (UTF-8, no white space) to the trie. */
static attn_status add_word(const attn_recognizer *r, trie *t, const char *text, size_t len,
                            int space) {
    int at = 0;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        int k = text_utf8_decode((const unsigned char *)text + i, len - i, &cp);
        int c = k ? label_of(r, cp) : -1;
        if (c < 0 || c == r->bos || c == r->eos)
            return attn_error(ATTN_ERR_INVALID, "lexicon: the word '%.*s' has a character that is "
                              "not one of the model's labels", (int)(len > 60 ? 60 : len), text);
        i += (size_t)k;
        int *move = &t->next[(size_t)at * t->V + c];
        if (*move < 0) {
            int s = add_state(t);
            if (s < 0) return attn_error(ATTN_ERR_NOMEM, "lexicon: out of memory");
            move = &t->next[(size_t)at * t->V + c]; /* add_state may have moved the table */
            *move = s;
        }
        at = *move;
    }
    t->accept[at] = 1;
    t->next[(size_t)at * t->V + space] = 0;
    return ATTN_OK;
}

static void clear(attn_recognizer *r) {
    free((void *)r->lexicon.next), free((void *)r->lexicon.accept);
    memset(&r->lexicon, 0, sizeof r->lexicon);
}

void asr_lexicon_free(attn_recognizer *r) {
    clear(r);
}

attn_status attn_recognizer_set_lexicon(attn_recognizer *r, const char *words) {
    if (!r) return attn_error(ATTN_ERR_INVALID, "lexicon: NULL recognizer");
    clear(r);
    if (!words) return ATTN_OK;
    int space = label_of(r, ' ');
    if (space < 0) return attn_error(ATTN_ERR_INVALID, "lexicon: the model has no space label");
    trie t = {.V = attn_model_config(r->model)->vocab_size};
    attn_status s = add_state(&t) == 0 ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "out of memory");
    t.accept[0] = 1;
    int n_words = 0;
    for (const char *line = words; s == ATTN_OK && *line;) {
        size_t line_len = strcspn(line, "\n");
        const char *p = line, *end = line + line_len, *tab = memchr(line, '\t', line_len);
        if (tab) { /* path<TAB>transcript[<TAB>speaker]: the transcript */
            p = tab + 1;
            const char *tab2 = memchr(p, '\t', (size_t)(end - p));
            if (tab2) end = tab2;
        }
        while (s == ATTN_OK && p < end) {
            size_t len = 0;
            while (p < end && strchr(" \r\f\v", *p))
                p++;
            while (p + len < end && !strchr(" \r\f\v", p[len]))
                len++;
            if (len) s = add_word(r, &t, p, len, space), n_words++;
            p += len;
        }
        line += line_len + (line[line_len] == '\n');
    }
    if (s == ATTN_OK && n_words == 0) s = attn_error(ATTN_ERR_INVALID, "lexicon: no words");
    if (s != ATTN_OK) {
        free(t.next), free(t.accept);
        return s;
    }
    r->lexicon = (attn_ctc_dfa){.n_states = t.n, .next = t.next, .accept = t.accept};
    return ATTN_OK;
}

attn_status attn_recognizer_load_lexicon(attn_recognizer *r, const char *path) {
    if (!r || !path) return attn_error(ATTN_ERR_INVALID, "lexicon: NULL argument");
    void *text;
    size_t size;
    ATTN_TRY(attn_file_read(path, &text, &size));
    attn_status s = attn_recognizer_set_lexicon(r, text);
    free(text);
    return s == ATTN_OK ? s : attn_error_context(s, "%s", path);
}
