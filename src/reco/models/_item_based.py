"""Shared machinery of item-based recommenders: ``score(u, i) = sum_j x_uj W[j, i]``.

A subclass learns ``weights_``, an items x items matrix whose row j says how much history
item j contributes to each candidate i: a sparse csr_array (ItemKNN, RP3beta, SLIM, pruned
EASE) or a dense float32 array (EASE). This module serves it: fused sparse scoring + masking +
top-n, fold-in for baskets (the same formula with the basket as history, so it is exact),
``similar_items`` (row ``W[i]``) and ``explain`` (the terms of the sum).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._threads import run_chunks
from .._topk import TopK, as_mask, csr_arrays
from ..base import Recommender
from ._kernels import (
    column_similarities,
    dense_score_topk_rows,
    item_topk_rows,
    merge_topk_rows,
    score_topk_rows,
)

_NO_SEEN = (np.zeros(1, np.int64), np.zeros(0, np.int32))
_NO_ITEMS = np.zeros(0, np.int32)


class Similarity:
    """How :func:`item_topk_rows` turns co-occurrences into similarities: the mode and the
    per-item norms, counts and scales it reads (placeholders of 1 for items without
    interactions, whose co-occurrences are all 0)."""

    def __init__(
        self,
        mode: int,
        n_items: int,
        *,
        norms: np.ndarray | None = None,
        counts: np.ndarray | None = None,
        alpha: float = 0.5,
        shrink: float = 0.0,
        scale: np.ndarray | None = None,
        symmetric: bool = False,
    ) -> None:
        self.mode, self.alpha, self.shrink = mode, float(alpha), float(shrink)
        self.symmetric = symmetric  # sim(i, j) == sim(j, i) bit for bit, and left = right^T
        self.norms = _placeholders(norms, n_items)
        self.counts = _placeholders(counts, n_items)
        self.scale = np.ones(n_items) if scale is None else np.asarray(scale, np.float64)

    def args(self) -> tuple:
        return self.mode, self.norms, self.counts, self.alpha, self.shrink, self.scale


def _placeholders(values: np.ndarray | None, n_items: int) -> np.ndarray:
    if values is None:
        return np.ones(n_items)
    values = np.asarray(values, np.float64)
    return np.where(values > 0, values, 1.0)


def _kept_per_row(n_items: int, k: int) -> int:
    return int(min(k, max(1, n_items - 1)))


def _topk_rows(
    left: sp.csr_array,
    right: sp.csr_array,
    k: int,
    similarity: Similarity,
    rows: np.ndarray,
    n_threads: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best j of ``sim(left[i] @ right)`` for each i of ``rows``, as (row of the
    output, column, value) triplets."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    indices = np.zeros((rows.size, k), np.int32)
    values = np.zeros((rows.size, k), np.float32)
    lengths = np.zeros(rows.size, np.int32)
    a_indptr, a_indices = csr_arrays(left)
    r_indptr, r_indices = csr_arrays(right)
    a_data = np.ascontiguousarray(left.data, np.float64)
    r_data = np.ascontiguousarray(right.data, np.float64)

    def work(start: int, stop: int) -> None:
        item_topk_rows(
            a_indptr, a_indices, a_data, r_indptr, r_indices, r_data,
            *similarity.args(), k, rows, start, stop,
            indices[start:stop], values[start:stop], lengths[start:stop],
        )  # fmt: skip

    run_chunks(work, rows.size, n_threads)
    mask = np.arange(k)[None, :] < lengths[:, None]
    return np.repeat(np.arange(rows.size), lengths), indices[mask], values[mask]


def topk_similarity(
    left: sp.csr_array,
    right: sp.csr_array,
    k: int,
    similarity: Similarity,
    n_threads: int = 1,
) -> sp.csr_array:
    """Items x items CSR keeping, for each row i, the ``k`` best j of ``sim(left[i] @ right)``.

    ``left`` is items x users, ``right`` users x items (both CSR). See
    :func:`reco.models._kernels.item_topk_rows` for the modes.
    """
    n_items = left.shape[0]
    k = _kept_per_row(n_items, k)
    rows, cols, values = _topk_rows(left, right, k, similarity, np.arange(n_items), n_threads)
    return _assemble([(rows, cols, values)], n_items)


def forget_in_similarity(
    neighbours: sp.csr_array,
    left: sp.csr_array,
    right: sp.csr_array,
    changed: np.ndarray,
    k: int,
    similarity: Similarity,
    n_threads: int = 1,
    *,
    transposes: tuple[sp.csr_array, sp.csr_array] | None = None,
) -> sp.csr_array:
    """:func:`topk_similarity` of ``left`` and ``right`` (the history without some users),
    from ``neighbours`` (the lists of the full history) and the items ``changed`` those users
    had: the same matrix, computing only the co-occurrences of ``changed``.

    Valid for similarities that removing users can only raise outside ``changed`` (every
    mode of reco's similarities: the co-occurrence of i and j is the same when neither is in
    ``changed``, or when only j is, since no removed user had i; and j's norm, count or
    popularity penalty can only have fallen, which raises ``sim(i, j)``). So a list of an
    item i outside ``changed`` keeps its other entries, and nothing outside it and outside
    ``changed`` can enter it (every such item ranked below all of them and still does): its
    new list is the best ``k`` of its old entries outside ``changed`` and its new
    similarities to ``changed``. The lists of ``changed`` are computed again. Ties go to the
    lower index, as in the full pass, and the values are the full pass's bit for bit.
    ``transposes`` are ``left.T`` and ``right.T`` as CSR, when the caller has them.
    """
    n_items = neighbours.shape[0]
    k = _kept_per_row(n_items, k)
    changed = np.unique(np.asarray(changed, np.int32))
    if transposes is None:
        transposes = sp.csr_array(left.T), sp.csr_array(right.T)
    new, fresh = _column_similarities(
        *transposes, changed, similarity, _floors(neighbours, k, changed), k, n_threads
    )
    if fresh is None:
        fresh = _topk_rows(left, right, k, similarity, changed, n_threads)
    return _updated_lists(neighbours, changed, new, fresh, k)


def _floors(neighbours: sp.csr_array, k: int, changed: np.ndarray) -> np.ndarray:
    """Per list, the least value a new entry needs to enter it: a full list's last value
    (it keeps that rank or better), -inf for a list with room, +inf for the lists of
    ``changed`` (computed again)."""
    lengths = np.diff(neighbours.indptr)
    floor = np.full(neighbours.shape[0], -np.inf, np.float32)
    listed = np.flatnonzero(lengths)
    if listed.size:
        last = np.minimum.reduceat(neighbours.data, neighbours.indptr[listed])
        floor[listed] = np.where(lengths[listed] >= k, last, -np.inf)
    floor[changed] = np.inf
    return floor


def _updated_lists(neighbours, changed, new, fresh, k) -> sp.csr_array:
    """The lists with ``changed``'s replaced by ``fresh`` (row of ``changed``, column, value)
    and ``new`` (row, column, value: the other lists' new values in ``changed``'s columns)
    merged into the others; the lists nothing reaches stay as they are."""
    n_items = neighbours.shape[0]
    is_changed = np.zeros(n_items, bool)
    is_changed[changed] = True
    new_rows, new_cols, new_values = new
    touched = np.zeros(n_items, bool)
    touched[new_rows] = True
    old_rows = np.repeat(np.arange(n_items), np.diff(neighbours.indptr))
    touched[old_rows[is_changed[neighbours.indices]]] = True
    touched &= ~is_changed
    merged = _merge(
        neighbours, np.flatnonzero(touched), is_changed, new_rows, new_cols, new_values, k
    )
    as_before = ~(is_changed | touched)[old_rows]
    kept = (old_rows[as_before], neighbours.indices[as_before], neighbours.data[as_before])
    fresh_rows, fresh_cols, fresh_values = fresh
    by_column = np.lexsort((fresh_cols, fresh_rows))  # the others are in column order
    fresh = (changed[fresh_rows[by_column]], fresh_cols[by_column], fresh_values[by_column])
    return _assemble([kept, merged, fresh], n_items, sort=False)


def _assemble(parts: list, n_items: int, *, sort: bool = True) -> sp.csr_array:
    """CSR of (row, column, value) triplet parts, each grouped by row in increasing order and
    no two holding the same row; indices sorted within rows (``sort=False``: they are)."""
    lengths = sum(np.bincount(rows, minlength=n_items) for rows, _, _ in parts)
    indptr = np.zeros(n_items + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(indptr[-1], np.int32)
    data = np.empty(indptr[-1], np.float32)
    for rows, cols, values in parts:
        first = np.zeros(n_items + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n_items), out=first[1:])
        position = indptr[rows] + np.arange(rows.size) - first[rows]
        indices[position] = cols
        data[position] = values
    matrix = sp.csr_array((data, indices, indptr), shape=(n_items, n_items))
    if sort:
        matrix.sort_indices()
    else:
        matrix.has_sorted_indices = True
    return matrix


def _merge(old, rows, dropped, new_rows, new_cols, new_values, k):
    """(row, column, value) of the best ``k`` of each row of ``rows``: its entries in ``old``
    outside the ``dropped`` columns and its new entries."""
    order = np.argsort(new_rows, kind="stable")
    slot = np.full(old.shape[0], -1, np.int64)
    slot[rows] = np.arange(rows.size)
    new_indptr = np.zeros(rows.size + 1, np.int64)
    np.cumsum(np.bincount(slot[new_rows], minlength=rows.size), out=new_indptr[1:])
    indices = np.zeros((rows.size, k), np.int32)
    values = np.zeros((rows.size, k), np.float32)
    lengths = np.zeros(rows.size, np.int32)
    old_indptr, old_indices = csr_arrays(old)
    merge_topk_rows(
        rows.astype(np.int64), old_indptr, old_indices,
        np.ascontiguousarray(old.data, np.float32), dropped.view(np.uint8),
        new_indptr, np.ascontiguousarray(new_cols[order], np.int32),
        np.ascontiguousarray(new_values[order], np.float32),
        k, indices, values, lengths,
    )  # fmt: skip
    mask = np.arange(k)[None, :] < lengths[:, None]
    return np.repeat(rows, lengths), indices[mask], values[mask]


def worth_updating(history: sp.csr_array, changed: np.ndarray, symmetric: bool) -> bool:
    """Whether :func:`forget_in_similarity` on ``changed`` costs less than a full pass: a
    pass over item i reads its users' whole histories; the update reads those of
    ``changed`` once for a symmetric similarity (their lists come with their columns),
    twice otherwise, plus a pass over the lists (counted as 30% of a fit)."""
    lengths = np.diff(history.indptr)
    work = np.bincount(
        history.indices,
        weights=np.repeat(lengths.astype(np.float64), lengths),
        minlength=history.shape[1],
    )
    passes = 1 if symmetric else 2
    return passes * work[changed].sum() < 0.7 * work.sum()


def _column_similarities(by_user, by_column, columns, similarity: Similarity, floor, k, n_threads):
    """(row, column, value) of the positive similarities in ``columns`` that reach the
    ``floor`` of their row (``by_user``: ``left.T``, ``by_column``: ``right.T``), the columns
    spread over threads; and, for a symmetric similarity, the columns' own top-``k`` lists as
    (row of the output, column, value) triplets (else None)."""
    by_user.sort_indices()
    by_column.sort_indices()
    l_indptr, l_indices = csr_arrays(by_user)
    c_indptr, c_indices = csr_arrays(by_column)
    l_data = np.ascontiguousarray(by_user.data, np.float64)
    c_data = np.ascontiguousarray(by_column.data, np.float64)
    own = k if similarity.symmetric else 0
    indices = np.zeros((columns.size, max(own, 1)), np.int32)
    values = np.zeros((columns.size, max(own, 1)), np.float32)
    lengths = np.zeros(columns.size, np.int32)
    bounds = np.linspace(0, columns.size, max(1, min(8 * n_threads, columns.size)) + 1)
    bounds = bounds.astype(np.int64)
    results: list = [None] * (bounds.size - 1)

    def work(start: int, stop: int) -> None:
        for t in range(start, stop):
            a, b = bounds[t], bounds[t + 1]
            results[t] = column_similarities(
                l_indptr, l_indices, l_data, c_indptr, c_indices, c_data,
                np.ascontiguousarray(columns[a:b], np.int32), *similarity.args(), floor,
                own, indices[a:b], values[a:b], lengths[a:b],
            )  # fmt: skip

    run_chunks(work, len(results), n_threads, chunk=1)
    found = tuple(np.concatenate([r[field] for r in results]) for field in range(3))
    if not own:
        return found, None
    mask = np.arange(own)[None, :] < lengths[:, None]
    return found, (np.repeat(np.arange(columns.size), lengths), indices[mask], values[mask])


def canonical(matrix: sp.csr_array) -> sp.csr_array:
    """float32 CSR with int32 indices, sorted, no explicit zeros."""
    matrix = sp.csr_array(matrix, dtype=np.float32)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    matrix.indices = matrix.indices.astype(np.int32, copy=False)
    matrix.indptr = matrix.indptr.astype(np.int64, copy=False)
    return matrix


class ItemBasedRecommender(Recommender):
    """Base of recommenders scoring ``history @ weights_`` (see the module docstring)."""

    def _after_load(self) -> None:
        # dense weights are read by rows: a Fortran-ordered array (files written before 0.2)
        # would make every `history @ weights_` copy the whole matrix
        weights = getattr(self, "weights_", None)
        if isinstance(weights, np.ndarray) and not weights.flags.c_contiguous:
            self.weights_ = np.ascontiguousarray(weights)

    # -- scoring -----------------------------------------------------------------------------
    def _score_users(self, user_index: np.ndarray):
        return self._score_history(self.history_[user_index])

    def _score_history(self, history: sp.csr_array):
        product = history @ self.weights_
        return (
            np.asarray(product, dtype=np.float32)
            if not sp.issparse(product)
            else (canonical(product))
        )

    def _fused(self, history, rows, seen, seen_rows, n, blocked) -> TopK:
        """Score ``history[rows] @ weights_``, mask and keep the top ``n``, in one compiled
        pass per row (sparse or dense weights), rows spread over threads."""
        out = TopK(len(rows), n)
        seen_indptr, seen_indices = csr_arrays(seen) if seen is not None else _NO_SEEN
        seen_rows = (
            np.ascontiguousarray(seen_rows, np.int64)
            if seen is not None
            else np.full(len(rows), -1, np.int64)
        )
        h_indptr, h_indices = csr_arrays(history)
        h_data = np.ascontiguousarray(history.data, dtype=np.float32)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        history_args = (h_indptr, h_indices, h_data, rows)
        seen_args = (seen_indptr, seen_indices, seen_rows)
        outputs = (out.items, out.scores, out.lengths)
        if sp.issparse(self.weights_):
            kernel, weight_args = score_topk_rows, self._sparse_weight_args()
        else:
            kernel, weight_args = dense_score_topk_rows, self._dense_weight_args(blocked)
        blocked = as_mask(blocked)

        def work(start: int, stop: int) -> None:
            kernel(*history_args, *weight_args, *seen_args, blocked, n, start, stop, *outputs)

        run_chunks(work, len(rows), self._threads() if len(rows) >= 512 else 1, chunk=512)
        return out

    def _sparse_weight_args(self) -> tuple:
        weights = self.weights_
        w_indptr, w_indices = csr_arrays(weights)
        w_data = np.ascontiguousarray(weights.data, dtype=np.float32)
        return w_indptr, w_indices, w_data, weights.shape[1]

    def _dense_weight_args(self, blocked: np.ndarray | None) -> tuple:
        """(weights, allowed): with a whitelist of under a quarter of the catalogue, only its
        columns are scored (a 2,000-item whitelist of 20,000 costs a tenth of a full row)."""
        weights = self.weights_
        if weights.dtype != np.float32 or not weights.flags.c_contiguous:
            weights = np.ascontiguousarray(weights, dtype=np.float32)
        allowed = _NO_ITEMS
        if blocked is not None:
            open_items = np.flatnonzero(~blocked)
            if open_items.size * 4 < weights.shape[1]:
                allowed = open_items.astype(np.int32)
        return weights, allowed

    def _rank_known(self, user_index, n, exclude_seen, blocked) -> TopK:
        rows = np.asarray(user_index, dtype=np.int64)
        return self._fused(
            self.history_, rows, self.history_ if exclude_seen else None, rows, n, blocked
        )

    def _rank_baskets(self, matrix, n, exclude_seen, blocked) -> TopK:
        rows = np.arange(matrix.shape[0], dtype=np.int64)
        return self._fused(matrix, rows, matrix if exclude_seen else None, rows, n, blocked)

    def _similar_items_scores(self, item_index: np.ndarray):
        row = self.weights_[item_index]
        return canonical(row) if sp.issparse(row) else np.asarray(row, np.float32)

    def _explanation(self, user_index: int, item_index: int) -> dict[str, np.ndarray]:
        indptr, indices = csr_arrays(self.history_)
        start, stop = indptr[user_index], indptr[user_index + 1]
        items = indices[start:stop]
        values = self.history_.data[start:stop].astype(np.float64)
        column = _weights_towards(self.weights_, items, item_index)
        contribution = values * column
        total = contribution.sum()
        keep = np.flatnonzero(contribution != 0)
        ids = self.item_map_.ids(items[keep])
        # largest contribution first, ties by item id (as a stable sort on both would)
        order = np.lexsort((ids, -contribution[keep])) if keep.size else keep
        keep = keep[order]
        return {
            "item": ids[order],
            "value": values[keep],
            "weight": column[keep],
            "contribution": contribution[keep],
            "share": contribution[keep] / total if total else np.full(keep.size, np.nan),
        }


def _weights_towards(weights: Any, rows: np.ndarray, column: int) -> np.ndarray:
    """``weights[rows, column]`` as float64, reading only those rows of a sparse matrix
    (a column slice of a CSR matrix would scan all of it)."""
    if not sp.issparse(weights):
        return weights[rows, column].astype(np.float64)
    indptr, indices = csr_arrays(weights)
    out = np.zeros(rows.size, np.float64)
    for position, row in enumerate(rows):
        lo, hi = indptr[row], indptr[row + 1]
        at = lo + np.searchsorted(indices[lo:hi], column)
        if at < hi and indices[at] == column:
            out[position] = weights.data[at]
    return out


def available_memory() -> int:
    """Bytes of memory available to this process now (MemAvailable; physical pages fallback)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    import os

    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def check_dense_memory(model: str, n_items: int, copies: float, max_memory: int | None) -> None:
    """Refuse, before any work, a dense n_items x n_items job that would not fit in memory."""
    from ..exceptions import NotSupportedError

    need = int(copies * 4 * n_items * n_items)
    limit = available_memory() if max_memory is None else int(max_memory)
    if need > limit:
        raise NotSupportedError(
            f"{model} needs dense {n_items:,} x {n_items:,} float32 matrices: about "
            f"{need / 2**30:.1f} GiB, but the limit is {limit / 2**30:.1f} GiB "
            f"({'available memory' if max_memory is None else 'max_memory'}). Reduce the "
            "catalog (reco.eval.min_interactions or k_core), or use ItemKNN or RP3beta, which "
            "stay sparse."
        )


def gram_matrix(X: sp.csr_array, n_threads: int) -> np.ndarray:
    """Dense ``X^T X`` (float32) accumulated by a compiled kernel in column blocks, in parallel."""
    from ._kernels import gram_columns

    X = sp.csr_array(X, dtype=np.float32)
    X.sort_indices()
    n_items = X.shape[1]
    gram = np.zeros((n_items, n_items), np.float32)
    indptr, indices = csr_arrays(X)
    data = np.ascontiguousarray(X.data, dtype=np.float32)

    def work(start: int, stop: int) -> None:
        gram_columns(indptr, indices, data, start, stop, gram)

    run_chunks(work, n_items, n_threads, chunk=max(64, n_items // (4 * max(1, n_threads))))
    return gram
