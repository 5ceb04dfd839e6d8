/* tools/commands.h: the subcommands of `attn`, one file each. Each takes the arguments after its
 * command words and returns the process exit status (CLI_OK, CLI_RUNTIME, CLI_USAGE, CLI_SIGINT).
 */
#ifndef ATTN_TOOLS_COMMANDS_H
#define ATTN_TOOLS_COMMANDS_H

int cmd_train_lm(int argc, char **argv);       /* tools/cmd_train_lm.c */
int cmd_generate(int argc, char **argv);       /* tools/cmd_generate.c */
int cmd_eval_lm(int argc, char **argv);        /* tools/cmd_eval_lm.c */
int cmd_eval_translate(int argc, char **argv); /* tools/cmd_eval_translate.c */

int cmd_train_translate(int argc, char **argv); /* tools/cmd_train_translate.c */
int cmd_translate(int argc, char **argv);       /* tools/cmd_translate.c */

int cmd_train_asr(int argc, char **argv);  /* tools/cmd_train_asr.c */
int cmd_transcribe(int argc, char **argv); /* tools/cmd_transcribe.c */
int cmd_eval_asr(int argc, char **argv);   /* tools/cmd_eval_asr.c */

/* tools/cmd_tokenizer.c: attn tokenizer train | encode | decode */
int cmd_tokenizer(int argc, char **argv);

#endif
