"""Compiled kernels for item-based models (serial; they release the GIL).

* :func:`item_topk_rows`: for each item i (a row of ``A = X^T``), accumulate
  ``acc[j] = sum_u A[i, u] R[u, j]`` over the users who touched i (a sparse "co-occurrence" row,
  never a dense item x item matrix), turn it into a similarity and keep the best ``k`` j.
* :func:`score_topk_rows`: for each history row, ``scores = h @ W`` with a sparse ``W`` (rows =
  history items, columns = candidates), masked and cut to the top ``n`` in the same pass.
* :func:`dense_score_topk_rows`: the same with a dense ``W`` (EASE), optionally scoring only a
  whitelist's columns.
* :func:`gram_columns`, :func:`slim_columns`: the Gram matrix and SLIM's coordinate descent.
* :func:`rule_max_scores`: the association-rule recommender's max-over-rules scores.

Callers spread row ranges over a thread pool. Ties in top-k selection go to the lower item
index, as everywhere in reco. Index arrays are int64 (indptr, rows) and int32 (indices).
"""

from libc.math cimport INFINITY, fabs, pow
from libc.stdint cimport int32_t, int64_t, uint8_t
from libcpp.algorithm cimport sort
from libcpp.utility cimport pair
from libcpp.vector cimport vector

import numpy as np

from reco._heap cimport drain, push, worse

# similarity modes of item_topk_rows
RAW, COSINE, ASYMMETRIC_COSINE, JACCARD, RAW_BY_ROW = 0, 1, 2, 3, 4


cdef inline double _similarity(
    int mode, double d, int64_t i, int64_t j, const double* norms, const double* counts,
    double alpha, double shrink, const double* scale,
) noexcept nogil:
    if mode == 0:
        return d * scale[j]
    if mode == 4:
        return d * scale[i]
    if mode == 1:
        return d / (norms[i] * norms[j] + shrink)
    if mode == 2:
        return d / (pow(norms[i], 2 * alpha) * pow(norms[j], 2 * (1 - alpha)) + shrink)
    return d / (counts[i] + counts[j] - d + shrink)


cdef void _dense_similarity(
    double* acc, int64_t n, int mode, int64_t i, const double* norms, const double* counts,
    double alpha, double shrink, const double* scale,
) noexcept nogil:
    """``acc[j] <- sim(acc[j])`` for every j, one tight loop per mode (vectorisable)."""
    cdef int64_t j
    cdef double left
    if mode == 0:
        for j in range(n):
            acc[j] = acc[j] * scale[j]
    elif mode == 4:
        left = scale[i]
        for j in range(n):
            acc[j] = acc[j] * left
    elif mode == 1:
        left = norms[i]
        for j in range(n):
            acc[j] = acc[j] / (left * norms[j] + shrink)
    elif mode == 2:
        left = pow(norms[i], 2 * alpha)
        for j in range(n):
            acc[j] = acc[j] / (left * pow(norms[j], 2 * (1 - alpha)) + shrink)
    else:
        left = counts[i]
        for j in range(n):
            acc[j] = acc[j] / (left + counts[j] - acc[j] + shrink)


ctypedef fused real:
    float
    double


cdef int64_t _accumulate(
    const int64_t* o_indptr, const int32_t* o_indices, const real* o_data,
    const int64_t* i_indptr, const int32_t* i_indices, const real* i_data,
    int64_t row, int64_t n_items, real* acc, uint8_t* mark, int32_t* touched,
) noexcept nogil:
    """``acc[j] += o[row, u] * i[u, j]`` over the entries u of the outer CSR's ``row`` (in
    order), then the inner CSR's row u. Returns the number of touched items, listed in
    ``touched`` (and marked in ``mark``), or -1 when the row touches so many entries that
    every item is treated as touched (no list kept: the caller scans ``acc`` whole)."""
    cdef int64_t p, q, u, j, work = 0, n_touched = 0
    cdef real w
    for p in range(o_indptr[row], o_indptr[row + 1]):
        u = o_indices[p]
        work += i_indptr[u + 1] - i_indptr[u]
    cdef bint dense = work * 4 > n_items
    for p in range(o_indptr[row], o_indptr[row + 1]):
        u = o_indices[p]
        w = o_data[p]
        if dense:
            for q in range(i_indptr[u], i_indptr[u + 1]):
                acc[i_indices[q]] += w * i_data[q]
        else:
            for q in range(i_indptr[u], i_indptr[u + 1]):
                j = i_indices[q]
                if not mark[j]:
                    mark[j] = 1
                    touched[n_touched] = <int32_t>j
                    n_touched += 1
                acc[j] += w * i_data[q]
    return -1 if dense else n_touched


