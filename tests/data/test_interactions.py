import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.data import IdMap, Interactions
from reco.exceptions import DataValidationError, InvalidParameterError, UnknownIdError


@pytest.fixture
def log():
    return pd.DataFrame(
        {
            "user": ["u1", "u1", "u2", "u3", "u1", "u2"],
            "item": ["a", "b", "a", "c", "a", "a"],
            "event": ["view", "purchase", "view", "cart", "view", "purchase"],
            "qty": [1, 2, 1, 1, 1, 3],
            "ts": pd.to_datetime(
                ["2024-01-03", "2024-01-01", "2024-01-02", "2024-01-05", "2024-01-01", "2024-01-04"]
            ),
        }
    )


def test_event_weights_make_one_confidence_matrix(log):
    X = Interactions.from_frame(
        log,
        user="user",
        item="item",
        event="event",
        event_weights={"view": 1, "cart": 3, "purchase": 10},
    )
    dense = pd.DataFrame(X.to_csr().toarray(), index=X.user_map.array, columns=X.item_map.array)
    assert dense.loc["u1", "a"] == 2  # two views
    assert dense.loc["u1", "b"] == 10
    assert dense.loc["u2", "a"] == 11  # view + purchase
    assert dense.loc["u3", "c"] == 3
    assert X.to_csr().dtype == np.float32


def test_value_times_event_weight(log):
    X = Interactions.from_frame(
        log,
        user="user",
        item="item",
        value="qty",
        event="event",
        event_weights={"view": 1, "cart": 3, "purchase": 10},
    )
    assert X.to_csr()[X.user_map.index_one("u2"), X.item_map.index_one("a")] == 31


@pytest.mark.parametrize(
    "policy, u1a, time",
    [
        ("sum", 2.0, "2024-01-03"),
        ("max", 1.0, "2024-01-03"),
        ("count", 2.0, "2024-01-03"),
        ("first", 1.0, "2024-01-01"),
        ("last", 1.0, "2024-01-03"),
    ],
)
def test_duplicate_policies(log, policy, u1a, time):
    X = Interactions.from_frame(log, user="user", item="item", time="ts", duplicates=policy)
    frame = X.to_frame().set_index(["user", "item"])
    assert frame.loc[("u1", "a"), "value"] == u1a
    assert frame.loc[("u1", "a"), "ts"] == pd.Timestamp(time)
    assert len(X) == 4


def test_keep_and_raise(log):
    kept = Interactions.from_frame(log, user="user", item="item", time="ts", duplicates="keep")
    assert len(kept) == 6 and kept.to_csr().nnz == 4
    assert kept.to_csr().sum() == 6
    with pytest.raises(DataValidationError, match=r"repeat a \(user, item\) pair.*'u1', 'a'"):
        Interactions.from_frame(log, user="user", item="item", duplicates="raise")


def test_rows_sorted_by_user_item_time(log):
    X = Interactions.from_frame(log, user="user", item="item", time="ts", duplicates="keep")
    key = list(zip(X.user_index, X.item_index, X.time, strict=True))
    assert key == sorted(key)


def test_filter_by_users_items_and_time(log):
    X = Interactions.from_frame(log, user="user", item="item", time="ts", duplicates="keep")
    assert len(X.filter(users=["u1", "nobody"])) == 3
    assert len(X.filter(items=["a"])) == 4
    window = X.filter(start="2024-01-02", end="2024-01-04")
    assert sorted(window.time.astype("datetime64[D]").astype(str)) == ["2024-01-02", "2024-01-03"]
    assert window.user_map is X.user_map  # shared index space
    with pytest.raises(DataValidationError, match="needs timestamps"):
        Interactions.from_frame(log, user="user", item="item").filter(start="2024-01-01")


def test_describe(log):
    d = Interactions.from_frame(log, user="user", item="item", time="ts").describe()
    assert d["n_users"] == 3 and d["n_items"] == 3 and d["n_pairs"] == 4
    assert d["density"] == pytest.approx(4 / 9)
    assert d["time_min"] == pd.Timestamp("2024-01-01")


def test_reuse_id_maps(log):
    X = Interactions.from_frame(log, user="user", item="item")
    extra = pd.DataFrame({"user": ["u1", "u9"], "item": ["c", "a"]})
    with pytest.raises(UnknownIdError, match="u9"):
        Interactions.from_frame(
            extra, user="user", item="item", user_map=X.user_map, item_map=X.item_map
        )
    Y = Interactions.from_frame(
        extra, user="user", item="item", user_map=X.user_map, item_map=X.item_map, drop_unknown=True
    )
    assert Y.shape == X.shape and len(Y) == 1


