/* tools/args.h: table-driven option parsing and error reporting for the `attn` subcommands.
 *
 * A subcommand describes its options once, in an array of cli_opt ending with CLI_END; the same
 * table parses argv and prints --help, so the help always lists every option with its default
 * (taken from the destination variable before parsing). Options are written `--name VALUE` or
 * `--name=VALUE`; flags take no value. Numbers are checked in full ("12x" is refused) and against
 * the option's range.
 *
 * Exit statuses used by every subcommand: */
#ifndef ATTN_TOOLS_ARGS_H
#define ATTN_TOOLS_ARGS_H

#include <stdint.h>

#include "attn/attn.h"

#define CLI_OK 0
#define CLI_RUNTIME 1  /* a file is missing or malformed, a library call failed */
#define CLI_USAGE 2    /* bad command line */
#define CLI_SIGINT 130 /* interrupted by Ctrl-C (128 + SIGINT) */
#define CLI_HELP (-1)  /* cli_parse printed the help: exit 0 */

typedef enum {
    CLI_SECTION, /* not an option: a heading in --help (help = the heading) */
    CLI_INT,     /* int */
    CLI_LONG,    /* long */
    CLI_U64,     /* uint64_t */
    CLI_FLOAT,   /* float */
    CLI_STRING,  /* const char *, pointing into argv; NULL default prints no default */
    CLI_CHOICE,  /* const char *, one of `choices` */
    CLI_ENUM,    /* an enum (int-sized) set to the index of the name in `choices` (attn_*_names) */
    CLI_FLAG,    /* int, set to 1 when present */
    CLI_STRINGS, /* cli_strings: a string option that may be given several times */
} cli_type;

/* The values of a CLI_STRINGS option, in command-line order (pointing into argv). */
#define CLI_MAX_REPEAT 64
typedef struct {
    const char *v[CLI_MAX_REPEAT];
    int n;
} cli_strings;

typedef struct {
    const char *name; /* without the leading "--" */
    cli_type type;
    void *dest;
    const char *help; /* one line; "(required)" and the default are appended */
    const char *meta; /* value placeholder in --help ("N", "FILE"); NULL: derived from type */
    double min, max;  /* allowed range for numbers (inclusive); min > max, or both 0: any */
    const char *const *choices; /* CLI_CHOICE / CLI_ENUM: NULL-terminated list */
    const char *default_text;   /* replaces the printed default ("" prints none) */
    int required;               /* cli_parse fails when the option is not given */
    int seen;                   /* set by cli_parse when the option is given */
} cli_opt;

/* One row of an option table: name, type, destination, then the help text, then any other field
 * by designator, on one line:
 *     CLI_OPT("batch", CLI_INT, &a.batch, "texts per batch", .min = 1, .max = 1 << 16),
 *     CLI_OPT("model", CLI_STRING, &a.model, "a checkpoint", .meta = "CKPT", .required = 1), */
#define CLI_OPT(name_, type_, dest_, ...)                                                          \
    { .name = (name_), .type = (type_), .dest = (dest_), .help = __VA_ARGS__ }
#define CLI_HEADING(title)                                                                         \
    { .type = CLI_SECTION, .help = (title) } /* "Model:" in --help */
#define CLI_END                                                                                    \
    { 0 }

/* Copies rows[0..count) to t[*n...] and advances *n: a table built from parts. */
void cli_append(cli_opt *t, int *n, const cli_opt *rows, int count);
#define CLI_APPEND(t, n, rows) cli_append((t), (n), (rows), (int)(sizeof(rows) / sizeof((rows)[0])))

/* What a subcommand's --help says around the option table. The command's name (in messages) is
 * the words of `usage` after "attn" up to the first option or placeholder. */
typedef struct {
    const char *usage;       /* "attn eval lm --model CKPT FILE [options]" */
    const char *description; /* paragraphs, each line ending in '\n' */
    const char *example;     /* one or more command lines */
} cli_help;

/* Parses argv[0..argc) (the subcommand's arguments, without the command words). Positional
 * arguments are moved to argv[0..*n_positional) in order (at most max_positional; more is a usage
 * error; n_positional may be NULL when there are none). Every command also takes `--threads N`
 * (attn_set_num_threads, set here). Returns CLI_OK, CLI_HELP after printing the help to stdout,
 * or CLI_USAGE / CLI_RUNTIME after printing one "attn: " line to stderr. */
int cli_parse(int argc, char **argv, cli_opt *opts, const cli_help *help, int max_positional,
              int *n_positional);

/* Prints the help (usage, description, options with defaults, example) to stdout. */
void cli_print_help(const cli_opt *opts, const cli_help *help);

/* The option named `name` in the table (NULL if absent), e.g. to ask whether it was given. */
cli_opt *cli_find(cli_opt *opts, const char *name);

/* Prints "attn: <message>\n" to stderr (one line: newlines in the message become spaces). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "attn: <message>: <attn_last_error()>" (the status name when there is no last error;
 * only the last error when fmt is "") and returns CLI_RUNTIME. */
int cli_lib_error(attn_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds from a monotonic clock. */
double cli_now(void);

#endif
