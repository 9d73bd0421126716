/* AND + popcount over transaction bitsets, with the CPU's popcount instruction when it has one
   (chosen once at run time, so one build runs on every x86-64; elsewhere the portable form). */
#pragma once
#include <stdint.h>

static inline int64_t reco_popcount_sw(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int64_t)((x * 0x0101010101010101ULL) >> 56);
}

static int64_t reco_and_popcount_sw(const uint64_t* a, const uint64_t* b, int64_t n) {
    int64_t total = 0;
    for (int64_t w = 0; w < n; ++w) total += reco_popcount_sw(a[w] & b[w]);
    return total;
}

static int64_t reco_and_count_sw(const uint64_t* a, const uint64_t* b, uint64_t* out, int64_t n) {
    int64_t total = 0;
    for (int64_t w = 0; w < n; ++w) { uint64_t x = a[w] & b[w]; out[w] = x; total += reco_popcount_sw(x); }
    return total;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define RECO_POPCNT_DISPATCH 1
__attribute__((target("popcnt")))
static int64_t reco_and_popcount_hw(const uint64_t* a, const uint64_t* b, int64_t n) {
    int64_t total = 0;
    for (int64_t w = 0; w < n; ++w) total += __builtin_popcountll(a[w] & b[w]);
    return total;
}

__attribute__((target("popcnt")))
static int64_t reco_and_count_hw(const uint64_t* a, const uint64_t* b, uint64_t* out, int64_t n) {
    int64_t total = 0;
    for (int64_t w = 0; w < n; ++w) { uint64_t x = a[w] & b[w]; out[w] = x; total += __builtin_popcountll(x); }
    return total;
}

static int reco_popcnt_flag = -1;

static inline int reco_has_popcnt(void) {
    if (reco_popcnt_flag < 0) {
        __builtin_cpu_init();
        reco_popcnt_flag = __builtin_cpu_supports("popcnt") ? 1 : 0;
    }
    return reco_popcnt_flag;
}
#endif

/* popcount(a & b) over n words */
static inline int64_t reco_and_popcount(const uint64_t* a, const uint64_t* b, int64_t n) {
#ifdef RECO_POPCNT_DISPATCH
    if (reco_has_popcnt()) return reco_and_popcount_hw(a, b, n);
#endif
    return reco_and_popcount_sw(a, b, n);
}

/* out = a & b over n words; returns its popcount */
static inline int64_t reco_and_count(const uint64_t* a, const uint64_t* b, uint64_t* out, int64_t n) {
#ifdef RECO_POPCNT_DISPATCH
    if (reco_has_popcnt()) return reco_and_count_hw(a, b, out, n);
#endif
    return reco_and_count_sw(a, b, out, n);
}