def item_topk_rows(
    const int64_t[::1] a_indptr,
    const int32_t[::1] a_indices,
    const double[::1] a_data,
    const int64_t[::1] r_indptr,
    const int32_t[::1] r_indices,
    const double[::1] r_data,
    int mode,
    const double[::1] norms,
    const double[::1] counts,
    double alpha,
    double shrink,
    const double[::1] scale,
    int64_t k,
    const int64_t[::1] rows,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_indices,
    float[:, ::1] out_values,
    int32_t[::1] out_len,
):
    """Top-``k`` similar items for the items ``rows[start:stop]``; writes ``out_*[t - start]``.

    Similarity of the accumulated dot product ``d = acc[j]`` for each mode:
    RAW ``d * scale[j]``; RAW_BY_ROW ``d * scale[i]``; COSINE ``d / (norms[i] norms[j] +
    shrink)``; ASYMMETRIC_COSINE ``d / (norms[i]^(2 alpha) norms[j]^(2 (1 - alpha)) +
    shrink)``; JACCARD ``d / (counts[i] + counts[j] - d + shrink)``. Norms and counts of items
    with no interaction must be non-zero placeholders (their ``d`` is 0). The diagonal is
    skipped; only positive similarities are kept. Rows whose accumulation touches many items
    are transformed and scanned densely; light rows keep a list of the items they touched.
    """
    cdef int64_t n_items = scale.shape[0]
    cdef vector[double] acc_v = vector[double](max(n_items, 1), 0.0)
    cdef vector[int32_t] touched_v = vector[int32_t](max(n_items, 1))
    cdef vector[uint8_t] mark_v = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[float] heap_s_v = vector[float](max(k, 1))
    cdef vector[int32_t] heap_i_v = vector[int32_t](max(k, 1))
    cdef double* acc = acc_v.data()
    cdef int32_t* touched = touched_v.data()
    cdef uint8_t* mark = mark_v.data()
    cdef float* heap_s = heap_s_v.data()
    cdef int32_t* heap_i = heap_i_v.data()
    cdef int64_t i, j, t, n_touched, size, row
    cdef double d
    cdef float value, threshold
    cdef bint dense
    with nogil:
        for row in range(start, stop):
            i = rows[row]
            n_touched = _accumulate(
                &a_indptr[0], &a_indices[0], &a_data[0], &r_indptr[0], &r_indices[0],
                &r_data[0], i, n_items, acc, mark, touched,
            )
            dense = n_touched < 0
            acc[i] = 0.0
            size = 0
            threshold = 0.0
            if dense:
                _dense_similarity(
                    acc, n_items, mode, i, &norms[0], &counts[0], alpha, shrink, &scale[0]
                )
                for j in range(n_items):
                    value = <float>acc[j]
                    if value > threshold:
                        size = push(heap_s, heap_i, size, k, value, j)
                        if size == k:
                            threshold = heap_s[0]
                for j in range(n_items):
                    acc[j] = 0.0
            else:
                for t in range(n_touched):
                    j = touched[t]
                    d = acc[j]
                    acc[j] = 0.0
                    mark[j] = 0
                    if d == 0.0:
                        continue
                    value = <float>_similarity(
                        mode, d, i, j, &norms[0], &counts[0], alpha, shrink, &scale[0]
                    )
                    if value > 0 and (size < k or not worse(value, j, heap_s[0], heap_i[0])):
                        size = push(heap_s, heap_i, size, k, value, j)
            out_len[row - start] = <int32_t>drain(
                heap_s, heap_i, size, &out_indices[row - start, 0], &out_values[row - start, 0]
            )


