/* tools/args.c: option parsing, --help printing and one-line error messages. */
#define _POSIX_C_SOURCE 200809L
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Writes `text` to stderr with every control character (newline, tab, ...) shown as a space, so
 * that a message always stays on one line. */
static void put_one_line(const char *text) {
    for (const char *c = text; *c; c++)
        fputc((unsigned char)*c < 0x20 ? ' ' : *c, stderr);
}

/* Prints "attn: " and the message; returns its length. */
static int verror(const char *fmt, va_list ap) {
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    fputs("attn: ", stderr);
    put_one_line(buf);
    return n;
}

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_lib_error(attn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = verror(fmt, ap);
    va_end(ap);
    const char *detail = attn_last_error();
    if (n > 0) fputs(": ", stderr);
    put_one_line(detail && *detail ? detail : attn_status_name(status));
    fputc('\n', stderr);
    return CLI_RUNTIME;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

cli_opt *cli_find(cli_opt *opts, const char *name) {
    for (cli_opt *o = opts; o->name || o->help; o++)
        if (o->type != CLI_SECTION && strcmp(o->name, name) == 0) return o;
    return NULL;
}

void cli_append(cli_opt *t, int *n, const cli_opt *rows, int count) {
    memcpy(t + *n, rows, (size_t)count * sizeof *rows);
    *n += count;
}

static int takes_value(const cli_opt *o) {
    return o->type != CLI_FLAG && o->type != CLI_SECTION;
}

static int has_range(const cli_opt *o) {
    return o->min <= o->max && (o->min != 0 || o->max != 0);
}

static int in_range(const cli_opt *o, double v) {
    return !has_range(o) || (v >= o->min && v <= o->max);
}

/* The range as text for an error message: "at least 1", "between 0 and 1". */
static void range_text(const cli_opt *o, char *buf, size_t n) {
    if (o->max >= 1e15) /* "no upper bound" in practice */
        snprintf(buf, n, "at least %g", o->min);
    else
        snprintf(buf, n, "between %g and %g", o->min, o->max);
}

static int parse_integer(const cli_opt *o, const char *text, long long lo, long long hi,
                         long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0') {
        cli_error("--%s: expected an integer, got '%s'", o->name, text);
        return CLI_USAGE;
    }
    if (errno == ERANGE || v < lo || v > hi || !in_range(o, (double)v)) {
        char r[64];
        if (has_range(o))
            range_text(o, r, sizeof r);
        else
            snprintf(r, sizeof r, "representable");
        cli_error("--%s: %s is out of range (must be %s)", o->name, text, r);
        return CLI_USAGE;
    }
    *out = v;
    return CLI_OK;
}

/* Converts `text` for option o and stores it in o->dest. */
static int set_value(cli_opt *o, const char *text) {
    long long v;
    switch (o->type) {
    case CLI_INT:
        if (parse_integer(o, text, -2147483647LL - 1, 2147483647LL, &v)) return CLI_USAGE;
        *(int *)o->dest = (int)v;
        return CLI_OK;
    case CLI_LONG:
        if (parse_integer(o, text, -2147483647LL - 1, 9007199254740992LL, &v)) return CLI_USAGE;
        *(long *)o->dest = (long)v;
        return CLI_OK;
    case CLI_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(text, &end, 10);
        if (end == text || *end != '\0' || text[0] == '-' || errno == ERANGE) {
            cli_error("--%s: expected a non-negative integer, got '%s'", o->name, text);
            return CLI_USAGE;
        }
        *(uint64_t *)o->dest = (uint64_t)u;
        return CLI_OK;
    }
    case CLI_FLOAT: {
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        if (end == text || *end != '\0' || !isfinite(d)) {
            cli_error("--%s: expected a number, got '%s'", o->name, text);
            return CLI_USAGE;
        }
        if (errno == ERANGE || !in_range(o, d) || fabs(d) > 3.0e38) {
            char r[64];
            range_text(o, r, sizeof r);
            cli_error("--%s: %s is out of range (must be %s)", o->name, text, r);
            return CLI_USAGE;
        }
        *(float *)o->dest = (float)d;
        return CLI_OK;
    }
    case CLI_STRING:
        *(const char **)o->dest = text;
        return CLI_OK;
    case CLI_STRINGS: {
        cli_strings *l = o->dest;
        if (l->n >= CLI_MAX_REPEAT) {
            cli_error("--%s: given more than %d times", o->name, CLI_MAX_REPEAT);
            return CLI_USAGE;
        }
        l->v[l->n++] = text;
        return CLI_OK;
    }
    case CLI_CHOICE:
    case CLI_ENUM:
        for (const char *const *c = o->choices; *c; c++)
            if (strcmp(*c, text) == 0) {
                if (o->type == CLI_ENUM)
                    *(int *)o->dest = (int)(c - o->choices);
                else
                    *(const char **)o->dest = *c;
                return CLI_OK;
            }
        {
            char list[256] = "";
            for (const char *const *c = o->choices; *c; c++) {
                if (c != o->choices) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, *c, sizeof list - strlen(list) - 1);
            }
            cli_error("--%s: unknown value '%s' (one of: %s)", o->name, text, list);
        }
        return CLI_USAGE;
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return CLI_OK;
    case CLI_SECTION:
        break;
    }
    return CLI_USAGE;
}

