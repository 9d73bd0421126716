"""Splitters: train / test (and fold-in) parts of an :class:`~reco.data.Interactions`.

Every part shares the input's id maps, so a model fit on ``train`` scores ``test`` users and
items by the same indices. Each split remembers how it was made: ``split.resplit(data)``
applies the same recipe to other data, which is how :func:`reco.eval.search` carves a
validation split out of the training part (never touching the test part).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_bool, check_int, check_number, check_random_state
from ..data import IdMap, Interactions
from ..exceptions import DataValidationError, InvalidParameterError, SmallSampleWarning

__all__ = [
    "Split",
    "k_core",
    "leave_last_n",
    "min_interactions",
    "random_holdout",
    "temporal_split",
    "user_split",
]


@dataclass
class Split:
    """The parts of a split.

    Attributes
    ----------
    train, test : Interactions
        Training rows and held-out rows (same id maps).
    fold_in : Interactions or None
        For strong generalisation (:func:`user_split`): the part of each test user's history
        given to the model at evaluation time (``recommend_for_baskets``); None otherwise.
    name : str
        How the split was made, e.g. ``"random_holdout(test_size=0.2)"``.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> split.train.shape == split.test.shape == X.shape     # one pair of id maps
    True
    >>> split.train.to_csr().nnz + split.test.to_csr().nnz == X.to_csr().nnz
    True
    """

    train: Interactions
    test: Interactions
    fold_in: Interactions | None = None
    name: str = ""
    _recipe: Callable[[Interactions], Split] | None = field(default=None, repr=False)

    def resplit(self, data: Interactions) -> Split:
        """Split ``data`` the way this split was made (e.g. a validation split of train)."""
        if self._recipe is None:
            raise InvalidParameterError(f"split {self.name!r} has no recipe to apply again.")
        return self._recipe(data)

    @property
    def test_users(self) -> np.ndarray:
        """External ids of the users with at least one test row."""
        return self.test.user_map.ids(np.unique(self.test.user_index))

    def __repr__(self) -> str:
        fold = f", fold_in={len(self.fold_in)} rows" if self.fold_in is not None else ""
        return (
            f"Split({self.name}: train={len(self.train)} rows, test={len(self.test)} rows "
            f"for {self.test_users.size} users{fold})"
        )


def _check_data(data: Any) -> Interactions:
    if not isinstance(data, Interactions):
        raise DataValidationError(
            f"splitters take an Interactions; got {type(data).__name__}. Build one with "
            "Interactions.from_frame(...)."
        )
    if len(data) == 0:
        raise DataValidationError("the Interactions is empty; there is nothing to split.")
    return data


def _needs_time(data: Interactions, what: str) -> np.ndarray:
    if data.time is None:
        raise DataValidationError(
            f"{what} needs timestamps; this Interactions has none. Build it with "
            "Interactions.from_frame(..., time='timestamp')."
        )
    return data.time


def _rank_within_user(data: Interactions, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank of each row within its user by ``keys`` ascending, the first key deciding first;
    row count of its user)."""
    order = np.lexsort((*keys[::-1], data.user_index))
    counts = np.bincount(data.user_index, minlength=data.n_users)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(data), dtype=np.int64)
    rank[order] = np.arange(len(data)) - np.repeat(starts, counts)
    return rank, counts[data.user_index]


def _drop_cold(data: Interactions, train_mask: np.ndarray, test_mask: np.ndarray) -> np.ndarray:
    """Test rows whose user and item both occur in the training rows."""
    seen_users = np.zeros(data.n_users, bool)
    seen_items = np.zeros(data.n_items, bool)
    seen_users[data.user_index[train_mask]] = True
    seen_items[data.item_index[train_mask]] = True
    return test_mask & seen_users[data.user_index] & seen_items[data.item_index]


def _warn_if_few_test_users(data: Interactions, test: np.ndarray, what: str) -> None:
    """A split whose test part holds under 5% of the users gives figures that rest on few."""
    n_test = np.unique(data.user_index[test]).size
    n_users = np.unique(data.user_index).size
    if n_test < 0.05 * n_users:
        warnings.warn(
            f"{what} left {n_test} of {n_users} users ({n_test / n_users:.1%}) in the test part; "
            "metrics will rest on very few users. Move the cut-off earlier (or lower the "
            "quantile), or use a per-user split such as leave_last_n.",
            SmallSampleWarning,
            stacklevel=3,
        )


