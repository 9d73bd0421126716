"""numba kernels for item-based models.

* :func:`item_topk_rows`: for each item i (a row of ``A = X^T``), accumulate
  ``acc[j] = sum_u A[i, u] R[u, j]`` over the users who touched i (a sparse "co-occurrence" row,
  never a dense item x item matrix), turn it into a similarity and keep the best ``k`` j.
* :func:`score_topk_rows`: for each history row, ``scores = h @ W`` with a sparse ``W`` (rows =
  history items, columns = candidates), masked and cut to the top ``n`` in the same pass.

Both run on one thread (``nogil``) over a row range; callers spread ranges over a thread pool.
Ties in top-k selection go to the lower item index, as everywhere in reco.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._topk import _drain, _push, _worse

# similarity modes of item_topk_rows
RAW, COSINE, ASYMMETRIC_COSINE, JACCARD = 0, 1, 2, 3


@njit(cache=True, nogil=True, inline="always")
def _similarity(mode, d, i, j, norms, counts, alpha, shrink, col_scale):  # pragma: no cover
    if mode == RAW:
        return d * col_scale[j]
    if mode == COSINE:
        return d / (norms[i] * norms[j] + shrink)
    if mode == ASYMMETRIC_COSINE:
        return d / (norms[i] ** (2 * alpha) * norms[j] ** (2 * (1 - alpha)) + shrink)
    return d / (counts[i] + counts[j] - d + shrink)


@njit(cache=True, nogil=True)
def _dense_similarity(acc, mode, i, norms, counts, alpha, shrink, col_scale):  # pragma: no cover
    """``acc[j] <- sim(acc[j])`` for every j, one tight loop per mode (vectorisable)."""
    n = acc.size
    if mode == RAW:
        for j in range(n):
            acc[j] = acc[j] * col_scale[j]
    elif mode == COSINE:
        left = norms[i]
        for j in range(n):
            acc[j] = acc[j] / (left * norms[j] + shrink)
    elif mode == ASYMMETRIC_COSINE:
        left = norms[i] ** (2 * alpha)
        for j in range(n):
            acc[j] = acc[j] / (left * norms[j] ** (2 * (1 - alpha)) + shrink)
    else:
        left = counts[i]
        for j in range(n):
            acc[j] = acc[j] / (left + counts[j] - acc[j] + shrink)


@njit(cache=True, nogil=True)
def item_topk_rows(
    a_indptr,
    a_indices,
    a_data,
    r_indptr,
    r_indices,
    r_data,
    mode,
    norms,
    counts,
    alpha,
    shrink,
    col_scale,
    k,
    start,
    stop,
    out_indices,
    out_values,
    out_len,
):  # pragma: no cover - compiled
    """Top-``k`` similar items for rows ``start:stop``; writes ``out_*[i - start]``.

    Similarity of the accumulated dot product ``d = acc[j]`` for each mode:
    RAW ``d * col_scale[j]``; COSINE ``d / (norms[i] norms[j] + shrink)``;
    ASYMMETRIC_COSINE ``d / (norms[i]^(2 alpha) norms[j]^(2 (1 - alpha)) + shrink)``;
    JACCARD ``d / (counts[i] + counts[j] - d + shrink)``. Norms and counts of items with no
    interaction must be non-zero placeholders (their ``d`` is 0). The diagonal is skipped;
    only positive similarities are kept. Rows whose accumulation touches many items are
    transformed and scanned densely; light rows keep a list of the items they touched.
    """
    n_items = col_scale.size
    acc = np.zeros(n_items, np.float64)
    touched = np.empty(n_items, np.int32)
    mark = np.zeros(n_items, np.bool_)
    heap_s = np.empty(k, np.float32)
    heap_i = np.empty(k, np.int32)
    for i in range(start, stop):
        work = 0
        for p in range(a_indptr[i], a_indptr[i + 1]):
            u = a_indices[p]
            work += r_indptr[u + 1] - r_indptr[u]
        dense = work * 4 > n_items
        n_touched = 0
        for p in range(a_indptr[i], a_indptr[i + 1]):
            u = a_indices[p]
            w = a_data[p]
            if dense:
                for q in range(r_indptr[u], r_indptr[u + 1]):
                    acc[r_indices[q]] += w * r_data[q]
            else:
                for q in range(r_indptr[u], r_indptr[u + 1]):
                    j = r_indices[q]
                    if not mark[j]:
                        mark[j] = True
                        touched[n_touched] = j
                        n_touched += 1
                    acc[j] += w * r_data[q]
        acc[i] = 0.0
        size = 0
        threshold = np.float32(0.0)
        if dense:
            _dense_similarity(acc, mode, i, norms, counts, alpha, shrink, col_scale)
            for j in range(n_items):
                value = np.float32(acc[j])
                if value > threshold:
                    size = _push(heap_s, heap_i, size, k, value, j)
                    if size == k:
                        threshold = heap_s[0]
            acc[:] = 0.0
        else:
            for t in range(n_touched):
                j = touched[t]
                d = acc[j]
                acc[j] = 0.0
                mark[j] = False
                if d == 0.0:
                    continue
                value = np.float32(
                    _similarity(mode, d, i, j, norms, counts, alpha, shrink, col_scale)
                )
                if value > 0 and (size < k or not _worse(value, j, heap_s[0], heap_i[0])):
                    size = _push(heap_s, heap_i, size, k, value, j)
        row = i - start
        out_len[row] = _drain(heap_s, heap_i, size, out_indices[row], out_values[row])


@njit(cache=True, nogil=True)
def score_topk_rows(
    h_indptr,
    h_indices,
    h_data,
    rows,
    w_indptr,
    w_indices,
    w_data,
    n_items,
    seen_indptr,
    seen_indices,
    seen_rows,
    blocked,
    n,
    start,
    stop,
    out_items,
    out_scores,
    out_len,
):  # pragma: no cover - compiled
    """Top-``n`` of ``H[rows[r]] @ W`` for output rows ``start:stop``, masked.

    Candidates are the items with a non-zero score (reached through W); seen items
    (``seen_rows[r]`` of the seen CSR, -1 none) and blocked items are skipped; NaN and -inf
    never enter. Heavy rows are accumulated and scanned densely, light rows through a list of
    touched items; both give the same result.
    """
    use_blocked = blocked.size > 0
    acc = np.zeros(n_items, np.float32)
    touched = np.empty(n_items, np.int32)
    mark = np.zeros(n_items, np.bool_)
    excluded = np.zeros(n_items, np.bool_)
    heap_s = np.empty(n, np.float32)
    heap_i = np.empty(n, np.int32)
    for r in range(start, stop):
        h = rows[r]
        work = 0
        for p in range(h_indptr[h], h_indptr[h + 1]):
            j = h_indices[p]
            work += w_indptr[j + 1] - w_indptr[j]
        dense = work * 4 > n_items
        n_touched = 0
        for p in range(h_indptr[h], h_indptr[h + 1]):
            j = h_indices[p]
            x = h_data[p]
            if dense:
                for q in range(w_indptr[j], w_indptr[j + 1]):
                    acc[w_indices[q]] += x * w_data[q]
            else:
                for q in range(w_indptr[j], w_indptr[j + 1]):
                    i = w_indices[q]
                    if not mark[i]:
                        mark[i] = True
                        touched[n_touched] = i
                        n_touched += 1
                    acc[i] += x * w_data[q]
        s_row = seen_rows[r]
        if s_row >= 0:
            for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                excluded[seen_indices[p]] = True
        size = 0
        threshold = -np.inf
        count = n_items if dense else n_touched
        for t in range(count):
            i = t if dense else touched[t]
            value = np.float32(acc[i])
            if not dense:
                acc[i] = 0.0
                mark[i] = False
            if value == 0 or not value >= threshold:  # also drops NaN and -inf
                continue
            if excluded[i] or (use_blocked and blocked[i]) or value == -np.inf:
                continue
            if size == n and _worse(value, i, heap_s[0], heap_i[0]):
                continue
            size = _push(heap_s, heap_i, size, n, value, i)
            if size == n:
                threshold = heap_s[0]
        if dense:
            acc[:] = 0.0
        if s_row >= 0:
            for p in range(seen_indptr[s_row], seen_indptr[s_row + 1]):
                excluded[seen_indices[p]] = False
        out_len[r] = _drain(heap_s, heap_i, size, out_items[r], out_scores[r])


@njit(cache=True, nogil=True)
def gram_columns(indptr, indices, data, n_items, start, stop, out):  # pragma: no cover
    """``out[:, c - start] = X^T X[:, c]`` for item columns ``start:stop`` (X users x items CSR,
    sorted indices): each user's pairs (i, j) with j in the range, accumulated densely."""
    for u in range(indptr.size - 1):
        a, b = indptr[u], indptr[u + 1]
        if a == b:
            continue
        lo = a + np.searchsorted(indices[a:b], start)
        hi = a + np.searchsorted(indices[a:b], stop)
        if lo == hi:
            continue
        for p in range(a, b):
            i = indices[p]
            x = data[p]
            for q in range(lo, hi):
                out[i, indices[q] - start] += x * data[q]


