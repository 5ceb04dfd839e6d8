/* kernels/attention_simd.c: fused scaled dot-product attention, FlashAttention-2 style, compiled
 * once per ISA (kernels/simd.h); kernels/attention.c dispatches to the variant in use.
 *
 * Forward, per (batch, head, tile of AT_T queries), walking key tiles of AT_T keys:
 *     S^T = K_j (Q_i^T * scale * log2 e)                 (AT_T, AT_T), base-2 scores
 *     m' = max(m, max_j S), P = 2^(S - m'), l = l 2^(m - m') + sum_j P
 *     O_acc = O_acc 2^(m - m') + P V_j
 * and finally O = O_acc / l, lse = (m + log2 l) ln 2. Memory per thread: one score tile, the
 * output accumulator, the packed query tile (attention_tile.h explains the transposed layout) and
 * the current head's keys and values packed as (Tk, Dp) rows (pack_head says why): linear in T.
 *
 * Backward, per (batch, head), key tiles outer and query tiles inner, so that dK_j and dV_j stay in
 * a tile-sized accumulator and dQ rows are only touched by the thread that owns the head; the
 * head's Q, dO and dQ rows are packed as (Tq, Dp) for the whole walk (bwd_rows):
 *     P = 2^(S - lse log2 e), dV_j += P^T dO_i, dP = dO_i V_j^T, dS = P (dP - delta_i),
 *     dQ_i += scale dS K_j, dK_j += scale dS^T Q_i,    delta = rowsum(dO o O).
 *
 * Key tiles that no query of the tile can see (causal, kv_len) are never visited; the causal
 * diagonal tiles get -inf written into the masked scores. */
#include "kernels/simd_decls.h"
#include "kernels/attention_tile.h"
#include "core/error.h"
#include "core/threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG2E 1.44269504088896341f
#define LN2 0.69314718055994531f
#define NBV (AT_T / AT_VW) /* vectors across a tile row */

static int round_up(int x, int m) {
    return (x + m - 1) / m * m;
}

static int visible_keys(const attn_sdpa_args *a, int b) {
    int n = a->kv_len ? a->kv_len[b] : a->Tk;
    return n < 0 ? 0 : n > a->Tk ? a->Tk : n;
}

/* dst (D, AT_T) = mul * src^T for n rows of src (row stride rs); columns n.. are zero. */
static void pack_transposed(float *dst, const float *src, long rs, int n, int D, float mul) {
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D; d++)
            dst[d * AT_T + i] = mul * src[i * rs + d];
    for (int d = 0; n < AT_T && d < D; d++)
        memset(dst + d * AT_T + n, 0, (size_t)(AT_T - n) * sizeof *dst);
}

/* dst (n, Dp) = src (n, D) with columns D..Dp zero. */
static void pack_rows(float *dst, const float *src, long rs, int n, int D, int Dp) {
    for (int i = 0; i < n; i++) {
        memcpy(dst + (long)i * Dp, src + i * rs, (size_t)D * sizeof *dst);
        memset(dst + (long)i * Dp + D, 0, (size_t)(Dp - D) * sizeof *dst);
    }
}

/* Causal masks, key j hidden from query i when j > i + off, of a transposed score tile S^T (nj
 * keys from j0, AT_T queries from i0) and of a plain one S (ni queries from i0, AT_T keys). */
static void mask_causal_t(float *S, int nj, int j0, int i0, int off) {
    for (int j = 0; j < nj; j++) {
        int first_visible = j0 + j - off - i0; /* smallest local query index that sees key j */
        for (int i = 0; i < AT_T && i < first_visible; i++)
            S[j * AT_T + i] = -INFINITY;
    }
}
static void mask_causal(float *S, int ni, int j0, int i0, int off) {
    for (int i = 0; i < ni; i++) {
        int first_hidden = i0 + i + off + 1 - j0; /* smallest local key index query i can't see */
        for (int j = first_hidden > 0 ? first_hidden : 0; j < AT_T; j++)
            S[i * AT_T + j] = -INFINITY;
    }
}