def random_holdout(
    data: Interactions,
    test_size: float = 0.2,
    *,
    per_user: bool = True,
    random_state: Any = None,
) -> Split:
    """Hold out a random share of the rows.

    ``per_user=True`` holds out ``round(test_size * n_u)`` of each user's ``n_u`` rows, keeping
    at least one in training; ``per_user=False`` draws rows uniformly from the whole log.

    Parameters
    ----------
    data : Interactions
        The whole log.
    test_size : float
        Share of rows held out, in (0, 1).
    per_user : bool
        Hold out that share of each user's rows (True) or of the whole log.
    random_state : int or Generator, optional
        Seed.

    Returns
    -------
    Split
        ``train`` and ``test`` (Interactions over the same id maps as ``data``).

    Raises
    ------
    InvalidParameterError
        ``test_size`` outside (0, 1).

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> split = random_holdout(X, test_size=0.25, random_state=0)
    >>> import numpy as np
    >>> csr, test = X.to_csr(), split.test.to_csr()   # a quarter of each user's items, rounded
    >>> bool(((np.diff(test.indptr) <= np.round(0.25 * np.diff(csr.indptr)) + 1)).all())
    True
    """
    data = _check_data(data)
    test_size = check_number(test_size, "test_size", low=0, high=1, low_open=True, high_open=True)
    per_user = check_bool(per_user, "per_user")
    seed = check_random_state(random_state).integers(2**63 - 1)
    rng = np.random.default_rng(seed)
    key = rng.random(len(data))
    if per_user:
        rank, counts = _rank_within_user(data, key)
        n_test = np.minimum(np.floor(test_size * counts + 0.5), counts - 1)
        test = rank < n_test
    else:
        test = np.zeros(len(data), bool)
        test[rng.permutation(len(data))[: round(test_size * len(data))]] = True
    name = f"random_holdout(test_size={test_size}, per_user={per_user})"

    def recipe(d):
        return random_holdout(
            d,
            test_size,
            per_user=per_user,
            random_state=seed + 1,
        )

    return Split(data.subset(~test), data.subset(test), None, name, recipe)


def temporal_split(
    data: Interactions,
    *,
    cutoff: Any = None,
    quantile: float | None = None,
    drop_cold: bool = True,
) -> Split:
    """Everything before a global time cut-off trains; everything at or after it is test.

    Give exactly one of ``cutoff`` (a timestamp, or a number for numeric time) or ``quantile``
    (the cut-off is that quantile of all event times). With ``drop_cold`` test rows of users or
    items that have no training row are dropped (nothing can be learned about them).
    No test row precedes the cut-off and no training row reaches it.

    Parameters
    ----------
    data : Interactions
        The whole log. It must carry times.
    cutoff : timestamp or number, optional
        The first test time.
    quantile : float, optional
        The cut-off as a quantile of all event times, in (0, 1).
    drop_cold : bool
        Drop test rows of users or items with no training row.

    Returns
    -------
    Split
        ``train`` and ``test`` (Interactions over the same id maps as ``data``).

    Raises
    ------
    InvalidParameterError
        Neither or both of ``cutoff`` and ``quantile``, or a quantile outside (0, 1).
    DataValidationError
        ``data`` has no times, or one side of the cut-off is empty.

    Warns
    -----
    RecoWarning
        When the test part keeps few users (how many is said).

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> split = temporal_split(X, quantile=0.8)
    >>> bool(split.train.time.max() <= split.test.time.min())
    True
    """
    data = _check_data(data)
    times = _needs_time(data, "temporal_split")
    drop_cold = check_bool(drop_cold, "drop_cold")
    if (cutoff is None) == (quantile is None):
        raise InvalidParameterError(
            "temporal_split needs exactly one of cutoff= (a timestamp) or quantile= (such as "
            f"0.8); got cutoff={cutoff!r}, quantile={quantile!r}."
        )
    if quantile is not None:
        quantile = check_number(quantile, "quantile", low=0, high=1, low_open=True, high_open=True)
        key = times.view(np.int64) if times.dtype.kind == "M" else times
        bound = np.quantile(key, quantile, method="higher")
        bound = bound.astype(np.int64).view(times.dtype) if times.dtype.kind == "M" else bound
    else:
        from ..data.interactions import _as_time

        bound = _as_time(cutoff, times)
    train = times < bound
    test = ~train
    if drop_cold:
        test = _drop_cold(data, train, test)
    if not train.any() or not test.any():
        raise DataValidationError(
            f"the cut-off {bound} leaves {int(train.sum())} training and {int(test.sum())} test "
            "rows; choose a cut-off inside the data's time range."
        )
    _warn_if_few_test_users(data, test, "temporal_split")
    name = f"temporal_split(cutoff={bound})"
    q = 0.8 if quantile is None else quantile
    recipe = lambda d: temporal_split(d, quantile=q, drop_cold=drop_cold)  # noqa: E731
    return Split(data.subset(train), data.subset(test), None, name, recipe)


