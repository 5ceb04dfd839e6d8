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

#include "attn/status.h"

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
    const char *meta; /* value placeholder in --help ("N", "FILE"); NULL: derived from type */
    const char *help; /* one line; the default is appended unless default_text says otherwise */
    double min, max;  /* allowed range for numbers (inclusive); min > max: any */
    const char *const *choices; /* CLI_CHOICE: NULL-terminated list */
    const char *default_text;   /* replaces the printed default ("" prints none) */
    int seen;                   /* set by cli_parse when the option is given */
} cli_opt;

#define CLI_END                                                                                    \
    { NULL, CLI_SECTION, NULL, NULL, NULL, 0, 0, NULL, NULL, 0 }
#define CLI_ANY 1.0, 0.0 /* min > max: no range check */

/* One row of an option table: the fields of cli_opt in order (not yet seen). A table built row by
 * row reads one option per line. */
cli_opt cli_row(const char *name, cli_type type, void *dest, const char *meta, const char *help,
                double min, double max, const char *const *choices, const char *default_text);

/* A heading row ("Model", "Reporting"). */
cli_opt cli_section(const char *title);

/* What a subcommand's --help says around the option table. */
typedef struct {
    const char *usage;       /* "attn eval lm --model CKPT FILE [options]" */
    const char *description; /* paragraphs, each line ending in '\n' */
    const char *example;     /* one or more command lines */
} cli_help;

/* Parses argv[0..argc) (the subcommand's arguments, without the command words). Positional
 * arguments go to positional[] (at most max_positional; more is a usage error) and their count to
 * *n_positional. Returns CLI_OK, CLI_HELP after printing the help to stdout, or CLI_USAGE after
 * printing one "attn: " line to stderr. */
int cli_parse(int argc, char **argv, cli_opt *opts, const cli_help *help, const char *command,
              const char **positional, int max_positional, int *n_positional);

/* Prints the help (usage, description, options with defaults, example) to stdout. */
void cli_print_help(const cli_opt *opts, const cli_help *help);

/* The option named `name` in the table (NULL if absent), e.g. to ask whether it was given. */
cli_opt *cli_find(cli_opt *opts, const char *name);

/* Prints "attn: <message>\n" to stderr (one line: newlines in the message become spaces). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "attn: <message>: <attn_last_error()>" (or the status name when the message is empty) and
 * returns CLI_RUNTIME. */
int cli_lib_error(attn_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds from a monotonic clock. */
double cli_now(void);

#endif