/* Working memory of one thread, `floats` of it in one cache-aligned block: its tiles and the
 * packed rows of its head. NULL, and *failed set, when there is no memory. */
static float *thread_alloc(long floats, int *failed) {
    size_t bytes = ((size_t)floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
#pragma omp atomic write
        *failed = 1;
    }
    return p;
}

/* ---------------------------------------------------------------------------------------------- */
/* Forward                                                                                        */

typedef struct {
    float *qt;            /* (D, AT_T) scaled, transposed query tile */
    float *s;             /* (AT_T, AT_T) scores, then probabilities */
    float *acc;           /* (AT_T, Dp) output accumulator */
    float *m, *l, *alpha; /* (AT_T) running max (base 2), running sum, rescale factor */
} fwd_ws;

static long fwd_ws_floats(int D, int Dp) {
    return (long)D * AT_T + AT_T * AT_T + (long)AT_T * Dp + 3 * AT_T;
}

static fwd_ws fwd_ws_carve(float *p, int D, int Dp) {
    fwd_ws w;
    w.qt = p, p += (long)D * AT_T;
    w.s = p, p += AT_T * AT_T;
    w.acc = p, p += (long)AT_T * Dp;
    w.m = p, p += AT_T;
    w.l = p, p += AT_T;
    w.alpha = p;
    return w;
}

/* Online softmax over one score tile S^T (nj, AT_T): updates m, l, writes alpha and turns the
 * scores into unnormalised probabilities 2^(S - m). */
static void online_softmax(float *S, int nj, float *m, float *l, float *alpha) {
    for (int v = 0; v < NBV; v++) {
        at_vf tile_max = at_set1(-INFINITY);
        for (int j = 0; j < nj; j++)
            tile_max = at_max(tile_max, at_load(S + j * AT_T + v * AT_VW));
        at_vf m_old = at_load(m + v * AT_VW);
        at_vf m_new = at_max(m_old, tile_max);
        at_vf ref = at_finite_or_zero(m_new); /* all keys masked so far: P = 2^-inf = 0 */
        at_vf rescale = at_exp2(at_sub(m_old, ref));
        at_vf sum = at_zero();
        for (int j = 0; j < nj; j++) {
            float *row = S + j * AT_T + v * AT_VW;
            at_vf p = at_exp2(at_sub(at_load(row), ref));
            at_store(row, p);
            sum = at_add(sum, p);
        }
        at_store(m + v * AT_VW, m_new);
        at_store(l + v * AT_VW, at_fmadd(at_load(l + v * AT_VW), rescale, sum));
        at_store(alpha + v * AT_VW, rescale);
    }
}

// o: (ni, D) rows of the output view; lse: (ni) or NULL
static void fwd_finish(const fwd_ws *w, int ni, int D, int Dp, float *o, long o_rs, float *lse) {
    for (int i = 0; i < ni; i++) {
        float l = w->l[i], inv = l > 0 ? 1.0f / l : 0.0f;
        for (int d = 0; d < D; d++)
            o[i * o_rs + d] = w->acc[(long)i * Dp + d] * inv;
    }
    /* lse = m ln2 + ln l, VW rows at a time (the tile's m and l are AT_T long) */
    for (int i = 0; lse && i < ni; i += VW) {
        vf l = vload(w->l + i), m = vload(w->m + i);
        vf y = vsel(vlt(vzero(), l), vfmadd(m, vset1(LN2), v_log(l)), vset1(-INFINITY));
        if (ni - i >= VW)
            vstore(lse + i, y);
        else
            vstore_n(lse + i, y, ni - i);
    }
}

/* The keys and values of head (b, h) copied to (n, Dp) rows, n = its visible keys. Read in place,
 * rows of the packed (B, T, 3C) projection lie 3C floats apart, a multiple of 4 KiB for C = 512:
 * they fall into the same few L1 sets and evict each other (measured, T 1024, one thread: with the
 * stride padded by 16 floats the forward ran 36% faster on AVX-512, 20% on AVX2). Packed once per
 * head and thread, they are read by every query tile of the head. */
