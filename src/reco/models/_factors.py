"""Shared machinery of factor models: ``score(u, i) = x_u . y_i``.

A subclass learns ``user_factors_`` (n_users x k) and ``item_factors_`` (n_items x k), both
float32, and says how a history row that was not trained on becomes a user vector
(:meth:`FactorRecommender._fold_in`). This module serves them: scoring and top-n through
:func:`reco._topk.dot_topk` (BLAS in row blocks, masked and cut in the same pass, never a
users x items matrix), and cosine similarity between items and between users.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Array, Scalar
from .._topk import TopK, csr_arrays, dot_scores, dot_topk, select_topk
from .._validation import check_int, check_n
from ..base import Recommender, as_interactions, history_state
from ..data import IdMap, Interactions
from ..exceptions import DataValidationError, NotSupportedError
from ..results import RecList


class FactorRecommender(Recommender):
    """Base of factor models (see the module docstring)."""

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "user_factors_": Array("float32", ("users", "factors")),
        "item_factors_": Array("float32", ("items", "factors")),
        "validation_ndcg_": Array("float64", ("validation checks",)),
        "best_iteration_": Scalar((int,), low=0),
    }

    def fit(
        self, X: Any, y: None = None, *, validation: Any = None, patience: int = 3, k: int = 10
    ) -> FactorRecommender:
        """Learn from ``X`` (an :class:`Interactions`, a users x items sparse matrix or a frame).

        With ``validation`` (held-out interactions of training users, in any form ``X``
        takes, with the shop's ids) the model stops early: NDCG@``k`` of the held-out items,
        training items excluded, is measured after every iteration, training stops once it
        has not improved for ``patience`` iterations, and the factors of the best iteration
        are kept (``validation_ndcg_``, ``best_iteration_``). Held-out pairs of unknown users
        or items, or already in training, are ignored. Returns ``self``.
        """
        check_int(patience, "patience", low=1)
        check_int(k, "k", low=1)
        self._pending_validation = (validation, int(patience), int(k))
        try:
            return super().fit(X, y)
        finally:
            del self._pending_validation

    def _held_out(self, data: Interactions) -> tuple[HeldOut | None, int]:
        """The validation set given to :meth:`fit` (None without one) and its patience."""
        validation, patience, k = self.__dict__.get("_pending_validation", (None, 0, 10))
        if validation is None:
            return None, 0
        return HeldOut(validation, data, k), patience

    def _fold_in(self, history: sp.csr_array) -> np.ndarray:
        """User vectors (rows x k, float32) for history rows with the item factors fixed."""
        raise NotImplementedError

    _derived: ClassVar[tuple[str, ...]] = (
        *Recommender._derived,
        "_item_factors_t",
        "_whitelist_cache",
    )

    def _after_load(self) -> None:
        self._drop_derived()

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
        return dot_topk(
            vectors,
            self._whitelist_items(allowed),
            n,
            history=history,
            history_rows=history_rows,
            allowed=allowed,
            n_threads=self._threads(),
        )

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

    # -- new data ----------------------------------------------------------------------------
    def _grown_history(self, X: Any) -> GrownHistory:
        """The history with ``X`` (new interactions, the shop's ids) added: unknown users and
        items appended to the id maps, values of pairs seen before added to the old ones."""
        data = as_interactions(X)
        user_map, new_users = _grown_map(self.user_map_, data.user_map)
        item_map, new_items = _grown_map(self.item_map_, data.item_map)
        added = data.to_csr().tocoo()
        rows = user_map.index(data.user_map.array)[added.row].astype(np.int64)
        cols = item_map.index(data.item_map.array)[added.col].astype(np.int64)
        shape = (len(user_map), len(item_map))
        old = sp.csr_array(
            (self.history_.data, self.history_.indices, self.history_.indptr),
            shape=(self.history_.shape[0], shape[1]),
        )
        old.resize(shape)
        history = old + sp.csr_array((added.data.astype(np.float32), (rows, cols)), shape=shape)
        history = sp.csr_array(history, dtype=np.float32)
        history.sort_indices()
        history.indices = history.indices.astype(np.int32)
        history.indptr = history.indptr.astype(np.int64)
        if np.abs(history.data).max(initial=0) > 1e6 or not np.isfinite(history.data).all():
            raise DataValidationError(
                "the added values make interaction values larger than 1e6 or not finite; "
                "rescale them (e.g. numpy.log1p) before partial_fit."
            )
        return GrownHistory(user_map, item_map, history, rows, cols, new_users, new_items)

    def _adopt(self, grown: GrownHistory, users: np.ndarray, items: np.ndarray) -> None:
        """Install the grown maps and history and the updated factors (caches dropped)."""
        self._drop_derived()
        for name, value in history_state(grown.user_map, grown.item_map, grown.history).items():
            setattr(self, name, value)
        self.user_factors_, self.item_factors_ = users, items

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


def implicit_backend(model: FactorRecommender, family: str) -> Any:
    """implicit's factory module for ``family`` ("als" or "bpr") for ``backend="implicit"``,
    after refusing what implicit cannot fit; an ImportError naming the extra without it."""
    if model.__dict__.get("_pending_validation", (None,))[0] is not None:
        raise NotSupportedError(
            "early stopping (validation=) runs on reco's own kernels only; drop validation= "
            "or use backend='reco'."
        )
    try:
        import implicit.gpu
        from implicit import als, bpr
    except ImportError:
        raise ImportError(
            "backend='implicit' needs implicit: pip install 'reco[implicit]'"
        ) from None
    return (als if family == "als" else bpr), bool(implicit.gpu.HAS_CUDA)


def implicit_factors(fitted: Any) -> tuple[np.ndarray, np.ndarray]:
    """An implicit model's factors as C-ordered float32 arrays in host memory."""
    if hasattr(fitted, "to_cpu") and not isinstance(fitted.user_factors, np.ndarray):
        fitted = fitted.to_cpu()
    return (
        np.ascontiguousarray(fitted.user_factors, dtype=np.float32),
        np.ascontiguousarray(fitted.item_factors, dtype=np.float32),
    )


class HeldOut:
    r"""Held-out interactions of training users: the NDCG@k of factors on them (early
    stopping). :math:`\mathrm{NDCG@k} = \frac{1}{|U|} \sum_u \sum_{r<k} \frac{[i_{u,r}
    \in T_u]}{\log_2(r+2)} / \sum_{r<\min(k,|T_u|)} \frac{1}{\log_2(r+2)}`, training items
    excluded from the lists and from :math:`T_u`."""

    def __init__(self, validation: Any, data: Interactions, k: int) -> None:
        held = as_interactions(validation)
        coo = held.to_csr().tocoo()
        users = data.user_map.index(held.user_map.array, missing="negative")[coo.row]
        items = data.item_map.index(held.item_map.array, missing="negative")[coo.col]
        self.history = data.to_csr()
        keep = (users >= 0) & (items >= 0)
        keys = users[keep].astype(np.int64) * data.n_items + items[keep]
        indptr, indices = csr_arrays(self.history)
        owners = np.repeat(np.arange(data.n_users, dtype=np.int64), np.diff(indptr))
        trained = owners * data.n_items + indices
        keys = np.setdiff1d(keys, trained)  # sorted, unique, nothing the lists exclude
        if keys.size == 0:
            raise DataValidationError(
                "validation holds no interaction of a training user with a training item "
                "that is not already in training; give held-out interactions of known users "
                "and items (e.g. a random_holdout of the training data)."
            )
        self.keys, self.n_items, self.k = keys, data.n_items, k
        self.rows, counts = np.unique(keys // data.n_items, return_counts=True)
        discounts = 1.0 / np.log2(np.arange(k) + 2.0)
        self.ideal = np.cumsum(discounts)[np.minimum(counts, k) - 1]
        self.discounts = discounts

    def ndcg(self, users: np.ndarray, items: np.ndarray) -> float:
        """Mean NDCG@k of the factor model ``users @ items.T``."""
        top = dot_topk(
            users[self.rows], np.ascontiguousarray(items.T), self.k,
            history=self.history, history_rows=self.rows,
        )  # fmt: skip
        wanted = self.rows[:, None] * self.n_items + np.maximum(top.items, 0)
        at = np.minimum(np.searchsorted(self.keys, wanted), self.keys.size - 1)
        hits = (self.keys[at] == wanted) & (top.items >= 0)
        return float(np.mean((hits @ self.discounts[: hits.shape[1]]) / self.ideal))


class EarlyStopping:
    """The best iteration so far on a :class:`HeldOut` set and when to stop."""

    def __init__(self, held_out: HeldOut | None, patience: int) -> None:
        self.held_out, self.patience = held_out, patience
        self.scores: list[float] = []
        self.best: tuple[int, np.ndarray, np.ndarray] | None = None

    def done(self, iteration: int, users: np.ndarray, items: np.ndarray) -> bool:
        """Score iteration ``iteration`` (0-based), keep copies if it is the best; True when
        ``patience`` iterations have passed without improvement."""
        if self.held_out is None:
            return False
        self.scores.append(self.held_out.ndcg(users, items))
        if self.best is None or self.scores[-1] > self.scores[self.best[0]]:
            self.best = (iteration, users.copy(), items.copy())
        return iteration - self.best[0] >= self.patience

    def learned(self, n_iter: int) -> dict[str, Any]:
        if self.best is None:
            return no_early_stopping(n_iter)
        return {"validation_ndcg_": np.asarray(self.scores, np.float64),
                "best_iteration_": self.best[0] + 1}  # fmt: skip


def no_early_stopping(n_iter: int) -> dict[str, Any]:
    """The early-stopping attributes of a fit without a validation set."""
    return {"validation_ndcg_": np.zeros(0, np.float64), "best_iteration_": int(n_iter)}


@dataclass
class GrownHistory:
    """The training history with new interactions added (see :meth:`_grown_history`)."""

    user_map: IdMap
    item_map: IdMap
    history: sp.csr_array
    rows: np.ndarray  # user index of each added interaction
    cols: np.ndarray  # item index of each added interaction
    new_users: int
    new_items: int

    def factors(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``users`` and ``items`` with zero rows appended for the new ids."""
        return (
            np.vstack([users, np.zeros((self.new_users, users.shape[1]), users.dtype)]),
            np.vstack([items, np.zeros((self.new_items, items.shape[1]), items.dtype)]),
        )

    def positions(self) -> np.ndarray:
        """Where each added interaction sits in ``history.indices`` (int64)."""
        indptr, indices = csr_arrays(self.history)
        rows = np.repeat(np.arange(self.history.shape[0], dtype=np.int64), np.diff(indptr))
        keys = rows * self.history.shape[1] + indices
        wanted = self.rows.astype(np.int64) * self.history.shape[1] + self.cols
        return np.searchsorted(keys, np.unique(wanted)).astype(np.int64)


def _grown_map(known: IdMap, incoming: IdMap) -> tuple[IdMap, int]:
    """``known`` with the ids of ``incoming`` it lacks appended (in their order), and how
    many were added."""
    ids = incoming.array
    fresh = ids[known.index(ids, missing="negative") < 0]
    if fresh.size == 0:
        return known, 0
    merged = np.concatenate([known.array.astype(object), fresh.astype(object)])
    if known.array.dtype.kind in "iu" and fresh.dtype.kind in "iu":
        merged = np.concatenate([known.array, fresh])
    return IdMap(merged, name=known.name), int(fresh.size)
