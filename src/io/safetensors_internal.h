/* io/safetensors_internal.h: what the safetensors reader (io/safetensors.c) and writer
 * (io/safetensors_write.c) share, defined in io/safetensors_index.c: a name -> index hash table and
 * small helpers. */
#ifndef ATTN_IO_SAFETENSORS_INTERNAL_H
#define ATTN_IO_SAFETENSORS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Open addressing over a power-of-two table, linear probing; a zeroed struct is empty. */
typedef struct {
    const char **keys; /* borrowed from the owner of the names */
    int *values;
    size_t cap, count;
} name_index;

void attn_st_index_free(name_index *ix);
/* The value of key, or -1. */
int attn_st_index_find(const name_index *ix, const char *key);
/* Adds key -> value. Returns 0, 1 if the key is already present (nothing changes), -1 if out of
 * memory. */
int attn_st_index_add(name_index *ix, const char *key, int value);

/* A malloc'd copy of s, or NULL. */
char *attn_st_copy_string(const char *s);
/* "(2, 3)" into buf (cap bytes), "()" for a scalar; returns buf. */
const char *attn_st_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape);
/* Product of dims times itemsize into *nbytes; -1 if it does not fit in an int64 and a size_t. */
int attn_st_shape_nbytes(int ndim, const int64_t *shape, size_t itemsize, size_t *nbytes);

#endif