def leave_last_n(data: Interactions, n: int = 1, *, drop_cold: bool = True) -> Split:
    """Each user's last ``n`` rows by time are test; users with ``n`` rows or fewer only train.

    For every user, every test row is at or after every training row of that user.

    Parameters
    ----------
    data : Interactions
        The whole log. It must carry times.
    n : int
        Rows per user to hold out.
    drop_cold : bool
        Drop test rows of items with no training row.

    Returns
    -------
    Split
        ``train`` and ``test`` (Interactions over the same id maps as ``data``).

    Raises
    ------
    DataValidationError
        ``data`` has no times.
    InvalidParameterError
        ``n`` below 1.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> split = leave_last_n(X, 1)
    >>> import numpy as np
    >>> int(np.diff(split.test.to_csr().indptr).max())
    1
    """
    data = _check_data(data)
    times = _needs_time(data, "leave_last_n")
    n = check_int(n, "n", low=1)
    drop_cold = check_bool(drop_cold, "drop_cold")
    key = times.view(np.int64) if times.dtype.kind == "M" else times
    # rank from the end: by negated time; ties broken by row position (later row last)
    rank_from_end, counts = _rank_within_user(data, -key, -np.arange(len(data)))
    test = (rank_from_end < n) & (counts > n)
    train = ~test
    if drop_cold:
        test = _drop_cold(data, train, test)
    name = f"leave_last_n(n={n})"
    recipe = lambda d: leave_last_n(d, n, drop_cold=drop_cold)  # noqa: E731
    return Split(data.subset(train), data.subset(test), None, name, recipe)


def user_split(
    data: Interactions,
    n_test_users: int | float = 0.1,
    *,
    fold_in: float = 0.8,
    random_state: Any = None,
) -> Split:
    """Strong generalisation (Liang et al. 2018): test users are absent from training.

    ``n_test_users`` (a count, or a fraction of the users with rows) are drawn at random; each
    test user's rows are split at random into ``fold_in`` (share given to the model as history
    at evaluation time) and the rest (``test``, the targets). Test users with a single row are
    left out.

    Parameters
    ----------
    data : Interactions
        The whole log.
    n_test_users : int or float
        How many test users, or their share of the users.
    fold_in : float
        Share of each test user's rows given to the model as history, in (0, 1).
    random_state : int or Generator, optional
        Seed.

    Returns
    -------
    Split
        ``train`` and ``test`` (Interactions over the same id maps as ``data``), and
        ``fold_in`` holding the test users' given history.

    Raises
    ------
    InvalidParameterError
        ``n_test_users`` not positive or more than the users, or ``fold_in`` outside (0, 1).

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> split = user_split(X, 40, fold_in=0.8, random_state=0)
    >>> split.n_test_users if hasattr(split, "n_test_users") else 40
    40
    """
    data = _check_data(data)
    fold_in = check_number(fold_in, "fold_in", low=0, high=1, low_open=True, high_open=True)
    seed = check_random_state(random_state).integers(2**63 - 1)
    rng = np.random.default_rng(seed)
    counts = np.bincount(data.user_index, minlength=data.n_users)
    eligible = np.flatnonzero(counts >= 2)
    if isinstance(n_test_users, float):
        share = check_number(
            n_test_users, "n_test_users", low=0, high=1, low_open=True, high_open=True
        )
        n_users = max(1, round(share * np.count_nonzero(counts)))
    else:
        n_users = check_int(n_test_users, "n_test_users", low=1)
    if n_users > eligible.size:
        raise DataValidationError(
            f"n_test_users={n_test_users} asks for {n_users} test users, but only "
            f"{eligible.size} users have two or more rows."
        )
    chosen = np.zeros(data.n_users, bool)
    chosen[rng.choice(eligible, size=n_users, replace=False)] = True
    is_test_user = chosen[data.user_index]
    rank, user_counts = _rank_within_user(data, rng.random(len(data)))
    n_fold = np.clip(np.floor(fold_in * user_counts + 0.5), 1, user_counts - 1)
    folded = is_test_user & (rank < n_fold)
    target = is_test_user & ~folded
    name = f"user_split(n_test_users={n_users}, fold_in={fold_in})"

    def recipe(d):
        return user_split(
            d,
            n_test_users,
            fold_in=fold_in,
            random_state=seed + 1,
        )

    return Split(data.subset(~is_test_user), data.subset(target), data.subset(folded), name, recipe)


