"""BPR: the gradient against finite differences, determinism, sampling, fold-in."""

import numpy as np
import pytest
import scipy.sparse as sp
from reco.models._bpr_kernels import bpr_block

from reco.exceptions import InvalidParameterError
from reco.models import BPR


@pytest.fixture(scope="module")
def matrix():
    rng = np.random.default_rng(4)
    dense = (rng.random((80, 30)) < 0.12).astype(np.float32)
    dense[0] = 0
    dense[0, [1, 2]] = 1
    return sp.csr_array(dense)


def objective(x, y_pos, y_neg, reg):
    """ln sigma(x.(y_i - y_j)) - reg/2 (|x|^2 + |y_i|^2 + |y_j|^2): one step ascends it."""
    score = x @ (y_pos - y_neg)
    return -np.log1p(np.exp(-score)) - reg / 2 * (x @ x + y_pos @ y_pos + y_neg @ y_neg)


def test_one_step_follows_the_gradient():
    """A single-sample block: the update equals learning_rate x the numerical gradient."""
    rng = np.random.default_rng(0)
    k, lr, reg = 4, 0.05, 0.02
    X = rng.standard_normal((1, k)).astype(np.float32)
    Y = rng.standard_normal((2, k)).astype(np.float32)
    indptr = np.array([0, 1], np.int64)
    indices = np.array([0], np.int32)
    before_x, before_y = X.astype(np.float64).copy(), Y.astype(np.float64).copy()
    used, skipped = bpr_block(
        indptr, indices, np.array([0], np.int64), np.array([0], np.int64),
        np.array([0, 1], np.int32), 1, lr, reg, 7, X, Y, k,
    )  # fmt: skip
    assert (used, skipped) == (1, 0)  # the only negative is item 1

    def f(v):
        return objective(v[:k], v[k : 2 * k], v[2 * k :], reg)

    point = np.concatenate([before_x[0], before_y[0], before_y[1]])
    eps = 1e-6
    gradient = np.array(
        [(f(point + eps * e) - f(point - eps * e)) / (2 * eps) for e in np.eye(3 * k)]
    )
    moved = np.concatenate([X[0], Y[0], Y[1]]).astype(np.float64) - point
    np.testing.assert_allclose(moved, lr * gradient, rtol=1e-3, atol=1e-6)


def test_same_seed_and_threads_same_factors(matrix):
    a = BPR(n_factors=6, n_iter=5, random_state=3, n_threads=2).fit(matrix)
    b = BPR(n_factors=6, n_iter=5, random_state=3, n_threads=2).fit(matrix)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    c = BPR(n_factors=6, n_iter=5, random_state=4, n_threads=2).fit(matrix)
    assert not np.array_equal(a.item_factors_, c.item_factors_)
    assert np.all(a.user_factors_[:, -1] == 1)  # the bias weight of every user


def test_negatives_skip_known_positives():
    """A user who bought every item but one: every negative drawn is that one item."""
    k = 3
    indptr = np.array([0, 4], np.int64)
    indices = np.array([0, 1, 2, 4], np.int32)
    X = np.ones((1, k), np.float32)
    Y = np.zeros((5, k), np.float32)
    used, skipped = bpr_block(
        indptr, indices, np.arange(4, dtype=np.int64), np.zeros(4, np.int64),
        np.arange(5, dtype=np.int32), 200, 0.1, 0.0, 11, X, Y, k,
    )  # fmt: skip
    assert used == 200 and skipped == 0
    assert np.all(Y[3] < 0) and np.all(Y[[0, 1, 2, 4]] > 0)  # only item 3 was pushed down


def test_training_ranks_held_items_first(matrix):
    model = BPR(n_factors=8, n_iter=60, learning_rate=0.05, random_state=0, n_threads=1)
    model.fit(matrix)
    scores = model.score(list(range(80)), list(range(30)))
    dense = matrix.toarray() > 0
    auc = []
    for u in range(80):
        pos, neg = scores[u, dense[u]], scores[u, ~dense[u]]
        if pos.size and neg.size:
            auc.append((pos[:, None] > neg[None, :]).mean())
    assert np.mean(auc) > 0.8