static void pack_head(const attn_sdpa_args *a, int b, int h, float *kh, float *vh) {
    const int D = a->D, Dp = round_up(D, AT_VW), n = visible_keys(a, b);
    pack_rows(kh, a->k + b * a->k_bs + (long)h * D, a->k_rs, n, D, Dp);
    pack_rows(vh, a->v + b * a->v_bs + (long)h * D, a->v_rs, n, D, Dp);
}

/* One query tile [i0, i0 + ni) of head (b, h); kh, vh: the head's keys and values packed as
 * (kend, Dp) rows (pack_head). */
static void fwd_tile(const attn_sdpa_args *a, const fwd_ws *w, int b, int h, int i0, int ni,
                     const float *kh, const float *vh, float *o, long o_bs, long o_rs, float *lse) {
    const int D = a->D, Dp = round_up(D, AT_VW), off = a->Tk - a->Tq;
    const float *q = a->q + b * a->q_bs + (long)h * D;
    int kend = visible_keys(a, b);
    if (a->causal && i0 + ni + off < kend) kend = i0 + ni + off; /* last query sees keys <= i+off */

    pack_transposed(w->qt, q + i0 * a->q_rs, a->q_rs, ni, D, a->scale * LOG2E);
    memset(w->acc, 0, (size_t)AT_T * Dp * sizeof *w->acc);
    for (int i = 0; i < AT_T; i++)
        w->m[i] = -INFINITY, w->l[i] = 0.0f;

    for (int j0 = 0; j0 < kend; j0 += AT_T) {
        int nj = kend - j0 < AT_T ? kend - j0 : AT_T;
        at_scores(nj, D, kh + (long)j0 * Dp, Dp, w->qt, w->s);
        if (a->causal && j0 + nj - 1 > i0 + off) mask_causal_t(w->s, nj, j0, i0, off);
        online_softmax(w->s, nj, w->m, w->l, w->alpha);

        for (int i = 0; i < AT_T; i++) {
            at_vf r = at_set1(w->alpha[i]);
            for (int d = 0; d < Dp; d += AT_VW)
                at_store(w->acc + i * Dp + d, at_mul(r, at_load(w->acc + i * Dp + d)));
        }
        // acc (AT_T, Dp) += P (AT_T, nj) V (nj, Dp), P = (S^T)^T
        at_accum(at_accum_t_fns, AT_T, Dp, nj, w->s, vh + (long)j0 * Dp, Dp, w->acc, Dp);
    }
    float *lse_row = lse ? lse + ((long)b * a->H + h) * a->Tq + i0 : NULL;
    fwd_finish(w, ni, D, Dp, o + b * o_bs + i0 * o_rs + (long)h * D, o_rs, lse_row);
}

/* ---------------------------------------------------------------------------------------------- */
/* Forward for a few query rows (decoding: one new position per stream). A 64-query tile would do
 * 64 times the work, so each (b, h, i) row walks its keys alone, ROW_KB at a time: scores
 * s_j = scale q.k_j, an online softmax across blocks (natural base), o = sum_j p_j v_j / l. */

#define ROWS_MAX_TQ 4           /* at most this many query rows take this path */
#define ROW_KB 128              /* keys per block of scores (on the stack) */
#define ROWS_PAR_MIN (1L << 22) /* multiply-adds below which the rows stay on one thread */

SIMD_INLINE float dot_row(const float *x, const float *y, int D) {
    vf acc = vzero();
    int d = 0;
    for (; d + VW <= D; d += VW)
        acc = vfmadd(vload(x + d), vload(y + d), acc);
    if (d < D) acc = vfmadd(vload_n(x + d, D - d), vload_n(y + d, D - d), acc);
    return vsum(acc);
}

/* out[0:D] = out * r + p * v */
SIMD_INLINE void axpby_row(float *out, float r, float p, const float *v, int D) {
    vf rv = vset1(r), pv = vset1(p);
    int d = 0;
    for (; d + VW <= D; d += VW)
        vstore(out + d, vfmadd(pv, vload(v + d), vmul(rv, vload(out + d))));
    if (d < D)
        vstore_n(out + d, vfmadd(pv, vload_n(v + d, D - d), vmul(rv, vload_n(out + d, D - d))),
                 D - d);
}

