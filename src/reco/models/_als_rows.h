/* Row loops of implicit ALS (see _als_rows_body.h): compiled for any x86-64 and with AVX2,
   chosen at run time, and with AVX2 intrinsics for the usual widths (16, 32, 64, 128
   factors). Every version does the same float operations in the same order (no FMA
   contraction: the build turns it off), so results are identical on every machine. */
#pragma once
#include <stdint.h>

#include "../_cpu.h"

#define RECO_GATHER_CHUNK 64  /* entries whose dots are taken before their axpys */

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

#include <immintrin.h>
#define RECO_ALS_AVX2 __attribute__((target("avx2")))

/* Fixed widths k = 8 V (V even): the same operations as dot / axpy of _als_rows_body.h, in
   the same order, with the accumulators in registers. dot: two running vectors (factors
   f = 0..7 and 8..15 of every 16), added lane by lane, then ((s0+s4) + (s1+s5)) +
   ((s2+s6) + (s3+s7)). */
template <int V>
RECO_ALS_AVX2 static inline float reco_dot_v(const float* a, const float* b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (int v = 0; v < V; v += 2) {
        s0 = _mm256_add_ps(s0, _mm256_mul_ps(_mm256_loadu_ps(a + 8 * v), _mm256_loadu_ps(b + 8 * v)));
        s1 = _mm256_add_ps(s1, _mm256_mul_ps(_mm256_loadu_ps(a + 8 * v + 8),
                                             _mm256_loadu_ps(b + 8 * v + 8)));
    }
    const __m256 s = _mm256_add_ps(s0, s1);
    const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    const __m128 pairs = _mm_add_ps(t, _mm_movehdup_ps(t)); /* t0+t1, ., t2+t3, . */
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehl_ps(pairs, pairs)));
}

/* reco_gather with out held in registers over all the entries of the row */
template <int V>
RECO_ALS_AVX2 static void reco_gather_v(const int32_t* idx, const float* conf, const float* w,
                                        int64_t n, const float* Y, const float* x, float* out) {
    const int64_t k = 8 * V;
    __m256 o[V];
    for (int v = 0; v < V; ++v) o[v] = _mm256_loadu_ps(out + 8 * v);
    float scale[RECO_GATHER_CHUNK];
    for (int64_t first = 0; first < n; first += RECO_GATHER_CHUNK) {
        const int64_t m = (n - first < RECO_GATHER_CHUNK) ? n - first : RECO_GATHER_CHUNK;
        for (int64_t j = 0; j < m; ++j) {
            const int64_t q = first + j;
            const float d = reco_dot_v<V>(Y + (int64_t)idx[q] * k, x);
            scale[j] = conf ? conf[q] - w[q] * d : w[q] * d;
        }
        for (int64_t j = 0; j < m; ++j) {
            const float* y = Y + (int64_t)idx[first + j] * k;
            const __m256 c = _mm256_set1_ps(scale[j]);
            for (int v = 0; v < V; ++v)
                o[v] = _mm256_add_ps(o[v], _mm256_mul_ps(c, _mm256_loadu_ps(y + 8 * v)));
        }
    }
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(out + 8 * v, o[v]);
}

/* reco_scatter at a fixed width */
template <int V>
RECO_ALS_AVX2 static void reco_scatter_v(const int64_t* indptr, const int32_t* indices,
                                         const float* conf, const float* w, const float* X,
                                         const float* P, int64_t start, int64_t stop,
                                         float* out) {
    const int64_t k = 8 * V;
    for (int64_t u = start; u < stop; ++u) {
        const float* x = X + u * k;
        for (int64_t q = indptr[u]; q < indptr[u + 1]; ++q) {
            const int64_t i = indices[q];
            const float d = reco_dot_v<V>(x, P + i * k);
            const __m256 c = _mm256_set1_ps(conf ? conf[q] - w[q] * d : w[q] * d);
            float* o = out + i * k;
            for (int v = 0; v < V; ++v)
                _mm256_storeu_ps(o + 8 * v, _mm256_add_ps(_mm256_loadu_ps(o + 8 * v),
                                                          _mm256_mul_ps(c, _mm256_loadu_ps(x + 8 * v))));
        }
    }
}

/* reco_observed_loss at a fixed width */
template <int V>
RECO_ALS_AVX2 static double reco_observed_loss_v(const int64_t* indptr, const int32_t* indices,
                                                 const float* conf, double alpha0, const float* X,
                                                 const float* Y, int64_t start, int64_t stop) {
    const int64_t k = 8 * V;
    double total = 0.0;
    for (int64_t u = start; u < stop; ++u)
        for (int64_t q = indptr[u]; q < indptr[u + 1]; ++q) {
            const double s = reco_dot_v<V>(X + u * k, Y + (int64_t)indices[q] * k);
            total += conf[q] * (1.0 - s) * (1.0 - s) - alpha0 * s * s;
        }
    return total;
}

#define RECO_DISPATCH(name, ...) \
    (reco_use_avx2() ? name##_avx2(__VA_ARGS__) : name##_generic(__VA_ARGS__))
#else
#define RECO_DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

#if defined(RECO_ALS_AVX2)
#define RECO_FIXED_WIDTH(call, k, ...)                                          \
    if (reco_use_avx2()) switch (k) {                                      \
        case 16: return call<2>(__VA_ARGS__);                                  \
        case 32: return call<4>(__VA_ARGS__);                                  \
        case 64: return call<8>(__VA_ARGS__);                                  \
        case 128: return call<16>(__VA_ARGS__);                                \
        default: break;                                                        \
    }
#else
#define RECO_FIXED_WIDTH(call, k, ...)
#endif

static inline void reco_gather(const int32_t* idx, const float* conf, const float* w, int64_t n,
                               const float* Y, int64_t k, const float* x, float* out) {
    RECO_FIXED_WIDTH(reco_gather_v, k, idx, conf, w, n, Y, x, out)
    RECO_DISPATCH(reco_gather, idx, conf, w, n, Y, k, x, out);
}

static inline void reco_scatter(const int64_t* indptr, const int32_t* indices, const float* conf,
                                const float* w, const float* X, const float* P, int64_t k,
                                int64_t start, int64_t stop, float* out) {
    RECO_FIXED_WIDTH(reco_scatter_v, k, indptr, indices, conf, w, X, P, start, stop, out)
    RECO_DISPATCH(reco_scatter, indptr, indices, conf, w, X, P, k, start, stop, out);
}

static inline double reco_observed_loss(const int64_t* indptr, const int32_t* indices,
                                        const float* conf, double alpha0, const float* X,
                                        const float* Y, int64_t k, int64_t start, int64_t stop) {
    RECO_FIXED_WIDTH(reco_observed_loss_v, k, indptr, indices, conf, alpha0, X, Y, start, stop)
    return RECO_DISPATCH(reco_observed_loss, indptr, indices, conf, alpha0, X, Y, k, start, stop);
}
