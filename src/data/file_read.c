/* data/file_read.c: the public face of io/file.h's reader and output check (attn_file_read,
 * attn_file_check_writable; include/attn/data.h). */
#include "attn/data.h"

#include <string.h>

#include "io/file.h"

attn_status attn_file_read(const char *path, void **data, size_t *size) {
    if (path && strcmp(path, "-") == 0) path = "/dev/stdin"; /* read to its end, as a pipe */
    return attn_file_read_all(path, data, size);
}

attn_status attn_file_check_writable(const char *path) {
    return attn_file_check_output(path);
}