/* Query row i of head (b, h) into its output row; lse as the tiled path writes it. */
static void fwd_row(const attn_sdpa_args *a, int b, int h, int i, float *o, long o_bs, long o_rs,
                    float *lse) {
    const int D = a->D, off = a->Tk - a->Tq;
    const float *q = a->q + b * a->q_bs + i * a->q_rs + (long)h * D;
    const float *k = a->k + b * a->k_bs + (long)h * D, *v = a->v + b * a->v_bs + (long)h * D;
    float *out = o + b * o_bs + i * o_rs + (long)h * D;
    int kend = visible_keys(a, b);
    if (a->causal && i + off + 1 < kend) kend = i + off + 1 < 0 ? 0 : i + off + 1;
    memset(out, 0, (size_t)D * sizeof *out);
    float m = -INFINITY, l = 0.0f, sc[ROW_KB];
    for (int j0 = 0; j0 < kend; j0 += ROW_KB) {
        int nb = kend - j0 < ROW_KB ? kend - j0 : ROW_KB;
        for (int j = 0; j < nb; j++)
            sc[j] = a->scale * dot_row(q, k + (long)(j0 + j) * a->k_rs, D);
        float m_new = m;
        for (int j = 0; j < nb; j++)
            m_new = sc[j] > m_new ? sc[j] : m_new;
        /* p_j = exp(s_j - m_new) in vectors; r = exp(m - m_new) rescales what came before */
        vf shift = vset1(m_new);
        int j = 0;
        for (; j + VW <= nb; j += VW)
            vstore(sc + j, v_exp(vsub(vload(sc + j), shift)));
        if (j < nb) vstore_n(sc + j, v_exp(vsub(vload_n(sc + j, nb - j), shift)), nb - j);
        float r = vm_exp1(m - m_new); /* m = -inf at first: r = 0 */
        l *= r;
        for (j = 0; j < nb; j++) {
            axpby_row(out, j == 0 ? r : 1.0f, sc[j], v + (long)(j0 + j) * a->v_rs, D);
            l += sc[j];
        }
        m = m_new;
    }
    float inv = l > 0 ? 1.0f / l : 0.0f;
    axpby_row(out, inv, 0.0f, out, D);
    if (lse) {
        lse[((long)b * a->H + h) * a->Tq + i] = l > 0 ? m + vm_log1(l) : -INFINITY;
    }
}

/* Row r = (b H + h) Tq + i of the B H Tq query rows. */
static void fwd_row_at(const attn_sdpa_args *a, long r, float *o, long o_bs, long o_rs,
                       float *lse) {
    fwd_row(a, (int)(r / ((long)a->H * a->Tq)), (int)(r / a->Tq % a->H), (int)(r % a->Tq), o, o_bs,
            o_rs, lse);
}