@njit(cache=True, nogil=True)
def slim_columns(
    gram, l1, l2, max_iter, tol, max_features, start, stop, out_rows, out_values, out_len
):  # pragma: no cover - compiled
    """Non-negative elastic-net regressions of item columns ``start:stop`` on the others.

    For target i: minimise ``0.5 w'Gw - c'w + l1 sum(w) + 0.5 l2 w'w`` over ``w >= 0``,
    ``w_i = 0`` (c = G[:, i]) by cyclic coordinate descent on the Gram matrix. Items with
    ``c_j <= l1`` can never become non-zero (their partial residual only shrinks), so only the
    others are visited; ``max_features > 0`` keeps the strongest ``c_j`` of them.
    """
    n_items = gram.shape[0]
    for i in range(start, stop):
        c = gram[i]
        count = 0
        for j in range(n_items):
            if j != i and c[j] > l1:
                count += 1
        candidates = np.empty(count, np.int64)
        count = 0
        for j in range(n_items):
            if j != i and c[j] > l1:
                candidates[count] = j
                count += 1
        if max_features > 0 and count > max_features:
            order = np.argsort(-c[candidates], kind="mergesort")[:max_features]
            candidates = np.sort(candidates[order])
            count = max_features
        w = np.zeros(count, np.float64)
        residual = np.empty(count, np.float64)
        diagonal = np.empty(count, np.float64)
        for a in range(count):
            residual[a] = c[candidates[a]]
            diagonal[a] = gram[candidates[a], candidates[a]]
        for _ in range(max_iter):
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
                    row = gram[candidates[a]]
                    for b in range(count):
                        residual[b] -= row[candidates[b]] * delta
                    if abs(delta) > max_delta:
                        max_delta = abs(delta)
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
