/* eval/mt_text.c: strict UTF-8, Python's white space and n-gram spans (eval/mt_text.h). */
#include "eval/mt_text.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int mt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t min, v;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, v = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, v = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, v = c & 0x07u;
    else
        return 0; /* a continuation byte, 0xc0 / 0xc1 (always overlong) or 0xf5.. */
    if (n < (size_t)len) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

attn_status mt_utf8_check(const char *s, size_t n, const char *what) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = u[i] < 0x80 ? 1 : mt_utf8_next(u + i, n - i, &cp);
        if (!k || u[i] == 0)
            return attn_error(ATTN_ERR_INVALID, "%s: invalid UTF-8 at byte %zu", what, i);
        i += (size_t)k;
    }
    return ATTN_OK;
}

int mt_is_space(uint32_t cp) {
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int span_cmp(mt_span a, mt_span b) {
    size_t k = a.len < b.len ? a.len : b.len;
    int c = k ? memcmp(a.p, b.p, k) : 0;
    if (c) return c;
    return (a.len > b.len) - (a.len < b.len);
}

static int span_qsort_cmp(const void *a, const void *b) {
    return span_cmp(*(const mt_span *)a, *(const mt_span *)b);
}

void mt_spans_sort(mt_span *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, span_qsort_cmp);
}

/* The first index in sorted[0..n) whose span is >= key (strictly > when after != 0). */
static size_t bound(const mt_span *sorted, size_t n, mt_span key, int after) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = span_cmp(sorted[mid], key);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long mt_spans_count(const mt_span *sorted, size_t n, mt_span key) {
    return (long)(bound(sorted, n, key, 1) - bound(sorted, n, key, 0));
}

long mt_spans_clipped(const mt_span *hyp, size_t n_hyp, const mt_span *const *refs,
                      const size_t *n_refs_each, int n_refs) {
    long matched = 0;
    for (size_t i = 0; i < n_hyp;) {
        size_t j = i + 1;
        while (j < n_hyp && span_cmp(hyp[j], hyp[i]) == 0)
            j++;
        long in_hyp = (long)(j - i), in_ref = 0;
        for (int r = 0; r < n_refs; r++) {
            long c = mt_spans_count(refs[r], n_refs_each[r], hyp[i]);
            if (c > in_ref) in_ref = c;
        }
        matched += in_hyp < in_ref ? in_hyp : in_ref;
        i = j;
    }
    return matched;
}