/* Serial (no OpenMP region at all) unless the rows are work enough to pay for waking a team. */
static void fwd_rows(const attn_sdpa_args *a, float *o, long o_bs, long o_rs, float *lse) {
    const long rows = (long)a->B * a->H * a->Tq;
    const long work = rows * a->Tk * a->D * 2;
    if (work < ROWS_PAR_MIN || attn_get_num_threads() < 2) { /* no team: waking one costs more */
        for (long r = 0; r < rows; r++)
            fwd_row_at(a, r, o, o_bs, o_rs, lse);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(attn_get_num_threads())
    for (long r = 0; r < rows; r++)
        fwd_row_at(a, r, o, o_bs, o_rs, lse);
}

attn_status SIMD_FN(attn_sdpa_forward)(const attn_sdpa_args *a, float *o, long o_bs, long o_rs,
                                       float *lse) {
    if (a->B <= 0 || a->H <= 0 || a->Tq <= 0 || a->D <= 0) return ATTN_OK;
    if (a->Tq <= ROWS_MAX_TQ) {
        fwd_rows(a, o, o_bs, o_rs, lse);
        return ATTN_OK;
    }
    const int D = a->D, Dp = round_up(D, AT_VW), tiles = (a->Tq + AT_T - 1) / AT_T;
    const long jobs = (long)a->B * a->H * tiles, need = fwd_ws_floats(D, Dp);
    int failed = 0;
#pragma omp parallel num_threads(attn_get_num_threads()) if (jobs > 1)
    {
        /* the tiles, then this thread's head packed: keys (Tk, Dp), values (Tk, Dp) */
        float *buf = thread_alloc(need + 2L * a->Tk * Dp, &failed);
        fwd_ws w = buf ? fwd_ws_carve(buf, D, Dp) : (fwd_ws){0};
        float *kh = buf ? buf + need : NULL, *vh = buf ? kh + (long)a->Tk * Dp : NULL;
        int packed = -1; /* the head in kh, vh */
#pragma omp for schedule(dynamic, 1)
        for (long job = 0; job < jobs; job++) {
            int t = (int)(job % tiles), bh = (int)(job / tiles);
            int i0 = t * AT_T, ni = a->Tq - i0 < AT_T ? a->Tq - i0 : AT_T;
            if (!buf) continue;
            if (bh != packed) pack_head(a, bh / a->H, bh % a->H, kh, vh);
            packed = bh;
            fwd_tile(a, &w, bh / a->H, bh % a->H, i0, ni, kh, vh, o, o_bs, o_rs, lse);
        }
        free(buf);
    }
    if (failed)
        return attn_error(ATTN_ERR_NOMEM, "attn_sdpa_forward: no memory for D = %d tiles, Tk = %d",
                          D, a->Tk);
    return ATTN_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Backward                                                                                       */
/* Here the score tile is NOT transposed: S (queries, keys). The key and value tiles, fixed through
 * the inner loop over queries, are packed transposed once, and the query-side rows (q, dO) are read
 * in place, so the inner loop packs nothing (when D is a multiple of the vector width). */

typedef struct {
    float *kt, *vt;   /* (D, AT_T) transposed key tile (scaled by scale log2 e), value tile */
    float *s, *dp;    /* (AT_T, AT_T) S then P; dP then scale dS */
    float *dk, *dv;   /* (AT_T, Dp) gradient accumulators of the key tile */
    float *lse2, *di; /* (AT_T) lse log2 e (+inf for keyless rows), delta */
    float *kp;        /* (AT_T, Dp) the key tile's rows, the right operand of dQ += dS K */
} bwd_ws;

static long bwd_ws_floats(int D, int Dp) {
    return 2L * D * AT_T + 2L * AT_T * AT_T + 3L * AT_T * Dp + 2 * AT_T;
}

static bwd_ws bwd_ws_carve(float *p, int D, int Dp) {
    bwd_ws w = {0};
    w.kt = p, p += (long)D * AT_T;
    w.vt = p, p += (long)D * AT_T;
    w.s = p, p += AT_T * AT_T;
    w.dp = p, p += AT_T * AT_T;
    w.dk = p, p += (long)AT_T * Dp;
    w.dv = p, p += (long)AT_T * Dp;
    w.lse2 = p, p += AT_T;
    w.di = p, p += AT_T;
    w.kp = p;
    return w;
}

/* The views of one head (b, h): inputs, gradients, and the head's rows of lse and delta. */
typedef struct {
    const float *q, *k, *v, *o, *dout, *lse;
    float *dq, *dk, *dv, *delta;
    long q_rs, k_rs, v_rs, o_rs;
    int D, Dp, Tq, nkeys, off, causal;
    float scale;
} bwd_head;

/* S (ni, AT_T) and dP become P = 2^(S - lse log2 e) and scale P (dP - delta); columns nj.. (keys
 * past the end) become 0. */
static void bwd_probs(float *S, float *dP, int ni, int nj, const float *lse2, const float *di,
                      float scale) {
    for (int i = 0; i < ni; i++) {
        at_vf l2 = at_set1(lse2[i]), dv = at_set1(di[i]), sc = at_set1(scale);
        for (int v = 0; v < NBV; v++) {
            float *srow = S + i * AT_T + v * AT_VW, *drow = dP + i * AT_T + v * AT_VW;
            at_vf p = at_exp2(at_sub(at_load(srow), l2));
            at_store(srow, p);
            at_store(drow, at_mul(at_mul(p, sc), at_sub(at_load(drow), dv)));
        }
        if (nj < AT_T) {
            memset(S + i * AT_T + nj, 0, (size_t)(AT_T - nj) * sizeof *S);
            memset(dP + i * AT_T + nj, 0, (size_t)(AT_T - nj) * sizeof *dP);
        }
    }
}

/* The query side of one head, packed as (Tq, Dp) rows: q and dO read by every key tile, and the
 * head's dQ accumulated there and added to dq at the end (row strides of the packed projection
 * are a multiple of 4 KiB, see pack_head). */
typedef struct {
    float *q, *dout, *dq;
} bwd_rows;

/* Key tile [j0, j0 + nj) against query tile [i0, i0 + ni): adds to w->dk, w->dv and to dQ. */
static void bwd_pair(const bwd_head *hd, const bwd_ws *w, const bwd_rows *r, int j0, int nj, int i0,
                     int ni) {
    const int D = hd->D, Dp = hd->Dp, mk = round_up(nj, AT_KR);
    const float *qi = r->q + (long)i0 * Dp, *doi = r->dout + (long)i0 * Dp;
    for (int i = 0; i < ni; i++) {
        float l = hd->lse[i0 + i];
        w->lse2[i] = l == -INFINITY ? INFINITY : l * LOG2E; /* keyless row: P = 2^-inf = 0 */
        w->di[i] = hd->delta[i0 + i];
    }
    at_scores(ni, D, qi, Dp, w->kt, w->s);   // S (ni, AT_T) = Q_i K_j^T scale log2 e
    at_scores(ni, D, doi, Dp, w->vt, w->dp); // dP = dO_i V_j^T
    if (hd->causal && j0 + nj - 1 > i0 + hd->off) mask_causal(w->s, ni, j0, i0, hd->off);
    bwd_probs(w->s, w->dp, ni, nj, w->lse2, w->di, hd->scale);
    // dV (nj, Dp) += P^T (nj, ni) dO (ni, Dp);  dK (nj, Dp) += scale dS^T (nj, ni) Q (ni, Dp)
    at_accum(at_accum_t_fns, mk, Dp, ni, w->s, doi, Dp, w->dv, Dp);
    at_accum(at_accum_t_fns, mk, Dp, ni, w->dp, qi, Dp, w->dk, Dp);
    // dQ (ni, Dp) += scale dS (ni, nj) K (nj, Dp)
    at_accum(at_accum_n_fns, ni, Dp, nj, w->dp, w->kp, Dp, r->dq + (long)i0 * Dp, Dp);
}

static void bwd_run_head(const bwd_head *hd, const bwd_ws *w, const bwd_rows *r) {
    const int D = hd->D, Dp = hd->Dp;
    for (int i = 0; i < hd->Tq; i++) { /* delta_i = sum_d dO[i, d] O[i, d] */
        const float *x = hd->dout + i * hd->o_rs, *y = hd->o + i * hd->o_rs;
        float sum = 0.0f;
        for (int d = 0; d < D; d++)
            sum += x[d] * y[d];
        hd->delta[i] = sum;
    }
    pack_rows(r->q, hd->q, hd->q_rs, hd->Tq, D, Dp);
    pack_rows(r->dout, hd->dout, hd->o_rs, hd->Tq, D, Dp);
    memset(r->dq, 0, (size_t)hd->Tq * Dp * sizeof *r->dq);
    for (int j0 = 0; j0 < hd->nkeys; j0 += AT_T) {
        int nj = hd->nkeys - j0 < AT_T ? hd->nkeys - j0 : AT_T;
        int q_lo = hd->causal && j0 - hd->off > 0 ? j0 - hd->off : 0; /* first query seeing j0 */
        if (q_lo >= hd->Tq) break;
        const float *kj = hd->k + j0 * hd->k_rs;
        pack_transposed(w->kt, kj, hd->k_rs, nj, D, hd->scale * LOG2E);
        pack_transposed(w->vt, hd->v + j0 * hd->v_rs, hd->v_rs, nj, D, 1.0f);
        pack_rows(w->kp, kj, hd->k_rs, nj, D, Dp);
        memset(w->dk, 0, (size_t)AT_T * Dp * sizeof *w->dk);
        memset(w->dv, 0, (size_t)AT_T * Dp * sizeof *w->dv);
        for (int i0 = q_lo; i0 < hd->Tq; i0 += AT_T)
            bwd_pair(hd, w, r, j0, nj, i0, hd->Tq - i0 < AT_T ? hd->Tq - i0 : AT_T);
        for (int j = 0; j < nj; j++) {
            float *dkr = hd->dk + (j0 + j) * hd->k_rs, *dvr = hd->dv + (j0 + j) * hd->v_rs;
            for (int d = 0; d < D; d++) {
                dkr[d] += w->dk[(long)j * Dp + d];
                dvr[d] += w->dv[(long)j * Dp + d];
            }
        }
    }
    for (int i = 0; i < hd->Tq; i++) {
        float *dqr = hd->dq + i * hd->q_rs;
        for (int d = 0; d < D; d++)
            dqr[d] += r->dq[(long)i * Dp + d];
    }
}

attn_status SIMD_FN(attn_sdpa_backward)(const attn_sdpa_args *a, const float *o, long o_bs,
                                        long o_rs, const float *lse, const float *dout, float *dq,
                                        float *dk, float *dv, float *delta) {
    if (a->B <= 0 || a->H <= 0 || a->Tq <= 0 || a->D <= 0) return ATTN_OK;
    const int D = a->D, Dp = round_up(D, AT_VW), heads = a->B * a->H;
    const long need = bwd_ws_floats(D, Dp);
    int failed = 0;
#pragma omp parallel num_threads(attn_get_num_threads()) if (heads > 1)
    {
        /* the tiles, then this thread's head packed: q, dO, dQ, each (Tq, Dp) */
        float *buf = thread_alloc(need + 3L * a->Tq * Dp, &failed);
        bwd_ws w = buf ? bwd_ws_carve(buf, D, Dp) : (bwd_ws){0};
        long n = (long)a->Tq * Dp;
        bwd_rows r = {buf ? buf + need : NULL, buf ? buf + need + n : NULL,
                      buf ? buf + need + 2 * n : NULL};
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < heads; bh++) {
            int b = bh / a->H, h = bh % a->H;
            long hoff = (long)h * D, row = (long)bh * a->Tq;
            bwd_head hd = {
                .q = a->q + b * a->q_bs + hoff,
                .k = a->k + b * a->k_bs + hoff,
                .v = a->v + b * a->v_bs + hoff,
                .o = o + b * o_bs + hoff,
                .dout = dout + b * o_bs + hoff,
                .lse = lse + row,
                .dq = dq + b * a->q_bs + hoff,
                .dk = dk + b * a->k_bs + hoff,
                .dv = dv + b * a->v_bs + hoff,
                .delta = delta + row,
                .q_rs = a->q_rs,
                .k_rs = a->k_rs,
                .v_rs = a->v_rs,
                .o_rs = o_rs,
                .D = D,
                .Dp = Dp,
                .Tq = a->Tq,
                .nkeys = visible_keys(a, b),
                .off = a->Tk - a->Tq,
                .causal = a->causal,
                .scale = a->scale,
            };
            if (buf) bwd_run_head(&hd, &w, &r);
        }
        free(buf);
    }
    if (failed)
        return attn_error(ATTN_ERR_NOMEM, "attn_sdpa_backward: no memory for D = %d tiles, Tq = %d",
                          D, a->Tq);
    return ATTN_OK;
}
