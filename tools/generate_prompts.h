/* tools/generate_prompts.h: `attn generate --prompts FILE`: one continuation per line of FILE. */
#ifndef ATTN_TOOLS_GENERATE_PROMPTS_H
#define ATTN_TOOLS_GENERATE_PROMPTS_H

#include "attn/attn.h"

/* The lines of a prompts file, each without its "\n" (and a "\r" before it). */
typedef struct {
    unsigned char *bytes; /* the whole file, malloc'd */
    size_t *start, *len;  /* line i is bytes[start[i], start[i] + len[i]) */
    int n;
} prompt_lines;

/* Reads path and checks that it has at least one line and that every line fits the context
 * (at most max_len bytes). Returns CLI_OK, or CLI_RUNTIME after printing one "attn: " line. */
int prompt_lines_read(const char *path, int max_len, prompt_lines *out);
void prompt_lines_free(prompt_lines *p);

/* Continues every line with attn_generate_batch, `batch` lines at a time, and prints one line per
 * prompt, in order: the bytes generated up to the first newline (not printed) or max_new bytes.
 * An empty line is continued from a newline, as `attn generate` without --prompt. Each line gets
 * its own sampler made from sp, so line i prints what `attn generate --prompt LINE_i` with the
 * same options prints after the prompt, up to its first newline. Returns CLI_OK or CLI_RUNTIME. */
int generate_prompts(const attn_model *m, const prompt_lines *lines, int batch, int max_new,
                     attn_sampler_params sp);

#endif
