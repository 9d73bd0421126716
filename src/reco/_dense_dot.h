/* Scores of a few users against every item, out[u][i] = sum_f x[u][f] * yt[f][i], and the
   scan that finds the next score above a threshold.

   Each score is summed over f = 0 .. k-1 in that order from 0, whatever the batch, so a
   user's scores do not depend on which other users share the call (BLAS's do: its kernels
   change with the matrix shape). Every step is a float32 multiply, then an add (never a
   fused multiply-add: the build turns contraction off), so the floats are the same on every
   machine. Two builds, chosen once at run time: AVX2 (accumulators in registers: 4 users x
   16 items per block; one user, spans of items read in long runs) and a portable one for any CPU. */
#pragma once
#include <stdint.h>

#include "_cpu.h"

#define RECO_DOT_USERS 8    /* users per pass over the catalogue (their scores stay in L2) */
#define RECO_DOT_TILE 512   /* portable build: items per tile, the accumulators stay in L1 */

static void reco_dot_rows_generic(const float* x, const float* yt, float* out,
                                  int64_t n_users, int64_t k, int64_t n_items) {
    for (int64_t start = 0; start < n_items; start += RECO_DOT_TILE) {
        const int64_t width = (n_items - start < RECO_DOT_TILE) ? n_items - start : RECO_DOT_TILE;
        for (int64_t u = 0; u < n_users; ++u) {
            float* acc = out + u * n_items + start;
            for (int64_t i = 0; i < width; ++i) acc[i] = 0.0f;
        }
        for (int64_t f = 0; f < k; ++f) {
            const float* row = yt + f * n_items + start;
            for (int64_t u = 0; u < n_users; ++u) {
                const float xf = x[u * k + f];
                float* acc = out + u * n_items + start;
                for (int64_t i = 0; i < width; ++i) acc[i] += xf * row[i];
            }
        }
    }
}

static int64_t reco_next_above_generic(const float* row, int64_t j, int64_t n, float threshold) {
    while (j < n && !(row[j] > threshold)) ++j;
    return j;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define RECO_AVX2 __attribute__((target("avx2")))
#define RECO_DOT_SPAN 2048  /* one user: items per span (8 KB of scores) */

/* one item left over: the same steps as a vector lane */
RECO_AVX2 static inline float reco_dot_one(const float* x, const float* col, int64_t k,
                                           int64_t stride) {
    float s = 0.0f;
    for (int64_t f = 0; f < k; ++f) s += x[f] * col[f * stride];
    return s;
}

/* four users (rows of x, k apart) against items [i, i + 16) */
RECO_AVX2 static inline void reco_dot_4x16(const float* x, const float* yt, float* out,
                                           int64_t k, int64_t n_items, int64_t i) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0,
           d1 = a0;
    for (int64_t f = 0; f < k; ++f) {
        const float* row = yt + f * n_items + i;
        const __m256 y0 = _mm256_loadu_ps(row), y1 = _mm256_loadu_ps(row + 8);
        __m256 s = _mm256_broadcast_ss(x + f);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(s, y0));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(s, y1));
        s = _mm256_broadcast_ss(x + k + f);
        b0 = _mm256_add_ps(b0, _mm256_mul_ps(s, y0));
        b1 = _mm256_add_ps(b1, _mm256_mul_ps(s, y1));
        s = _mm256_broadcast_ss(x + 2 * k + f);
        c0 = _mm256_add_ps(c0, _mm256_mul_ps(s, y0));
        c1 = _mm256_add_ps(c1, _mm256_mul_ps(s, y1));
        s = _mm256_broadcast_ss(x + 3 * k + f);
        d0 = _mm256_add_ps(d0, _mm256_mul_ps(s, y0));
        d1 = _mm256_add_ps(d1, _mm256_mul_ps(s, y1));
    }
    _mm256_storeu_ps(out + i, a0);
    _mm256_storeu_ps(out + i + 8, a1);
    _mm256_storeu_ps(out + n_items + i, b0);
    _mm256_storeu_ps(out + n_items + i + 8, b1);
    _mm256_storeu_ps(out + 2 * n_items + i, c0);
    _mm256_storeu_ps(out + 2 * n_items + i + 8, c1);
    _mm256_storeu_ps(out + 3 * n_items + i, d0);
    _mm256_storeu_ps(out + 3 * n_items + i + 8, d1);
}

/* one user against every item: spans of RECO_DOT_SPAN items whose scores stay in L1, each
   read four factor rows at a time in long runs (a streaming pattern the hardware prefetcher
   follows even when the catalogue is far larger than the caches) */
