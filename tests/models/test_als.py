"""ALS against naive dense formulas: normal equations, the loss, fold-in, similarity."""

import numpy as np
import pytest
import scipy.sparse as sp

from reco.exceptions import InvalidParameterError, NotSupportedError
from reco.models import ALS


@pytest.fixture(scope="module")
def matrix():
    rng = np.random.default_rng(3)
    dense = (rng.random((60, 25)) < 0.15) * rng.integers(1, 5, (60, 25))
    dense[0] = 0
    dense[0, [1, 2, 3]] = [1, 2, 1]
    return sp.csr_array(dense.astype(np.float32))


def naive_user_vectors(model, matrix, items):
    """Solve every row's normal equations densely: C_u weights, P_u targets."""
    values = matrix.toarray().astype(np.float64)
    observed = values > 0
    scaled = np.log1p(values) if model.confidence == "log" else values
    conf = np.where(observed, 1 + model.alpha * scaled, model.unobserved_weight)
    Y = items.astype(np.float64)
    out = []
    for u in range(values.shape[0]):
        lam = (
            model.regularization
            * (observed[u].sum() + model.unobserved_weight * values.shape[1]) ** model.reg_exponent
        )
        A = (Y.T * conf[u]) @ Y + lam * np.eye(Y.shape[1])
        b = (Y.T * conf[u]) @ observed[u].astype(np.float64)
        out.append(np.linalg.solve(A, b))
    return np.array(out)


