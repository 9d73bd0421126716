"""The estimator contract and the one recommender interface.

Every reco estimator subclasses :class:`Estimator` (scikit-learn's parameter protocol):
``__init__`` only stores keyword parameters, ``fit`` validates, learns attributes ending in
``_`` and returns ``self``; ``get_params``/``set_params``/``clone`` work; ``save``/``load``
write an ``.npz`` with a JSON header (never pickle).

:class:`Recommender` adds the serving interface. Subclasses implement the private hooks

* ``_fit(data: Interactions) -> dict``: learned attributes (names ending in ``_``);
* ``_score_users(user_index) -> ndarray | csr_array``: scores of known users (rows) over all
  items, dense float32 or sparse (absent = not a candidate);
* ``_score_history(history: csr_array) -> ndarray | csr_array``: scores for unseen users given
  their items (fold-in, for baskets and sessions);

and may implement ``_similar_items_scores(item_index)`` and ``_explain(user_index,
item_index)``. The public methods validate input, map external ids, mask, select the top n in
user blocks (never a dense users x items array) and wrap the result.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _persist
from ._params import Params
from ._schema import Array, Csr, Ids
from ._topk import TopK, select_topk
from ._validation import (
    check_bool,
    check_finite,
    check_ids,
    check_n,
    check_option,
    check_sparse,
)
from .data import Interactions
from .exceptions import (
    ConvergenceError,
    DataValidationError,
    InvalidParameterError,
    NotFittedError,
    NotSupportedError,
)
from .results import RecBatch, RecList

__all__ = ["Estimator", "RecBatch", "RecList", "Recommender", "as_interactions"]

Unknown = Literal["raise", "popular", "empty"]
# bytes of dense scores per block: bounds memory whatever the number of users
_BLOCK_BYTES = 32 * 2**20
# largest interaction value a recommender accepts: squares and sums of many stay in float32
_MAX_VALUE = 1e12
_CPU_COUNT = os.cpu_count() or 1


class Estimator(Params):
    """Base of every reco estimator: sklearn parameters, fitted-state checks, save and load."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _persist.REGISTRY[_persist.class_path(cls)] = cls

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _set_fitted(self, learned: dict[str, Any]) -> None:
        """Replace all fitted state at once (a failed fit leaves the old state untouched)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        for name, value in learned.items():
            if not name.endswith("_"):
                raise AssertionError(f"fitted attribute {name!r} must end with '_'")
            setattr(self, name, value)

    def _after_load(self) -> None:
        """Hook: rebuild derived (unsaved) state after :meth:`load`."""

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Hook: the state read from a file written by an earlier version, completed with
        what this version adds (before the file is checked against ``_file_schema``)."""
        return state

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted estimator to ``path`` (an ``.npz`` with a JSON header).

        The file is written to a temporary name and renamed, so a failure never leaves a
        half-written file. No pickle is used; :meth:`load` never executes code from the file.
        """
        self._check_fitted()
        from . import __version__

        _persist.save_estimator(self, path, __version__)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        max_bytes: int = _persist.MAX_FILE_BYTES,
        mmap: bool = False,
    ) -> Any:
        """Read an estimator saved with :meth:`save`, treating the file as untrusted.

        Before the model is returned, every part of the file is checked: the archive's
        declared sizes (at most ``max_bytes`` uncompressed, 4 GiB by default, read from the
        archive's directory before anything is inflated), the class, the parameters (the
        same checks as ``fit``), the names of the fitted attributes (only those of the
        class's schema), their dtypes and shapes (consistent with the id maps), finite
        values, index arrays in range, and CSR invariants (monotone ``indptr``, indices in
        range and sorted within each row). A damaged or crafted file raises
        :class:`DataValidationError` naming the first problem; it never reaches a kernel.

        With ``mmap=True`` the arrays are memory-mapped read-only instead of copied: a
        gigabyte model loads in the time of its checks, and the processes of a server share
        one copy of it. A mapped file must then be replaced only by renaming a new one over
        it, as :meth:`save` does (``cp`` rewrites it in place, under the running model).

        Raises
        ------
        DataValidationError
            The file is corrupted, truncated, crafted, larger than ``max_bytes``, or holds
            another class than ``cls``.
        NotSupportedError
            The file was written in a newer format than this reco reads.
        """
        return _persist.load_estimator(cls, path, max_bytes, mmap)

    def _validate_params(self) -> None:
        """Check the constructor parameters (raise InvalidParameterError). Override."""


def as_interactions(X: Any) -> Interactions:
    """``Interactions`` from an Interactions, a scipy sparse users x items matrix or a frame.

    A DataFrame must have ``user_id`` and ``item_id`` columns; for other names or for time,
    values and event weights, build :meth:`Interactions.from_frame` yourself.
    """
    if isinstance(X, Interactions):
        return X
    if isinstance(X, pd.DataFrame):
        return Interactions.from_frame(X)
    if sp.issparse(X) or isinstance(X, np.ndarray):
        return Interactions.from_csr(X)
    raise DataValidationError(
        "X must be an Interactions, a scipy sparse users x items matrix, or a DataFrame with "
        f"user_id and item_id columns; got {type(X).__name__}."
    )


def _check_learned_finite(model: str, learned: dict[str, Any], schema: dict) -> None:
    """A fit that produced NaN or infinite weights must fail, never serve NaN scores
    (attributes the schema allows to hold infinities, like rule conviction, excepted)."""
    for name, value in learned.items():
        if not getattr(schema.get(name), "finite", True):
            continue
        values = value.data if sp.issparse(value) else value
        floats = isinstance(values, np.ndarray) and values.dtype.kind == "f"
        if floats and not np.isfinite(values).all():
            raise ConvergenceError(
                f"{model}.fit produced NaN or infinite values in {name}; the data's "
                "values are too large or degenerate for this model. Rescale the values "
                "(e.g. numpy.log1p) or raise the regularisation."
            )


class Recommender(Estimator):
    """Base class of every recommender (see the module docstring for the subclass hooks).

    Fitted attributes shared by all recommenders
    --------------------------------------------
    user_map_, item_map_ : IdMap
        External ids of the training users and items.
    history_ : csr_array ``(n_users_, n_items_)``
        The training interactions (float32), used to exclude seen items and to score.
    item_popularity_ : ndarray of float32
        Distinct users per item: the fallback ranking for unknown users.
    """

    # what a model file of a recommender holds (subclasses add their own attributes)
    personalised: ClassVar[bool] = True  # False: one ranking for every user (Popularity)
    _file_schema: ClassVar[dict[str, Any]] = {
        "user_map_": Ids("users"),
        "item_map_": Ids("items"),
        "history_": Csr(("users", "items")),
        "item_popularity_": Array("float32", ("items",), low=0),
    }

    #: whether ``recommend_for_items(history)`` reproduces a training user's scores exactly
    _exact_fold_in = True

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: Any, y: None = None) -> Recommender:
        """Learn from ``X``: an :class:`Interactions`, a users x items sparse matrix or a frame.

        ``y`` is ignored (present for scikit-learn compatibility). Returns ``self``.
        """
        data = as_interactions(X)
        self._validate_params()
        matrix = data.to_csr()
        if matrix.nnz == 0:
            raise DataValidationError(
                "X holds no interactions (all values are zero); a recommender needs at least one."
            )
        largest = float(np.abs(matrix.data).max())
        if largest > _MAX_VALUE:
            raise DataValidationError(
                f"interaction values must be at most {_MAX_VALUE:.0e} in magnitude (float32 "
                f"products of larger values overflow); got {largest:.3g}. Rescale them, e.g. "
                "numpy.log1p(value), or binarise."
            )
        learned = self._fit(data)
        _check_learned_finite(type(self).__name__, learned, self._file_schema)
        self._set_fitted({**history_state(data.user_map, data.item_map, data.to_csr()), **learned})
        return self

    # caches derived from the fitted state (each checks what it was made from, so dropping
    # them only frees them early when that state is replaced)
    _derived: ClassVar[tuple[str, ...]] = ("_candidates_memo",)

    def _drop_derived(self) -> None:
        for cache in self._derived:
            self.__dict__.pop(cache, None)

    def _validate_params(self) -> None:
        """Check the constructor parameters (raise InvalidParameterError). Override."""
        n_threads = getattr(self, "n_threads", None)
        if n_threads is not None and (
            isinstance(n_threads, bool)
            or not isinstance(n_threads, (int, np.integer))
            or n_threads < 1
        ):
            raise InvalidParameterError(
                f"n_threads must be a positive integer or None (all cores); got {n_threads!r}."
            )

    def _fit(self, data: Interactions) -> dict[str, Any]:
        raise NotImplementedError

    # -- hooks for subclasses ----------------------------------------------------------------
    def _score_users(self, user_index: np.ndarray) -> np.ndarray | sp.csr_array:
        raise NotImplementedError

    def _score_history(self, history: sp.csr_array) -> np.ndarray | sp.csr_array:
        raise NotImplementedError

    def _similar_items_scores(self, item_index: np.ndarray) -> np.ndarray | sp.csr_array:
        raise NotSupportedError(
            f"{type(self).__name__} has no notion of item similarity; use an item-based model "
            "(ItemKNN, EASE, RP3beta) or a factor model for similar_items."
        )

    def _explain(self, user_index: int, item_index: int) -> pd.DataFrame:
        return pd.DataFrame(self._explanation(user_index, item_index))

    def _explanation(self, user_index: int, item_index: int) -> dict[str, np.ndarray]:
        """:meth:`explain`'s columns as arrays (``item``, ``value``, ``weight``,
        ``contribution``, ``share``), largest contribution first, ties by item id (a
        profile reads a few entries without building a frame)."""
        raise NotSupportedError(
            f"{type(self).__name__} cannot explain its scores as a sum over history items; "
            "use an item-based model (ItemKNN, EASE, RP3beta) for explain()."
        )

    def _fallback_scores(self) -> np.ndarray:
        """The popularity that ranks fills and unknown users (override: e.g. time-decayed)."""
        return self.item_popularity_

    def _popular_scale(self) -> np.ndarray:
        """Popularity mapped to [0, 1) (order kept): a fill's score is below the row's
        lowest model score by 1 - this, so fills never outrank the model's own items."""
        popularity = np.asarray(self._fallback_scores(), dtype=np.float64)
        low, span = popularity.min(), np.ptp(popularity)
        return (popularity - low) / (span * (1 + 1e-6) + 1e-12)

    def _unknown_user_scores(self) -> np.ndarray:
        """Scores of a user never seen in training: popularity rescaled to [-1, 0)."""
        return (self._popular_scale() - 1.0).astype(np.float32)

    def _fill_popular(self, out: TopK, index: np.ndarray, exclude_seen: bool, blocked) -> None:
        """Complete rows shorter than n with the most popular eligible items, ranked after
        the model's items (scores below the row's lowest: ``min(0, lowest) - 1 + scale``)."""
        n = out.items.shape[1]
        short = np.flatnonzero(out.lengths < n)
        if short.size == 0:
            return
        scale = self._popular_scale().astype(np.float32)
        for start in range(0, short.size, 256):  # bounded dense blocks
            rows = short[start : start + 256]
            mask = np.zeros((rows.size, scale.size), dtype=bool)
            if blocked is not None:
                mask |= blocked[None, :]
            for r, row in enumerate(rows):
                mask[r, out.items[row, : out.lengths[row]]] = True
                if exclude_seen and index[row] >= 0:
                    mask[r, self.history_[[index[row]]].indices] = True
            extra = select_topk(np.where(mask, -np.inf, scale[None, :]).astype(np.float32), n)
            for r, row in enumerate(rows):
                have = int(out.lengths[row])
                take = min(n - have, int(extra.lengths[r]))
                lowest = float(out.scores[row, have - 1]) if have else 0.0
                base = min(0.0, lowest) - 1.0
                out.items[row, have : have + take] = extra.items[r, :take]
                out.scores[row, have : have + take] = base + extra.scores[r, :take]
                out.lengths[row] = have + take

    # -- shape helpers -----------------------------------------------------------------------
    @property
    def n_users_(self) -> int:
        self._check_fitted()
        return len(self.user_map_)

    @property
    def n_items_(self) -> int:
        self._check_fitted()
        return len(self.item_map_)

    def _threads(self) -> int:
        n_threads = getattr(self, "n_threads", None)
        return int(n_threads) if n_threads else _CPU_COUNT

    def _block_rows(self) -> int:
        return int(max(1, min(8192, _BLOCK_BYTES // (4 * max(1, len(self.item_map_))))))

    def _blocked(self, exclude_items: Any, candidates: Any) -> np.ndarray | None:
        """Boolean item mask: excluded items, plus every item outside ``candidates``.

        Unknown ids in either list are ignored: they cannot be recommended anyway.
        """
        if exclude_items is None and candidates is None:
            return None
        n_items = len(self.item_map_)
        if candidates is not None:
            blocked = np.ones(n_items, dtype=bool)
            blocked[self._candidate_positions(candidates)] = False
        else:
            blocked = np.zeros(n_items, dtype=bool)
        if exclude_items is not None:
            excluded = check_ids(exclude_items, "exclude_items")
            blocked[self.item_map_._index_checked(excluded, "skip")] = True
        return blocked

    def _candidate_positions(self, candidates: Any) -> np.ndarray:
        """Item indices of a candidate list, remembered for the next call: a backend passes
        the same whitelist (the stock list) with every request, and comparing it with the
        last one (element by element; the same str objects compare by identity) costs a
        tenth of checking and looking up 2,000 str ids again."""
        item_map = self.item_map_
        key = _comparable(candidates)
        memo = getattr(self, "_candidates_memo", None)
        if memo is not None and memo[0] is item_map and key is not None:
            with contextlib.suppress(TypeError, ValueError):  # ids that do not compare
                if type(key) is type(memo[1]) and _same(key, memo[1]):
                    return memo[2]
        positions = item_map._index_checked(check_ids(candidates, "candidates"), "skip")
        positions.flags.writeable = False
        if key is not None:
            self._candidates_memo = (item_map, key, positions)
        return positions

    # -- serving -----------------------------------------------------------------------------
    def _rank_known(
        self, user_index: np.ndarray, n: int, exclude_seen: bool, blocked: np.ndarray | None
    ) -> TopK:
        out = TopK(user_index.size, n)
        step = self._block_rows()
        history = self.history_ if exclude_seen else None
        threads = self._threads()
        for start in range(0, user_index.size, step):
            block = user_index[start : start + step]
            scores = self._score_users(block)
            select_topk(
                scores,
                n,
                history=history,
                history_rows=block,
                blocked=blocked,
                out=out,
                offset=start,
                n_threads=threads,
            )
        return out

    def _rank_baskets(
        self, matrix: sp.csr_array, n: int, exclude_seen: bool, blocked: np.ndarray | None
    ) -> TopK:
        """Top-n for fold-in rows (baskets x items, sorted indices); blockwise by default."""
        out = TopK(matrix.shape[0], n)
        step = self._block_rows()
        threads = self._threads()
        for start in range(0, matrix.shape[0], step):
            block = matrix[start : start + step]
            scores = self._score_history(block)
            rows = np.arange(block.shape[0])
            select_topk(
                scores,
                n,
                history=block if exclude_seen else None,
                history_rows=rows,
                blocked=blocked,
                out=out,
                offset=start,
                n_threads=threads,
            )
        return out

    def recommend_batch(
        self,
        users: Any,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        exclude_items: Any = None,
        candidates: Any = None,
        unknown: Unknown = "raise",
        fill: str | None = None,
    ) -> RecBatch:
        """Top-``n`` lists for many users.

        Parameters
        ----------
        users : array-like
            External user ids.
        n : int
            List length; rows are shorter when fewer items are eligible.
        exclude_seen : bool
            Leave out items each user interacted with in training.
        exclude_items : array-like, optional
            Item ids never to recommend (blacklist).
        candidates : array-like, optional
            Only these item ids may be recommended (whitelist, e.g. in stock). Combines with
            ``exclude_items``. Unknown ids in either list are ignored.
        unknown : {"raise", "popular", "empty"}
            Users not seen in training raise :class:`UnknownIdError`, get the most popular
            eligible items, or get an empty row. Popular rows score in [-1, 0) (popularity
            rescaled, order kept), never raw counts beside the model's scores.
        fill : {None, "popular"}
            ``"popular"`` completes a list the model cannot fill (few candidates score, a
            narrow whitelist) with the most popular eligible items, after the model's items:
            each fill scores below the row's lowest model score (``min(0, lowest) - 1`` plus
            popularity in [0, 1)). ``None`` (default) returns short lists as they are.
        """
        self._check_fitted()
        n = min(check_n(n), len(self.item_map_))  # no list can be longer than the catalogue
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        check_option(unknown, "unknown", ("raise", "popular", "empty"))
        check_option(fill, "fill", (None, "popular"))
        users = check_ids(users, "users")
        missing = "raise" if unknown == "raise" else "negative"
        index = self.user_map_._index_checked(users, missing)
        blocked = self._blocked(exclude_items, candidates)
        known = index >= 0
        if known.all():
            out = self._rank_known(index, n, exclude_seen, blocked)
        else:
            out = TopK(index.size, n)
            if known.any():
                part = self._rank_known(index[known], n, exclude_seen, blocked)
                out.items[known], out.scores[known], out.lengths[known] = (
                    part.items,
                    part.scores,
                    part.lengths,
                )
            if unknown == "popular":
                fallback = select_topk(self._unknown_user_scores()[None, :], n, blocked=blocked)
                out.items[~known], out.scores[~known] = fallback.items[0], fallback.scores[0]
                out.lengths[~known] = fallback.lengths[0]
        if fill == "popular":
            self._fill_popular(out, index, exclude_seen, blocked)
        return RecBatch(users, out.items, out.scores, out.lengths, self.item_map_)

    def recommend(
        self,
        user: Hashable,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        exclude_items: Any = None,
        candidates: Any = None,
        unknown: Unknown = "raise",
        fill: str | None = None,
    ) -> RecList:
        """Top-``n`` list for one user: row 0 of :meth:`recommend_batch` for ``[user]``."""
        if isinstance(user, (list, tuple, np.ndarray, pd.Series, pd.Index)):
            raise InvalidParameterError(
                f"recommend takes one user id; got a {type(user).__name__}. Use "
                "recommend_batch(users) for many users."
            )
        users = np.empty(1, dtype=object)
        users[0] = user
        return self.recommend_batch(
            users,
            n,
            exclude_seen=exclude_seen,
            exclude_items=exclude_items,
            candidates=candidates,
            unknown=unknown,
            fill=fill,
        )[0]

    def recommend_for_baskets(
        self,
        baskets: Any,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        exclude_items: Any = None,
        candidates: Any = None,
        unknown: Literal["raise", "skip"] = "raise",
    ) -> RecBatch:
        """Top-``n`` lists for users not seen in training, each given by its items (fold-in).

        Parameters
        ----------
        baskets : list of item-id lists, Interactions, or sparse matrix
            Each basket or session's items. An ``Interactions`` (e.g. the fold-in part of a
            strong-generalisation split) gives one basket per user with rows, labelled by the
            user id, matched by external item ids and keeping its values;
            a sparse matrix must be baskets x items with the model's ``n_items_`` columns in
            the model's item order.
        exclude_seen : bool
            Leave out each basket's own items.
        unknown : {"raise", "skip"}
            Items the model never saw raise :class:`UnknownIdError` or are ignored.
        """
        self._check_fitted()
        n = min(check_n(n), len(self.item_map_))  # no list can be longer than the catalogue
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        check_option(unknown, "unknown", ("raise", "skip"))
        history, labels = self._basket_matrix(baskets, unknown)
        history.sort_indices()
        out = self._rank_baskets(history, n, exclude_seen, self._blocked(exclude_items, candidates))
        return RecBatch(labels, out.items, out.scores, out.lengths, self.item_map_)

    def recommend_for_items(
        self,
        items: Any,
        n: int = 10,
        *,
        weights: Any = None,
        exclude_seen: bool = True,
        exclude_items: Any = None,
        candidates: Any = None,
        unknown: Literal["raise", "skip"] = "raise",
    ) -> RecList:
        """Top-``n`` list for one basket or session given by its item ids (no user id needed).

        ``weights`` (same length as ``items``) sets each item's strength; default 1.
        """
        items = check_ids(items, "items")
        if weights is None:
            weights = np.ones(items.size, dtype=np.float32)
        else:
            try:
                weights = np.asarray(weights, dtype=np.float64)
            except (TypeError, ValueError):
                raise DataValidationError(
                    f"weights must be numbers, one per item; got {weights!r}."
                ) from None
            if weights.shape != items.shape:
                raise InvalidParameterError(
                    f"weights must have one value per item ({items.size}); got shape "
                    f"{weights.shape}."
                )
            check_finite(weights, "weights", allow_negative=False)
        self._check_fitted()
        check_option(unknown, "unknown", ("raise", "skip"))
        index = self.item_map_.index(items, missing="raise" if unknown == "raise" else "negative")
        keep = index >= 0
        row = sp.csr_array(
            (
                np.asarray(weights, dtype=np.float32)[keep],
                index[keep],
                np.array([0, int(keep.sum())]),
            ),
            shape=(1, len(self.item_map_)),
        )
        row.sum_duplicates()
        result = self.recommend_for_baskets(
            row, n, exclude_seen=exclude_seen, exclude_items=exclude_items, candidates=candidates
        )
        rec = result[0]
        rec.user = None
        return rec

    def _basket_matrix(self, baskets: Any, unknown: str) -> tuple[sp.csr_array, np.ndarray]:
        """Baskets as a float32 CSR over the model's items, and a label per basket."""
        n_items = len(self.item_map_)
        missing = "raise" if unknown == "raise" else "negative"
        if isinstance(baskets, Interactions):
            # one basket per user that has rows, labelled by the user's id
            index = self.item_map_.index(baskets.item_map.array, missing=missing)
            columns = index[baskets.item_index]
            present, rows = np.unique(baskets.user_index, return_inverse=True)
            keep = columns >= 0
            matrix = sp.csr_array(
                (baskets.value[keep], (rows[keep], columns[keep])),
                shape=(present.size, n_items),
                dtype=np.float32,
            )
            matrix.sum_duplicates()
            return matrix, baskets.user_map.ids(present)
        if sp.issparse(baskets) or isinstance(baskets, np.ndarray):
            matrix = check_sparse(baskets, "baskets")
            self._check_matrix_shape(matrix)
            return matrix, np.arange(matrix.shape[0])
        if isinstance(baskets, (str, bytes, pd.DataFrame)) or not hasattr(baskets, "__iter__"):
            raise DataValidationError(
                "baskets must be a list of item-id lists, an Interactions or a sparse baskets x "
                f"items matrix; got {type(baskets).__name__}."
            )
        rows, cols = [], []
        for position, basket in enumerate(baskets):
            ids = check_ids(basket, f"basket {position}")
            index = self.item_map_.index(ids, missing=missing)
            index = index[index >= 0]
            rows.append(np.full(index.size, position, dtype=np.int32))
            cols.append(index)
        n_baskets = len(rows)
        matrix = sp.csr_array(
            (
                np.ones(sum(r.size for r in rows), dtype=np.float32),
                (
                    np.concatenate(rows) if rows else np.zeros(0, np.int32),
                    np.concatenate(cols) if cols else np.zeros(0, np.int32),
                ),
            ),
            shape=(n_baskets, n_items),
        )
        matrix.sum_duplicates()
        return matrix, np.arange(n_baskets)

    def _check_matrix_shape(self, matrix: sp.csr_array) -> None:
        n_users, n_items = len(self.user_map_), len(self.item_map_)
        if matrix.shape[1] == n_items:
            return
        if matrix.shape == (n_items, n_users):
            raise DataValidationError(
                f"the matrix has shape {matrix.shape}, the transpose of the fitted users x items "
                f"shape ({n_users}, {n_items}). Did you pass the transpose (items x users)? reco "
                "matrices are always users x items: pass X.T."
            )
        raise DataValidationError(
            f"the matrix must have one column per fitted item ({n_items}); got shape "
            f"{matrix.shape}. Build it over the model's item_map_, or pass item-id lists."
        )

    def similar_items(
        self,
        item: Hashable,
        n: int = 10,
        *,
        exclude_items: Any = None,
        candidates: Any = None,
    ) -> RecList:
        """The ``n`` items most similar to ``item`` (never ``item`` itself)."""
        self._check_fitted()
        n = min(check_n(n), len(self.item_map_))  # no list can be longer than the catalogue
        index = self.item_map_.index_one(item)
        blocked = self._blocked(exclude_items, candidates)
        blocked = np.zeros(len(self.item_map_), bool) if blocked is None else blocked
        blocked[index] = True
        scores = self._similar_items_scores(np.array([index], dtype=np.int32))
        out = select_topk(scores, n, blocked=blocked)
        length = int(out.lengths[0])
        found = out.items[0, :length]
        return RecList(None, self.item_map_.ids(found), out.scores[0, :length], found)

    def score(self, users: Any, items: Any) -> np.ndarray:
        """Scores of ``items`` for ``users``: array of shape (len(users), len(items)).

        For re-ranking by the caller. Seen items are not masked; for models with sparse scores an
        item outside the user's neighbourhood scores 0. Unknown ids raise UnknownIdError.
        """
        self._check_fitted()
        user_index = self.user_map_.index(check_ids(users, "users"))
        item_index = self.item_map_.index(check_ids(items, "items"))
        out = np.empty((user_index.size, item_index.size), dtype=np.float32)
        step = self._block_rows()
        for start in range(0, user_index.size, step):
            scores = self._score_users(user_index[start : start + step])
            if sp.issparse(scores):
                block = sp.csr_array(scores)[:, item_index].toarray()
            else:
                block = np.asarray(scores)[:, item_index]
            out[start : start + step] = block
        return out

    def explain(self, user: Hashable, item: Hashable) -> pd.DataFrame:
        """Which of ``user``'s history items drove the score of ``item``, and by how much."""
        self._check_fitted()
        return self._explain(self.user_map_.index_one(user), self.item_map_.index_one(item))

    # -- erasure -----------------------------------------------------------------------------
    def forget_users(self, users: Any) -> Recommender:
        """Remove ``users`` from the model, as if it had been fitted without them (a right to
        erasure reaches the model, not only the data).

        Their rows leave the training history and the id map, and the learned state is
        recomputed from the remaining history: exactly the model a refit without them gives
        (with the same parameters; items only they had stay in the catalogue with no
        interactions). Models with a cheaper exact update use it (ItemKNN and RP3beta: only
        the neighbour lists their items reach are computed again; EASE: a low-rank update of
        its inverse); the others refit from the history they keep. Ids the model does not
        know are ignored. Returns ``self``.
        """
        self._check_fitted()
        ids = check_ids(users, "users")
        rows = np.unique(self.user_map_.index(ids, missing="skip"))
        if rows.size == 0:
            return self
        kept = np.ones(len(self.user_map_), bool)
        kept[rows] = False
        keep = np.flatnonzero(kept)
        if keep.size == 0:
            raise DataValidationError(
                "forget_users would remove every user; a model needs at least one. Discard "
                "the model instead."
            )
        history = sp.csr_array(self.history_[keep])
        remaining = Interactions.from_csr(
            history, user_ids=self.user_map_.ids(keep), item_ids=self.item_map_.array
        )
        learned = self._forget(rows, remaining)
        _check_learned_finite(type(self).__name__, learned, self._file_schema)
        self._drop_derived()
        state = history_state(remaining.user_map, self.item_map_, remaining.to_csr())
        self._set_fitted({**state, **learned})
        return self

    def _forget(self, rows: np.ndarray, remaining: Interactions) -> dict[str, Any]:
        """The learned state without the history rows ``rows`` (``remaining`` is the rest):
        a refit by default."""
        return self._fit(remaining)


def history_state(user_map: Any, item_map: Any, history: sp.csr_array) -> dict[str, Any]:
    """The fitted attributes every recommender keeps besides its own: the id maps, the
    training history and each item's popularity (its number of users)."""
    return {
        "user_map_": user_map,
        "item_map_": item_map,
        "history_": history,
        "item_popularity_": np.bincount(history.indices, minlength=len(item_map)).astype(
            np.float32
        ),
    }


def _comparable(ids: Any) -> list | np.ndarray | None:
    """A copy of an id list that a later list can be compared with (None: not worth it)."""
    if isinstance(ids, (list, tuple)):
        return list(ids)
    if isinstance(ids, np.ndarray) and ids.ndim == 1:
        return ids.tolist() if ids.dtype.kind == "O" else ids.copy()
    return None


def _same(key: list | np.ndarray, other: list | np.ndarray) -> bool:
    if isinstance(key, np.ndarray):
        return key.dtype == other.dtype and key.shape == other.shape and bool((key == other).all())
    # equal lists hold equal ids (1 == 1.0 == True look up alike) except that a list of bools
    # becomes a bool array, which matches no integer id: the first types must agree too
    return (
        len(key) == len(other)
        and (not key or type(key[0]) is type(other[0]))
        and bool(key == other)
    )
