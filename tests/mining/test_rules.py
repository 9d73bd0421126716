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
