"""reco.data.interop: the peers take what it gives and give the same answers."""

import numpy as np
import pandas as pd
import pytest

from reco.data import Baskets, Interactions, interop
from reco.exceptions import DataValidationError
from reco.mining import frequent_itemsets


@pytest.fixture(scope="module")
def baskets():
    rng = np.random.default_rng(0)
    lists = [[f"p{j}" for j in np.flatnonzero(rng.random(12) < 0.3)] for _ in range(200)]
    return Baskets.from_lists(lists, transaction_ids=[f"t{i}" for i in range(200)])


@pytest.mark.parametrize("sparse", [False, True])
def test_mlxtend_mines_the_same_itemsets(baskets, sparse):
    from mlxtend.frequent_patterns import fpgrowth

    onehot = interop.to_mlxtend(baskets, sparse=sparse)
    assert list(onehot.index[:2]) == ["t0", "t1"] and onehot.shape == (200, baskets.n_items)
    theirs = fpgrowth(onehot, min_support=0.08, use_colnames=True)
    ours = frequent_itemsets(baskets, 0.08).frame
    assert dict(zip(theirs["itemsets"], theirs["support"])) == pytest.approx(
        {frozenset(s): v for s, v in zip(ours["itemset"], ours["support"])}
    )
    back = interop.from_mlxtend(onehot)
    assert back.to_lists() == baskets.to_lists()


def test_implicit_fits_the_writable_matrix():
    pytest.importorskip("implicit")  # the test extra installs it
    from implicit.cpu.als import AlternatingLeastSquares

    frame = pd.DataFrame({"user_id": list("aabbcc"), "item_id": [1, 2, 2, 3, 1, 3]})
    X = Interactions.from_frame(frame)
    matrix = interop.to_implicit(X)
    matrix.data[:] = 2.0  # writable: implicit and users scale it in place
    assert X.to_csr().data.max() == 1.0  # reco's own matrix untouched
    model = AlternatingLeastSquares(factors=2, iterations=1, random_state=0)
    model.fit(matrix, show_progress=False)
    assert model.user_factors.shape == (3, 2)
    again = interop.from_implicit(matrix, user_ids=["a", "b", "c"], item_ids=[1, 2, 3])
    assert again.to_frame().shape == (6, 3)


def test_lists_and_long_frames(baskets):
    assert interop.to_pyfim(baskets)[0] == baskets.to_lists()[0]
    X = Interactions.from_frame(
        pd.DataFrame({"u": ["a", "b"], "i": [7, 9], "t": pd.to_datetime(["2024-01-01"] * 2)}),
        user="u", item="i", time="t",
    )  # fmt: skip
    long = interop.to_lenskit(X)
    assert list(long.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert long["user_id"].tolist() == ["a", "b"]


def test_wrong_types_say_what_to_pass(baskets):
    with pytest.raises(DataValidationError, match="takes a Baskets"):
        interop.to_mlxtend([["a"]])
    with pytest.raises(DataValidationError, match="takes an Interactions"):
        interop.to_implicit(baskets)
