/* tools/cmd_tokenizer.c: `attn tokenizer train | encode | decode`.
 *
 *   train   learns a byte-level BPE from text files and writes a tokenizer.json;
 *   import-gpt2  reads GPT-2's encoder.json + vocab.bpe and writes them as a tokenizer.json;
 *   encode  prints the ids (or the tokens) of each TEXT argument, or of each line of stdin;
 *   decode  prints the text of ids given as arguments, or of each line of ids on stdin.
 * encode and decode take any tokenizer attn_tokenizer_load reads: a tokenizer.json (byte-level
 * BPE or WordPiece) or a WordPiece vocab.txt. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

/* ---- train ---------------------------------------------------------------------------------- */

static const cli_help train_help = {
    "attn tokenizer train --vocab-size N --out FILE [options] TEXT_FILE...",
    "Learns a byte-level BPE (GPT-2 style) from the text files and writes it as a Hugging Face\n"
    "tokenizer.json. The vocabulary holds [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0-4), the 256 byte\n"
    "tokens, then one token per learned merge; training stops early when the most frequent pair\n"
    "is seen fewer than --min-frequency times. Every byte string can be encoded and decoded back\n"
    "exactly; with --lowercase, text is NFC-normalised and lower-cased first (decode then gives\n"
    "the lower-cased text). See docs/TOKENIZERS.md.\n",
    "  attn tokenizer train --vocab-size 16000 --out tokenizer.json corpus/*.txt\n",
};

static int cmd_train(int argc, char **argv) {
    attn_bpe_train_params p = attn_bpe_train_default_params();
    const char *out = NULL;
    cli_opt opts[] = {
        CLI_OPT("vocab-size", CLI_INT, &p.vocab_size, "tokens in all (specials and bytes included)",
                .min = 261, .max = 1 << 24),
        CLI_OPT("min-frequency", CLI_INT, &p.min_frequency, "learn no merge seen fewer times",
                .meta = "F", .min = 0, .max = 2147483647.0),
        CLI_OPT("lowercase", CLI_FLAG, &p.lowercase, "NFC + lower-case before learning"),
        CLI_OPT("out", CLI_STRING, &out, "where to write the tokenizer.json", .meta = "FILE",
                .required = 1),
        CLI_END,
    };
    const char **files = (const char **)argv;
    int n_files, rc = cli_parse(argc, argv, opts, &train_help, argc, &n_files);
    if (rc == CLI_OK && n_files == 0) {
        cli_error("tokenizer train: no text file given (try attn tokenizer train --help)");
        rc = CLI_USAGE;
    }
    char **texts = rc == CLI_OK ? calloc((size_t)n_files, sizeof *texts) : NULL;
    size_t *lengths = rc == CLI_OK ? calloc((size_t)n_files, sizeof *lengths) : NULL;
    if (rc == CLI_OK && (!texts || !lengths)) rc = CLI_RUNTIME;
    size_t total = 0;
    for (int i = 0; rc == CLI_OK && i < n_files; i++) {
        attn_status s = attn_file_read(files[i], (void **)&texts[i], &lengths[i]);
        if (s != ATTN_OK) rc = cli_lib_error(s, "cannot read %s", files[i]);
        total += lengths[i];
    }
    attn_tokenizer *t = NULL;
    if (rc == CLI_OK) {
        double t0 = cli_now();
        attn_status s =
            attn_tokenizer_train_bpe((const char *const *)texts, lengths, (size_t)n_files, p, &t);
        if (s != ATTN_OK)
            rc = cli_lib_error(s, "training failed");
        else if ((s = attn_tokenizer_save(t, out)) != ATTN_OK)
            rc = cli_lib_error(s, "cannot write %s", out);
        else
            printf("trained %d tokens from %d file%s (%.1f MB) in %.2f s; wrote %s\n",
                   attn_tokenizer_vocab_size(t), n_files, n_files == 1 ? "" : "s", total / 1e6,
                   cli_now() - t0, out);
    }
    attn_tokenizer_free(t);
    for (int i = 0; texts && i < n_files; i++)
        free(texts[i]);
    free(texts);
    free(lengths);
    return rc;
}

/* ---- encode --------------------------------------------------------------------------------- */

static const cli_help encode_help = {
    "attn tokenizer encode --tokenizer FILE [--ids | --tokens] [TEXT...]",
    "Encodes each TEXT argument, or each line of standard input (without its newline) when no\n"
    "TEXT is given, and prints one line per text: the token ids separated by spaces (--ids, the\n"
    "default) or the tokens themselves (--tokens; a byte-level BPE shows bytes as GPT-2 does,\n"
    "a space as \xc4\xa0). By default no special tokens are added and \"[CLS]\" in a text is\n"
    "encoded as plain text (--add-special, --allow-special change that); non-special added tokens\n"
    "are always matched. FILE is a tokenizer.json (BPE or WordPiece) or a WordPiece vocab.txt.\n",
    "  attn tokenizer encode --tokenizer tokenizer.json \"Hello world\"\n"
    "  attn tokenizer encode --tokenizer vocab.txt --tokens < sentences.txt\n",
};

