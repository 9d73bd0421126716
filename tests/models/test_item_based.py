"""Item-based models against naive dense computations of their definitions."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet

from reco.data import Interactions
from reco.exceptions import InvalidParameterError, NotSupportedError
from reco.models import EASE, SLIM, ItemKNN, RP3beta, bm25_weight, tfidf_weight


@pytest.fixture(scope="module")
def matrix():
    rng = np.random.default_rng(5)
    dense = (rng.random((40, 12)) < 0.3) * rng.integers(1, 4, (40, 12))
    dense[0, :] = 0
    dense[0, [1, 2]] = 1
    return sp.csr_array(dense.astype(np.float32))


def naive_topk_columns(similarity, k):
    """Keep the k largest positive entries of each column (ties: lower row)."""
    out = np.zeros_like(similarity)
    for i in range(similarity.shape[1]):
        column = similarity[:, i].copy()
        column[i] = 0
        order = sorted(range(len(column)), key=lambda j: (-column[j], j))
        for j in order[:k]:
            if column[j] > 0:
                out[j, i] = column[j]
    return out


@pytest.mark.parametrize("k", [3, 20])
def test_cosine(matrix, k):
    X = matrix.toarray().astype(np.float64)
    norms = np.linalg.norm(X, axis=0)
    cosine = (X.T @ X) / np.outer(norms, norms)
    model = ItemKNN(k=k).fit(matrix)
    np.testing.assert_allclose(model.weights_.toarray(), naive_topk_columns(cosine, k), rtol=1e-6)
    assert (np.diff(sp.csc_array(model.weights_).indptr) <= k).all()


def test_asymmetric_cosine_shrink_and_jaccard(matrix):
    X = matrix.toarray().astype(np.float64)
    norms = np.linalg.norm(X, axis=0)
    co = X.T @ X
    alpha, shrink = 0.25, 2.0
    # weights_[j, i] = c_ij / (|x_i|^(2 alpha) |x_j|^(2 (1 - alpha)) + shrink), i = candidate
    expected = co / (norms[None, :] ** (2 * alpha) * norms[:, None] ** (2 * (1 - alpha)) + shrink)
    model = ItemKNN(k=50, similarity="asymmetric_cosine", alpha=alpha, shrink=shrink)
    np.testing.assert_allclose(
        model.fit(matrix).weights_.toarray(), naive_topk_columns(expected, 50), rtol=1e-6
    )
    B = (X > 0).astype(float)
    inter = B.T @ B
    counts = B.sum(axis=0)
    jaccard = inter / (counts[:, None] + counts[None, :] - inter)
    np.testing.assert_allclose(
        ItemKNN(k=50, similarity="jaccard").fit(matrix).weights_.toarray(),
        naive_topk_columns(jaccard, 50),
        rtol=1e-6,
    )


def test_bm25_and_tfidf_weights(matrix):
    X = matrix.toarray().astype(np.float64)
    n_items = X.shape[1]
    idf = np.log(n_items / (1 + (X > 0).sum(axis=1)))
    length = X.sum(axis=0)
    norm = 0.25 + 0.75 * length / length.mean()
    expected = np.where(X > 0, X * 2.2 / (X + 1.2 * norm[None, :]) * idf[:, None], 0)
    np.testing.assert_allclose(bm25_weight(matrix).toarray(), expected, rtol=1e-9)
    np.testing.assert_allclose(tfidf_weight(matrix).toarray(), np.sqrt(X) * idf[:, None], rtol=1e-9)


def test_ease_equals_naive_closed_form(matrix):
    X = matrix.toarray().astype(np.float64)
    lam = 7.0
    P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0)
    model = EASE(regularization=lam).fit(matrix)
    np.testing.assert_allclose(model.weights_, B, atol=1e-5)
    scores = model.score([3, 4], list(range(12)))
    np.testing.assert_allclose(scores, X[[3, 4]] @ B, atol=1e-4)


def brute_top(scores, n, banned):
    """Best n (score desc, lower index first) of a score row, skipping banned and -inf/NaN."""
    keep = [i for i in range(len(scores)) if i not in banned and scores[i] > -np.inf]
    return sorted(keep, key=lambda i: (-scores[i], i))[:n]


@pytest.mark.parametrize("whitelist", [None, [0, 3, 5, 9], list(range(2, 12))])
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_dense_ease_ranking_equals_brute_force(matrix, whitelist, exclude_seen):
    """The fused dense kernel (all columns, or only a short whitelist's) ranks exactly as
    sorting the full score rows: zeros are candidates, seen and blocked items are not."""
    model = EASE(regularization=2.0).fit(matrix)
    scores = (matrix @ model.weights_).astype(np.float32)
    result = model.recommend_batch(
        list(range(1, 40)), 4, exclude_seen=exclude_seen, candidates=whitelist
    )
    for row, user in enumerate(range(1, 40)):
        banned = set(matrix[[user]].indices) if exclude_seen else set()
        if whitelist is not None:
            banned |= set(range(12)) - set(whitelist)
        expected = brute_top(scores[user], 4, banned)
        got = result.items[row][: result.lengths[row]]
        assert got.tolist() == expected
        np.testing.assert_array_equal(result.scores[row][: len(expected)], scores[user][expected])


def test_ease_pruning_keeps_largest_weights(matrix):
    full = EASE(regularization=3.0).fit(matrix).weights_
    pruned = EASE(regularization=3.0, prune=4).fit(matrix).weights_
    assert sp.issparse(pruned) and (np.diff(sp.csc_array(pruned).indptr) <= 4).all()
    dense = pruned.toarray()
    for i in range(12):
        kept = np.flatnonzero(dense[:, i])
        threshold = np.sort(np.abs(full[:, i]))[-4]
        assert (np.abs(full[kept, i]) >= threshold - 1e-7).all()
        np.testing.assert_allclose(dense[kept, i], full[kept, i], rtol=1e-6)


def test_ease_refuses_catalogs_that_do_not_fit(matrix):
    with pytest.raises(NotSupportedError, match=r"ItemKNN or RP3beta"):
        EASE(max_memory=100).fit(matrix)


def test_rp3beta_equals_naive_walk(matrix):
    X = matrix.toarray().astype(np.float64)
    alpha, beta = 0.8, 0.4
    Pui = X / X.sum(axis=1, keepdims=True).clip(min=1e-300)
    Piu = X.T / X.T.sum(axis=1, keepdims=True)
    W = (Piu**alpha) @ (Pui**alpha) / X.sum(axis=0)[None, :] ** beta
    np.fill_diagonal(W, 0)
    model = RP3beta(alpha=alpha, beta=beta, k=50).fit(matrix)
    np.testing.assert_allclose(model.weights_.toarray(), W, rtol=1e-5)
    top3 = RP3beta(alpha=alpha, beta=beta, k=3).fit(matrix).weights_
    assert (np.diff(top3.indptr) <= 3).all()  # k targets per history item (rows)
    # candidate neighbourhood: each column keeps its 3 strongest sources
    by_candidate = RP3beta(alpha=alpha, beta=beta, k=3, neighbourhood="candidate").fit(matrix)
    dense = by_candidate.weights_.toarray()
    assert ((dense > 0).sum(axis=0) <= 3).all()
    for i in range(W.shape[1]):
        kept = np.flatnonzero(dense[:, i])
        assert kept.size == min(3, np.count_nonzero(W[:, i]))
        if kept.size:
            assert W[kept, i].min() >= np.sort(W[:, i])[-kept.size] - 1e-6
        np.testing.assert_allclose(dense[kept, i], W[kept, i], rtol=1e-5)


def test_slim_equals_sklearn_elastic_net(matrix):
    X = matrix.toarray().astype(np.float64)
    n_users = X.shape[0]
    alpha, ratio = 0.02, 0.3
    model = SLIM(
        l1=n_users * alpha * ratio, l2=n_users * alpha * (1 - ratio), max_iter=2000, tol=1e-10
    ).fit(matrix)
    for i in range(X.shape[1]):
        features = X.copy()
        features[:, i] = 0
        reference = ElasticNet(
            alpha=alpha,
            l1_ratio=ratio,
            positive=True,
            fit_intercept=False,
            tol=1e-12,
            max_iter=100_000,
        ).fit(features, X[:, i])
        np.testing.assert_allclose(
            model.weights_[:, [i]].toarray().ravel(),
            reference.coef_,
            atol=1e-5,
            err_msg=f"item {i}",
        )


def test_explain_adds_up_to_the_score(matrix):
    frame = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in matrix.nonzero()[0]],
            "item_id": [f"i{i}" for i in matrix.nonzero()[1]],
            "value": matrix.data,
        }
    )
    data = Interactions.from_frame(frame, value="value")
    for model in (ItemKNN(k=5), EASE(regularization=5.0), RP3beta(k=5)):
        model.fit(data)
        rec = model.recommend("u3", n=3)
        for item, score in rec:
            explanation = model.explain("u3", item)
            assert explanation["contribution"].sum() == pytest.approx(score, rel=1e-4)
            assert list(explanation.columns) == ["item", "value", "weight", "contribution", "share"]
            assert explanation["contribution"].is_monotonic_decreasing


def test_confidence_weighting_changes_neighbours():
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3, 3, 3],
            "item_id": ["a", "b", "a", "c", "a", "b", "c"],
            "event": ["purchase", "purchase", "view", "view", "purchase", "purchase", "view"],
        }
    )
    plain = ItemKNN(k=5).fit(Interactions.from_frame(log))
    weighted = ItemKNN(k=5).fit(
        Interactions.from_frame(log, event="event", event_weights={"view": 1, "purchase": 10})
    )
    plain_top = plain.similar_items("a", n=1).items[0]
    weighted_top = weighted.similar_items("a", n=1).items[0]
    assert plain_top == "b" and weighted_top == "b"
    assert weighted.similar_items("a", 2).scores[0] > plain.similar_items("a", 2).scores[0]


def test_bad_parameters(matrix):
    for model, message in [
        (ItemKNN(similarity="pearson"), "similarity"),
        (ItemKNN(k=0), "k must be"),
        (ItemKNN(weighting="idf"), "weighting"),
        (EASE(regularization=0), "regularization"),
        (RP3beta(alpha=0), "alpha"),
        (SLIM(l1=0, l2=0), "cannot both be 0"),
    ]:
        with pytest.raises(InvalidParameterError, match=message):
            model.fit(matrix)
