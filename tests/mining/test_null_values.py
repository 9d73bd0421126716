"""Unknown values in a one-hot table (mlxtend's null_values=True): supports and rule metrics
count only the transactions where the items are known."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from reco.data import Baskets
from reco.exceptions import DataValidationError, NotSupportedError
from reco.mining import association_rules, frequent_itemsets


def table(seed: int, rows: int = 80, items: int = 6, missing: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = (rng.random((rows, items)) < 0.5).astype(float)
    values[rng.random((rows, items)) < missing] = np.nan
    return pd.DataFrame(values, columns=[f"i{j}" for j in range(items)])


def brute_support(frame: pd.DataFrame, itemset) -> float:
    part = frame[list(itemset)]
    known = part.notna().all(axis=1)
    return float((part[known] == 1).all(axis=1).sum() / known.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_itemsets_by_brute_force(seed):
    frame = table(seed)
    found = frequent_itemsets(frame, 0.2, null_values=True).frame
    got = {frozenset(s): v for s, v in zip(found["itemset"], found["support"], strict=True)}
    expected = {}
    for length in range(1, 7):
        for itemset in itertools.combinations(frame.columns, length):
            value = brute_support(frame, itemset)
            if value >= 0.2 - 1e-12:
                expected[frozenset(itemset)] = value
    assert got == pytest.approx(expected)
    assert np.all(np.diff(found["support"].to_numpy()) <= 0)  # sorted by support
    known = frame[list(found["itemset"].iloc[-1])].notna().all(axis=1).sum()
    assert found["known"].iloc[-1] == known


@pytest.mark.parametrize("seed", [0, 3])
def test_itemsets_and_rules_equal_mlxtend(seed):
    from mlxtend.frequent_patterns import association_rules as ml_rules
    from mlxtend.frequent_patterns import fpgrowth

    frame = table(seed, rows=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # mlxtend on float columns
        theirs = fpgrowth(frame, 0.15, use_colnames=True, null_values=True)
        their_rules = ml_rules(
            theirs, len(frame), df_orig=frame, null_values=True, metric="confidence",
            min_threshold=0.0,
        )  # fmt: skip
    itemsets = frequent_itemsets(frame, 0.15, null_values=True)
    ours = dict(zip(map(frozenset, itemsets.frame["itemset"]), itemsets.frame["support"]))
    assert ours == pytest.approx(dict(zip(theirs["itemsets"], theirs["support"])))
    rules = association_rules(itemsets, "confidence", 0.0).frame
    key = ["antecedent", "consequent"]
    mine = rules.assign(**{k: rules[k].map(frozenset) for k in key}).set_index(key)
    their_rules = their_rules.rename(
        columns=lambda c: c.replace(" ", "_").replace("antecedents", "antecedent")
        .replace("consequents", "consequent")
    ).set_index(key)  # fmt: skip
    assert len(mine) == len(their_rules) > 20
    for metric in ["support", "antecedent_support", "consequent_support", "confidence", "lift",
                   "representativity", "leverage", "conviction", "certainty", "kulczynski",
                   "jaccard", "zhangs_metric"]:  # fmt: skip
        expected = their_rules.loc[mine.index, metric].to_numpy(float)
        np.testing.assert_allclose(mine[metric].to_numpy(float), expected, rtol=1e-9)


def test_missing_cells_need_null_values():
    frame = table(0)
    with pytest.raises(DataValidationError, match="null_values=True"):
        frequent_itemsets(frame, 0.2)
    with pytest.raises(NotSupportedError, match="kind='closed'"):
        frequent_itemsets(frame, 0.2, null_values=True, kind="closed")


def test_without_unknowns_nothing_changes():
    frame = table(5, missing=0.0)
    plain = frequent_itemsets(frame, 0.2).frame
    asked = frequent_itemsets(frame, 0.2, null_values=True).frame
    pd.testing.assert_frame_equal(plain, asked)
    assert "known" not in plain and Baskets.from_onehot(frame).unknown is None


def test_the_result_is_columnar_and_the_frame_lazy():
    """Arrays and single itemsets read without the frame; the frame, built on first access,
    agrees with them."""
    frame = table(9, missing=0.0)
    result = frequent_itemsets(frame, 0.1)
    assert result._frame is None and len(result) > 20
    counts, supports, lengths = result.counts, result.supports, result.lengths
    assert result._frame is None
    table_ = result.frame
    np.testing.assert_array_equal(counts, table_["count"])
    np.testing.assert_array_equal(supports, table_["support"])
    np.testing.assert_array_equal(lengths, table_["length"])
    assert [result.itemset(i) for i in range(len(result))] == table_["itemset"].tolist()
    assert result.frame is table_
    with pytest.raises(Exception, match="position"):
        result.itemset(len(result))