def test_from_csr_round_trip():
    M = sp.random(20, 15, density=0.2, format="csr", random_state=0, dtype=np.float64)
    X = Interactions.from_csr(M, item_ids=[f"i{j}" for j in range(15)])
    np.testing.assert_allclose(X.to_csr().toarray(), M.toarray(), rtol=1e-6)
    assert X.item_map.index(["i3"]).tolist() == [3]
    with pytest.raises(DataValidationError, match="one id per column"):
        Interactions.from_csr(M, item_ids=["x"])


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"qty": [1, np.nan, 1, 1, 1, 1]}, "finite"),
        ({"qty": [1, np.inf, 1, 1, 1, 1]}, "finite"),
        ({"qty": [1, -2, 1, 1, 1, 1]}, "non-negative"),
        ({"user": ["u1", None, "u2", "u3", "u1", "u2"]}, "missing value"),
    ],
)
def test_bad_values(log, bad, message):
    frame = log.assign(**bad)
    with pytest.raises(DataValidationError, match=message):
        Interactions.from_frame(frame, user="user", item="item", value="qty")


def test_negative_allowed_when_asked(log):
    X = Interactions.from_frame(
        log.assign(qty=-1), user="user", item="item", value="qty", allow_negative=True
    )
    assert X.to_csr().sum() == -6


def test_column_errors_list_present_columns(log):
    with pytest.raises(
        DataValidationError,
        match=r"item='itme' is not a column.*\['user', "
        r"'item'.*Did you mean item='item'",
    ):
        Interactions.from_frame(log, user="user", item="itme")
    with pytest.raises(DataValidationError, match="empty"):
        Interactions.from_frame(log.iloc[:0], user="user", item="item")
    with pytest.raises(DataValidationError, match="DataFrame"):
        Interactions.from_frame(log.to_numpy(), user="user", item="item")


def test_event_errors(log):
    with pytest.raises(DataValidationError, match=r"no weight in event_weights: \['cart'\]"):
        Interactions.from_frame(
            log, user="user", item="item", event="event", event_weights={"view": 1, "purchase": 10}
        )
    with pytest.raises(InvalidParameterError, match="go together"):
        Interactions.from_frame(log, user="user", item="item", event="event")
    with pytest.raises(InvalidParameterError, match="duplicates must be one of"):
        Interactions.from_frame(log, user="user", item="item", duplicates="mean")


def test_matrix_is_read_only(log):
    X = Interactions.from_frame(log, user="user", item="item")
    with pytest.raises(ValueError):
        X.to_csr().data[0] = 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 5), st.integers(1, 5)), min_size=1, max_size=60
    )
)
def test_matrix_equals_scipy_sum(rows):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "value"])
    X = Interactions.from_frame(frame, value="value")
    users = X.user_map.index(frame["user_id"])
    items = X.item_map.index(frame["item_id"])
    expected = sp.coo_array((frame["value"].to_numpy(float), (users, items)), shape=X.shape)
    np.testing.assert_allclose(X.to_csr().toarray(), expected.toarray())
    assert isinstance(X.user_map, IdMap)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(1, 9), st.integers(0, 5)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["sum", "max", "first", "last", "count", "keep"]),
    st.booleans(),
)
def test_duplicate_policies_match_pandas(rows, policy, with_time):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "value", "t"])
    X = Interactions.from_frame(
        frame, value="value", time="t" if with_time else None, duplicates=policy
    )
    # rows come out in index order (ids in order of first appearance), then time, then input
    ordered = frame.assign(
        position=np.arange(len(frame)),
        u=X.user_map.index(frame["user_id"]),
        i=X.item_map.index(frame["item_id"]),
    )
    ordered = ordered.sort_values(
        ["u", "i"] + (["t"] if with_time else []) + ["position"], kind="stable"
    )
    got = X.to_frame()
    if policy == "keep":
        expected = ordered[["user_id", "item_id", "value"]]
    else:
        groups = ordered.groupby(["user_id", "item_id"], sort=False)
        agg = {"sum": "sum", "max": "max", "first": "first", "last": "last", "count": "size"}[
            policy
        ]
        values = groups["value"].agg(agg) if agg != "size" else groups.size()
        expected = values.rename("value").reset_index()
        if with_time:
            time_pick = groups["t"].min() if policy == "first" else groups["t"].max()
            np.testing.assert_array_equal(got["t"].to_numpy(), time_pick.to_numpy())
    assert got["user_id"].tolist() == expected["user_id"].tolist()
    assert got["item_id"].tolist() == expected["item_id"].tolist()
    np.testing.assert_allclose(got["value"].to_numpy(), expected["value"].to_numpy(float))