cdef void _dense_column_similarity(
    double* acc, int64_t n, int mode, int64_t j, const double* norms, const double* counts,
    double alpha, double shrink, const double* scale,
) noexcept nogil:
    """``acc[i] <- sim(i, j)`` of ``d = acc[i]`` for every i: :func:`_similarity` with the
    column fixed, the same operations in the same order."""
    cdef int64_t i
    cdef double right
    if mode == 0:
        right = scale[j]
        for i in range(n):
            acc[i] = acc[i] * right
    elif mode == 4:
        for i in range(n):
            acc[i] = acc[i] * scale[i]
    elif mode == 1:
        right = norms[j]
        for i in range(n):
            acc[i] = acc[i] / (norms[i] * right + shrink)
    elif mode == 2:
        right = pow(norms[j], 2 * (1 - alpha))
        for i in range(n):
            acc[i] = acc[i] / (pow(norms[i], 2 * alpha) * right + shrink)
    else:
        right = counts[j]
        for i in range(n):
            acc[i] = acc[i] / (counts[i] + right - acc[i] + shrink)


def column_similarities(
    const int64_t[::1] l_indptr,
    const int32_t[::1] l_indices,
    const double[::1] l_data,
    const int64_t[::1] c_indptr,
    const int32_t[::1] c_indices,
    const double[::1] c_data,
    const int32_t[::1] columns,
    int mode,
    const double[::1] norms,
    const double[::1] counts,
    double alpha,
    double shrink,
    const double[::1] scale,
    const float[::1] floor,
    int64_t k,
    int32_t[:, ::1] out_indices,
    float[:, ::1] out_values,
    int32_t[::1] out_len,
):
    """The positive ``sim(i, j)`` of :func:`item_topk_rows` in the columns j of ``columns``
    that reach ``floor[i]`` (the others cannot enter row i's list).

    ``l_*`` is ``A^T`` (users x items, row u holds ``A[i, u]``) and ``c_*`` is ``R^T`` (items
    x users, row j holds ``R[u, j]``), both with sorted indices. ``d_ij`` adds
    ``A[i, u] R[u, j]`` over the users u of j in increasing order, the order in which
    :func:`item_topk_rows` adds them over the users of i: the values are bit for bit the ones
    a full pass would compute, at the cost of the columns' co-occurrences only. Returns
    ``(rows, columns, values)`` (int32, int32, float32), the diagonal left out.

    With ``k`` > 0 the similarity must be symmetric (``A = R^T`` and ``sim(i, j) =
    sim(j, i)`` bit for bit: cosine, Jaccard): the same pass then also writes column
    ``columns[c]``'s own top-``k`` list to ``out_*[c]``, as :func:`item_topk_rows` would.
    """
    cdef int64_t n_items = scale.shape[0]
    cdef vector[double] acc_v = vector[double](max(n_items, 1), 0.0)
    cdef vector[int32_t] touched_v = vector[int32_t](max(n_items, 1))
    cdef vector[uint8_t] mark_v = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[float] heap_s_v = vector[float](max(k, 1))
    cdef vector[int32_t] heap_i_v = vector[int32_t](max(k, 1))
    cdef double* acc = acc_v.data()
    cdef int32_t* touched = touched_v.data()
    cdef uint8_t* mark = mark_v.data()
    cdef float* heap_s = heap_s_v.data()
    cdef int32_t* heap_i = heap_i_v.data()
    cdef vector[int32_t] out_rows
    cdef vector[int32_t] out_cols
    cdef vector[float] out_values_v
    cdef int64_t c, j, i, t, n_touched, size
    cdef float value
    cdef bint dense
    with nogil:
        for c in range(columns.shape[0]):
            j = columns[c]
            # A[i, u] R[u, j] added over the users u of j, in order (products commute)
            n_touched = _accumulate(
                &c_indptr[0], &c_indices[0], &c_data[0], &l_indptr[0], &l_indices[0],
                &l_data[0], j, n_items, acc, mark, touched,
            )
            dense = n_touched < 0
            acc[j] = 0.0
            if dense:
                _dense_column_similarity(
                    acc, n_items, mode, j, &norms[0], &counts[0], alpha, shrink, &scale[0]
                )
                n_touched = n_items
            size = 0
            for t in range(n_touched):
                i = t if dense else touched[t]
                if dense:
                    value = <float>acc[i]
                elif acc[i] != 0.0:
                    value = <float>_similarity(
                        mode, acc[i], i, j, &norms[0], &counts[0], alpha, shrink, &scale[0]
                    )
                else:
                    value = 0.0
                acc[i] = 0.0
                mark[i] = 0
                if value <= 0:
                    continue
                if value >= floor[i]:
                    out_rows.push_back(<int32_t>i)
                    out_cols.push_back(<int32_t>j)
                    out_values_v.push_back(value)
                if k > 0 and (size < k or not worse(value, i, heap_s[0], heap_i[0])):
                    size = push(heap_s, heap_i, size, k, value, i)
            if k > 0:
                out_len[c] = <int32_t>drain(
                    heap_s, heap_i, size, &out_indices[c, 0], &out_values[c, 0]
                )
    n = out_rows.size()
    result_rows = np.empty(n, np.int32)
    result_cols = np.empty(n, np.int32)
    result_values = np.empty(n, np.float32)
    cdef int32_t[::1] rv = result_rows
    cdef int32_t[::1] cv = result_cols
    cdef float[::1] vv = result_values
    for t in range(<int64_t>n):
        rv[t] = out_rows[t]
        cv[t] = out_cols[t]
        vv[t] = out_values_v[t]
    return result_rows, result_cols, result_values