def test_fold_in_is_the_ridge_projection(matrix):
    model = BPR(n_factors=5, n_iter=10, random_state=0).fit(matrix)
    k = 5
    Y, b = model.item_factors_[:, :k].astype(np.float64), model.item_factors_[:, k]
    basket = sp.csr_array(np.eye(1, 30, 4, dtype=np.float32) + np.eye(1, 30, 9))
    lam = model.regularization * 30
    p = basket.toarray()[0]
    expected = np.linalg.solve(Y.T @ Y + lam * np.eye(k), Y.T @ (p - b))
    np.testing.assert_allclose(model._fold_in(basket)[0, :k], expected, rtol=1e-4, atol=1e-6)
    rec = model.recommend_for_items([4, 9], 5)
    assert {4, 9}.isdisjoint(rec.items.tolist()) and len(rec) == 5


@pytest.mark.parametrize(
    "params, match",
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"n_factors": 0}, "n_factors"),
        ({"regularization": -1.0}, "regularization"),
        ({"n_iter": 0}, "n_iter"),
    ],
)
def test_bad_parameters(matrix, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        BPR(**params).fit(matrix)


def test_partial_fit_grows_the_maps_and_learns_the_new_interactions(matrix):
    """A new user starts at the fold-in of their history; SGD over the added interactions
    moves only the users concerned and the items sampled; the new item climbs in the
    lists of the users who bought it; same seed, same result; saves and loads."""
    import pandas as pd

    from reco import Interactions
    from reco.base import Recommender

    coo = matrix.tocoo()
    base = Interactions.from_frame(
        pd.DataFrame({"u": [f"u{r}" for r in coo.row], "i": [f"i{c}" for c in coo.col]}),
        user="u", item="i",
    )  # fmt: skip

    def grown():
        model = BPR(n_factors=6, n_iter=40, learning_rate=0.05, random_state=1, n_threads=1)
        model.fit(base)
        before = model.user_factors_.copy()
        fresh_buyers = [f"u{r}" for r in range(10, 30)]
        new = pd.DataFrame({"u": ["new", "new", *fresh_buyers], "i": ["i3", "i4", *["fresh"] * 20]})
        return model.partial_fit(Interactions.from_frame(new, user="u", item="i")), before

    model, before = grown()
    again, _ = grown()
    np.testing.assert_array_equal(model.user_factors_, again.user_factors_)
    np.testing.assert_array_equal(model.item_factors_, again.item_factors_)
    assert model.n_users_ == base.n_users + 1 and model.n_items_ == base.n_items + 1
    untouched = model.user_map_.index(["u0", "u1", "u40"], missing="skip")
    np.testing.assert_array_equal(model.user_factors_[untouched], before[untouched])
    fresh = model.item_map_.index_one("fresh")
    buyers = model.user_map_.index([f"u{r}" for r in range(10, 30)])
    others = np.setdiff1d(np.arange(model.n_users_), buyers)
    scores = model.user_factors_ @ model.item_factors_.T
    assert scores[buyers, fresh].mean() > scores[others, fresh].mean()
    assert {"i3", "i4"}.isdisjoint(model.recommend("new", 5).items.tolist())
    path = __import__("tempfile").mkdtemp() + "/bpr.npz"
    model.save(path)
    loaded = Recommender.load(path)
    np.testing.assert_array_equal(loaded.recommend("new", 3).items, model.recommend("new", 3).items)


def test_bpr_factors_are_implicits(matrix, implicit_seed):
    pytest.importorskip("implicit")  # the test extra installs it
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    model = BPR(n_factors=6, n_iter=4, random_state=2, n_threads=1, backend="implicit")
    model.fit(matrix)
    peer = BayesianPersonalizedRanking(
        factors=6, iterations=4, num_threads=1, random_state=implicit_seed(2)
    )
    peer.fit(sp.csr_matrix(matrix, copy=True), show_progress=False)
    np.testing.assert_array_equal(model.user_factors_, peer.user_factors)
    np.testing.assert_array_equal(model.item_factors_, peer.item_factors)
    assert model.recommend_for_items([1, 2], 3).items.size == 3
