r"""BPR: Bayesian personalised ranking by stochastic gradient (Rendle et al. 2009).

For sampled triples (u, i, j) of a user, an item they interacted with and one they did not,
BPR maximises :math:`\sum \ln \sigma(x_u^\top (y_i - y_j)) - \lambda (\|x_u\|^2 + \|y_i\|^2
+ \|y_j\|^2)`. Item vectors carry a bias term (a last column, the user's fixed at 1). The
epoch is stratified over threads (see :mod:`reco.models._bpr_kernels`): the same seed and
thread count give the same factors.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Scalar
from .._validation import (
    check_bool,
    check_int,
    check_number,
    check_option,
    check_random_state,
)
from ..data import Interactions
from ..exceptions import NotSupportedError
from ._factors import (
    EarlyStopping,
    FactorRecommender,
    implicit_backend,
    implicit_factors,
    no_early_stopping,
    progress_bar,
)

__all__ = ["BPR"]


class BPR(FactorRecommender):
    r"""Bayesian personalised ranking with SGD over threads.

    Parameters
    ----------
    n_factors : int
        Latent factors (the arrays hold one more column: the item bias).
    learning_rate : float > 0
    regularization : float >= 0
        :math:`\lambda`.
    n_iter : int
        Epochs; each draws as many triples as there are interactions (with replacement).
    random_state : int, Generator or None
    n_threads : int or None
        Threads, and the number of user and item parts of the stratified epoch.
    show_progress : bool
    backend : {"reco", "implicit"}
        Whose kernels fit the factors: ``"implicit"`` hands the fit to implicit's
        ``BayesianPersonalizedRanking`` (on the GPU when implicit was built with CUDA; the
        ``implicit`` extra; same layout, latent columns then the bias), without early
        stopping; serving, fold-in and :meth:`partial_fit` are reco's either way.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray of float32, (n, n_factors + 1)
    skipped_ : int
        Triples not drawn because a user had interacted with every item of a block.

    Notes
    -----
    Fold-in (``recommend_for_items``): a history row becomes the ridge projection
    :math:`x = (Y^\top Y + \lambda I)^{-1} Y^\top (p - b)` of its indicator vector
    :math:`p` minus the item biases :math:`b` onto the latent item factors :math:`Y`
    (:math:`\lambda` = ``regularization`` x the number of items, at least 1e-6), the least-
    squares user whose scores best reproduce the row.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 60, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> model = BPR(n_factors=8, n_iter=5, random_state=0, n_threads=1).fit(X)
    >>> model.user_factors_.shape == (X.n_users, 9)    # 8 factors and the bias weight
    True
    >>> again = BPR(n_factors=8, n_iter=5, random_state=0, n_threads=1).fit(X)
    >>> bool((again.item_factors_ == model.item_factors_).all())   # same seed, same factors
    True
    """

    _exact_fold_in = False
    _file_schema: ClassVar[dict[str, Any]] = {
        **FactorRecommender._file_schema,
        "skipped_": Scalar((int,), low=0),
    }

    def __init__(
        self,
        *,
        n_factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        n_iter: int = 100,
        random_state: Any = None,
        n_threads: int | None = None,
        show_progress: bool = False,
        backend: str = "reco",
    ) -> None:
        self.n_factors = n_factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.n_iter = n_iter
        self.random_state = random_state
        self.n_threads = n_threads
        self.show_progress = show_progress
        self.backend = backend

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self.n_factors, "n_factors", low=1, high=4096)
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True, high=10)
        check_number(self.regularization, "regularization", low=0)
        check_int(self.n_iter, "n_iter", low=1)
        check_bool(self.show_progress, "show_progress")
        check_random_state(self.random_state)
        check_option(self.backend, "backend", ("reco", "implicit"))

    def _fit(self, data: Interactions) -> dict[str, Any]:
        from ._bpr_kernels import bpr_block

        if self.backend == "implicit":
            return self._fit_with_implicit(data)

        matrix = sp.csr_array(data.to_csr(), dtype=np.float32)
        matrix.sort_indices()
        rng = check_random_state(self.random_state)
        k = int(self.n_factors)
        users = np.ones((data.n_users, k + 1), np.float32)  # the last column: bias weight 1
        users[:, :k] = rng.standard_normal((data.n_users, k)) * (0.1 / np.sqrt(k))
        items = np.zeros((data.n_items, k + 1), np.float32)
        items[:, :k] = rng.standard_normal((data.n_items, k)) * (0.1 / np.sqrt(k))
        parts = max(1, min(self._threads(), data.n_users, data.n_items))
        indptr = matrix.indptr.astype(np.int64)
        indices = matrix.indices.astype(np.int32)
        rows = np.repeat(np.arange(data.n_users, dtype=np.int64), np.diff(indptr))
        user_part = (
            np.searchsorted(_cuts(np.diff(indptr), parts), np.arange(data.n_users), side="right")
            - 1
        )
        seeds = rng.integers(0, 2**63, size=(int(self.n_iter), parts, parts), dtype=np.uint64)
        popularity = np.bincount(indices, minlength=data.n_items)
        skipped = 0
        held_out, patience = self._held_out(data)
        stopping = EarlyStopping(held_out, patience)
        progress = progress_bar(int(self.n_iter), self.show_progress, "BPR", "epoch")
        with ThreadPoolExecutor(max_workers=parts) as pool:
            for epoch in range(int(self.n_iter)):
                grid = _grid(rows, indices, user_part[rows], popularity, parts, rng)
                for shift in range(parts):

                    def run(p: int, epoch: int = epoch, shift: int = shift, grid=grid):
                        q = (p + shift) % parts
                        entries, block_items = grid[p][q]
                        return bpr_block(
                            indptr, indices, entries, rows[entries], block_items, entries.size,
                            float(self.learning_rate), float(self.regularization),
                            int(seeds[epoch, p, q]), users, items, k,
                        )  # fmt: skip

                    for _, lost in pool.map(run, range(parts)):
                        skipped += int(lost)
                progress()
                if stopping.done(epoch, users, items):
                    break
        if stopping.best is not None:
            users, items = stopping.best[1], stopping.best[2]
        return {
            "user_factors_": users,
            "item_factors_": items,
            "skipped_": skipped,
            **stopping.learned(int(self.n_iter)),
        }

    def _fit_with_implicit(self, data: Interactions) -> dict[str, Any]:
        factory, gpu = implicit_backend(self, "bpr")
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        peer = factory.BayesianPersonalizedRanking(
            factors=int(self.n_factors), learning_rate=float(self.learning_rate),
            regularization=float(self.regularization), iterations=int(self.n_iter),
            use_gpu=gpu, num_threads=self._threads(), random_state=seed,
        )  # fmt: skip
        progress = progress_bar(int(self.n_iter), self.show_progress, "BPR (implicit)", "epoch")
        peer.fit(
            sp.csr_matrix(data.to_csr(copy=True), dtype=np.float32),
            show_progress=False,
            callback=lambda *_: progress(),
        )
        users, items = implicit_factors(peer)
        if users.shape[1] != int(self.n_factors) + 1:
            raise NotSupportedError(
                f"implicit returned {users.shape[1]} factor columns, not n_factors + 1 = "
                f"{int(self.n_factors) + 1}; use backend='reco' with this implicit build."
            )
        return {
            "user_factors_": users,
            "item_factors_": items,
            "skipped_": 0,
            **no_early_stopping(self.n_iter),
        }

    def partial_fit(self, X: Any, y: None = None) -> BPR:
        """Add interactions without refitting: ``X`` as for :meth:`fit`, with the shop's ids.

        Unknown users and items are appended to the id maps (pairs seen before add their
        values). A new user starts at the ridge projection of their whole history (the
        fold-in of :meth:`recommend_for_items`), a new item at zero; then ``n_iter`` epochs of
        SGD run over the added interactions only (each epoch draws as many triples as were
        added, negatives from the whole catalogue, known positives skipped), moving the
        users concerned, their items and the sampled negatives. Other vectors are unchanged;
        refit now and then. Same seed, same result. Returns ``self``.
        """
        from ._bpr_kernels import bpr_block

        self._check_fitted()
        grown = self._grown_history(X)
        users, items = grown.factors(self.user_factors_, self.item_factors_)
        history = grown.history
        if grown.new_users:
            fresh = np.arange(users.shape[0] - grown.new_users, users.shape[0])
            users[fresh] = _ridge_fold_in(history[fresh], items, float(self.regularization))
        indptr = history.indptr.astype(np.int64)
        indices = history.indices.astype(np.int32)
        entries = grown.positions()
        owners = np.searchsorted(indptr, entries, side="right") - 1
        every_item = np.arange(history.shape[1], dtype=np.int32)
        rng = check_random_state(self.random_state)
        skipped = 0
        for seed in rng.integers(0, 2**63, size=int(self.n_iter), dtype=np.uint64):
            _, lost = bpr_block(
                indptr, indices, entries, owners.astype(np.int64), every_item, entries.size,
                float(self.learning_rate), float(self.regularization), int(seed), users, items,
                int(self.n_factors),
            )  # fmt: skip
            skipped += int(lost)
        self._adopt(grown, users, items)
        self.skipped_ = int(self.skipped_) + skipped
        return self

    def _fold_in(self, history: sp.csr_array) -> np.ndarray:
        return _ridge_fold_in(history, self.item_factors_, float(self.regularization))


def _ridge_fold_in(history: sp.csr_array, items: np.ndarray, regularization: float) -> np.ndarray:
    """User rows (bias weight 1) for history rows: the ridge projection of the Notes of
    :class:`BPR` onto the item table ``items`` (latent columns, then the bias)."""
    k = items.shape[1] - 1
    latent = items[:, :k].astype(np.float64)
    bias = items[:, k].astype(np.float64)
    ridge = max(regularization * latent.shape[0], 1e-6)
    system = latent.T @ latent + ridge * np.eye(k)
    indicator = sp.csr_array(history, dtype=np.float64)
    indicator.data[:] = 1.0
    target = np.asarray(indicator @ latent) - (latent.T @ bias)[None, :]
    out = np.ones((history.shape[0], k + 1), np.float32)
    out[:, :k] = np.linalg.solve(system, target.T).T
    return out


def _grid(
    rows: np.ndarray,
    indices: np.ndarray,
    row_part: np.ndarray,
    popularity: np.ndarray,
    parts: int,
    rng: np.random.Generator,
) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """One epoch's blocks: items dealt into ``parts`` random sets of about equal
    interactions (shuffled, ranked by popularity, dealt in snake order 0, 1, .., 1, 0, ..);
    ``grid[p][q]`` holds the positions of the interactions of user part p with item set q,
    and the items of set q."""
    n_items = popularity.size
    order = rng.permutation(n_items)
    order = order[np.argsort(-popularity[order], kind="stable")]
    lap = np.arange(n_items) % (2 * parts)
    item_part = np.empty(n_items, np.int64)
    item_part[order] = np.where(lap < parts, lap, 2 * parts - 1 - lap)
    block = (row_part * parts + item_part[indices]).astype(np.int16)  # a radix sort
    by_block = np.argsort(block, kind="stable")
    bounds = np.searchsorted(block[by_block], np.arange(parts * parts + 1))
    sets = [np.flatnonzero(item_part == q).astype(np.int32) for q in range(parts)]
    cut = [by_block[bounds[b] : bounds[b + 1]] for b in range(parts * parts)]
    return [[(cut[p * parts + q], sets[q]) for q in range(parts)] for p in range(parts)]


def _cuts(counts: np.ndarray, parts: int) -> np.ndarray:
    """``parts + 1`` boundaries of contiguous ranges with about equal ``counts``."""
    n = counts.size
    total = np.cumsum(counts)
    targets = total[-1] * np.arange(1, parts) / parts if n else np.zeros(0)
    inner = np.searchsorted(total, targets, side="left") + 1
    cuts = np.concatenate([[0], np.clip(inner, 1, max(n - 1, 1)), [n]]).astype(np.int64)
    return np.maximum.accumulate(cuts)