static const char *meta_of(const cli_opt *o) {
    if (o->meta) return o->meta;
    switch (o->type) {
    case CLI_INT:
    case CLI_LONG:
    case CLI_U64:
        return "N";
    case CLI_FLOAT:
        return "X";
    case CLI_STRING:
    case CLI_STRINGS:
        return "TEXT";
    case CLI_CHOICE:
    case CLI_ENUM:
        return "NAME";
    default:
        return "";
    }
}

static int is_help(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* The command's words in usage: after "attn ", up to the first option or placeholder. */
static void command_name(const cli_help *help, char *buf, size_t n) {
    const char *u = help->usage + (strncmp(help->usage, "attn ", 5) == 0 ? 5 : 0), *end = u;
    for (const char *w = u; *w && *w != '-' && *w != '[' && !(*w >= 'A' && *w <= 'Z');) {
        while (*w && *w != ' ' && *w != '\n')
            w++;
        end = w;
        while (*w == ' ')
            w++;
    }
    snprintf(buf, n, "%.*s", (int)(end - u), u);
}

static int threads = 0; /* --threads, which every command takes */
static cli_opt threads_opt = CLI_OPT("threads", CLI_INT, &threads, "threads", .min = 0, .max = 4096,
                                     .default_text = "$ATTN_NUM_THREADS, else all cores");

int cli_parse(int argc, char **argv, cli_opt *opts, const cli_help *help, int max_positional,
              int *n_positional) {
    char command[64];
    command_name(help, command, sizeof command);
    int n_pos = 0;
    /* --help wins over everything else, and is printed before any default is overwritten. */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (is_help(argv[i])) {
            cli_print_help(opts, help);
            return CLI_HELP;
        }
    }
    int only_positional = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (n_pos >= max_positional) {
                cli_error("%s: unexpected argument '%s' (try attn %s --help)", command, a, command);
                return CLI_USAGE;
            }
            argv[n_pos++] = a; /* n_pos <= i: nothing unread is overwritten */
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (a[1] != '-') {
            cli_error("%s: unknown option '%s' (try attn %s --help)", command, a, command);
            return CLI_USAGE;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        char key[64];
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len >= sizeof key) len = sizeof key - 1;
        memcpy(key, name, len);
        key[len] = '\0';
        cli_opt *o = strcmp(key, "threads") == 0 ? &threads_opt : cli_find(opts, key);
        if (!o) {
            cli_error("%s: unknown option '--%s' (try attn %s --help)", command, key, command);
            return CLI_USAGE;
        }
        const char *value = NULL;
        if (takes_value(o)) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                cli_error("--%s needs a value", o->name);
                return CLI_USAGE;
            }
        } else if (eq) {
            cli_error("--%s takes no value", o->name);
            return CLI_USAGE;
        }
        if (set_value(o, value)) return CLI_USAGE;
        o->seen = 1;
    }
    for (cli_opt *o = opts; o->name || o->help; o++)
        if (o->required && !o->seen) {
            cli_error("%s: --%s %s is required (try attn %s --help)", command, o->name, meta_of(o),
                      command);
            return CLI_USAGE;
        }
    if (n_positional) *n_positional = n_pos;
    attn_status s = attn_set_num_threads(threads);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "--threads %d", threads);
}

/* The default of o as text, from its destination's current value; "" when there is none. */
static void default_text(const cli_opt *o, char *buf, size_t n) {
    buf[0] = '\0';
    if (o->default_text) {
        snprintf(buf, n, "%s", o->default_text);
        return;
    }
    switch (o->type) {
    case CLI_INT:
        snprintf(buf, n, "%d", *(const int *)o->dest);
        break;
    case CLI_LONG:
        snprintf(buf, n, "%ld", *(const long *)o->dest);
        break;
    case CLI_U64:
        snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)o->dest);
        break;
    case CLI_FLOAT:
        snprintf(buf, n, "%g", (double)*(const float *)o->dest);
        break;
    case CLI_STRING:
    case CLI_CHOICE: {
        const char *s = *(const char *const *)o->dest;
        if (s) snprintf(buf, n, "%s", s);
        break;
    }
    case CLI_ENUM:
        snprintf(buf, n, "%s", o->choices[*(const int *)o->dest]);
        break;
    case CLI_FLAG:
    case CLI_STRINGS:
    case CLI_SECTION:
        break;
    }
}

static void print_option(const cli_opt *o) {
    char left[64], def[128], choices[256] = "";
    snprintf(left, sizeof left, "--%s%s%s", o->name, takes_value(o) ? " " : "", meta_of(o));
    if (o->type == CLI_CHOICE || o->type == CLI_ENUM) {
        for (const char *const *c = o->choices; *c; c++) {
            strncat(choices, c == o->choices ? "" : "|", sizeof choices - strlen(choices) - 1);
            strncat(choices, *c, sizeof choices - strlen(choices) - 1);
        }
    }
    default_text(o, def, sizeof def);
    printf("  %-20s %s", left, o->help);
    if (o->required) printf(" (required)");
    if (choices[0]) printf(" (%s)", choices);
    if (def[0]) printf(" [default: %s]", def);
    if (o->type == CLI_STRINGS) printf(" (repeatable)");
    printf("\n");
}

void cli_print_help(const cli_opt *opts, const cli_help *help) {
    printf("usage: %s\n\n%s", help->usage, help->description);
    if (opts->type != CLI_SECTION) printf("\nOptions:\n");
    for (const cli_opt *o = opts; o->name || o->help; o++)
        if (o->type == CLI_SECTION)
            printf("\n%s:\n", o->help);
        else
            print_option(o);
    print_option(&threads_opt);
    printf("\nExample:\n%s", help->example);
}