def merge_topk_rows(
    const int64_t[::1] rows,
    const int64_t[::1] old_indptr,
    const int32_t[::1] old_indices,
    const float[::1] old_values,
    const uint8_t[::1] dropped,
    const int64_t[::1] new_indptr,
    const int32_t[::1] new_indices,
    const float[::1] new_values,
    int64_t k,
    int32_t[:, ::1] out_indices,
    float[:, ::1] out_values,
    int32_t[::1] out_len,
):
    """The best ``k`` of each row ``rows[t]``'s old entries whose column is not ``dropped``
    and of its new entries ``new_*[new_indptr[t]:new_indptr[t + 1]]`` (ties to the lower
    index); writes ``out_*[t]`` in increasing column order."""
    cdef vector[float] heap_s_v = vector[float](max(k, 1))
    cdef vector[int32_t] heap_i_v = vector[int32_t](max(k, 1))
    cdef vector[pair[int32_t, float]] by_column
    cdef float* heap_s = heap_s_v.data()
    cdef int32_t* heap_i = heap_i_v.data()
    cdef int64_t t, i, p, size
    with nogil:
        for t in range(rows.shape[0]):
            i = rows[t]
            size = 0
            for p in range(old_indptr[i], old_indptr[i + 1]):
                if not dropped[old_indices[p]]:
                    size = push(heap_s, heap_i, size, k, old_values[p], old_indices[p])
            for p in range(new_indptr[t], new_indptr[t + 1]):
                size = push(heap_s, heap_i, size, k, new_values[p], new_indices[p])
            by_column.clear()
            for p in range(size):
                by_column.push_back(pair[int32_t, float](heap_i[p], heap_s[p]))
            sort(by_column.begin(), by_column.end())
            for p in range(size):
                out_indices[t, p] = by_column[p].first
                out_values[t, p] = by_column[p].second
            out_len[t] = <int32_t>size


