/* io/safetensors_read.c: typed reads from an open safetensors file (attn/safetensors.h): floats
 * widened or rounded to f32, integers narrowed to int with range checks. */
#include <limits.h>
#include <string.h>

#include "attn/safetensors.h"
#include "core/error.h"
#include "io/safetensors_internal.h"

static int64_t numel(const attn_safetensors_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* IEEE half to float, exactly (subnormals, infinities and NaNs included). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24 */
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | mant << 13;
    else
        bits = sign | (exp + 112) << 23 | mant << 13;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

attn_status attn_safetensors_check_f32(const attn_safetensors *f, const char *name, int ndim,
                                       const int64_t *shape) {
    if (!f || !name || ndim < 0 || ndim > ATTN_SAFETENSORS_MAX_DIMS || (!shape && ndim > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_safetensors_check_f32: bad arguments for '%s'",
                          name ? name : "(null)");
    const attn_safetensors_tensor *t = attn_safetensors_find(f, name);
    if (!t) return attn_error(ATTN_ERR_MISSING, "tensor '%s' is missing", name);
    if (t->dtype != ATTN_DTYPE_F32 && t->dtype != ATTN_DTYPE_F64 && t->dtype != ATTN_DTYPE_F16 &&
        t->dtype != ATTN_DTYPE_BF16)
        return attn_error(ATTN_ERR_FORMAT,
                          "tensor '%s' has dtype %s; expected a float (F32, F64, F16 or BF16)",
                          name, attn_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        return attn_error(ATTN_ERR_SHAPE, "tensor '%s' has shape %s; expected %s", name,
                          attn_st_format_shape(got, sizeof got, t->ndim, t->shape),
                          attn_st_format_shape(want, sizeof want, ndim, shape));
    }
    return ATTN_OK;
}

attn_status attn_safetensors_read_f32(const attn_safetensors *f, const char *name, float *dst,
                                      int ndim, const int64_t *shape) {
    if (!dst)
        return attn_error(ATTN_ERR_INVALID, "attn_safetensors_read_f32: NULL dst for '%s'",
                          name ? name : "(null)");
    ATTN_TRY(attn_safetensors_check_f32(f, name, ndim, shape));
    const attn_safetensors_tensor *t = attn_safetensors_find(f, name);
    const unsigned char *src = t->data;
    int64_t n = numel(t);
    switch (t->dtype) {
    case ATTN_DTYPE_F32:
        memcpy(dst, src, t->nbytes);
        break;
    case ATTN_DTYPE_F64:
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + 8 * i, 8);
            dst[i] = (float)v;
        }
        break;
    case ATTN_DTYPE_F16:
    case ATTN_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            if (t->dtype == ATTN_DTYPE_F16) {
                dst[i] = half_to_float(h);
            } else {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&dst[i], &bits, 4);
            }
        }
        break;
    default:
        break;
    }
    return ATTN_OK;
}

attn_status attn_safetensors_read_int(const attn_safetensors *f, const char *name, int *dst,
                                      long n) {
    if (!f || !name || (!dst && n > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_safetensors_read_int: bad arguments for '%s'",
                          name ? name : "(null)");
    const attn_safetensors_tensor *t = attn_safetensors_find(f, name);
    if (!t) return attn_error(ATTN_ERR_MISSING, "tensor '%s' is missing", name);
    switch (t->dtype) {
    case ATTN_DTYPE_I64:
    case ATTN_DTYPE_I32:
    case ATTN_DTYPE_I8:
    case ATTN_DTYPE_U8:
    case ATTN_DTYPE_BOOL:
        break;
    default:
        return attn_error(ATTN_ERR_FORMAT,
                          "tensor '%s' has dtype %s; expected an integer (I64, I32, I8, U8, BOOL)",
                          name, attn_dtype_name(t->dtype));
    }
    if (numel(t) != n)
        return attn_error(ATTN_ERR_SHAPE, "tensor '%s' has %lld elements; expected %ld", name,
                          (long long)numel(t), n);
    const unsigned char *src = t->data;
    for (long i = 0; i < n; i++) {
        if (t->dtype == ATTN_DTYPE_I64) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            if (v < INT_MIN || v > INT_MAX)
                return attn_error(ATTN_ERR_FORMAT,
                                  "tensor '%s': element %ld (%lld) does not fit in an int", name, i,
                                  (long long)v);
            dst[i] = (int)v;
        } else if (t->dtype == ATTN_DTYPE_I32) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            dst[i] = v;
        } else if (t->dtype == ATTN_DTYPE_I8) {
            dst[i] = (signed char)src[i];
        } else if (t->dtype == ATTN_DTYPE_U8) {
            dst[i] = src[i];
        } else {
            dst[i] = src[i] != 0;
        }
    }
    return ATTN_OK;
}
