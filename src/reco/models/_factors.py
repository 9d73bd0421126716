"""Shared machinery of factor models: ``score(u, i) = x_u . y_i``.

A subclass learns ``user_factors_`` (n_users x k) and ``item_factors_`` (n_items x k), both
float32, and says how a history row that was not trained on becomes a user vector
(:meth:`FactorRecommender._fold_in`). This module serves them: scoring and top-n through
:func:`reco._topk.dot_topk` (BLAS in row blocks, masked and cut in the same pass, never a
users x items matrix), and cosine similarity between items and between users.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Array
from .._topk import TopK, csr_arrays, dot_scores, dot_topk, select_topk
from .._validation import check_n
from ..base import Recommender
from ..results import RecList


class FactorRecommender(Recommender):
    """Base of factor models (see the module docstring)."""

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "user_factors_": Array("float32", ("users", "factors")),
        "item_factors_": Array("float32", ("items", "factors")),
    }

    def _fold_in(self, history: sp.csr_array) -> np.ndarray:
        """User vectors (rows x k, float32) for history rows with the item factors fixed."""
        raise NotImplementedError

    def _after_load(self) -> None:
        self.__dict__.pop("_item_factors_t", None)
        self.__dict__.pop("_whitelist_cache", None)

    def _items_t(self) -> np.ndarray:
        """The item factors transposed (k x n_items, C-ordered), made once per model."""
        cached = self.__dict__.get("_item_factors_t")
        if cached is None or cached[0] is not self.item_factors_:
            items_t = np.ascontiguousarray(self.item_factors_.T)
            cached = (self.item_factors_, items_t)
            self._item_factors_t = cached
        return cached[1]

    # -- scoring -----------------------------------------------------------------------------
    def _score_users(self, user_index: np.ndarray) -> np.ndarray:
        return dot_scores(self.user_factors_[user_index], self._items_t())

    def _score_history(self, history: sp.csr_array) -> np.ndarray:
        return dot_scores(self._fold_in(history), self._items_t())

    def _rank_known(self, user_index, n, exclude_seen, blocked) -> TopK:
        rows = np.asarray(user_index, dtype=np.int64)
        history = self.history_ if exclude_seen else None
        return self._rank_vectors(self.user_factors_[rows], n, history, rows, blocked)

    def _rank_baskets(self, matrix, n, exclude_seen, blocked) -> TopK:
        history = matrix if exclude_seen else None
        return self._rank_vectors(self._fold_in(matrix), n, history, None, blocked)

    def _rank_vectors(self, vectors, n, history, history_rows, blocked) -> TopK:
        """Top-n of ``vectors @ items`` masked; with a whitelist of under a quarter of the
        catalogue only its items are scored (each score is the same float either way)."""
        items_t = self._items_t()
        allowed = None if blocked is None else np.flatnonzero(~blocked)
        if allowed is None or allowed.size * 4 >= items_t.shape[1]:
            return dot_topk(
                vectors,
                items_t,
                n,
                history=history,
                history_rows=history_rows,
                blocked=blocked,
                n_threads=self._threads(),
            )
        if history is not None:  # the seen items, renumbered among the allowed ones
            rows = np.arange(len(vectors)) if history_rows is None else history_rows
            history = _renumbered_rows(history, rows, allowed, items_t.shape[1])
        out = dot_topk(
            vectors, self._whitelist_items(allowed), n, history=history, n_threads=self._threads()
        )
        out.items = np.where(out.items >= 0, allowed[np.maximum(out.items, 0)], -1).astype(np.int32)
        return out

    def _whitelist_items(self, allowed: np.ndarray) -> np.ndarray:
        """The item factors of a whitelist (k x len(allowed)), kept for the next call: a
        backend sends the same stock list with every request, and gathering 2,000 columns
        costs more than scoring them."""
        items_t = self._items_t()
        cached = self.__dict__.get("_whitelist_cache")
        if (
            cached is not None
            and cached[0] is items_t
            and cached[1].shape == allowed.shape
            and np.array_equal(cached[1], allowed)
        ):
            return cached[2]
        gathered = np.ascontiguousarray(items_t[:, allowed])
        self._whitelist_cache = (items_t, allowed, gathered)
        return gathered

    # -- similarity --------------------------------------------------------------------------
    def _similar_items_scores(self, item_index: np.ndarray) -> np.ndarray:
        return _cosine(self.item_factors_[item_index], self.item_factors_)

    def similar_users(self, user: Hashable, n: int = 10) -> RecList:
        """The ``n`` users whose factors are closest to ``user``'s (cosine; never the user
        itself). Returns a :class:`RecList` whose ``items`` are user ids."""
        self._check_fitted()
        n = min(check_n(n), len(self.user_map_))
        index = self.user_map_.index_one(user)
        blocked = np.zeros(len(self.user_map_), bool)
        blocked[index] = True
        scores = _cosine(self.user_factors_[[index]], self.user_factors_)
        out = select_topk(scores, n, blocked=blocked)
        found = out.items[0, : out.lengths[0]]
        return RecList(user, self.user_map_.ids(found), out.scores[0, : found.size], found)


def _cosine(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Cosine similarity of each of ``rows`` with every row of ``table`` (0 for zero rows)."""
    norms = np.linalg.norm(table, axis=1)
    own = np.linalg.norm(rows, axis=1)
    scores = rows @ table.T
    scale = np.outer(own, norms)
    return np.divide(scores, scale, out=np.zeros_like(scores), where=scale > 0).astype(np.float32)


def _renumbered_rows(
    history: sp.csr_array, rows: np.ndarray, allowed: np.ndarray, n_items: int
) -> sp.csr_array:
    """Rows ``rows`` of ``history`` restricted to the sorted item indices ``allowed`` and
    renumbered 0..len(allowed)-1 (sorted rows stay sorted)."""
    indptr, indices = csr_arrays(history)
    starts, stops = indptr[rows], indptr[np.asarray(rows) + 1]
    lengths = stops - starts
    picked = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    position = np.full(n_items, -1, np.int64)
    position[allowed] = np.arange(allowed.size)
    new = position[indices[picked]]
    keep = new >= 0
    counts = np.add.reduceat(keep, np.r_[0, np.cumsum(lengths)[:-1]]) if keep.size else 0
    counts = np.where(lengths > 0, counts, 0)
    new_indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    values = np.ones(int(keep.sum()), np.float32)
    return sp.csr_array(
        (values, new[keep].astype(np.int32), new_indptr), shape=(len(rows), allowed.size)
    )


def progress_bar(total: int, show: bool, desc: str, unit: str):
    """A callback advancing a tqdm bar by one step, showing the loss when given (a no-op
    without ``show``)."""
    if not show:
        return lambda loss=None: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit)

    def step(loss: float | None = None) -> None:
        bar.update(1)
        if loss is not None:
            bar.set_postfix(loss=f"{loss:.5f}")
        if bar.n >= total:
            bar.close()

    return step
