import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.data import Baskets
from reco.exceptions import DataValidationError, InvalidParameterError
from reco.mining import frequent_itemsets
from reco.mining.itemsets import min_count

baskets_strategy = st.lists(st.sets(st.integers(0, 7), max_size=6), min_size=1, max_size=40)


def brute_force(baskets, threshold, max_len):
    items = sorted(set().union(*baskets)) if baskets else []
    found = {}
    for size in range(1, max_len + 1):
        for combo in itertools.combinations(items, size):
            count = sum(set(combo) <= b for b in baskets)
            if count >= threshold:
                found[frozenset(combo)] = count
    return found


def as_dict(result):
    return {
        frozenset(s): c for s, c in zip(result.frame["itemset"], result.frame["count"], strict=True)
    }


@pytest.mark.parametrize("lists_below", [0.0, 20.0, 1e9])
@pytest.mark.parametrize("seed", range(6))
def test_bitsets_and_transaction_lists_find_the_same_itemsets(monkeypatch, seed, lists_below):
    """Eclat's two representations (bitsets; transaction lists for classes of rare first
    items) give the brute-force itemsets, in the same order whichever classes use which."""
    import reco.mining.itemsets as itemsets

    rng = np.random.default_rng(seed)
    baskets = [set(rng.choice(12, rng.integers(1, 8), replace=False).tolist()) for _ in range(150)]
    baskets += [set(range(9))] * 5  # a few long baskets: deep classes
    monkeypatch.setattr(itemsets, "_LISTS_BELOW", lists_below)
    result = frequent_itemsets([sorted(b) for b in baskets], 4, max_len=6)
    assert as_dict(result) == brute_force(baskets, 4, 6)
    monkeypatch.setattr(itemsets, "_LISTS_BELOW", 0.0)
    reference = frequent_itemsets([sorted(b) for b in baskets], 4, max_len=6)
    assert result.frame["itemset"].tolist() == reference.frame["itemset"].tolist()


@settings(max_examples=80, deadline=None)
@given(
    baskets_strategy,
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from(["eclat", "fpgrowth", "apriori"]),
)
def test_equals_brute_force(baskets, threshold, max_len, algorithm):
    result = frequent_itemsets(
        [list(b) for b in baskets], threshold, max_len=max_len, algorithm=algorithm
    )
    assert as_dict(result) == brute_force(baskets, threshold, max_len)
    assert result.n_transactions == len(baskets)
    assert (result.frame["support"] == result.frame["count"] / len(baskets)).all()
    assert (result.frame["length"] == result.frame["itemset"].map(len)).all()


@settings(max_examples=60, deadline=None)
@given(baskets_strategy, st.integers(1, 4))
def test_closed_and_maximal_definitions(baskets, threshold):
    every = brute_force(baskets, threshold, 8)
    closed = {s for s, c in every.items() if not any(s < t and every[t] == c for t in every)}
    maximal = {s for s in every if not any(s < t for t in every)}
    data = [list(b) for b in baskets]
    for algorithm, max_len in itertools.product(("eclat", "fpgrowth", "apriori"), (None, 1, 2)):
        cap = 8 if max_len is None else max_len
        got_closed = frequent_itemsets(
            data, threshold, kind="closed", algorithm=algorithm, max_len=max_len
        )
        assert set(as_dict(got_closed)) == {s for s in closed if len(s) <= cap}
        got_maximal = frequent_itemsets(
            data, threshold, kind="maximal", algorithm=algorithm, max_len=max_len
        )
        assert set(as_dict(got_maximal)) == {s for s in maximal if len(s) <= cap}