def score_topk_rows(
    const int64_t[::1] h_indptr,
    const int32_t[::1] h_indices,
    const float[::1] h_data,
    const int64_t[::1] rows,
    const int64_t[::1] w_indptr,
    const int32_t[::1] w_indices,
    const float[::1] w_data,
    int64_t n_items,
    const int64_t[::1] seen_indptr,
    const int32_t[::1] seen_indices,
    const int64_t[::1] seen_rows,
    const uint8_t[::1] blocked,
    int64_t n,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_items,
    float[:, ::1] out_scores,
    int32_t[::1] out_len,
):
    """Top-``n`` of ``H[rows[r]] @ W`` for output rows ``start:stop``, masked.

    Candidates are the items with a non-zero score (reached through W); seen items
    (``seen_rows[r]`` of the seen CSR, -1 none) and blocked items are skipped; NaN and -inf
    never enter. Heavy rows are accumulated and scanned densely, light rows through a list of
    touched items; both give the same result.
    """
    cdef bint use_blocked = blocked.shape[0] > 0
    cdef vector[float] acc_v = vector[float](max(n_items, 1), 0.0)
    cdef vector[int32_t] touched_v = vector[int32_t](max(n_items, 1))
    cdef vector[uint8_t] mark_v = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[uint8_t] excluded_v = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[float] heap_s_v = vector[float](max(n, 1))
    cdef vector[int32_t] heap_i_v = vector[int32_t](max(n, 1))
    cdef float* acc = acc_v.data()
    cdef int32_t* touched = touched_v.data()
    cdef uint8_t* mark = mark_v.data()
    cdef uint8_t* excluded = excluded_v.data()
    cdef float* heap_s = heap_s_v.data()
    cdef int32_t* heap_i = heap_i_v.data()
    cdef int64_t r, h, p, i, t, n_touched, s_row, size, count
    cdef float value, threshold
    cdef bint dense
    with nogil:
        for r in range(start, stop):
            h = rows[r]
            n_touched = _accumulate(
                &h_indptr[0], &h_indices[0], &h_data[0], &w_indptr[0], &w_indices[0],
                &w_data[0], h, n_items, acc, mark, touched,
            )
            dense = n_touched < 0
            s_row = seen_rows[r]
            if s_row >= 0:
                for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                    excluded[seen_indices[p]] = 1
            size = 0
            threshold = -INFINITY
            count = n_items if dense else n_touched
            for t in range(count):
                i = t if dense else touched[t]
                value = acc[i]
                if not dense:
                    acc[i] = 0.0
                    mark[i] = 0
                if value == 0 or not value >= threshold:  # also drops NaN and -inf
                    continue
                if excluded[i] or (use_blocked and blocked[i]) or value == -INFINITY:
                    continue
                if size == n and worse(value, i, heap_s[0], heap_i[0]):
                    continue
                size = push(heap_s, heap_i, size, n, value, i)
                if size == n:
                    threshold = heap_s[0]
            if dense:
                for i in range(n_items):
                    acc[i] = 0.0
            if s_row >= 0:
                for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                    excluded[seen_indices[p]] = 0
            out_len[r] = <int32_t>drain(heap_s, heap_i, size, &out_items[r, 0], &out_scores[r, 0])


cdef void _accumulate_rows(
    float* acc,
    const float* h_data,
    const int32_t* h_indices,
    int64_t first,
    int64_t last,
    const float* weights,
    int64_t n_items,
    const int32_t* allowed,
    int64_t n_allowed,
) noexcept nogil:
    """``acc[t] += x_p * W[j_p, col(t)]`` for the history entries ``first:last`` in order
    (``col(t)`` = ``allowed[t]``, or ``t`` when ``allowed`` is NULL). Four rows of ``W`` per
    pass over ``acc``: four long reads at once, and ``acc`` read and written a quarter as
    often; the additions stay in entry order, so the floats equal one row per pass."""
    cdef int64_t p = first, t
    cdef float x0, x1, x2, x3
    cdef const float* w0
    cdef const float* w1
    cdef const float* w2
    cdef const float* w3
    while p + 4 <= last:
        x0, x1, x2, x3 = h_data[p], h_data[p + 1], h_data[p + 2], h_data[p + 3]
        w0 = weights + h_indices[p] * n_items
        w1 = weights + h_indices[p + 1] * n_items
        w2 = weights + h_indices[p + 2] * n_items
        w3 = weights + h_indices[p + 3] * n_items
        if allowed != NULL:
            for t in range(n_allowed):
                acc[t] = (acc[t] + x0 * w0[allowed[t]] + x1 * w1[allowed[t]]
                          + x2 * w2[allowed[t]] + x3 * w3[allowed[t]])
        else:
            for t in range(n_items):
                acc[t] = acc[t] + x0 * w0[t] + x1 * w1[t] + x2 * w2[t] + x3 * w3[t]
        p += 4
    while p < last:
        x0 = h_data[p]
        w0 = weights + h_indices[p] * n_items
        if allowed != NULL:
            for t in range(n_allowed):
                acc[t] += x0 * w0[allowed[t]]
        else:
            for t in range(n_items):
                acc[t] += x0 * w0[t]
        p += 1


