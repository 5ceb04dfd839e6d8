/* data/file_read.c: the public face of io/file.h's reader (attn_file_read, include/attn/data.h). */
#include "attn/data.h"
#include "io/file.h"

attn_status attn_file_read(const char *path, void **data, size_t *size) {
    return attn_file_read_all(path, data, size);
}
