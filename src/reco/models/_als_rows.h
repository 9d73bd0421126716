/* Row loops of implicit ALS (see _als_rows_body.h): compiled for any x86-64 and with AVX2,
   chosen at run time. Both versions do the same float operations in the same order (no FMA
   contraction in ISO C++), so results are identical on every machine. */
#pragma once
#include <stdint.h>

#define RECO_FN(name) name##_generic
#include "_als_rows_body.h"
#undef RECO_FN

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC push_options
#pragma GCC target("avx2")
#define RECO_FN(name) name##_avx2
#include "_als_rows_body.h"
#undef RECO_FN
#pragma GCC pop_options

static int reco_als_avx2 = -1;

static inline int reco_als_use_avx2(void) {
    if (reco_als_avx2 < 0) {
        __builtin_cpu_init();
        reco_als_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return reco_als_avx2;
}
#define RECO_DISPATCH(name, ...) \
    (reco_als_use_avx2() ? name##_avx2(__VA_ARGS__) : name##_generic(__VA_ARGS__))
#else
#define RECO_DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

static inline void reco_gather(const int32_t* idx, const float* conf, const float* w, int64_t n,
                               const float* Y, int64_t k, const float* x, float* out) {
    RECO_DISPATCH(reco_gather, idx, conf, w, n, Y, k, x, out);
}

static inline void reco_scatter(const int64_t* indptr, const int32_t* indices, const float* conf,
                                const float* w, const float* X, const float* P, int64_t k,
                                int64_t start, int64_t stop, float* out) {
    RECO_DISPATCH(reco_scatter, indptr, indices, conf, w, X, P, k, start, stop, out);
}

static inline double reco_observed_loss(const int64_t* indptr, const int32_t* indices,
                                        const float* conf, double alpha0, const float* X,
                                        const float* Y, int64_t k, int64_t start, int64_t stop) {
    return RECO_DISPATCH(reco_observed_loss, indptr, indices, conf, alpha0, X, Y, k, start, stop);
}
