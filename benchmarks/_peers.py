"""Peers run through reco's evaluation: implicit's own recommend, wrapped in a RecBatch."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from reco.base import RecBatch
from reco.data import Interactions
from reco.eval import Split
from reco.models._item_based import ItemBasedRecommender, canonical


def implicit_lists(model, split: Split, n: int) -> tuple[RecBatch, float, float]:
    """Fit an implicit model on ``split.train`` and recommend for the split's test users.

    Seen items (training history, or the fold-in part for strong generalisation) are filtered
    by implicit itself (``filter_already_liked_items=True``). Returns (recs, fit_s, rec_s).
    """
    train = split.train.to_csr()
    started = time.perf_counter()
    model.fit(sp.csr_matrix(train), show_progress=False)
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
        history = sp.csr_matrix(train[split.train.user_map.index(users)])
    started = time.perf_counter()
    ids, scores = model.recommend(
        np.arange(history.shape[0]), history, N=n, filter_already_liked_items=True
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
        model.fit(sp.csr_matrix(data.to_csr(copy=True)), show_progress=False)
        return {"weights_": canonical(sp.csr_array(model.similarity, dtype=np.float32))}


def implicit_spaces() -> dict:
    """The grids the implicit peers are tuned on (reported beside reco's)."""
    k_grid = [20, 50, 100, 200, 400, 800]
    return {
        "implicit Cosine": (ImplicitItemItem(kind="cosine"), {"K": k_grid}),
        "implicit TF-IDF": (ImplicitItemItem(kind="tfidf"), {"K": k_grid}),
        "implicit BM25": (
            ImplicitItemItem(kind="bm25"),
            {"K": k_grid, "K1": [0.3, 0.6, 1.2, 2.0, 3.0], "B": [0.0, 0.25, 0.5, 0.75, 1.0]},
        ),
    }