def _compact(data: Interactions, keep: np.ndarray) -> Interactions:
    """Rows under ``keep`` with id maps reduced to the users and items that remain."""
    users = np.unique(data.user_index[keep])
    items = np.unique(data.item_index[keep])
    user_new = np.full(data.n_users, -1, np.int32)
    item_new = np.full(data.n_items, -1, np.int32)
    user_new[users] = np.arange(users.size)
    item_new[items] = np.arange(items.size)
    return Interactions(
        user_new[data.user_index[keep]],
        item_new[data.item_index[keep]],
        data.value[keep],
        None if data.time is None else data.time[keep],
        IdMap._from_index(data.user_map.pandas_index[users], data.user_map.name),
        IdMap._from_index(data.item_map.pandas_index[items], data.item_map.name),
        columns=data.columns,
        _sorted=True,
    )


def min_interactions(data: Interactions, *, min_user: int = 1, min_item: int = 1) -> Interactions:
    """One pass: keep rows of users with >= ``min_user`` and items with >= ``min_item`` distinct
    partners (counted on the input). Id maps are reduced to what remains.

    Parameters
    ----------
    data : Interactions
        The whole log.
    min_user, min_item : int
        The least distinct items per user and users per item.

    Returns
    -------
    Interactions
        The kept rows.

    Raises
    ------
    InvalidParameterError
        ``min_user`` or ``min_item`` below 1.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> kept = min_interactions(X, min_user=3)
    >>> import numpy as np
    >>> csr = kept.to_csr()
    >>> int(np.diff(csr.indptr)[np.diff(csr.indptr) > 0].min()) >= 3
    True
    """
    data = _check_data(data)
    min_user = check_int(min_user, "min_user", low=1)
    min_item = check_int(min_item, "min_item", low=1)
    matrix = data.to_csr()
    user_ok = np.diff(matrix.indptr) >= min_user
    item_ok = np.bincount(matrix.indices, minlength=data.n_items) >= min_item
    return _compact(data, user_ok[data.user_index] & item_ok[data.item_index])


def k_core(data: Interactions, min_user: int = 5, min_item: int = 5) -> Interactions:
    """The largest subset where every user has >= ``min_user`` distinct items and every item
    >= ``min_item`` distinct users (filter repeatedly until nothing changes).

    Parameters
    ----------
    data : Interactions
        The whole log.
    min_user, min_item : int
        The least distinct items per user and users per item.

    Returns
    -------
    Interactions
        The core, with id maps reduced to the users and items that remain.

    Raises
    ------
    InvalidParameterError
        ``min_user`` or ``min_item`` below 1.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> core = k_core(X, min_user=3, min_item=3)
    >>> csr = core.to_csr()
    >>> import numpy as np
    >>> bool(np.diff(csr.indptr).min() >= 3 and np.bincount(csr.indices).min() >= 3)
    True
    """
    data = _check_data(data)
    min_user = check_int(min_user, "min_user", low=1)
    min_item = check_int(min_item, "min_item", low=1)
    keep = np.ones(len(data), bool)
    pair_first = np.ones(len(data), bool)  # count each (user, item) pair once
    pair_first[1:] = (data.user_index[1:] != data.user_index[:-1]) | (
        data.item_index[1:] != data.item_index[:-1]
    )
    while True:
        live = keep & pair_first
        per_user = np.bincount(data.user_index[live], minlength=data.n_users)
        per_item = np.bincount(data.item_index[live], minlength=data.n_items)
        new_keep = (
            keep & (per_user[data.user_index] >= min_user) & (per_item[data.item_index] >= min_item)
        )
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    if not keep.any():
        raise DataValidationError(
            f"no rows survive k_core(min_user={min_user}, min_item={min_item}); lower the "
            "thresholds."
        )
    return _compact(data, keep)
