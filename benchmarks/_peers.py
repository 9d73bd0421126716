"""Peers run through reco's evaluation: implicit's own recommend, wrapped in a RecBatch."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from reco.base import RecBatch
from reco.data import Interactions
from reco.eval import Split


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