/* Encodes one text and prints its line. */
static int encode_one(const attn_tokenizer *t, const char *text, size_t len, int tokens,
                      attn_encode_params p) {
    int *ids, n;
    attn_status s = attn_tokenizer_encode_with(t, text, len, p, &ids, &n);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot encode");
    for (int i = 0; i < n; i++) {
        if (i) putchar(' ');
        if (tokens)
            fputs(attn_tokenizer_token(t, ids[i]), stdout);
        else
            printf("%d", ids[i]);
    }
    putchar('\n');
    free(ids);
    return CLI_OK;
}

/* The tokenizer named by --tokenizer. */
static int load_tokenizer(const char *path, attn_tokenizer **t) {
    attn_status s = attn_tokenizer_load(path, t);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "cannot load the tokenizer");
}

static int cmd_encode(int argc, char **argv) {
    const char *path = NULL;
    int ids = 0, tokens = 0;
    attn_encode_params p = attn_encode_default_params();
    cli_opt opts[] = {
        CLI_OPT("tokenizer", CLI_STRING, &path, "tokenizer.json or vocab.txt", .meta = "FILE",
                .required = 1),
        CLI_OPT("ids", CLI_FLAG, &ids, "print token ids (the default)"),
        CLI_OPT("tokens", CLI_FLAG, &tokens, "print tokens instead of ids"),
        CLI_OPT("allow-special", CLI_FLAG, &p.allow_special,
                "the text of a special token (<|endoftext|>, [CLS]) becomes its id"),
        CLI_OPT("add-special", CLI_FLAG, &p.add_special,
                "add the tokens of the post-processor ([CLS] ... [SEP], <|begin_of_text|>)"),
        CLI_END,
    };
    const char **texts = (const char **)argv;
    int n_texts, rc = cli_parse(argc, argv, opts, &encode_help, argc, &n_texts);
    if (rc == CLI_OK && ids && tokens) {
        cli_error("tokenizer encode: --ids and --tokens exclude each other");
        rc = CLI_USAGE;
    }
    attn_tokenizer *t = NULL;
    if (rc == CLI_OK) rc = load_tokenizer(path, &t);
    for (int i = 0; rc == CLI_OK && i < n_texts; i++)
        rc = encode_one(t, texts[i], strlen(texts[i]), tokens, p);
    if (rc == CLI_OK && n_texts == 0) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (rc == CLI_OK && (len = getline(&line, &cap, stdin)) >= 0) {
            if (len > 0 && line[len - 1] == '\n') len--;
            rc = encode_one(t, line, (size_t)len, tokens, p);
        }
        free(line);
    }
    attn_tokenizer_free(t);
    return rc;
}

/* ---- decode --------------------------------------------------------------------------------- */

static const cli_help decode_help = {
    "attn tokenizer decode --tokenizer FILE [IDS...]",
    "Prints the text of the token ids given as arguments (separated by spaces or commas, in one\n"
    "argument or several), followed by a newline; without IDS, decodes each line of standard\n"
    "input as a list of ids and prints one line of text for each. Special tokens ([CLS], [PAD],\n"
    "...) are skipped. The bytes are written as they are: a byte-level BPE gives back exactly\n"
    "the text that was encoded.\n",
    "  attn tokenizer decode --tokenizer tokenizer.json 101 7592 2088\n"
    "  attn tokenizer encode --tokenizer tokenizer.json < in.txt | "
    "attn tokenizer decode --tokenizer tokenizer.json\n",
};

/* Appends the ids written in `text` (separated by spaces, tabs or commas) to ids[*n..]. Returns 0,
 * or -1 with *bad pointing at the offending word. */
static int parse_ids(const char *text, int **ids, int *n, int *cap, const char **bad) {
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r')
            p++;
        if (!*p) return 0;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ' ' && *end != '\t' && *end != ',' && *end != '\r') ||
            errno == ERANGE || v < 0 || v > 2147483647L) {
            *bad = p;
            return -1;
        }
        if (*n == *cap) {
            int c = *cap ? 2 * *cap : 64;
            int *grown = realloc(*ids, (size_t)c * sizeof **ids);
            if (!grown) {
                *bad = NULL;
                return -1;
            }
            *ids = grown;
            *cap = c;
        }
        (*ids)[(*n)++] = (int)v;
        p = end;
    }
}

/* Decodes ids[0..n) and prints the text and a newline. */
static int decode_one(const attn_tokenizer *t, const int *ids, int n) {
    char *text;
    size_t len;
    attn_status s = attn_tokenizer_decode(t, ids, n, &text, &len);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot decode");
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text);
    return CLI_OK;
}

static int bad_id(const char *bad, const char *where) {
    if (!bad) {
        cli_error("out of memory for token ids");
        return CLI_RUNTIME;
    }
    size_t len = strcspn(bad, " \t,\r\n");
    cli_error("%s'%.*s' is not a token id (a non-negative integer)", where,
              (int)(len > 40 ? 40 : len), bad);
    return CLI_USAGE;
}

