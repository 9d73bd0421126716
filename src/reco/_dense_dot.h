/* Scores of a few users against every item: out[u][i] = sum_f x[u][f] * yt[f][i].

   Each score is summed over f in the same order whatever the batch, so a user's scores do
   not depend on which other users share the call (BLAS's do: its kernels change with the
   matrix shape). The item axis is the vector axis; the compiler vectorises the loops, once
   for any x86-64 and once with AVX2 + FMA, chosen at run time. */
#pragma once
#include <stdint.h>

#define RECO_DOT_USERS 8    /* users per pass over an item tile */
#define RECO_DOT_TILE 512   /* items per tile: the accumulators stay in L1 */

#define RECO_DOT_BODY                                                                     \
    for (int64_t start = 0; start < n_items; start += RECO_DOT_TILE) {                   \
        const int64_t width = (n_items - start < RECO_DOT_TILE) ? n_items - start : RECO_DOT_TILE; \
        for (int64_t u = 0; u < n_users; ++u) {                                           \
            float* acc = out + u * n_items + start;                                       \
            for (int64_t i = 0; i < width; ++i) acc[i] = 0.0f;                            \
        }                                                                                 \
        for (int64_t f = 0; f < k; ++f) {                                                 \
            const float* row = yt + f * n_items + start;                                  \
            for (int64_t u = 0; u < n_users; ++u) {                                       \
                const float xf = x[u * k + f];                                            \
                float* acc = out + u * n_items + start;                                   \
                for (int64_t i = 0; i < width; ++i) acc[i] += xf * row[i];                \
            }                                                                             \
        }                                                                                 \
    }

static void reco_dot_rows_generic(const float* x, const float* yt, float* out,
                                  int64_t n_users, int64_t k, int64_t n_items) {
    RECO_DOT_BODY
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("avx2")))
static void reco_dot_rows_avx2(const float* x, const float* yt, float* out,
                               int64_t n_users, int64_t k, int64_t n_items) {
    RECO_DOT_BODY
}

static int reco_avx2_flag = -1;

static inline void reco_dot_rows(const float* x, const float* yt, float* out,
                                 int64_t n_users, int64_t k, int64_t n_items) {
    if (reco_avx2_flag < 0) {
        __builtin_cpu_init();
        reco_avx2_flag = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    if (reco_avx2_flag) reco_dot_rows_avx2(x, yt, out, n_users, k, n_items);
    else reco_dot_rows_generic(x, yt, out, n_users, k, n_items);
}
#else
static inline void reco_dot_rows(const float* x, const float* yt, float* out,
                                 int64_t n_users, int64_t k, int64_t n_items) {
    reco_dot_rows_generic(x, yt, out, n_users, k, n_items);
}
#endif