def dense_score_topk_rows(
    const int64_t[::1] h_indptr,
    const int32_t[::1] h_indices,
    const float[::1] h_data,
    const int64_t[::1] rows,
    const float[:, ::1] weights,
    const int32_t[::1] allowed,
    const int64_t[::1] seen_indptr,
    const int32_t[::1] seen_indices,
    const int64_t[::1] seen_rows,
    const uint8_t[::1] blocked,
    int64_t n,
    int64_t start,
    int64_t stop,
    int32_t[:, ::1] out_items,
    float[:, ::1] out_scores,
    int32_t[::1] out_len,
):
    """Top-``n`` of ``H[rows[r]] @ W`` with a dense C-ordered ``W``, masked, in one pass.

    Every item is a candidate (a score of 0 too); seen and blocked items, NaN and -inf never
    enter. With a non-empty ``allowed`` (sorted item indices, e.g. a whitelist) only those
    columns are scored: ``s_i = sum_p x_p W[j_p, i]``, summed in the same order as the full
    row, so both routes give the same floats.
    """
    cdef int64_t n_items = weights.shape[1]
    cdef int64_t n_allowed = allowed.shape[0]
    cdef bint use_blocked = blocked.shape[0] > 0
    cdef vector[float] acc_v = vector[float](max(n_items, 1), 0.0)
    cdef vector[uint8_t] excluded_v = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[float] heap_s_v = vector[float](max(n, 1))
    cdef vector[int32_t] heap_i_v = vector[int32_t](max(n, 1))
    cdef float* acc = acc_v.data()
    cdef uint8_t* excluded = excluded_v.data()
    cdef float* heap_s = heap_s_v.data()
    cdef int32_t* heap_i = heap_i_v.data()
    cdef int64_t r, h, p, i, t, s_row, size, count
    cdef float value, threshold
    with nogil:
        for r in range(start, stop):
            h = rows[r]
            count = n_allowed if n_allowed > 0 else n_items
            for t in range(count):
                acc[t] = 0.0
            _accumulate_rows(
                acc, &h_data[0], &h_indices[0], h_indptr[h], h_indptr[h + 1], &weights[0, 0],
                n_items, &allowed[0] if n_allowed > 0 else NULL, n_allowed,
            )
            s_row = seen_rows[r]
            if s_row >= 0:
                for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                    excluded[seen_indices[p]] = 1
            size = 0
            threshold = -INFINITY
            for t in range(count):
                value = acc[t]
                if not value > threshold:  # also drops NaN and -inf
                    continue
                i = allowed[t] if n_allowed > 0 else t
                if excluded[i] or (use_blocked and blocked[i]):
                    continue
                size = push(heap_s, heap_i, size, n, value, i)
                if size == n:
                    threshold = heap_s[0]
            if s_row >= 0:
                for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                    excluded[seen_indices[p]] = 0
            out_len[r] = <int32_t>drain(heap_s, heap_i, size, &out_items[r, 0], &out_scores[r, 0])


