/* tools/commands.h: the subcommands of `attn`, one file each (tools/cmd_*.c), listed in
 * tools/main.c. Each takes the arguments after its command words and returns the exit status
 * (CLI_OK, CLI_HELP, CLI_RUNTIME, CLI_USAGE, CLI_SIGINT; tools/args.h). */
#ifndef ATTN_TOOLS_COMMANDS_H
#define ATTN_TOOLS_COMMANDS_H

#include "attn/attn.h"

#include "args.h"

int cmd_train_lm(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval_lm(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv); /* train | import-gpt2 | encode | decode */
int cmd_train_classify(int argc, char **argv);
int cmd_eval_classify(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_train_translate(int argc, char **argv);
int cmd_translate(int argc, char **argv);
int cmd_eval_translate(int argc, char **argv);
int cmd_train_asr(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_eval_asr(int argc, char **argv);

/* The recognizer options transcribe and eval asr share (tools/cmd_transcribe.c): rows for
 * --model (required when `required`), --beam, --lexicon and --ctc-weight, and the recognizer
 * they make (CLI_OK, or CLI_RUNTIME after one "attn: " line). */
typedef struct {
    const char *model, *lexicon;
    int beam;
    float ctc_weight;
} recognizer_opts;
void recognizer_rows(recognizer_opts *o, int required, cli_opt *t, int *n);
int recognizer_load(const recognizer_opts *o, attn_recognizer **r);

#endif
