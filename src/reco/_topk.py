"""The fused "score -> mask -> top-k" kernels every recommender uses.

For a block of users the caller provides scores (a dense float32 block, or sparse CSR rows
where a missing entry means "not a candidate"), and this module removes

* the items each user has already seen (read from the training CSR, no copy of the scores),
* a blocked-item mask (``exclude_items`` plus everything outside ``candidates``),
* items scored ``-inf`` or NaN (a model's way of saying "never recommend"),

then keeps the ``n`` best per row.

Tie rule
--------
Higher score first; among equal scores the item with the **lower index** (the one that comes
first in the fitted item map) ranks first. The rule is total, so results are deterministic and
independent of the number of threads.

The kernels (compiled, :mod:`reco._topk_kernels`) are serial and release the GIL;
:func:`select_topk` spreads rows over a thread pool, so concurrent callers (web-server
threads) share no parallel runtime.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._topk_kernels import dot_rows, dot_topk_rows, topk_dense_rows, topk_sparse_rows

__all__ = ["TopK", "dot_scores", "dot_topk", "select_topk"]

# rows below this are scored on the calling thread: a pool costs more than it saves
_MIN_ROWS_PER_THREAD = 256


def _split_rows(run: Callable[[int, int], None], n_rows: int, n_threads: int) -> None:
    """Call ``run(start, stop)`` on contiguous shares of the rows, one per thread (small jobs
    stay on the calling thread)."""
    threads = max(1, min(int(n_threads), n_rows // _MIN_ROWS_PER_THREAD))
    if threads == 1:
        run(0, n_rows)
        return
    bounds = np.linspace(0, n_rows, threads + 1).astype(int)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(run, a, b) for a, b in itertools.pairwise(bounds)]:
            future.result()


class TopK:
    """Output buffers for one call: ``items`` (-1 padded), ``scores`` (-inf padded), ``lengths``."""

    __slots__ = ("items", "lengths", "scores")

    def __init__(self, n_rows: int, n: int) -> None:
        self.items = np.full((n_rows, n), -1, dtype=np.int32)
        self.scores = np.full((n_rows, n), -np.inf, dtype=np.float32)
        self.lengths = np.zeros(n_rows, dtype=np.int32)


_EMPTY_BOOL = np.zeros(0, dtype=np.uint8)
_EMPTY_INDPTR = np.zeros(1, dtype=np.int64)
_EMPTY_INDICES = np.zeros(0, dtype=np.int32)


# kernel-ready index arrays of large CSRs (a model's history and weights), so that serving a
# single user does not convert a whole int32 indptr on every call: id -> (ref, indptr,
# indices, converted); an entry lives as long as its matrix and its arrays are unchanged
_CONVERTED: dict[int, tuple] = {}
_CACHE_ENTRIES = 4096


def csr_arrays(matrix: sp.csr_array | sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr as int64, indices as int32)`` of a CSR, the index types every kernel takes
    (no copy when they already are; converted once for large matrices)."""
    indptr, indices = matrix.indptr, matrix.indices
    if indptr.dtype == np.int64 and indices.dtype == np.int32:
        return np.ascontiguousarray(indptr), np.ascontiguousarray(indices)
    key = id(matrix)
    hit = _CONVERTED.get(key)
    if hit is not None and hit[0]() is matrix and hit[1] is indptr and hit[2] is indices:
        return hit[3]
    converted = (
        np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(indices, dtype=np.int32),
    )
    if indptr.size + indices.size > _CACHE_ENTRIES:
        ref = weakref.ref(matrix, lambda _, key=key: _CONVERTED.pop(key, None))
        _CONVERTED[key] = (ref, indptr, indices, converted)
    return converted


def as_mask(blocked: np.ndarray | None) -> np.ndarray:
    """A boolean item mask as the kernels' uint8 (a view), or the empty "nothing blocked"."""
    if blocked is None:
        return _EMPTY_BOOL
    return np.ascontiguousarray(blocked, dtype=np.bool_).view(np.uint8)


