/* text/hashmap.c: the two hash maps of the tokenizers (text_internal.h): byte strings -> int64
 * in insertion order, and uint64 -> int32. Both use open addressing with linear probing over a
 * power-of-two table kept at most half full. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text_internal.h"

/* splitmix64's finaliser: a full-avalanche mix of 64 bits. */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Hash of n bytes, 8 at a time. */
static uint64_t hash_bytes(const void *key, size_t n) {
    const unsigned char *s = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ mix64(k)) * 0x9e3779b97f4a7c15ULL;
        s += 8;
        n -= 8;
    }
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)s[i] << (8 * i);
    return mix64(h ^ k);
}

void text_strmap_free(text_strmap *m) {
    free(m->arena);
    free(m->entries);
    free(m->table);
    memset(m, 0, sizeof *m);
}

int32_t text_strmap_find(const text_strmap *m, const void *key, size_t len) {
    if (!m->table) return -1;
    uint32_t h = (uint32_t)hash_bytes(key, len);
    for (uint32_t slot = h & m->mask;; slot = (slot + 1) & m->mask) {
        int32_t i = m->table[slot];
        if (i < 0) return -1;
        const text_strmap_entry *e = &m->entries[i];
        if (e->hash == h && e->len == len && memcmp(m->arena + e->off, key, len) == 0) return i;
    }
}

/* Doubles the table (or creates it) and reinserts every entry. 0 on success, -1 when out of
 * memory (the map is unchanged). */
static int strmap_grow_table(text_strmap *m) {
    uint32_t size = m->table ? (m->mask + 1) * 2 : 64;
    if (size == 0 || size > (1u << 31)) return -1;
    int32_t *table = malloc((size_t)size * sizeof *table);
    if (!table) return -1;
    memset(table, 0xff, (size_t)size * sizeof *table);
    uint32_t mask = size - 1;
    for (int32_t i = 0; i < m->n; i++) {
        uint32_t slot = m->entries[i].hash & mask;
        while (table[slot] >= 0)
            slot = (slot + 1) & mask;
        table[slot] = i;
    }
    free(m->table);
    m->table = table;
    m->mask = mask;
    return 0;
}

int32_t text_strmap_insert(text_strmap *m, const void *key, size_t len, int64_t init,
                           int *inserted) {
    if (inserted) *inserted = 0;
    int32_t found = text_strmap_find(m, key, len);
    if (found >= 0) return found;
    if (len >= UINT32_MAX || m->n == INT32_MAX) return -1;
    /* Room first, so that a failure leaves the map as it was. */
    if (!m->table || (uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) {
        if (strmap_grow_table(m)) return -1;
    }
    if (m->n == m->cap) {
        int32_t cap = m->cap ? (m->cap > INT32_MAX / 2 ? INT32_MAX : m->cap * 2) : 16;
        text_strmap_entry *e = realloc(m->entries, (size_t)cap * sizeof *e);
        if (!e) return -1;
        m->entries = e;
        m->cap = cap;
    }
    if (len + 1 > m->arena_cap - m->arena_len) {
        size_t cap = m->arena_cap ? m->arena_cap : 256;
        while (len + 1 > cap - m->arena_len) {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        char *a = realloc(m->arena, cap);
        if (!a) return -1;
        m->arena = a;
        m->arena_cap = cap;
    }
    int32_t i = m->n++;
    text_strmap_entry *e = &m->entries[i];
    e->off = m->arena_len;
    e->len = (uint32_t)len;
    e->hash = (uint32_t)hash_bytes(key, len);
    e->value = init;
    if (len) memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->arena_len += len + 1;
    uint32_t slot = e->hash & m->mask;
    while (m->table[slot] >= 0)
        slot = (slot + 1) & m->mask;
    m->table[slot] = i;
    if (inserted) *inserted = 1;
    return i;
}

void text_u64map_free(text_u64map *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

int32_t text_u64map_get(const text_u64map *m, uint64_t key, int32_t missing) {
    if (!m->keys) return missing;
    for (uint32_t slot = (uint32_t)mix64(key) & m->mask;; slot = (slot + 1) & m->mask) {
        if (m->keys[slot] == key) return m->values[slot];
        if (m->keys[slot] == UINT64_MAX) return missing;
    }
}

/* Stores into a table known to have room. */
static void u64_place(uint64_t *keys, int32_t *values, uint32_t mask, uint64_t key, int32_t value,
                      uint32_t *n) {
    uint32_t slot = (uint32_t)mix64(key) & mask;
    while (keys[slot] != UINT64_MAX && keys[slot] != key)
        slot = (slot + 1) & mask;
    if (keys[slot] == UINT64_MAX) (*n)++;
    keys[slot] = key;
    values[slot] = value;
}

attn_status text_u64map_put(text_u64map *m, uint64_t key, int32_t value) {
    if (!m->keys || (uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) {
        uint32_t size = m->keys ? (m->mask + 1) * 2 : 64;
        if (size == 0 || size > (1u << 31)) return ATTN_ERR_NOMEM;
        uint64_t *keys = malloc((size_t)size * sizeof *keys);
        int32_t *values = malloc((size_t)size * sizeof *values);
        if (!keys || !values) {
            free(keys);
            free(values);
            return ATTN_ERR_NOMEM;
        }
        memset(keys, 0xff, (size_t)size * sizeof *keys);
        uint32_t n = 0;
        for (uint32_t s = 0; m->keys && s <= m->mask; s++)
            if (m->keys[s] != UINT64_MAX)
                u64_place(keys, values, size - 1, m->keys[s], m->values[s], &n);
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->mask = size - 1;
        m->n = n;
    }
    u64_place(m->keys, m->values, m->mask, key, value, &m->n);
    return ATTN_OK;
}