def test_maximal_with_max_len_matches_mlxtend_fpmax_example():
    # mlxtend's own fpmax test data: with max_len=2, the pairs inside the frequent triple
    # {Eggs, Kidney Beans, Onion} are not maximal
    from mlxtend.frequent_patterns import fpmax

    dataset = [
        ["Milk", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
        ["Dill", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
        ["Milk", "Apple", "Kidney Beans", "Eggs"],
        ["Milk", "Unicorn", "Corn", "Kidney Beans", "Yogurt"],
        ["Corn", "Onion", "Onion", "Kidney Beans", "Ice cream", "Eggs"],
    ]
    items = sorted(set().union(*dataset))
    onehot = pd.DataFrame([[i in b for i in items] for b in dataset], columns=items)
    theirs = fpmax(onehot, min_support=0.6, max_len=2, use_colnames=True)
    ours = frequent_itemsets(onehot, 0.6, kind="maximal", max_len=2)
    assert set(map(frozenset, ours.frame["itemset"])) == set(theirs["itemsets"])
    assert set(map(frozenset, ours.frame["itemset"])) == {
        frozenset({"Kidney Beans", "Milk"}),
        frozenset({"Kidney Beans", "Yogurt"}),
    }


def test_support_thresholds():
    assert min_count(0.3, 10) == 3  # 0.3 * 10 is 3.0000000000000004 in floats
    assert min_count(0.25, 10) == 3  # ceil
    assert min_count(1.0, 7) == 7
    assert min_count(4, 10) == 4
    for bad in (0, 0.0, 1.5, -1, True, "0.1", float("nan")):
        with pytest.raises(InvalidParameterError, match="min_support must be in"):
            min_count(bad, 10)


def test_every_input_form_gives_the_same_itemsets():
    lists = [["a", "b"], ["a", "c"], ["a", "b", "c"], ["b"]]
    expected = as_dict(frequent_itemsets(lists, 2))
    long = pd.DataFrame(
        [(t, i) for t, b in enumerate(lists) for i in b], columns=["transaction_id", "item_id"]
    )
    onehot = pd.DataFrame([[i in b for i in "abc"] for b in lists], columns=list("abc"))
    for form in (
        long,
        onehot,
        Baskets.from_lists(lists),
        onehot.astype(pd.SparseDtype(bool, False)),
    ):
        assert as_dict(frequent_itemsets(form, 2)) == expected
    matrix = sp.csr_array(onehot.to_numpy().astype(np.float32))
    by_index = as_dict(frequent_itemsets(matrix, 2))
    assert by_index == {frozenset("abc".index(x) for x in s): c for s, c in expected.items()}


def test_real_baskets_against_mlxtend(data_dir):
    from mlxtend.frequent_patterns import fpgrowth

    from reco.datasets import read_arff_baskets

    baskets = read_arff_baskets(data_dir / "supermarket_weka" / "supermarket.arff.gz")
    onehot = pd.DataFrame(baskets.matrix.toarray(), columns=baskets.item_map.array)
    theirs = fpgrowth(onehot, min_support=0.2, use_colnames=True)
    for algorithm in ("eclat", "fpgrowth", "apriori"):
        ours = frequent_itemsets(baskets, 0.2, algorithm=algorithm)
        assert {
            frozenset(s): v for s, v in zip(ours.frame.itemset, ours.frame.support, strict=True)
        } == dict(zip(theirs.itemsets, theirs.support, strict=True))


def test_algorithms_agree_on_deep_and_branching_trees():
    """Long identical baskets make single-path FP-trees (every subset frequent); a shared
    head with different tails makes branches; max_len cuts both."""
    rng = np.random.default_rng(3)
    baskets = [list(range(12))] * 5 + [
        [0, 1, 2, *rng.choice(30, 5, replace=False)] for _ in range(40)
    ]
    for max_len in (None, 3):
        frames = [
            frequent_itemsets(baskets, 4, max_len=max_len, algorithm=a).frame
            for a in ("eclat", "fpgrowth", "apriori")
        ]
        expected = dict(zip(frames[0].itemset, frames[0]["count"], strict=True))
        assert len(expected) >= (4095 if max_len is None else 298)
        for frame in frames[1:]:
            assert dict(zip(frame.itemset, frame["count"], strict=True)) == expected
            # report order: count descending, then length
            keys = list(zip(-frame["count"], frame["length"], strict=True))
            assert keys == sorted(keys)


def test_building_the_report_restores_the_garbage_collector():
    import gc

    frequent_itemsets([["a", "b"]] * 3, 1)
    assert gc.isenabled()
    gc.disable()
    try:
        frequent_itemsets([["a", "b"]] * 3, 1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_errors():
    with pytest.raises(InvalidParameterError, match="kind"):
        frequent_itemsets([["a"]], 1, kind="frequent")
    with pytest.raises(InvalidParameterError, match="algorithm"):
        frequent_itemsets([["a"]], 1, algorithm="fp-growth")
    with pytest.raises(DataValidationError, match="list of item lists"):
        frequent_itemsets("abc", 1)
    with pytest.raises(InvalidParameterError, match="max_len"):
        frequent_itemsets([["a"]], 1, max_len=0)


def test_thread_count_does_not_change_the_result():
    rng = np.random.default_rng(11)
    baskets = [list(rng.choice(40, size=rng.integers(1, 12), replace=False)) for _ in range(300)]
    one = frequent_itemsets(baskets, 0.02, n_threads=1)
    for kind in ("all", "closed", "maximal"):
        pd.testing.assert_frame_equal(
            frequent_itemsets(baskets, 0.02, n_threads=1, kind=kind).frame,
            frequent_itemsets(baskets, 0.02, n_threads=3, kind=kind).frame,
        )
    assert len(one) > 100
    with pytest.raises(InvalidParameterError, match="n_threads"):
        frequent_itemsets(baskets, 0.02, n_threads=0)


def test_many_itemsets_filled_in_parallel_chunks():
    """65,535 itemsets (every subset of 16 items): the report is built in parallel chunks and
    must equal the single-threaded one."""
    baskets = [list(range(16))] * 3 + [[0, 1]]
    one = frequent_itemsets(baskets, 3, n_threads=1).frame
    two = frequent_itemsets(baskets, 3, n_threads=2).frame
    assert len(one) == 2**16 - 1
    pd.testing.assert_frame_equal(one, two)
    assert set(one["itemset"].iloc[-1]) == set(range(16))
