"""Every accuracy metric against ranx on random lists and truths, to 1e-9."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reco.base import RecBatch
from reco.data import IdMap, Interactions
from reco.eval import metrics as m

ranx = pytest.importorskip("ranx")


def make_case(seed, n_users, n_items, n, graded):
    rng = np.random.default_rng(seed)
    items = IdMap([f"i{j}" for j in range(n_items)], name="item")
    users = np.array([f"u{u}" for u in range(n_users)], dtype=object)
    item_index = np.full((n_users, n), -1, np.int32)
    lengths = rng.integers(0, min(n, n_items) + 1, n_users).astype(np.int32)
    truth_rows = []
    for u in range(n_users):
        item_index[u, : lengths[u]] = rng.choice(n_items, lengths[u], replace=False)
        size = int(rng.integers(1, n_items // 2 + 2))
        for j in rng.choice(n_items + 3, size, replace=False):  # a few items the model lacks
            rel = int(rng.integers(1, 4)) if graded else 1
            truth_rows.append((users[u], f"i{j}", rel))
    scores = np.where(item_index >= 0, -np.arange(n, dtype=np.float32)[None, :], -np.inf)
    recs = RecBatch(users, item_index, scores.astype(np.float32), lengths, items)
    import pandas as pd

    truth = pd.DataFrame(truth_rows, columns=["user", "item", "relevance"])
    qrels = ranx.Qrels(
        {
            u: {i: int(r) for i, r in zip(g["item"], g["relevance"], strict=True)}
            for u, g in truth.groupby("user")
        }
    )
    run = ranx.Run(
        {
            users[u]: {f"i{item_index[u, r]}": float(n - r) for r in range(lengths[u])}
            or {"__none__": 0.0}
            for u in range(n_users)
        }
    )
    return recs, truth, qrels, run


def ranx_values(qrels, run, metric, users):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranx.evaluate(qrels, run, metric, return_mean=False)
    return np.array([run.scores[metric][u] for u in users])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**31), st.integers(1, 30), st.integers(5, 40), st.integers(1, 12), st.booleans()
)
def test_accuracy_metrics_equal_ranx(seed, n_users, n_items, k, graded):
    n = k + 3
    recs, truth, qrels, run = make_case(seed, n_users, n_items, n, graded)
    users = recs.users
    pairs = [
        (m.precision(recs, truth, k), f"precision@{k}"),
        (m.recall(recs, truth, k), f"recall@{k}"),
        (m.hit_rate(recs, truth, k), f"hit_rate@{k}"),
        (m.reciprocal_rank(recs, truth, k), f"mrr@{k}"),
        (m.average_precision(recs, truth, k), f"map@{k}"),
        (m.ndcg(recs, truth, k, graded=True), f"ndcg@{k}"),
        (m.dcg(recs, truth, k, graded=True), f"dcg@{k}"),
        (m.f1(recs, truth, k), f"f1@{k}"),
        (m.r_precision(recs, truth), "r-precision"),
    ]
    for ours, name in pairs:
        np.testing.assert_allclose(
            ours, ranx_values(qrels, run, name, users), rtol=0, atol=1e-9, err_msg=name
        )
    # the variants ranx lacks, from their definitions, user by user in plain Python
    liang, apk = [], []
    for u, user in enumerate(users):
        relevant = set(truth.loc[truth["user"] == user, "item"])
        listed = [f"i{j}" for j in recs.item_index[u, : min(k, recs.lengths[u])]]
        hits = [item in relevant for item in listed]
        denominator = min(len(relevant), k)
        liang.append(sum(hits) / denominator)
        apk.append(sum(sum(hits[: r + 1]) / (r + 1) for r, h in enumerate(hits) if h) / denominator)
    np.testing.assert_allclose(m.recall_liang(recs, truth, k), liang, atol=1e-12)
    np.testing.assert_allclose(m.average_precision(recs, truth, k, normalize="k"), apk, atol=1e-12)
    if not graded:  # binary ndcg equals ranx on 0/1 judgements
        np.testing.assert_allclose(
            m.ndcg(recs, truth, k), ranx_values(qrels, run, f"ndcg@{k}", users), atol=1e-9
        )


def test_interactions_truth_equals_frame_truth():
    recs, truth, _, _ = make_case(3, 10, 20, 8, graded=True)
    users = IdMap(recs.users, name="user")
    known = truth[truth["item"].isin(recs.item_map.array)]
    data = Interactions.from_frame(
        known.rename(columns={"user": "user_id", "item": "item_id"}),
        value="relevance",
        user_map=users,
        item_map=recs.item_map,
    )
    np.testing.assert_allclose(
        m.ndcg(recs, data, 8, graded=True), m.ndcg(recs, known, 8, graded=True)
    )
