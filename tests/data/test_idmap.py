import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reco.data import IdMap
from reco.exceptions import DataValidationError, InvalidParameterError, UnknownIdError

ids_strategy = st.one_of(
    st.lists(st.integers(-(2**40), 2**40), unique=True, max_size=50),
    st.lists(st.text(max_size=6), unique=True, max_size=50),
)


@given(ids_strategy)
def test_round_trip(ids):
    m = IdMap(ids, name="item")
    assert len(m) == len(ids)
    index = m.index(ids)
    assert index.dtype == np.int32
    assert index.tolist() == list(range(len(ids)))
    assert m.ids(index).tolist() == ids
    kind, array = m.to_arrays()
    assert IdMap.from_arrays(kind, array, name="item") == m


def test_missing_policies():
    m = IdMap(["a", "b", "c"], name="item")
    assert m.index(["c", "x", "a"], missing="negative").tolist() == [2, -1, 0]
    assert m.index(["c", "x", "a"], missing="skip").tolist() == [2, 0]
    with pytest.raises(UnknownIdError, match=r"2 item id\(s\) are not known.*'x', 'y'") as info:
        m.index(["x", "a", "y", "x"])
    assert info.value.ids == ["x", "y"]
    assert isinstance(info.value, KeyError)
    with pytest.raises(InvalidParameterError, match="missing must be one of"):
        m.index(["a"], missing="ignore")


def test_scalar_lookup_and_containment():
    m = IdMap([10, 20, 30], name="user")
    assert m.index_one(20) == 1
    assert 30 in m and 40 not in m and "x" not in m
    with pytest.raises(UnknownIdError, match="40"):
        m.index_one(40)


def test_duplicates_and_nan_refused():
    with pytest.raises(
        DataValidationError, match=r"must be unique; found 1 duplicated id\(s\): \['b'\]"
    ):
        IdMap(["a", "b", "b"])
    with pytest.raises(DataValidationError, match="NaN"):
        IdMap([1.0, np.nan])
    with pytest.raises(InvalidParameterError, match="list or array"):
        IdMap("abc")


def test_immutable_and_picklable():
    import pickle

    m = IdMap(["a", "b"])
    with pytest.raises(AttributeError):
        m.name = "x"
    assert pickle.loads(pickle.dumps(m)) == m


def test_ids_out_of_range():
    m = IdMap(["a"])
    with pytest.raises(InvalidParameterError, match=r"in \[0, 0\]"):
        m.ids([1])


def test_range_map_and_unsaveable_ids():
    from reco.exceptions import NotSupportedError

    r = IdMap.range(4)
    assert r.index([3, 0]).tolist() == [3, 0]
    assert r.to_arrays()[0] == "range"
    with pytest.raises(NotSupportedError, match="cannot be saved"):
        IdMap([("a", 1), ("b", 2)]).to_arrays()
    assert IdMap(pd.Index(["x", "y"])).index(["y"]).tolist() == [1]


@pytest.mark.parametrize(
    "ids, queries",
    [
        (list(range(50)), np.array([0, 49, 50, -1, 7] * 3, dtype=np.int64)),  # range map
        (list(range(50)), np.array([3, 60, 2**64 - 1] * 3, dtype=np.uint64)),
        ([i * 7 for i in range(50)], np.array([7, 8, 343, -7] * 2, dtype=np.int32)),
        ([i * 7 for i in range(50)], np.array(["7", 7, 14.0, None, 21], dtype=object)),
        (np.array([1, 2**63 + 5], dtype=np.uint64), np.array([2**63 + 5, 1, 3, -1, 1])),
        ([f"sku{i}" for i in range(50)], np.array(["sku3", "x", 3, None, ("a",)], dtype=object)),
        ([1, "a", ("t", 2)], np.array([1.0, True, "a", ("t", 2), "b"], dtype=object)),
        ([0.5, 1.5, 2.5], np.array([1.5, 2.0, 2.5, 0.5, 9.0])),
    ],
)
def test_lookups_of_many_ids_agree_with_pandas(ids, queries):
    """The fast routes (range arithmetic, the index's hash table) answer as get_indexer."""
    import pandas as pd

    m = IdMap(ids, name="item")
    expected = pd.Index(m.array, dtype=m.array.dtype).get_indexer(queries)
    np.testing.assert_array_equal(m.index(queries, missing="negative"), expected)


def test_str_ids_from_frames_and_lists_are_python_objects():
    import pandas as pd

    from reco import Interactions

    data = Interactions.from_frame(
        pd.DataFrame({"u": ["a", "b"], "i": ["x", "y"]}), user="u", item="i"
    )
    assert data.item_map.pandas_index.dtype == object
    assert data.item_map.index(["y", "x", "z", "y", "x"], missing="negative").tolist() == [
        1,
        0,
        -1,
        1,
        0,
    ]


def test_range_map_lookups_by_arithmetic():
    m = IdMap.range(50, name="item")
    for queries in (
        np.array([0, 49, 50, -1, 7, 3], dtype=np.int64),
        np.array([3, 60, 2**64 - 1, 0, 49], dtype=np.uint64),
        np.array([5, -3, 2, 1, 0, 9], dtype=np.int8),
    ):
        expected = [int(q) if 0 <= int(q) < 50 else -1 for q in queries.tolist()]
        assert m.index(queries, missing="negative").tolist() == expected