def gram_columns(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const float[::1] data,
    int64_t start,
    int64_t stop,
    float[:, ::1] out,
):
    """``out[:, c] += X^T X[:, c]`` for item columns ``start:stop`` (X users x items CSR,
    sorted indices): each user's pairs (i, j) with j in the range, accumulated densely."""
    cdef int64_t u, a, b, lo, hi, p, q
    cdef int64_t n_rows = indptr.shape[0] - 1
    cdef float x
    with nogil:
        for u in range(n_rows):
            a = indptr[u]
            b = indptr[u + 1]
            if a == b:
                continue
            lo = a
            while lo < b and indices[lo] < start:
                lo += 1
            hi = lo
            while hi < b and indices[hi] < stop:
                hi += 1
            if lo == hi:
                continue
            for p in range(a, b):
                x = data[p]
                for q in range(lo, hi):
                    out[indices[p], indices[q]] += x * data[q]


def slim_columns(
    const double[:, ::1] gram,
    double l1,
    double l2,
    int64_t max_iter,
    double tol,
    int64_t max_features,
    int64_t start,
    int64_t stop,
    int64_t[:, ::1] out_rows,
    double[:, ::1] out_values,
    int64_t[::1] out_len,
):
    """Non-negative elastic-net regressions of item columns ``start:stop`` on the others.

    For target i: minimise ``0.5 w'Gw - c'w + l1 sum(w) + 0.5 l2 w'w`` over ``w >= 0``,
    ``w_i = 0`` (c = G[:, i]) by cyclic coordinate descent on the Gram matrix. Items with
    ``c_j <= l1`` can never become non-zero (their partial residual only shrinks), so only the
    others are visited; ``max_features > 0`` keeps the strongest ``c_j`` of them (ties: the
    lower index).
    """
    cdef int64_t n_items = gram.shape[0]
    cdef vector[int64_t] candidates
    cdef vector[double] w, residual, diagonal
    cdef vector[int64_t] order
    cdef int64_t i, j, a, b, count, length, r, it
    cdef double old, new, delta, max_delta, max_w
    cdef const double* c
    cdef const double* row
    with nogil:
        for i in range(start, stop):
            c = &gram[i, 0]
            candidates.clear()
            for j in range(n_items):
                if j != i and c[j] > l1:
                    candidates.push_back(j)
            count = candidates.size()
            if max_features > 0 and count > max_features:
                _strongest(candidates, c, max_features)
                count = max_features
            w.assign(count, 0.0)
            residual.resize(count)
            diagonal.resize(count)
            for a in range(count):
                residual[a] = c[candidates[a]]
                diagonal[a] = gram[candidates[a], candidates[a]]
            for it in range(max_iter):
                max_delta = 0.0
                max_w = 0.0
                for a in range(count):
                    old = w[a]
                    new = (residual[a] + diagonal[a] * old - l1) / (diagonal[a] + l2)
                    if new < 0.0:
                        new = 0.0
                    delta = new - old
                    if delta != 0.0:
                        w[a] = new
                        row = &gram[candidates[a], 0]
                        for b in range(count):
                            residual[b] -= row[candidates[b]] * delta
                        if fabs(delta) > max_delta:
                            max_delta = fabs(delta)
                    if new > max_w:
                        max_w = new
                if max_delta <= tol * max(max_w, 1e-12):
                    break
            length = 0
            r = i - start
            for a in range(count):
                if w[a] > 0.0:
                    out_rows[r, length] = candidates[a]
                    out_values[r, length] = w[a]
                    length += 1
            out_len[r] = length


cdef extern from *:
    """
    #include <algorithm>
    #include <vector>
    #include <cstdint>
    /* keep the `keep` candidates with the largest c[j] (stable: ties keep the lower j),
       then restore ascending item order */
    static void reco_strongest(std::vector<int64_t>& candidates, const double* c, int64_t keep) {
        std::stable_sort(candidates.begin(), candidates.end(),
                         [c](int64_t a, int64_t b) { return c[a] > c[b]; });
        candidates.resize(keep);
        std::sort(candidates.begin(), candidates.end());
    }
    """
    void _strongest "reco_strongest"(vector[int64_t]& candidates, const double* c, int64_t keep) noexcept nogil


