# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled "mask -> top-k" kernels behind :mod:`reco._topk` (serial; release the GIL).

Argument types are fixed (the Python side casts): scores float32, row/indptr int64, item
indices int32, ``blocked`` uint8 (empty = nothing blocked), outputs int32 / float32 / int32.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc

from reco._heap cimport drain, push


def topk_dense_rows(
    const float[:, ::1] scores,
    const int64_t[::1] rows,
    const int64_t[::1] hist_indptr,
    const int32_t[::1] hist_indices,
    const uint8_t[::1] blocked,
    int64_t n,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_items,
    float[:, ::1] out_scores,
    int32_t[::1] out_len,
):
    """Top n of dense rows ``start:stop``; ``rows[r]`` is the history row (-1 = none).

    One comparison rejects most entries: ``s > threshold`` is false for NaN, for -inf, and
    for anything not better than the worst kept entry (an equal score has a higher index, so
    it ranks below). Only the survivors are checked against the seen and blocked items.
    """
    cdef int64_t n_items = scores.shape[1]
    cdef bint use_blocked = blocked.shape[0] > 0
    cdef float* heap_s = <float*>malloc(max(n, 1) * sizeof(float))
    cdef int32_t* heap_i = <int32_t*>malloc(max(n, 1) * sizeof(int32_t))
    cdef int64_t r, j, h, seen_pos, seen_end, size
    cdef float s, threshold
    cdef const float* row
    if heap_s == NULL or heap_i == NULL:
        free(heap_s); free(heap_i)
        raise MemoryError()
    with nogil:
        for r in range(start, stop):
            row = &scores[r, 0] if n_items > 0 else NULL
            h = rows[r]
            seen_pos = 0
            seen_end = 0
            if h >= 0:
                seen_pos = hist_indptr[h]
                seen_end = hist_indptr[h + 1]
            size = 0
            threshold = -INFINITY
            for j in range(n_items):
                s = row[j]
                if not s > threshold:
                    continue
                if use_blocked and blocked[j]:
                    continue
                while seen_pos < seen_end and hist_indices[seen_pos] < j:
                    seen_pos += 1
                if seen_pos < seen_end and hist_indices[seen_pos] == j:
                    continue
                size = push(heap_s, heap_i, size, n, s, j)
                if size == n:
                    threshold = heap_s[0]
            out_len[r] = <int32_t>drain(heap_s, heap_i, size, &out_items[r, 0], &out_scores[r, 0])
    free(heap_s)
    free(heap_i)


def topk_sparse_rows(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] data,
    const int64_t[::1] rows,
    const int64_t[::1] hist_indptr,
    const int32_t[::1] hist_indices,
    const uint8_t[::1] blocked,
    int64_t n,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_items,
    float[:, ::1] out_scores,
    int32_t[::1] out_len,
):
    """Top n of CSR score rows (sorted indices); absent entries are not candidates."""
    cdef bint use_blocked = blocked.shape[0] > 0
    cdef float* heap_s = <float*>malloc(max(n, 1) * sizeof(float))
    cdef int32_t* heap_i = <int32_t*>malloc(max(n, 1) * sizeof(int32_t))
    cdef int64_t r, p, j, h, seen_pos, seen_end, size
    cdef float s
    if heap_s == NULL or heap_i == NULL:
        free(heap_s); free(heap_i)
        raise MemoryError()
    with nogil:
        for r in range(start, stop):
            h = rows[r]
            seen_pos = 0
            seen_end = 0
            if h >= 0:
                seen_pos = hist_indptr[h]
                seen_end = hist_indptr[h + 1]
            size = 0
            for p in range(indptr[r], indptr[r + 1]):
                j = indices[p]
                while seen_pos < seen_end and hist_indices[seen_pos] < j:
                    seen_pos += 1
                if seen_pos < seen_end and hist_indices[seen_pos] == j:
                    continue
                if use_blocked and blocked[j]:
                    continue
                s = data[p]
                if s != s or s == -INFINITY:
                    continue
                size = push(heap_s, heap_i, size, n, s, j)
            out_len[r] = <int32_t>drain(heap_s, heap_i, size, &out_items[r, 0], &out_scores[r, 0])
    free(heap_s)
    free(heap_i)