RECO_AVX2 static void reco_dot_1(const float* x, const float* yt, float* out, int64_t k,
                                 int64_t n_items) {
    for (int64_t start = 0; start < n_items; start += RECO_DOT_SPAN) {
        const int64_t stop = (n_items - start < RECO_DOT_SPAN) ? n_items : start + RECO_DOT_SPAN;
        const int64_t vector_stop = start + ((stop - start) & ~(int64_t)7);
        for (int64_t i = start; i < stop; ++i) out[i] = 0.0f;
        int64_t f = 0;
        for (; f + 4 <= k; f += 4) {
            const float *r0 = yt + f * n_items, *r1 = r0 + n_items, *r2 = r1 + n_items,
                        *r3 = r2 + n_items;
            const __m256 s0 = _mm256_broadcast_ss(x + f), s1 = _mm256_broadcast_ss(x + f + 1),
                         s2 = _mm256_broadcast_ss(x + f + 2), s3 = _mm256_broadcast_ss(x + f + 3);
            for (int64_t i = start; i < vector_stop; i += 8) {
                __m256 a = _mm256_loadu_ps(out + i);
                a = _mm256_add_ps(a, _mm256_mul_ps(s0, _mm256_loadu_ps(r0 + i)));
                a = _mm256_add_ps(a, _mm256_mul_ps(s1, _mm256_loadu_ps(r1 + i)));
                a = _mm256_add_ps(a, _mm256_mul_ps(s2, _mm256_loadu_ps(r2 + i)));
                a = _mm256_add_ps(a, _mm256_mul_ps(s3, _mm256_loadu_ps(r3 + i)));
                _mm256_storeu_ps(out + i, a);
            }
            for (int64_t i = vector_stop; i < stop; ++i) {
                float a = out[i];
                a += x[f] * r0[i];
                a += x[f + 1] * r1[i];
                a += x[f + 2] * r2[i];
                a += x[f + 3] * r3[i];
                out[i] = a;
            }
        }
        for (; f < k; ++f) {
            const float* row = yt + f * n_items;
            const __m256 s = _mm256_broadcast_ss(x + f);
            for (int64_t i = start; i < vector_stop; i += 8)
                _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i),
                                                        _mm256_mul_ps(s, _mm256_loadu_ps(row + i))));
            for (int64_t i = vector_stop; i < stop; ++i) out[i] += x[f] * row[i];
        }
    }
}

RECO_AVX2 static void reco_dot_rows_avx2(const float* x, const float* yt, float* out,
                                         int64_t n_users, int64_t k, int64_t n_items) {
    int64_t u = 0;
    for (; u + 4 <= n_users; u += 4) {
        const float* xu = x + u * k;
        float* o = out + u * n_items;
        int64_t i = 0;
        for (; i + 16 <= n_items; i += 16) reco_dot_4x16(xu, yt, o, k, n_items, i);
        for (; i < n_items; ++i)
            for (int64_t v = 0; v < 4; ++v)
                o[v * n_items + i] = reco_dot_one(xu + v * k, yt + i, k, n_items);
    }
    for (; u < n_users; ++u) reco_dot_1(x + u * k, yt, out + u * n_items, k, n_items);
}

/* the first index >= j whose score is above threshold (NaN never is), or n */
RECO_AVX2 static int64_t reco_next_above_avx2(const float* row, int64_t j, int64_t n,
                                              float threshold) {
    const __m256 t = _mm256_set1_ps(threshold);
    for (; j + 8 <= n; j += 8) {
        const int mask =
            _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j), t, _CMP_GT_OQ));
        if (mask) return j + __builtin_ctz((unsigned)mask);
    }
    return reco_next_above_generic(row, j, n, threshold);
}

static inline void reco_dot_rows(const float* x, const float* yt, float* out,
                                 int64_t n_users, int64_t k, int64_t n_items) {
    if (reco_use_avx2()) reco_dot_rows_avx2(x, yt, out, n_users, k, n_items);
    else reco_dot_rows_generic(x, yt, out, n_users, k, n_items);
}

static inline int64_t reco_next_above(const float* row, int64_t j, int64_t n, float threshold) {
    return reco_use_avx2() ? reco_next_above_avx2(row, j, n, threshold)
                           : reco_next_above_generic(row, j, n, threshold);
}
#else
static inline void reco_dot_rows(const float* x, const float* yt, float* out,
                                 int64_t n_users, int64_t k, int64_t n_items) {
    reco_dot_rows_generic(x, yt, out, n_users, k, n_items);
}

static inline int64_t reco_next_above(const float* row, int64_t j, int64_t n, float threshold) {
    return reco_next_above_generic(row, j, n, threshold);
}
#endif
