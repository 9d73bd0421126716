"""Peers run through reco's evaluation: implicit's own recommend, wrapped in a RecBatch."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from reco.base import RecBatch
from reco.data import Interactions
from reco.data.interop import to_implicit
from reco.eval import Split
from reco.exceptions import NotSupportedError
from reco.models._factors import FactorRecommender, no_early_stopping
from reco.models._item_based import ItemBasedRecommender, canonical


def implicit_lists(model, split: Split, n: int) -> tuple[RecBatch, float, float]:
    """Fit an implicit model on ``split.train`` and recommend for the split's test users.

    Seen items (training history, or the fold-in part for strong generalisation) are filtered
    by implicit itself (``filter_already_liked_items=True``). Returns (recs, fit_s, rec_s).
    """
    train = to_implicit(split.train)  # writable: implicit's BPR refuses read-only buffers
    started = time.perf_counter()
    model.fit(train, show_progress=False)
    fit_s = time.perf_counter() - started
    if split.fold_in is not None:
        fold: Interactions = split.fold_in
        present, rows = np.unique(fold.user_index, return_inverse=True)
        history = sp.csr_matrix(
            (fold.value, (rows, fold.item_index)),
            shape=(present.size, fold.n_items),
            dtype=np.float32,
        )
        users = fold.user_map.ids(present)
    else:
        users = split.test_users
        history = train[split.train.user_map.index(users)]
    options = {}
    if split.fold_in is not None and hasattr(model, "recalculate_user"):
        options["recalculate_user"] = True  # implicit ALS: the closed-form new user
    started = time.perf_counter()
    ids, scores = model.recommend(
        np.arange(history.shape[0]), history, N=n, filter_already_liked_items=True, **options
    )
    rec_s = time.perf_counter() - started
    valid = (ids >= 0) & np.isfinite(scores) & (scores > -1e30)
    lengths = valid.sum(axis=1).astype(np.int32)
    item_index = np.where(valid, ids, -1).astype(np.int32)
    best = np.where(valid, scores, -np.inf).astype(np.float32)
    return RecBatch(users, item_index, best, lengths, split.train.item_map), fit_s, rec_s


class ImplicitItemItem(ItemBasedRecommender):
    """implicit's item-item models (Cosine, BM25, TF-IDF) inside reco's search, for tuning.

    ``fit`` runs implicit itself and keeps its item x item ``similarity`` matrix; scores are
    ``history @ similarity``, which is what implicit's own ``recommend`` computes, so tuning
    this adapter tunes implicit. The tuned parameters are then run through implicit's own
    ``recommend`` (``implicit_model``) for the reported figures.
    """

    def __init__(self, *, kind="cosine", K=100, K1=1.2, B=0.75, n_threads=2):
        self.kind = kind
        self.K = K
        self.K1 = K1
        self.B = B
        self.n_threads = n_threads

    def implicit_model(self):
        from implicit.nearest_neighbours import (
            BM25Recommender,
            CosineRecommender,
            TFIDFRecommender,
        )

        if self.kind == "bm25":
            return BM25Recommender(K=self.K, K1=self.K1, B=self.B, num_threads=self.n_threads)
        if self.kind == "tfidf":
            return TFIDFRecommender(K=self.K, num_threads=self.n_threads)
        return CosineRecommender(K=self.K, num_threads=self.n_threads)

    def _fit(self, data):
        model = self.implicit_model()
        model.fit(to_implicit(data), show_progress=False)
        return {"weights_": canonical(sp.csr_array(model.similarity, dtype=np.float32))}


def implicit_spaces() -> dict:
    """The grids the implicit peers are tuned on (reported beside reco's)."""
    k_grid = [20, 50, 100, 200, 400, 800, 1600]  # 1600 ~ 1,682 items: every neighbour
    return {
        "implicit Cosine": (ImplicitItemItem(kind="cosine"), {"K": k_grid}),
        "implicit TF-IDF": (ImplicitItemItem(kind="tfidf"), {"K": k_grid}),
        "implicit BM25": (
            ImplicitItemItem(kind="bm25"),
            {"K": k_grid, "K1": [0.3, 0.6, 1.2, 2.0, 3.0], "B": [0.0, 0.25, 0.5, 0.75, 1.0]},
        ),
    }


class ImplicitFactors(FactorRecommender):
    """implicit's ALS or BPR inside reco's search, for tuning: ``fit`` runs implicit itself
    and keeps its factors as learned, so scores are ``x_u . y_i`` as in implicit's own
    ``recommend``; the tuned parameters are then run through implicit (``implicit_model``).
    New users (strong generalisation) are folded in as implicit's ``recalculate_user`` does
    for ALS (the exact least-squares user, confidence ``alpha * r``); implicit's BPR has no
    fold-in, so it is not run on that split."""

    def __init__(
        self, *, kind="als", factors=100, regularization=0.01, alpha=1.0, learning_rate=0.01,
        iterations=15, random_state=0, n_threads=2,
    ):  # fmt: skip
        self.kind = kind
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.iterations = iterations
        self.random_state = random_state
        self.n_threads = n_threads

    def implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        if self.kind == "bpr":
            return BayesianPersonalizedRanking(
                factors=self.factors, learning_rate=self.learning_rate,
                regularization=self.regularization, iterations=self.iterations,
                num_threads=self.n_threads, random_state=self.random_state,
            )  # fmt: skip
        return AlternatingLeastSquares(
            factors=self.factors, regularization=self.regularization, alpha=self.alpha,
            iterations=self.iterations, num_threads=self.n_threads,
            random_state=self.random_state,
        )  # fmt: skip

    def reco_equivalent(self):
        """reco's ALS with the same loss on binary data: implicit's confidence ``alpha`` on
        observed pairs is reco's ``1 + alpha'`` (alpha' = alpha - 1); below 1, dividing the
        loss by alpha gives confidence 1, unobserved weight 1/alpha and lambda/alpha."""
        from reco.models import ALS

        a, lam = float(self.alpha), float(self.regularization)
        shape = {"alpha": a - 1, "unobserved_weight": 1.0, "regularization": lam}
        if a < 1:
            shape = {"alpha": 0.0, "unobserved_weight": 1 / a, "regularization": lam / a}
        return ALS(n_factors=self.factors, n_iter=self.iterations, random_state=0,
                   n_threads=self.n_threads, **shape)  # fmt: skip

    def _fit(self, data):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            model = self.implicit_model()
            model.fit(to_implicit(data), show_progress=False)
        return {
            "user_factors_": np.ascontiguousarray(model.user_factors, np.float32),
            "item_factors_": np.ascontiguousarray(model.item_factors, np.float32),
            **no_early_stopping(self.iterations),
        }

    def _fold_in(self, history):
        if self.kind == "bpr":
            raise NotSupportedError("implicit's BPR cannot fold new users in")
        Y = self.item_factors_.astype(np.float64)
        gram = Y.T @ Y + self.regularization * np.eye(Y.shape[1])
        out = np.zeros((history.shape[0], Y.shape[1]), np.float32)
        rows = sp.csr_array(history)
        for r in range(rows.shape[0]):
            items = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
            conf = self.alpha * rows.data[rows.indptr[r] : rows.indptr[r + 1]]
            Yi = Y[items]
            system = gram + (Yi.T * (conf - 1.0)) @ Yi
            out[r] = np.linalg.solve(system, Yi.T @ conf)
        return out


def implicit_factor_spaces() -> dict:
    """implicit's ALS and BPR and their search spaces (random search, the same number of
    candidates as reco's ALS and BPR get)."""
    from scipy.stats import loguniform

    return {
        "implicit ALS": (
            ImplicitFactors(kind="als"),
            {
                "factors": [64, 128, 256, 512],  # the same as reco's ALS
                "regularization": loguniform(1e-3, 30),
                "alpha": loguniform(0.3, 50),
            },
        ),
        "implicit BPR": (
            ImplicitFactors(kind="bpr", iterations=100),
            {
                "factors": [32, 64, 128, 256],
                "learning_rate": loguniform(0.003, 0.1),
                "regularization": loguniform(1e-4, 0.1),
                "iterations": [50, 100, 200],
            },
        ),
    }
