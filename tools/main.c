/* tools/main.c: the `attn` command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "attn/attn.h"

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: attn <command> [options]\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("attn %s\n", attn_version());
        return 0;
    }
    fprintf(stderr, "attn: unknown command '%s' (try attn --help)\n", argv[1]);
    return 2;
}
