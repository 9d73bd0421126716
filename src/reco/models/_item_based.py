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
from ._kernels import dense_score_topk_rows, item_topk_rows, score_topk_rows

_NO_SEEN = (np.zeros(1, np.int64), np.zeros(0, np.int32))
_NO_ITEMS = np.zeros(0, np.int32)


def topk_similarity(
    left: sp.csr_array,
    right: sp.csr_array,
    k: int,
    *,
    mode: int,
    norms: np.ndarray | None = None,
    counts: np.ndarray | None = None,
    alpha: float = 0.5,
    shrink: float = 0.0,
    col_scale: np.ndarray | None = None,
    n_threads: int = 1,
) -> sp.csr_array:
    """Items x items CSR keeping, for each row i, the ``k`` best j of ``sim(left[i] @ right)``.

    ``left`` is items x users, ``right`` users x items (both CSR). See
    :func:`reco.models._kernels.item_topk_rows` for the modes.
    """
    n_items = left.shape[0]
    k = int(min(k, max(1, n_items - 1)))
    indices = np.zeros((n_items, k), np.int32)
    values = np.zeros((n_items, k), np.float32)
    lengths = np.zeros(n_items, np.int32)
    # items without interactions have d = 0 everywhere: give them placeholders, not 0/0
    norms = np.ones(n_items) if norms is None else np.asarray(norms, np.float64)
    norms = np.where(norms > 0, norms, 1.0)
    counts = np.ones(n_items) if counts is None else np.asarray(counts, np.float64)
    counts = np.where(counts > 0, counts, 1.0)
    col_scale = np.ones(n_items) if col_scale is None else np.asarray(col_scale, np.float64)
    a_indptr, a_indices = csr_arrays(left)
    r_indptr, r_indices = csr_arrays(right)
    a_data = left.data.astype(np.float64)
    r_data = right.data.astype(np.float64)

    def work(start: int, stop: int) -> None:
        item_topk_rows(
            a_indptr,
            a_indices,
            a_data,
            r_indptr,
            r_indices,
            r_data,
            mode,
            norms,
            counts,
            float(alpha),
            float(shrink),
            col_scale,
            k,
            start,
            stop,
            indices[start:stop],
            values[start:stop],
            lengths[start:stop],
        )

    run_chunks(work, n_items, n_threads)
    mask = np.arange(k)[None, :] < lengths[:, None]
    indptr = np.zeros(n_items + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    matrix = sp.csr_array((values[mask], indices[mask], indptr), shape=(n_items, n_items))
    matrix.sort_indices()
    return matrix


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
