import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from reco.data import Baskets
from reco.exceptions import DataValidationError

basket_lists = st.lists(st.lists(st.sampled_from("abcdefg"), max_size=6), min_size=1, max_size=30)


@given(basket_lists)
def test_lists_round_trip_as_sets(baskets):
    b = Baskets.from_lists(baskets)
    assert len(b) == len(baskets)
    assert [set(x) for x in b.to_lists()] == [set(x) for x in baskets]
    counts = b.item_counts()
    for item in counts.index:
        assert counts[item] == sum(item in set(x) for x in baskets)


def test_all_inputs_agree():
    baskets = [["milk", "bread"], ["milk"], [], ["beer", "milk", "milk"]]
    from_lists = Baskets.from_lists(baskets)
    long = pd.DataFrame(
        {
            "transaction_id": [0, 0, 1, 3, 3, 3],
            "item_id": ["milk", "bread", "milk", "beer", "milk", "milk"],
        }
    )
    from_frame = Baskets.from_frame(long)
    onehot = pd.DataFrame(
        {"milk": [1, 1, 0, 1], "bread": [1, 0, 0, 0], "beer": [0, 0, 0, 1]}
    ).astype(bool)
    from_onehot = Baskets.from_onehot(onehot)
    sparse_onehot = Baskets.from_onehot(onehot.astype(pd.SparseDtype(bool, False)))
    assert from_lists.describe()["empty_transactions"] == 1
    for other in (from_onehot, sparse_onehot):
        assert other.item_counts().to_dict() == from_lists.item_counts().to_dict()
    # the long frame has no row for the empty basket: it is simply absent
    assert len(from_frame) == 3
    assert from_frame.item_counts().to_dict() == from_lists.item_counts().to_dict()
    csr = Baskets.from_csr(sp.csr_array(np.array([[2, 0], [0, 1]])), item_ids=["x", "y"])
    assert csr.to_lists() == [["x"], ["y"]]
    assert csr.matrix.dtype == bool


@pytest.mark.parametrize(
    "bad, message",
    [
        ("milk", "list of item lists"),
        ([["a"], "b"], "basket 1"),
        ([], "empty"),
        ([["a", None]], "None or NaN"),
    ],
)
def test_bad_lists(bad, message):
    with pytest.raises(DataValidationError, match=message):
        Baskets.from_lists(bad)


def test_bad_onehot():
    with pytest.raises(DataValidationError, match="holds 2"):
        Baskets.from_onehot(pd.DataFrame({"a": [0, 2]}))
    with pytest.raises(DataValidationError, match=r"holds 0\.5"):  # floats: 0.0 / 1.0 only
        Baskets.from_onehot(pd.DataFrame({"a": [0.5, 1.0]}))
    with pytest.raises(DataValidationError, match="dtype"):
        Baskets.from_onehot(pd.DataFrame({"a": ["x", "y"]}))