cdef inline int64_t _scatter_max(
    int64_t start, int64_t stop, const int32_t* indices, const float* data, float* best,
    uint8_t* mark, int64_t* touched, int64_t n_touched,
) noexcept nogil:
    """``best[c] = max(best[c], data[q])`` over one rule row, recording newly touched c."""
    cdef int64_t q, c
    for q in range(start, stop):
        c = indices[q]
        if not mark[c]:
            mark[c] = 1
            touched[n_touched] = c
            n_touched += 1
        if data[q] > best[c]:
            best[c] = data[q]
    return n_touched


cdef int64_t _find_key(const int64_t* keys, int64_t n, int64_t key) noexcept nogil:
    """Position of ``key`` in sorted ``keys``, or -1."""
    cdef int64_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n and keys[lo] == key else -1


def rule_max_scores(
    const int64_t[::1] h_indptr,
    const int32_t[::1] h_indices,
    const int64_t[::1] single_indptr,
    const int32_t[::1] single_indices,
    const float[::1] single_data,
    const int64_t[::1] pair_keys,
    const int64_t[::1] pair_indptr,
    const int32_t[::1] pair_indices,
    const float[::1] pair_data,
    int64_t n_items,
):
    """CSR ``(indptr, indices int32, data float32)`` of max rule strength per consequent, over
    the rules whose antecedent is in the row.

    Antecedents: each history item (``single_*`` rows) and each pair of history items found
    in ``pair_keys`` (sorted ``a * n_items + b``, a < b; rows of ``pair_*``).
    """
    cdef int64_t n_rows = h_indptr.shape[0] - 1
    cdef int64_t n_keys = pair_keys.shape[0]
    cdef vector[float] best = vector[float](max(n_items, 1), 0.0)
    cdef vector[int64_t] touched = vector[int64_t](max(n_items, 1))
    cdef vector[uint8_t] mark = vector[uint8_t](max(n_items, 1), 0)
    cdef vector[int32_t] out_indices
    cdef vector[float] out_data
    out_indptr = np.zeros(n_rows + 1, np.int64)
    cdef int64_t[::1] indptr_view = out_indptr
    cdef int64_t r, p, p2, j, at, t, c, a0, a1, n_touched
    cdef const int32_t* s_ind = &single_indices[0] if single_indices.shape[0] else NULL
    cdef const float* s_dat = &single_data[0] if single_data.shape[0] else NULL
    cdef const int32_t* p_ind = &pair_indices[0] if pair_indices.shape[0] else NULL
    cdef const float* p_dat = &pair_data[0] if pair_data.shape[0] else NULL
    cdef const int64_t* keys = &pair_keys[0] if n_keys else NULL
    with nogil:
        for r in range(n_rows):
            n_touched = 0
            a0 = h_indptr[r]
            a1 = h_indptr[r + 1]
            for p in range(a0, a1):
                j = h_indices[p]
                n_touched = _scatter_max(
                    single_indptr[j], single_indptr[j + 1], s_ind, s_dat, best.data(),
                    mark.data(), touched.data(), n_touched,
                )
                if n_keys:
                    for p2 in range(p + 1, a1):
                        at = _find_key(keys, n_keys, j * n_items + h_indices[p2])
                        if at >= 0:
                            n_touched = _scatter_max(
                                pair_indptr[at], pair_indptr[at + 1], p_ind, p_dat,
                                best.data(), mark.data(), touched.data(), n_touched,
                            )
            sort(touched.begin(), touched.begin() + n_touched)
            for t in range(n_touched):
                c = touched[t]
                out_indices.push_back(<int32_t>c)
                out_data.push_back(best[c])
                best[c] = 0.0
                mark[c] = 0
            indptr_view[r + 1] = out_indices.size()
    indices = np.empty(out_indices.size(), np.int32)
    data = np.empty(out_data.size(), np.float32)
    cdef int32_t[::1] iv = indices
    cdef float[::1] dv = data
    for t in range(<int64_t>out_indices.size()):
        iv[t] = out_indices[t]
        dv[t] = out_data[t]
    return out_indptr, indices, data
