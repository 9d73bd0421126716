/* Which build of the vector kernels runs: the AVX2 one when the CPU has AVX2, unless the
   environment sets RECO_PORTABLE=1 (the tests compare the two builds' floats). Decided once
   per process; both builds do the same operations in the same order. */
#pragma once
#include <stdlib.h>

static int reco_avx2_flag = -1;

static inline int reco_use_avx2(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    if (reco_avx2_flag < 0) {
        __builtin_cpu_init();
        const char* portable = getenv("RECO_PORTABLE");
        reco_avx2_flag =
            (__builtin_cpu_supports("avx2") && !(portable && portable[0] == '1')) ? 1 : 0;
    }
    return reco_avx2_flag;
#else
    return 0;
#endif
}