def _history_arrays(
    history: sp.csr_array | None, history_rows: np.ndarray | None, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, row of each output row) of the seen items; rows -1 without."""
    if history is None:
        return _EMPTY_INDPTR, _EMPTY_INDICES, np.full(n_rows, -1, dtype=np.int64)
    indptr, indices = csr_arrays(history)
    return indptr, indices, np.ascontiguousarray(history_rows, dtype=np.int64)


def select_topk(
    scores: np.ndarray | sp.csr_array,
    n: int,
    *,
    history: sp.csr_array | None = None,
    history_rows: np.ndarray | None = None,
    blocked: np.ndarray | None = None,
    out: TopK | None = None,
    offset: int = 0,
    n_threads: int = 1,
) -> TopK:
    """Top ``n`` items of each row of ``scores`` after masking.

    Parameters
    ----------
    scores : ndarray (rows x items, float32) or csr_array
        Dense scores, or sparse rows whose absent entries are not candidates.
    n : int
        List length.
    history : csr_array, optional
        Seen items (users x items, sorted indices); row ``history_rows[r]`` is excluded from
        row ``r`` (``-1`` = nothing to exclude).
    blocked : bool ndarray of length n_items, optional
        Items never to return (exclusions and non-candidates).
    out, offset : TopK and int, optional
        Write into ``out`` at rows ``offset : offset + len(scores)`` (for block loops).
    n_threads : int
        Threads for the row loop (rows are split evenly; results do not depend on it).
    """
    if not sp.issparse(scores):
        scores = np.ascontiguousarray(scores, dtype=np.float32)
    n_rows = scores.shape[0]
    if out is None:
        out = TopK(n_rows, n)
        offset = 0
    items = out.items[offset : offset + n_rows]
    best = out.scores[offset : offset + n_rows]
    lengths = out.lengths[offset : offset + n_rows]
    hist_indptr, hist_indices, rows = _history_arrays(history, history_rows, n_rows)
    blocked = as_mask(blocked)
    if sp.issparse(scores):
        csr = scores if scores.has_sorted_indices else scores.sorted_indices()
        indptr, indices = csr_arrays(csr)
        data = np.ascontiguousarray(csr.data, dtype=np.float32)

        def run(start: int, stop: int) -> None:
            topk_sparse_rows(
                indptr,
                indices,
                data,
                rows,
                hist_indptr,
                hist_indices,
                blocked,
                n,
                start,
                stop,
                items,
                best,
                lengths,
            )
    else:

        def run(start: int, stop: int) -> None:
            topk_dense_rows(
                scores,
                rows,
                hist_indptr,
                hist_indices,
                blocked,
                n,
                start,
                stop,
                items,
                best,
                lengths,
            )

    _split_rows(run, n_rows, n_threads)
    return out


def dot_topk(
    user_factors: np.ndarray,
    item_factors_t: np.ndarray,
    n: int,
    *,
    history: sp.csr_array | None = None,
    history_rows: np.ndarray | None = None,
    blocked: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    n_threads: int = 1,
) -> TopK:
    """Top ``n`` of ``user_factors @ item_factors_t`` (float32), scored and masked together.

    ``item_factors_t`` is the item factors transposed (factors x items, C-ordered), made once
    by the model: a serving call never copies the catalogue. A few users at a time are scored
    by a compiled kernel into a buffer that stays in cache and selected from it; each score is
    summed in one fixed order, so a user's list is the same, bit for bit, whether asked alone,
    in a batch, on another thread or on another worker (BLAS's products change with the
    batch shape). ``history_rows[r]`` is the history row of ``user_factors[r]`` (default:
    the same row). With ``allowed`` (sorted item indices), ``item_factors_t`` holds only
    those items' columns, in that order: a whitelist scored alone, lists and history in the
    catalogue's indices.
    """
    user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
    item_factors_t = np.ascontiguousarray(item_factors_t, dtype=np.float32)
    n_rows = user_factors.shape[0]
    out = TopK(n_rows, n)
    if history is not None and history_rows is None:
        history_rows = np.arange(n_rows, dtype=np.int64)
    hist_indptr, hist_indices, rows = _history_arrays(history, history_rows, n_rows)
    blocked = as_mask(blocked)
    allowed = _EMPTY_INDICES if allowed is None else np.ascontiguousarray(allowed, np.int32)

    def work(start: int, stop: int) -> None:
        dot_topk_rows(
            user_factors,
            item_factors_t,
            rows,
            hist_indptr,
            hist_indices,
            blocked,
            allowed,
            n,
            start,
            stop,
            out.items,
            out.scores,
            out.lengths,
        )

    _split_rows(work, n_rows, n_threads)
    return out


def dot_scores(user_factors: np.ndarray, item_factors_t: np.ndarray) -> np.ndarray:
    """``user_factors @ item_factors_t`` with :func:`dot_topk`'s arithmetic (the scores a
    list shows are the scores ``score()`` returns)."""
    user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
    out = np.empty((user_factors.shape[0], item_factors_t.shape[1]), np.float32)
    dot_rows(user_factors, np.ascontiguousarray(item_factors_t, np.float32), out, 0, len(out))
    return out