def naive_loss(model, matrix):
    values = matrix.toarray().astype(np.float64)
    observed = values > 0
    conf = np.where(observed, 1 + model.alpha * values, model.unobserved_weight)
    X, Y = model.user_factors_.astype(np.float64), model.item_factors_.astype(np.float64)
    predicted = X @ Y.T
    error = (conf * (observed - predicted) ** 2).sum()
    lam_u = (
        model.regularization
        * (observed.sum(1) + model.unobserved_weight * values.shape[1]) ** model.reg_exponent
    )
    lam_i = (
        model.regularization
        * (observed.sum(0) + model.unobserved_weight * values.shape[0]) ** model.reg_exponent
    )
    penalty = lam_u @ (X**2).sum(1) + lam_i @ (Y**2).sum(1)
    return (error + penalty) / conf.sum()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"unobserved_weight": 0.2, "reg_exponent": 1.0, "regularization": 0.002},
        {"confidence": "log", "alpha": 3.0, "regularization": 0.5},
    ],
)
@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_user_vectors_solve_the_normal_equations(matrix, params, solver):
    """After fit, the users are the exact least-squares optimum for the final items, and
    folding a history in solves the same equations (a new user: the closed form)."""
    model = ALS(n_factors=5, n_iter=4, solver=solver, random_state=0, **params).fit(matrix)
    expected = naive_user_vectors(model, matrix, model.item_factors_)
    np.testing.assert_allclose(model.user_factors_, expected, rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(model._fold_in(matrix), expected, rtol=2e-3, atol=2e-5)
    new_user = sp.csr_array(np.eye(1, 25, 7, dtype=np.float32) * 3)
    np.testing.assert_allclose(
        model._fold_in(new_user)[0],
        naive_user_vectors(model, new_user, model.item_factors_)[0],
        rtol=2e-3,
        atol=2e-5,
    )


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
@pytest.mark.parametrize("params", [{}, {"unobserved_weight": 0.3, "reg_exponent": 0.5}])
def test_loss_is_the_objective_and_decreases_every_iteration(matrix, solver, params):
    model = ALS(n_factors=6, n_iter=8, solver=solver, random_state=1, **params).fit(matrix)
    assert model.loss_.shape == (8,)
    assert np.all(np.diff(model.loss_) <= 1e-9 * model.loss_[:-1]), model.loss_
    assert model.loss_[-1] == pytest.approx(naive_loss(model, matrix), rel=1e-4)


def test_cg_reaches_the_exact_solve(matrix):
    exact = ALS(n_factors=4, n_iter=6, solver="cholesky", random_state=2).fit(matrix)
    cg = ALS(n_factors=4, n_iter=6, solver="cg", cg_steps=20, random_state=2).fit(matrix)
    np.testing.assert_allclose(cg.item_factors_, exact.item_factors_, rtol=1e-3, atol=1e-4)


def test_same_seed_same_factors_and_threads_do_not_matter(matrix):
    one = ALS(n_factors=4, n_iter=3, random_state=5, n_threads=1).fit(matrix)
    two = ALS(n_factors=4, n_iter=3, random_state=5, n_threads=2).fit(matrix)
    np.testing.assert_array_equal(one.user_factors_, two.user_factors_)
    np.testing.assert_array_equal(one.item_factors_, two.item_factors_)


def test_similar_items_and_users_are_cosine(matrix):
    model = ALS(n_factors=4, n_iter=3, random_state=0).fit(matrix)
    Y = model.item_factors_.astype(np.float64)
    cosine = (Y @ Y[3]) / (np.linalg.norm(Y, axis=1) * np.linalg.norm(Y[3]))
    cosine[3] = -np.inf
    similar = model.similar_items(3, 4)
    assert similar.items.tolist() == np.argsort(-cosine, kind="stable")[:4].tolist()
    np.testing.assert_allclose(similar.scores, np.sort(cosine)[::-1][:4], rtol=1e-5)
    X = model.user_factors_.astype(np.float64)
    norms = np.linalg.norm(X, axis=1) * np.linalg.norm(X[5])
    cosine = np.divide(X @ X[5], norms, out=np.zeros(len(X)), where=norms > 0)  # 0: no history
    cosine[5] = -np.inf
    users = model.similar_users(5, 3)
    assert users.user == 5 and users.items.tolist() == np.argsort(-cosine)[:3].tolist()


def test_scores_do_not_depend_on_the_batch(matrix):
    """A user's list is the same alone, in a batch, or in another order, bit for bit."""
    model = ALS(n_factors=7, n_iter=2, random_state=0).fit(matrix)
    batch = model.recommend_batch(list(range(60)), 5)
    for user in (0, 13, 59):
        single = model.recommend(user, 5)
        np.testing.assert_array_equal(single.scores, batch.scores[user])
    reordered = model.recommend_batch([59, 13, 0], 5)
    np.testing.assert_array_equal(reordered.scores[1], batch.scores[13])
    np.testing.assert_array_equal(model.score([13], list(range(25)))[0][batch.item_index[13]],
                                  batch.scores[13])  # fmt: skip


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_factors": 0}, "n_factors"),
        ({"regularization": -1.0}, "regularization"),
        ({"confidence": "exp"}, "confidence"),
        ({"solver": "sgd"}, "solver"),
        ({"unobserved_weight": -0.5}, "unobserved_weight"),
        ({"regularization": 0.0, "unobserved_weight": 0.0}, "singular"),
        ({"cg_steps": 0}, "cg_steps"),
    ],
)
def test_bad_parameters(matrix, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        ALS(**params).fit(matrix)


def test_a_short_whitelist_scores_only_its_items_with_the_same_floats(matrix):
    """Under a quarter of the catalogue as candidates: only those items are scored (the
    whitelist's factors are kept for the next call) and lists equal the full computation."""
    model = ALS(n_factors=5, n_iter=2, random_state=0).fit(matrix)
    scores = model.score(list(range(60)), list(range(25)))
    for whitelist in ([2, 7, 11, 19, 23], [0, 24], [2, 7, 11, 19, 23]):
        batch = model.recommend_batch(list(range(60)), 3, candidates=whitelist)
        for user in range(60):
            seen = set(matrix[[user]].indices)
            allowed = [i for i in whitelist if i not in seen]
            best = sorted(allowed, key=lambda i: (-scores[user, i], i))[:3]
            assert batch.item_index[user][: batch.lengths[user]].tolist() == best
            np.testing.assert_array_equal(batch.scores[user][: len(best)], scores[user, best])
    basket = model.recommend_for_items([1, 2], 2, candidates=[2, 7, 11, 19])
    assert 2 not in basket.items.tolist() and len(basket) == 2


def test_partial_fit_adds_users_items_and_interactions(matrix):
    """A new user gets the closed-form vector of their history (the fold-in), a new item the
    closed-form vector with the users fixed; known users in the new data are re-solved; the
    maps grow; the rest is unchanged; the model still saves and loads."""
    import pandas as pd

    from reco import Interactions
    from reco.base import Recommender

    base = Interactions.from_frame(
        pd.DataFrame({"u": [f"u{r}" for r in matrix.tocoo().row],
                      "i": [f"i{c}" for c in matrix.tocoo().col]}),
        user="u", item="i",
    )  # fmt: skip
    model = ALS(n_factors=4, n_iter=4, random_state=0).fit(base)
    before_users = model.user_factors_.copy()
    new = pd.DataFrame({"u": ["new", "new", "u5", "u7"], "i": ["i3", "fresh", "i4", "fresh"]})
    model.partial_fit(Interactions.from_frame(new, user="u", item="i"))
    assert model.n_users_ == base.n_users + 1 and model.n_items_ == base.n_items + 1
    fresh = model.item_map_.index_one("fresh")
    # users first, with the new item still a zero vector: their closed form
    items_then = model.item_factors_.copy()
    items_then[fresh] = 0
    for user in ("new", "u5", "u7"):
        row = model.history_[[model.user_map_.index_one(user)]]
        np.testing.assert_allclose(
            model.user_factors_[model.user_map_.index_one(user)],
            naive_user_vectors(model, row, items_then)[0], rtol=5e-3, atol=1e-4,
        )  # fmt: skip
    # then the new item with the users fixed (the items' equations are the users' on X^T)
    expected = naive_user_vectors(model, sp.csr_array(model.history_.T), model.user_factors_)
    np.testing.assert_allclose(model.item_factors_[fresh], expected[fresh], rtol=5e-3, atol=1e-4)
    untouched = [model.user_map_.index_one(u) for u in ("u0", "u9", "u30")]
    np.testing.assert_array_equal(model.user_factors_[untouched], before_users[untouched])
    assert model.history_[[model.user_map_.index_one("u5")]].toarray().sum() > 0
    path = __import__("tempfile").mkdtemp() + "/als.npz"
    model.save(path)
    loaded = Recommender.load(path)
    np.testing.assert_array_equal(loaded.recommend("new", 3).items, model.recommend("new", 3).items)


def test_als_items_are_implicits_and_users_their_exact_solve(matrix, implicit_seed):
    pytest.importorskip("implicit")  # the test extra installs it
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    model = ALS(n_factors=6, n_iter=5, alpha=2.0, random_state=3, n_threads=1, backend="implicit")
    model.fit(matrix)
    with threadpool_limits(1, "blas"):
        peer = AlternatingLeastSquares(
            factors=6, regularization=0.01, alpha=1.0, iterations=5, num_threads=1,
            random_state=implicit_seed(3),
        )  # fmt: skip
        confidence = sp.csr_matrix(matrix, copy=True)
        confidence.data = 1 + 2.0 * confidence.data  # reco's c = 1 + alpha v, as implicit's r
        peer.fit(confidence, show_progress=False)
    np.testing.assert_array_equal(model.item_factors_, peer.item_factors)
    expected = naive_user_vectors(model, matrix, model.item_factors_)
    np.testing.assert_allclose(model.user_factors_, expected, rtol=5e-3, atol=1e-4)
    assert model.loss_.size == 5 and np.all(np.diff(model.loss_) < 0)
    assert len(model.recommend(0, 3)) == 3


@pytest.mark.parametrize("params", [{"unobserved_weight": 0.5}, {"reg_exponent": 1.0}])
def test_what_implicit_cannot_fit_is_refused(matrix, params):
    with pytest.raises(NotSupportedError, match="backend='implicit'"):
        ALS(backend="implicit", **params).fit(matrix)


def test_no_early_stopping_on_implicit(matrix):
    with pytest.raises(NotSupportedError, match="early stopping"):
        ALS(backend="implicit", n_iter=2).fit(matrix, validation=matrix)


PORTABLE_RUN = """
import sys, numpy as np, scipy.sparse as sp
from reco.models import ALS
from reco._topk import dot_scores
m = sp.random(300, 200, density=0.05, random_state=1, format="csr", dtype=np.float32)
m.data[:] = 1
out = {}
for k in (16, 24, 64):
    model = ALS(n_factors=k, n_iter=3, random_state=0, n_threads=1).fit(m)
    items_t = np.ascontiguousarray(model.item_factors_.T)
    out[f"users{k}"], out[f"items{k}"] = model.user_factors_, model.item_factors_
    out[f"scores{k}"] = dot_scores(model.user_factors_[:7], items_t)
np.savez(sys.argv[1], **out)
"""


def test_the_vector_kernels_give_the_portable_builds_floats(tmp_path):
    """The AVX2 kernels (fixed widths 16 and 64, any width for scoring) do the portable
    build's operations in its order: fitted factors and scores are bit-identical with
    ``RECO_PORTABLE=1``, so a model gives the same floats on every machine."""
    import os
    import subprocess
    import sys

    runs = {}
    for name, portable in (("vector", "0"), ("portable", "1")):
        path = tmp_path / f"{name}.npz"
        env = {**os.environ, "RECO_PORTABLE": portable}
        subprocess.run([sys.executable, "-c", PORTABLE_RUN, str(path)], env=env, check=True)
        runs[name] = np.load(path)
    assert sorted(runs["vector"]) == sorted(runs["portable"])
    for key in runs["vector"]:
        np.testing.assert_array_equal(runs["vector"][key], runs["portable"][key], err_msg=key)