static int cmd_decode(int argc, char **argv) {
    const char *path = NULL;
    cli_opt opts[] = {
        CLI_OPT("tokenizer", CLI_STRING, &path, "tokenizer.json or vocab.txt", .meta = "FILE",
                .required = 1),
        CLI_END,
    };
    int n_args, rc = cli_parse(argc, argv, opts, &decode_help, argc, &n_args);
    int *ids = NULL, n = 0, cap = 0;
    const char *bad;
    for (int i = 0; rc == CLI_OK && i < n_args; i++)
        if (parse_ids(argv[i], &ids, &n, &cap, &bad)) rc = bad_id(bad, "tokenizer decode: ");
    attn_tokenizer *t = NULL;
    if (rc == CLI_OK) rc = load_tokenizer(path, &t);
    if (rc == CLI_OK && n_args > 0) rc = decode_one(t, ids, n);
    if (rc == CLI_OK && n_args == 0) {
        char *line = NULL;
        size_t line_cap = 0;
        long line_no = 0;
        while (rc == CLI_OK && getline(&line, &line_cap, stdin) >= 0) {
            line_no++;
            line[strcspn(line, "\n")] = '\0';
            n = 0;
            if (parse_ids(line, &ids, &n, &cap, &bad)) {
                char where[64];
                snprintf(where, sizeof where, "tokenizer decode: stdin line %ld: ", line_no);
                bad_id(bad, where);
                rc = CLI_RUNTIME; /* bad data rather than a bad command line */
            } else {
                rc = decode_one(t, ids, n);
            }
        }
        free(line);
    }
    attn_tokenizer_free(t);
    free(ids);
    return rc;
}

/* ---- import-gpt2 ------------------------------------------------------------------------------
 */

static const cli_help import_help = {
    "attn tokenizer import-gpt2 ENCODER_JSON VOCAB_BPE --out FILE",
    "Reads GPT-2's own vocabulary files (encoder.json and vocab.bpe, as OpenAI published them)\n"
    "and writes the same tokenizer as a Hugging Face tokenizer.json: GPT-2's pattern, byte-level\n"
    "BPE, <|endoftext|> a special token. -o is accepted for --out.\n",
    "  attn tokenizer import-gpt2 encoder.json vocab.bpe --out gpt2-tokenizer.json\n",
};

static int cmd_import_gpt2(int argc, char **argv) {
    const char *out = NULL;
    cli_opt opts[] = {
        CLI_OPT("out", CLI_STRING, &out, "where to write the tokenizer.json", .meta = "FILE"),
        CLI_END,
    };
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "-o") == 0) argv[i] = (char *)"--out";
    char **files = argv;
    int n_files, rc = cli_parse(argc, argv, opts, &import_help, 3, &n_files);
    if (rc == CLI_OK && (n_files != 2 || !out)) {
        cli_error("tokenizer import-gpt2: give ENCODER_JSON VOCAB_BPE --out FILE (try attn "
                  "tokenizer import-gpt2 --help)");
        rc = CLI_USAGE;
    }
    attn_tokenizer *t = NULL;
    if (rc == CLI_OK) {
        attn_status s = attn_tokenizer_import_gpt2(files[0], files[1], &t);
        if (s != ATTN_OK)
            rc = cli_lib_error(s, "cannot import GPT-2's files");
        else if ((s = attn_tokenizer_save(t, out)) != ATTN_OK)
            rc = cli_lib_error(s, "cannot write %s", out);
        else
            printf("imported %d tokens; wrote %s\n", attn_tokenizer_vocab_size(t), out);
    }
    attn_tokenizer_free(t);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static const char tokenizer_usage[] =
    "usage: attn tokenizer <train|import-gpt2|encode|decode> [options]\n"
    "\n"
    "  train    learn a byte-level BPE from text files, write a tokenizer.json\n"
    "  import-gpt2  GPT-2's encoder.json + vocab.bpe -> tokenizer.json\n"
    "  encode   text -> token ids (or tokens)\n"
    "  decode   token ids -> text\n"
    "\n"
    "`attn tokenizer <action> --help` describes each action and all its options.\n"
    "\n"
    "Example:\n"
    "  attn tokenizer train --vocab-size 8000 --out tok.json corpus.txt\n"
    "  attn tokenizer encode --tokenizer tok.json \"Hello world\"\n";

int cmd_tokenizer(int argc, char **argv) {
    if (argc < 1) {
        cli_error("tokenizer: missing action (train, encode or decode; try attn tokenizer --help)");
        return CLI_USAGE;
    }
    const char *action = argv[0];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
        fputs(tokenizer_usage, stdout);
        return CLI_OK;
    }
    if (strcmp(action, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(action, "import-gpt2") == 0) return cmd_import_gpt2(argc - 1, argv + 1);
    if (strcmp(action, "encode") == 0) return cmd_encode(argc - 1, argv + 1);
    if (strcmp(action, "decode") == 0) return cmd_decode(argc - 1, argv + 1);
    cli_error("tokenizer: unknown action '%s' (train, import-gpt2, encode or decode)", action);
    return CLI_USAGE;
}
