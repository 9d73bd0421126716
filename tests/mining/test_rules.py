import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.exceptions import DataValidationError, InvalidParameterError
from reco.mining import METRICS, association_rules, frequent_itemsets

mlxtend = pytest.importorskip("mlxtend.frequent_patterns")


def mlxtend_rules(onehot, min_support, metric, threshold):
    itemsets = mlxtend.apriori(onehot, min_support=min_support, use_colnames=True)
    if itemsets.empty:
        return None
    rules = mlxtend.association_rules(
        itemsets, num_itemsets=len(onehot), metric=metric, min_threshold=threshold
    )
    return rules.rename(
        columns={
            "antecedent support": "antecedent_support",
            "consequent support": "consequent_support",
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**31),
    st.sampled_from(
        [
            "confidence",
            "lift",
            "leverage",
            "support",
            "conviction",
            "zhangs_metric",
            "jaccard",
            "certainty",
            "kulczynski",
        ]
    ),
    st.floats(0.0, 0.9),
)
def test_every_metric_equals_mlxtend(seed, metric, threshold):
    rng = np.random.default_rng(seed)
    onehot = pd.DataFrame(
        rng.random((60, 7)) < rng.uniform(0.2, 0.6, 7), columns=[f"i{j}" for j in range(7)]
    )
    theirs = mlxtend_rules(onehot, 0.1, metric, threshold)
    ours = association_rules(frequent_itemsets(onehot, 0.1), metric, threshold).frame
    if theirs is None or theirs.empty:
        assert ours.empty
        return
    key = lambda a, c: (frozenset(a), frozenset(c))  # noqa: E731
    ours = ours.set_index(
        [[key(a, c) for a, c in zip(ours.antecedent, ours.consequent, strict=True)]]
    )
    theirs = theirs.set_index(
        [[key(a, c) for a, c in zip(theirs.antecedents, theirs.consequents, strict=True)]]
    )
    assert set(ours.index) == set(theirs.index)
    for column in METRICS:
        np.testing.assert_allclose(
            ours.loc[theirs.index, column].to_numpy(float),
            theirs[column].to_numpy(float),
            rtol=1e-12,
            atol=1e-12,
            err_msg=column,
        )


def test_constraints_and_lengths():
    baskets = [["a", "b", "c"]] * 5 + [["a", "b"]] * 3 + [["c"]] * 2
    itemsets = frequent_itemsets(baskets, 2)
    rules = association_rules(itemsets, "confidence", 0.0, consequents=["c"])
    assert set(rules.frame["consequent"]) == {("c",)}
    short = association_rules(itemsets, "confidence", 0.0, max_antecedent_len=1)
    assert (short.frame["antecedent"].map(len) == 1).all()
    top = association_rules(itemsets, "lift", 0.0).frame
    assert top["lift"].is_monotonic_decreasing


def test_rules_from_closed_itemsets_use_all_supports():
    baskets = [["a", "b"], ["a", "b"], ["a"], ["b", "c"]]
    closed = frequent_itemsets(baskets, 1, kind="closed")
    every = frequent_itemsets(baskets, 1)
    pd.testing.assert_frame_equal(
        association_rules(closed, "confidence", 0.1).frame,
        association_rules(every, "confidence", 0.1).frame,
    )


def test_errors():
    itemsets = frequent_itemsets([["a", "b"]], 1)
    with pytest.raises(InvalidParameterError, match="metric must be one of"):
        association_rules(itemsets, "interest")
    with pytest.raises(DataValidationError, match="frequent_itemsets"):
        association_rules(pd.DataFrame(), "confidence")


def test_candidates_in_small_chunks_give_the_same_rules(monkeypatch):
    """Rules are generated in chunks of whole itemsets; the chunk size must not matter, and an
    itemset with more rules than a chunk is done alone."""
    from reco.mining import rules as rules_module

    rng = np.random.default_rng(5)
    baskets = [list(rng.choice(9, size=rng.integers(2, 8), replace=False)) for _ in range(80)]
    itemsets = frequent_itemsets(baskets, 4)
    expected = association_rules(itemsets, "lift", 0.0).frame
    monkeypatch.setattr(rules_module, "_RULE_CHUNK", 3)
    pd.testing.assert_frame_equal(association_rules(itemsets, "lift", 0.0).frame, expected)


def test_antecedent_constraints_and_consequent_length():
    baskets = [["a", "b", "c", "d"]] * 4 + [["a", "c"], ["b", "d"]]
    itemsets = frequent_itemsets(baskets, 2)
    rules = association_rules(
        itemsets, "confidence", 0.0, antecedents=["a", "b"], max_consequent_len=1
    ).frame
    assert len(rules) > 0
    assert all(set(a) <= {"a", "b"} for a in rules["antecedent"])
    assert (rules["consequent"].map(len) == 1).all()
    # every rule of the brute-force definition is there: A from {a, b}, one consequent item
    expected = {
        (a, c)
        for a in [("a",), ("b",), ("a", "b")]
        for c in [("a",), ("b",), ("c",), ("d",)]
        if not set(a) & set(c) and sum(set(a) | set(c) <= set(b) for b in baskets) >= 2
    }
    assert set(zip(rules["antecedent"], rules["consequent"], strict=True)) == expected


def test_count_of_reads_the_itemset_table():
    itemsets = frequent_itemsets([["a", "b"], ["a", "b"], ["a"]], 1)
    index = dict(zip(itemsets.item_map.array, range(2), strict=False))
    assert itemsets.count_of([index["a"]]) == 3
    assert itemsets.count_of([index["b"], index["a"]]) == 2
    assert itemsets.count_of([index["a"], index["a"], index["b"]]) == 2  # a set: duplicates fold
    unknown = frequent_itemsets([["a"], ["b"]], 1)
    assert unknown.count_of([0, 1]) == 0


def test_count_of_rejects_external_ids():
    itemsets = frequent_itemsets([["a", "b"]], 1)
    with pytest.raises(DataValidationError, match="item-map indices"):
        itemsets.count_of(["a"])


def test_max_rules_keeps_the_best_and_explosions_are_warned():
    import warnings

    from reco.exceptions import EfficiencyWarning
    from reco.mining import rules as rules_module

    rng = np.random.default_rng(0)
    baskets = [list(rng.choice(12, rng.integers(2, 7), replace=False)) for _ in range(300)]
    itemsets = frequent_itemsets(baskets, 0.02)
    every = association_rules(itemsets, "confidence", 0.1).frame
    best = association_rules(itemsets, "confidence", 0.1, max_rules=25).frame
    assert len(best) == 25
    expected = every.sort_values(["confidence", "support"], ascending=False, kind="stable")
    assert best["confidence"].tolist() == expected["confidence"].head(25).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        association_rules(itemsets, "confidence", 0.1)  # far below the limit: no warning
    original = rules_module._EXPLOSIVE
    try:
        rules_module._EXPLOSIVE = 10
        with pytest.warns(EfficiencyWarning, match="max_rules"):
            association_rules(itemsets, "confidence", 0.1)
    finally:
        rules_module._EXPLOSIVE = original
