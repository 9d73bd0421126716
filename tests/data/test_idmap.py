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
