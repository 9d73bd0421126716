import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.data import Interactions
from reco.eval import (
    k_core,
    leave_last_n,
    min_interactions,
    random_holdout,
    temporal_split,
    user_split,
)
from reco.exceptions import DataValidationError, InvalidParameterError

logs = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 15), st.integers(0, 50)),
    min_size=2,
    max_size=120,
)


def build(rows, keep=True):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "t"])
    return Interactions.from_frame(frame, time="t", duplicates="keep" if keep else "last")


def rows_of(data):
    return sorted(
        zip(
            data.user_map.ids(data.user_index).tolist(),
            data.item_map.ids(data.item_index).tolist(),
            data.time.tolist(),
            strict=True,
        )
    )


@settings(max_examples=60, deadline=None)
@given(logs, st.floats(0.05, 0.95))
def test_temporal_split_never_leaks_the_future(rows, q):
    data = build(rows)
    try:
        split = temporal_split(data, quantile=q, drop_cold=False)
    except DataValidationError:
        return  # all times equal: no cut inside the range
    assert split.train.time.max() < split.test.time.min()
    assert len(split.train) + len(split.test) == len(data)
    assert split.train.user_map is data.user_map and split.test.item_map is data.item_map


@settings(max_examples=60, deadline=None)
@given(logs, st.integers(1, 3))
def test_leave_last_n_per_user_order(rows, n):
    data = build(rows)
    split = leave_last_n(data, n, drop_cold=False)
    train = split.train.to_frame()
    test = split.test.to_frame()
    for user, part in test.groupby("user_id"):
        assert len(part) == n
        assert part["t"].min() >= train.loc[train["user_id"] == user, "t"].max()
    counts = data.to_frame().groupby("user_id").size()
    assert set(test["user_id"]) == set(counts[counts > n].index)
    assert sorted(rows_of(split.train) + rows_of(split.test)) == rows_of(data)


@settings(max_examples=60, deadline=None)
@given(logs, st.floats(0.1, 0.9), st.integers(0, 1000))
def test_random_holdout_partitions_per_user(rows, share, seed):
    data = build(rows)
    split = random_holdout(data, share, random_state=seed)
    assert sorted(rows_of(split.train) + rows_of(split.test)) == rows_of(data)
    total = data.to_frame().groupby("user_id").size()
    held = split.test.to_frame().groupby("user_id").size().reindex(total.index, fill_value=0)
    expected = np.minimum(np.floor(share * total + 0.5), total - 1)
    assert (held == expected).all()
    again = random_holdout(data, share, random_state=seed)
    assert rows_of(again.test) == rows_of(split.test)


def test_random_holdout_global():
    data = build([(u, i, u + i) for u in range(20) for i in range(10)])
    split = random_holdout(data, 0.3, per_user=False, random_state=1)
    assert len(split.test) == 60 and len(split.train) == 140


@settings(max_examples=40, deadline=None)
@given(logs, st.integers(0, 1000))
def test_user_split_strong_generalisation(rows, seed):
    data = build(rows)
    eligible = (data.to_frame().groupby("user_id").size() >= 2).sum()
    if eligible == 0:
        return
    split = user_split(data, 1, random_state=seed)
    test_users = set(split.test_users.tolist())
    train_users = set(split.train.user_map.ids(np.unique(split.train.user_index)).tolist())
    fold_users = set(split.fold_in.user_map.ids(np.unique(split.fold_in.user_index)).tolist())
    assert not test_users & train_users
    assert fold_users == test_users and len(test_users) == 1
    assert sorted(rows_of(split.train) + rows_of(split.test) + rows_of(split.fold_in)) == rows_of(
        data
    )


@settings(max_examples=40, deadline=None)
@given(logs, st.integers(1, 4), st.integers(1, 4))
def test_k_core_definition(rows, min_user, min_item):
    data = build(rows, keep=False)
    try:
        core = k_core(data, min_user, min_item)
    except DataValidationError:
        return
    matrix = core.to_csr()
    assert (np.diff(matrix.indptr) >= min_user).all()
    assert (np.bincount(matrix.indices, minlength=core.n_items) >= min_item).all()
    assert core.n_users == len(np.unique(core.user_index))


def test_min_interactions_is_one_pass():
    data = build([(0, 0, 1), (0, 1, 2), (1, 0, 3), (2, 2, 4), (2, 0, 5)], keep=False)
    kept = min_interactions(data, min_user=2)
    assert sorted(kept.user_map.to_list()) == [0, 2]
    assert kept.n_items == 3


def test_errors():
    data = build([(0, 0, 1), (1, 1, 2)])
    with pytest.raises(InvalidParameterError, match="exactly one of cutoff"):
        temporal_split(data)
    with pytest.raises(DataValidationError, match="needs timestamps"):
        leave_last_n(Interactions.from_frame(pd.DataFrame({"user_id": [1], "item_id": [2]})))
    with pytest.raises(InvalidParameterError, match="test_size"):
        random_holdout(data, 1.5)
    with pytest.raises(DataValidationError, match="two or more rows"):
        user_split(data, 1)
    with pytest.raises(DataValidationError, match="Interactions"):
        random_holdout(pd.DataFrame({"user_id": [1]}))
    with pytest.raises(DataValidationError, match="leaves"):
        temporal_split(data, cutoff=100)
