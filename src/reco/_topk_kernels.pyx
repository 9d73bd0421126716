# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled "mask -> top-k" kernels behind :mod:`reco._topk` (serial; release the GIL).

Argument types are fixed (the Python side casts): scores float32, row/indptr int64, item
indices int32, ``blocked`` uint8 (empty = nothing blocked), outputs int32 / float32 / int32.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libcpp.vector cimport vector

from reco._heap cimport drain, push


cdef extern from "_dense_dot.h" nogil:
    void reco_dot_rows(
        const float* x, const float* yt, float* out, int64_t n_users, int64_t k, int64_t n_items
    )
    int64_t reco_next_above(const float* row, int64_t j, int64_t n, float threshold)
    int RECO_DOT_USERS


cdef inline int32_t _select_row(
    const float* row,
    int64_t n_items,
    int64_t h,
    const int64_t* hist_indptr,
    const int32_t* hist_indices,
    const uint8_t* blocked,
    bint use_blocked,
    const int32_t* allowed,
    int64_t n,
    float* heap_s,
    int32_t* heap_i,
    int32_t* out_items,
    float* out_scores,
) noexcept nogil:
    """Top ``n`` of one dense score row, skipping history row ``h`` (-1: none) and blocked
    items. One comparison (eight at a time) rejects most entries: ``s > threshold`` is false
    for NaN, for -inf, and for anything not better than the worst kept entry (an equal
    score has a higher index, so it ranks below). Only the survivors meet the masks.
    With ``allowed`` (sorted item indices, or NULL) entry ``j`` of the row is item
    ``allowed[j]``: a row scored for a whitelist only."""
    cdef int64_t j, item, seen_pos = 0, seen_end = 0, size = 0
    cdef float s, threshold = -INFINITY
    if h >= 0:
        seen_pos = hist_indptr[h]
        seen_end = hist_indptr[h + 1]
    j = reco_next_above(row, 0, n_items, threshold)
    while j < n_items:
        s = row[j]
        item = allowed[j] if allowed != NULL else j
        if use_blocked and blocked[item]:
            j = reco_next_above(row, j + 1, n_items, threshold)
            continue
        while seen_pos < seen_end and hist_indices[seen_pos] < item:
            seen_pos += 1
        if not (seen_pos < seen_end and hist_indices[seen_pos] == item):
            size = push(heap_s, heap_i, size, n, s, item)
            if size == n:
                threshold = heap_s[0]
        j = reco_next_above(row, j + 1, n_items, threshold)
    return <int32_t>drain(heap_s, heap_i, size, out_items, out_scores)


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
    """Top n of dense rows ``start:stop``; ``rows[r]`` is the history row (-1 = none)."""
    cdef int64_t n_items = scores.shape[1]
    cdef vector[float] heap_s = vector[float](max(n, 1))
    cdef vector[int32_t] heap_i = vector[int32_t](max(n, 1))
    cdef int64_t r
    if n_items == 0:
        for r in range(start, stop):
            out_len[r] = 0
        return
    with nogil:
        for r in range(start, stop):
            out_len[r] = _select_row(
                &scores[r, 0], n_items, rows[r], &hist_indptr[0], &hist_indices[0],
                &blocked[0] if blocked.shape[0] > 0 else NULL, blocked.shape[0] > 0, NULL, n,
                heap_s.data(), heap_i.data(), &out_items[r, 0], &out_scores[r, 0],
            )


def dot_rows(
    const float[:, ::1] X, const float[:, ::1] Yt, float[:, ::1] out, int64_t start, int64_t stop
):
    """``out[r] = X[r] @ Yt`` for rows ``start:stop``, each summed over the factors in one
    fixed order (see ``_dense_dot.h``): the same floats whatever the batch."""
    cdef int64_t k = X.shape[1], n_items = Yt.shape[1], r
    if n_items == 0 or stop <= start:
        return
    cdef int64_t group = RECO_DOT_USERS
    r = start
    with nogil:
        while r < stop:
            reco_dot_rows(
                &X[r, 0] if k > 0 else NULL, &Yt[0, 0] if k > 0 else NULL, &out[r, 0],
                min(group, stop - r), k, n_items,
            )
            r += group


def dot_topk_rows(
    const float[:, ::1] X,
    const float[:, ::1] Yt,
    const int64_t[::1] rows,
    const int64_t[::1] hist_indptr,
    const int32_t[::1] hist_indices,
    const uint8_t[::1] blocked,
    const int32_t[::1] allowed,
    int64_t n,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_items,
    float[:, ::1] out_scores,
    int32_t[::1] out_len,
):
    """Top n of ``X[r] @ Yt`` for rows ``start:stop``, masked: a few users are scored into
    a buffer (:func:`dot_rows`' arithmetic) and selected while it is in cache. With a
    non-empty ``allowed``, column ``j`` of ``Yt`` is item ``allowed[j]`` (a whitelist's
    factors) and the lists name the items."""
    cdef int64_t k = X.shape[1], n_items = Yt.shape[1], r, first, m
    cdef int64_t group = min(<int64_t>RECO_DOT_USERS, max(stop - start, 1))
    cdef vector[float] heap_s = vector[float](max(n, 1))
    cdef vector[int32_t] heap_i = vector[int32_t](max(n, 1))
    if n_items == 0:
        for r in range(start, stop):
            out_len[r] = 0
        return
    # scores of a group of users (one user: 80 KB at 20,000 items, from the heap, unzeroed)
    cdef float* scores = <float*>malloc(group * n_items * sizeof(float))
    if scores == NULL:
        raise MemoryError()
    first = start
    with nogil:
        while first < stop:
            m = min(group, stop - first)
            reco_dot_rows(
                &X[first, 0] if k > 0 else NULL, &Yt[0, 0] if k > 0 else NULL, scores,
                m, k, n_items,
            )
            for r in range(first, first + m):
                out_len[r] = _select_row(
                    scores + (r - first) * n_items, n_items, rows[r], &hist_indptr[0],
                    &hist_indices[0], &blocked[0] if blocked.shape[0] > 0 else NULL,
                    blocked.shape[0] > 0, &allowed[0] if allowed.shape[0] > 0 else NULL, n,
                    heap_s.data(), heap_i.data(), &out_items[r, 0],
                    &out_scores[r, 0],
                )
            first += group
    free(scores)


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
