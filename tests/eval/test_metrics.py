import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.base import RecBatch
from reco.data import IdMap, Interactions
from reco.eval import metrics as m
from reco.exceptions import DataValidationError, InvalidParameterError, UndefinedMetricWarning

ITEMS = IdMap([f"i{j}" for j in range(6)], name="item")


def batch(rows, n=4):
    users = np.array([f"u{u}" for u in range(len(rows))], dtype=object)
    index = np.full((len(rows), n), -1, np.int32)
    lengths = np.array([len(r) for r in rows], np.int32)
    for u, row in enumerate(rows):
        index[u, : len(row)] = [ITEMS.index_one(i) for i in row]
    scores = np.where(index >= 0, 1.0, -np.inf).astype(np.float32)
    return RecBatch(users, index, scores, lengths, ITEMS)


def truth(pairs):
    return pd.DataFrame(pairs, columns=["user", "item"])


def test_hand_computed_values():
    recs = batch([["i0", "i1", "i2", "i3"], ["i4", "i5"]])
    t = truth([("u0", "i1"), ("u0", "i3"), ("u0", "i5"), ("u1", "i4")])
    assert m.precision(recs, t, 4).tolist() == [0.5, 0.25]
    assert m.recall(recs, t, 4).tolist() == pytest.approx([2 / 3, 1.0])
    assert m.reciprocal_rank(recs, t, 4).tolist() == [0.5, 1.0]
    assert m.average_precision(recs, t, 4).tolist() == pytest.approx([(1 / 2 + 2 / 4) / 3, 1])
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert m.ndcg(recs, t, 4).tolist() == pytest.approx([dcg / idcg, 1.0])
    assert m.hit_rate(recs, t, 1).tolist() == [0.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.sampled_from(list(ITEMS.array)), min_size=1), min_size=1, max_size=8),
    st.integers(1, 4),
)
def test_range_and_perfect_lists(truth_sets, k):
    rows = [sorted(s)[:4] for s in truth_sets]
    recs = batch(rows)
    t = truth([(f"u{u}", i) for u, s in enumerate(truth_sets) for i in s])
    for name in ("precision", "recall", "recall_liang", "ndcg", "map", "mrr", "hit_rate"):
        values = m.ACCURACY[name](m.judge(recs, t, k), k)
        assert ((values >= 0) & (values <= 1 + 1e-12)).all(), name
    # each list starts with relevant items only, so these are perfect
    for metric in (m.ndcg, m.recall_liang, m.reciprocal_rank, m.hit_rate):
        assert np.allclose(metric(recs, t, k), 1.0), metric.__name__
    assert np.allclose(m.average_precision(recs, t, k, normalize="k"), 1.0)


def test_empty_truth_warns_and_gives_nan():
    recs = batch([["i0"], ["i1"]])
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 users"):
        values = m.recall(recs, truth([("u0", "i0")]), 1)
    assert values[0] == 1.0 and np.isnan(values[1])


def test_bad_arguments():
    recs = batch([["i0"]])
    with pytest.raises(InvalidParameterError, match="larger than the lists"):
        m.ndcg(recs, truth([("u0", "i0")]), 10)
    with pytest.raises(DataValidationError, match="RecBatch"):
        m.ndcg([["i0"]], truth([("u0", "i0")]), 1)
    with pytest.raises(DataValidationError, match="needs columns"):
        m.ndcg(recs, pd.DataFrame({"user_id": ["u0"], "item": ["i0"]}), 1)
    with pytest.raises(InvalidParameterError, match="normalize"):
        m.average_precision(recs, truth([("u0", "i0")]), 1, normalize="n")


def test_beyond_accuracy_by_hand():
    recs = batch([["i0", "i1"], ["i0", "i2"], []], n=2)
    assert m.catalog_coverage(recs, 2) == pytest.approx(3 / 6)
    # exposure counts over 6 items: [2, 1, 1, 0, 0, 0] -> sorted [0, 0, 0, 1, 1, 2]
    # exposure over the 6 items: i0 twice, i1 and i2 once, the rest never. Gini as the mean
    # absolute difference: sum |c_i - c_j| over ordered pairs / (2 n^2 mean)
    counts = np.array([2, 1, 1, 0, 0, 0])
    pairs = np.abs(counts[:, None] - counts[None, :]).sum()
    assert pairs == 28
    assert m.gini_index(recs, 2) == pytest.approx(28 / (2 * 36 * (4 / 6)))
    # all exposure on one item: the maximum (n - 1) / n
    single = RecBatch(
        np.array(["x", "y"], dtype=object),
        np.array([[0], [0]], np.int32),
        np.ones((2, 1), np.float32),
        np.array([1, 1], np.int32),
        ITEMS,
    )
    assert m.gini_index(single, 1) == pytest.approx(5 / 6)
    # lists {i0, i1} and {i0, i2}: cosine 1/2 -> personalisation 1/2 (the empty list is left out)
    assert m.personalisation(recs, 2) == pytest.approx(0.5)
    categories = pd.Series(["a", "a", "b", "b", "c", "c"], index=ITEMS.array)
    ild = m.intra_list_diversity(recs, 2, categories=categories)
    assert ild[:2].tolist() == [0.0, 1.0] and np.isnan(ild[2])
    features = np.eye(6)
    assert m.intra_list_diversity(recs, 2, item_features=features)[:2].tolist() == [1.0, 1.0]
    train = Interactions.from_frame(
        pd.DataFrame(
            {"user_id": ["a", "b", "c", "d", "a"], "item_id": ["i0", "i0", "i0", "i1", "i1"]}
        ),
        item_map=ITEMS,
    )
    novelty = m.novelty(recs, train, 2)
    p = {"i0": 3 / 4, "i1": 2 / 4, "i2": 1 / 4}  # i2 unseen: counts as one user
    assert novelty[0] == pytest.approx((-np.log2(p["i0"]) - np.log2(p["i1"])) / 2)
    assert novelty[1] == pytest.approx((-np.log2(p["i0"]) - np.log2(p["i2"])) / 2)
    assert m.average_popularity(recs, train, 2)[:2].tolist() == [2.5, 1.5]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(list(ITEMS.array)), max_size=4, unique=True),
        min_size=2,
        max_size=10,
    )
)
def test_personalisation_equals_pairwise_definition(rows):
    recs = batch(rows)
    lists = [set(r) for r in rows if r]
    if len(lists) < 2:
        return
    sims = [
        len(a & b) / np.sqrt(len(a) * len(b)) for i, a in enumerate(lists) for b in lists[i + 1 :]
    ]
    assert m.personalisation(recs, 4) == pytest.approx(1 - np.mean(sims))
