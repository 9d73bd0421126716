r"""ALS: implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008; iALS as revisited
by Rendle, Zhang & Koren 2022).

With confidence :math:`c_{ui}` on observed pairs :math:`S`, the model minimises

.. math::

    L = \sum_{(u,i) \in S} c_{ui} (1 - x_u^\top y_i)^2
      + \alpha_0 \sum_{(u,i) \notin S} (x_u^\top y_i)^2
      + \lambda \Big(\sum_u (|I_u| + \alpha_0 |I|)^{\nu} \|x_u\|^2
                    + \sum_i (|U_i| + \alpha_0 |U|)^{\nu} \|y_i\|^2\Big)

alternating exact or conjugate-gradient solves of each side with the other fixed. Hu et al.
is :math:`\alpha_0 = 1, \nu = 0`; Rendle et al. tune the unobserved weight :math:`\alpha_0`
and the frequency-scaled regularisation exponent :math:`\nu` (their iALS++ results use
:math:`\nu = 1`). The all-pairs term costs nothing extra:
:math:`\sum_{u,i} (x_u^\top y_i)^2 = \langle X^\top X, Y^\top Y \rangle`.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Array
from .._threads import run_chunks
from .._topk import csr_arrays
from .._validation import check_bool, check_int, check_number, check_option, check_random_state
from ..data import Interactions
from ..exceptions import ConvergenceError, NotSupportedError
from ._factors import (
    EarlyStopping,
    FactorRecommender,
    implicit_backend,
    implicit_factors,
    no_early_stopping,
    progress_bar,
)

__all__ = ["ALS"]

_BLOCK = 1024  # rows per CG block: one GEMM per step, the rows' state stays in cache
_NO_VALUES = np.zeros(0, np.float32)
_TILE_BYTES = 512 << 10  # a scatter tile's updated and accumulated rows stay in cache


class ALS(FactorRecommender):
    r"""Implicit-feedback ALS (see the module docstring for the loss).

    Parameters
    ----------
    n_factors : int
        Length ``k`` of the user and item vectors.
    regularization : float >= 0
        :math:`\lambda`.
    alpha : float >= 0
        Confidence scale: :math:`c_{ui} = 1 + \alpha v_{ui}` (``confidence="linear"``) or
        :math:`1 + \alpha \log(1 + v_{ui})` (``"log"``), :math:`v_{ui}` the interaction value.
    confidence : {"linear", "log"}
    unobserved_weight : float >= 0
        :math:`\alpha_0`, the weight of every unobserved pair (1 in Hu et al.).
    reg_exponent : float >= 0
        :math:`\nu`: regularisation grows with a user's (item's) count (0: plain
        :math:`\lambda`).
    n_iter : int
        Alternations (users, then items).
    solver : {"cg", "cholesky"}
        Conjugate gradients warm-started from the previous factors (``cg_steps`` per
        alternation; fast) or the exact solve.
    cg_steps : int
    random_state : int, Generator or None
        Seeds the initial factors (normal, standard deviation ``0.1 / sqrt(k)``).
    n_threads : int or None
    show_progress : bool
    backend : {"reco", "implicit"}
        Whose kernels fit the factors. ``"implicit"`` hands the fit to implicit's
        ``AlternatingLeastSquares`` (on the GPU when implicit was built with CUDA; the
        ``implicit`` extra) with the same confidences, then solves the users exactly once
        for its final items, as reco's own fit ends; serving is reco's either way. It fits
        Hu et al.'s loss only (``unobserved_weight=1``, ``reg_exponent=0``) and does not
        stop early.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray of float32
    validation_ndcg_ : ndarray of float64
        NDCG@k on the ``validation`` set given to :meth:`fit`, after each iteration (empty
        without one); ``best_iteration_`` the iteration whose item vectors were kept (its
        users solved exactly again).
    loss_ : ndarray of float64
        Training loss after each iteration, divided by the total weight
        :math:`\sum_S c_{ui} + \alpha_0 (|U||I| - |S|)` (implicit's normalisation). Each
        iteration solves the items, then the users; the last user solve is exact (Cholesky)
        whatever the solver, so the user vectors are the least-squares optimum for the final
        item vectors: folding a training user's history in gives their own vector, and
        :meth:`explain` adds up to :meth:`score`.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> from reco import Interactions
    >>> shop = make_shop(300, 60, random_state=0)
    >>> data = Interactions.from_frame(shop.order_lines, user="customer_id",
    ...                                item="product_id")
    >>> model = ALS(n_factors=16, n_iter=5, random_state=0).fit(data)
    >>> model.recommend(data.user_map.array[0], 3).items.shape
    (3,)
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **FactorRecommender._file_schema,
        "loss_": Array("float64", ("iterations",)),
    }

    def __init__(
        self,
        *,
        n_factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        confidence: str = "linear",
        unobserved_weight: float = 1.0,
        reg_exponent: float = 0.0,
        n_iter: int = 15,
        solver: str = "cg",
        cg_steps: int = 3,
        random_state: Any = None,
        n_threads: int | None = None,
        show_progress: bool = False,
        backend: str = "reco",
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.confidence = confidence
        self.unobserved_weight = unobserved_weight
        self.reg_exponent = reg_exponent
        self.n_iter = n_iter
        self.solver = solver
        self.cg_steps = cg_steps
        self.random_state = random_state
        self.n_threads = n_threads
        self.show_progress = show_progress
        self.backend = backend

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self.n_factors, "n_factors", low=1, high=4096)
        check_number(self.regularization, "regularization", low=0)
        check_number(self.alpha, "alpha", low=0)
        check_option(self.confidence, "confidence", ("linear", "log"))
        check_number(self.unobserved_weight, "unobserved_weight", low=0)
        check_number(self.reg_exponent, "reg_exponent", low=0, high=4)
        check_int(self.n_iter, "n_iter", low=1)
        check_option(self.solver, "solver", ("cg", "cholesky"))
        check_int(self.cg_steps, "cg_steps", low=1, high=100)
        check_bool(self.show_progress, "show_progress")
        check_random_state(self.random_state)
        check_option(self.backend, "backend", ("reco", "implicit"))
        if self.backend == "implicit" and (self.unobserved_weight != 1 or self.reg_exponent):
            raise NotSupportedError(
                "backend='implicit' fits Hu et al.'s loss only (unobserved_weight=1, "
                f"reg_exponent=0); got unobserved_weight={self.unobserved_weight}, "
                f"reg_exponent={self.reg_exponent}. Use backend='reco' for iALS's knobs."
            )
        if self.regularization == 0 and self.unobserved_weight == 0:
            from ..exceptions import InvalidParameterError

            raise InvalidParameterError(
                "regularization and unobserved_weight are both 0: the least-squares systems "
                "are singular for every user with fewer items than n_factors. Give one of "
                "them a positive value (e.g. regularization=0.01)."
            )

    # -- confidence and regularisation -------------------------------------------------------
    def _confidence(self, matrix: sp.csr_array) -> sp.csr_array:
        """The observed confidences :math:`c_{ui}` (float32 CSR, sorted)."""
        out = sp.csr_array(matrix, dtype=np.float32, copy=True)
        out.sort_indices()
        values = out.data.astype(np.float64)
        scaled = np.log1p(values) if self.confidence == "log" else values
        out.data = (1.0 + float(self.alpha) * scaled).astype(np.float32)
        return out

    def _row_regularization(self, counts: np.ndarray, n_other: int) -> np.ndarray:
        """:math:`\\lambda (n + \\alpha_0 N)^\\nu` per row."""
        nu = float(self.reg_exponent)
        base = float(self.regularization)
        if nu == 0:
            return np.full(counts.size, base, np.float32)
        scale = counts.astype(np.float64) + float(self.unobserved_weight) * n_other
        return (base * scale**nu).astype(np.float32)

    # -- fitting -----------------------------------------------------------------------------
    def _fit(self, data: Interactions) -> dict[str, Any]:
        from threadpoolctl import threadpool_limits

        from ._als_kernels import _load_lapack

        _load_lapack()
        if self.backend == "implicit":
            return self._fit_with_implicit(data)
        conf = self._confidence(data.to_csr())
        conf_t = sp.csr_array(conf.T)
        conf_t.sort_indices()
        rng = check_random_state(self.random_state)
        k = int(self.n_factors)
        scale = 0.1 / np.sqrt(k)
        users = (rng.standard_normal((data.n_users, k)) * scale).astype(np.float32)
        items = (rng.standard_normal((data.n_items, k)) * scale).astype(np.float32)
        user_lam = self._row_regularization(np.diff(conf.indptr), data.n_items)
        item_lam = self._row_regularization(np.diff(conf_t.indptr), data.n_users)
        held_out, patience = self._held_out(data)
        stopping = EarlyStopping(held_out, patience)
        losses = []
        progress = progress_bar(int(self.n_iter), self.show_progress, "ALS", "iter")
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                for iteration in range(int(self.n_iter)):
                    self._solve_side(conf_t, items, users, item_lam, self.solver, conf)
                    # the last user solve is exact: the users end at the optimum for the final
                    # items, so a training user's history folded in gives their own vector
                    last = iteration == int(self.n_iter) - 1 and held_out is None
                    solver = "cholesky" if last else self.solver
                    self._solve_side(conf, users, items, user_lam, solver, conf_t)
                    losses.append(self._loss(conf, users, items, user_lam, item_lam))
                    progress(losses[-1])
                    if stopping.done(iteration, users, items):
                        break
                if stopping.best is not None:  # the best items, their exact users
                    items = stopping.best[2]
                    self._solve_side(conf, users, items, user_lam, "cholesky")
        finally:
            self.__dict__.pop("_tile_cache", None)  # a fit's tiles, not the model's
        return {
            "user_factors_": users,
            "item_factors_": items,
            "loss_": np.asarray(losses, np.float64),
            **stopping.learned(int(self.n_iter)),
        }

    def _fit_with_implicit(self, data: Interactions) -> dict[str, Any]:
        """implicit fits on the confidences themselves (its ``alpha=1``: c = r),
        then the users are solved exactly for its final items."""
        from threadpoolctl import threadpool_limits

        factory, gpu = implicit_backend(self, "als")
        conf = self._confidence(data.to_csr())
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        losses: list[float] = []
        progress = progress_bar(int(self.n_iter), self.show_progress, "ALS (implicit)", "iter")

        def record(iteration: int, elapsed: float, loss: float) -> None:
            losses.append(float(loss))
            progress(losses[-1])

        with threadpool_limits(limits=1, user_api="blas"):  # implicit checks it when built
            peer = factory.AlternatingLeastSquares(
                factors=int(self.n_factors), regularization=float(self.regularization),
                alpha=1.0, use_cg=self.solver == "cg", use_gpu=gpu, iterations=int(self.n_iter),
                calculate_training_loss=True, num_threads=self._threads(), random_state=seed,
            )  # fmt: skip
            peer.cg_steps = int(self.cg_steps)
            peer.fit(sp.csr_matrix(conf, dtype=np.float32), show_progress=False, callback=record)
            users, items = implicit_factors(peer)
            lam = self._row_regularization(np.diff(conf.indptr), data.n_items)
            self._solve_side(conf, users, items, lam, "cholesky")
        return {
            "user_factors_": users,
            "item_factors_": items,
            "loss_": np.asarray(losses, np.float64),
            **no_early_stopping(self.n_iter),
        }

    def _solve_side(
        self,
        conf: sp.csr_array,
        X: np.ndarray,
        Y: np.ndarray,
        lam: np.ndarray,
        solver: str,
        conf_t: sp.csr_array | None = None,
    ) -> None:
        """Update every row of ``X`` (rows of ``conf``) with ``Y`` fixed, in place.

        CG on a side with fewer rows than the fixed one (the items of a shop) reads the
        other orientation ``conf_t``: the fixed vectors in order and the few updated ones
        from cache, instead of gathering scattered fixed vectors once per row and step.
        """
        alpha0 = np.float32(self.unobserved_weight)
        gram = (alpha0 * (Y.T @ Y)).astype(np.float32)
        if solver == "cg" and conf_t is not None and X.shape[0] < Y.shape[0]:
            self._cg_scatter(conf_t, X, Y, lam, gram, alpha0)
            return
        self._solve_rows(conf, X, Y, lam, gram, alpha0, solver)

    def _solve_rows(self, conf, X, Y, lam, gram, alpha0, solver) -> None:
        """Blocks of rows, each solved exactly or by CG steps on gathered fixed vectors."""
        from ._als_kernels import cg_start, cg_step, cholesky_rows

        indptr, indices = csr_arrays(conf)
        confidence = conf.data
        wdiff = (confidence - alpha0).astype(np.float32)
        steps = int(self.cg_steps)
        failures = []

        def work(start: int, stop: int) -> None:
            rows = np.arange(start, stop, dtype=np.int64)
            block, row_lam = X[start:stop].copy(), lam[start:stop]
            if solver == "cholesky":
                failures.append(
                    cholesky_rows(indptr, indices, confidence, wdiff, rows, Y, gram, row_lam, block)
                )
            else:
                residual = block @ gram
                direction = np.empty_like(block)
                norms = np.empty(stop - start, np.float32)
                cg_start(
                    indptr, indices, confidence, wdiff, rows, Y, row_lam, block, residual,
                    direction, norms,
                )  # fmt: skip
                for _ in range(steps):
                    product = direction @ gram
                    cg_step(
                        indptr, indices, wdiff, rows, Y, row_lam, block, residual, direction,
                        product, norms,
                    )  # fmt: skip
            X[start:stop] = block

        run_chunks(work, X.shape[0], self._threads(), chunk=_BLOCK)
        if sum(failures):
            raise ConvergenceError(
                f"ALS: {sum(failures)} least-squares system(s) were not positive definite. "
                "Increase regularization (or unobserved_weight)."
            )

    def _cg_scatter(self, conf_t, X, Y, lam, gram, alpha0) -> None:
        """CG on all rows of ``X`` at once, the sparse products run over ``conf_t`` (rows:
        the fixed vectors ``Y``, read in order) cut into column tiles of ``X``'s rows small
        enough to stay in cache. A thread owns a tile and accumulates its rows in the same
        order whatever the thread count."""
        from ._als_kernels import scatter

        tiles = self._tiles(conf_t, X.shape[1], alpha0)
        threads, n_fixed = self._threads(), conf_t.shape[0]

        def sparse(with_confidence: bool, updated: np.ndarray) -> np.ndarray:
            out = np.zeros_like(X)

            def work(first: int, last: int) -> None:
                for low, high, indptr, indices, data, wdiff in tiles[first:last]:
                    values = data if with_confidence else _NO_VALUES
                    scatter(
                        indptr, indices, values, wdiff, Y, updated[low:high], 0, n_fixed,
                        out[low:high],
                    )  # fmt: skip

            run_chunks(work, len(tiles), threads, chunk=1)
            return out

        lam = lam[:, None]
        solution = X.copy()
        residual = sparse(True, solution)
        residual -= solution @ gram + lam * solution
        direction = residual.copy()
        norms = _row_dots(residual, residual)
        for _ in range(int(self.cg_steps)):
            product = direction @ gram + lam * direction
            product += sparse(False, direction)
            curvature = _row_dots(direction, product)
            active = (norms >= 1e-20) & (curvature > 0)
            step = np.where(active, norms / np.where(active, curvature, 1), 0).astype(np.float32)
            solution += step[:, None] * direction
            residual -= step[:, None] * product
            new_norms = _row_dots(residual, residual)
            ratio = np.where(active, new_norms / np.where(active, norms, 1), 0).astype(np.float32)
            direction = residual + ratio[:, None] * direction
            norms = np.where(active, new_norms, 0).astype(np.float32)
        X[:] = solution

    def _tiles(self, conf_t: sp.csr_array, k: int, alpha0: np.float32) -> list[tuple]:
        """:func:`_column_tiles` with the weights ``c - alpha0``, cut once per matrix (every
        iteration of a fit reuses them; the cache holds one matrix at a time)."""
        cached = self.__dict__.get("_tile_cache")
        if cached is not None and cached[0] is conf_t and cached[1] == (k, float(alpha0)):
            return cached[2]
        tiles = [
            (low, high, indptr, indices, data, (data - alpha0).astype(np.float32))
            for low, high, indptr, indices, data in _column_tiles(conf_t, k)
        ]
        self._tile_cache = (conf_t, (k, float(alpha0)), tiles)
        return tiles

    def _loss(self, conf, users, items, user_lam, item_lam) -> float:
        """The loss of the module docstring divided by the total weight."""
        from ._als_kernels import observed_loss

        alpha0 = float(self.unobserved_weight)
        indptr, indices = csr_arrays(conf)
        parts = []

        def work(start: int, stop: int) -> None:
            parts.append(
                (
                    start,
                    observed_loss(indptr, indices, conf.data, alpha0, users, items, start, stop),
                )
            )

        run_chunks(work, conf.shape[0], self._threads(), chunk=4096)
        observed = sum(value for _, value in sorted(parts))  # in row order: thread-free
        # sum over all pairs of (x_u.y_i)^2 = <X^T X, Y^T Y>; |x_u|^2 is the diagonal of X X^T
        gram_u = (users.T @ users).astype(np.float64)
        gram_i = (items.T @ items).astype(np.float64)
        everywhere = alpha0 * float(np.sum(gram_u * gram_i))
        penalty = float(user_lam @ _row_dots(users, users).astype(np.float64))
        penalty += float(item_lam @ _row_dots(items, items).astype(np.float64))
        weight = float(conf.data.sum(dtype=np.float64)) + alpha0 * (
            conf.shape[0] * conf.shape[1] - conf.nnz
        )
        return (observed + everywhere + penalty) / max(weight, 1e-300)

    # -- new data ----------------------------------------------------------------------------
    def partial_fit(self, X: Any, y: None = None) -> ALS:
        """Add interactions without refitting: ``X`` as for :meth:`fit`, with the shop's ids.

        Unknown users and items are appended to the id maps; values of pairs seen before are
        added to the old ones. Every user in ``X`` is solved exactly with the item vectors
        fixed (the closed form of :meth:`recommend_for_items`; new items count as zero
        vectors), then every new item with the user vectors fixed; other vectors are
        unchanged (refit now and then to let them move). Returns ``self``.
        """
        from threadpoolctl import threadpool_limits

        self._check_fitted()
        grown = self._grown_history(X)
        history, shape = grown.history, grown.history.shape
        users, items = grown.factors(self.user_factors_, self.item_factors_)
        conf = self._confidence(history)
        conf_t = sp.csr_array(conf.T)
        conf_t.sort_indices()
        user_lam = self._row_regularization(np.diff(conf.indptr), shape[1])
        item_lam = self._row_regularization(np.diff(conf_t.indptr), shape[0])
        with threadpool_limits(limits=1, user_api="blas"):
            touched = np.unique(grown.rows).astype(np.int64)
            self._solve_exactly(conf, users, items, user_lam, touched)
            fresh = np.arange(shape[1] - grown.new_items, shape[1], dtype=np.int64)
            self._solve_exactly(conf_t, items, users, item_lam, fresh)
        self._adopt(grown, users, items)
        return self

    def _solve_exactly(self, conf, X, Y, lam, rows: np.ndarray) -> None:
        """Exact solves of the given rows of ``X`` (rows of ``conf``) with ``Y`` fixed."""
        from ._als_kernels import cholesky_rows

        if rows.size == 0:
            return
        alpha0 = np.float32(self.unobserved_weight)
        gram = (alpha0 * (Y.T @ Y)).astype(np.float32)
        indptr, indices = csr_arrays(conf)
        wdiff = (conf.data - alpha0).astype(np.float32)
        block = X[rows].copy()
        failures = cholesky_rows(indptr, indices, conf.data, wdiff, rows, Y, gram, lam[rows], block)
        if failures:
            raise ConvergenceError(
                f"ALS: {failures} least-squares system(s) were not positive definite; "
                "increase regularization."
            )
        X[rows] = block

    # -- fold-in -----------------------------------------------------------------------------
    def _fold_in(self, history: sp.csr_array) -> np.ndarray:
        """The exact least-squares user vector of each history row with ``Y`` fixed."""
        conf = self._confidence(history)
        lam = self._row_regularization(np.diff(conf.indptr), self.item_factors_.shape[0])
        out = np.zeros((conf.shape[0], self.item_factors_.shape[1]), np.float32)
        rows = np.arange(conf.shape[0], dtype=np.int64)
        self._solve_exactly(conf, out, self.item_factors_, lam, rows)
        return out

    def _explanation(self, user_index: int, item_index: int) -> dict[str, np.ndarray]:
        r"""Hu et al.'s explanation of the fold-in score:
        :math:`\hat s_{ui} = \sum_{j \in I_u} c_{uj}\, y_i^\top W_u y_j` with
        :math:`W_u = (\alpha_0 Y^\top Y + Y^\top (C_u - \alpha_0) Y + \lambda_u I)^{-1}`; each
        history item's term is its contribution."""
        conf = self._confidence(self.history_[[user_index]])
        items = self.item_factors_.astype(np.float64)
        history, c = conf.indices, conf.data.astype(np.float64)
        alpha0 = float(self.unobserved_weight)
        lam = float(self._row_regularization(np.array([history.size]), items.shape[0])[0])
        gathered = items[history]
        system = alpha0 * items.T @ items + (gathered.T * (c - alpha0)) @ gathered
        system += lam * np.eye(items.shape[1])
        weights = np.linalg.solve(system, gathered.T)  # W_u y_j for every history item j
        contribution = c * (items[item_index] @ weights)
        ids = self.item_map_.ids(history)
        order = np.lexsort((ids, -contribution))  # largest first, ties by item id
        total = contribution.sum()
        return {
            "item": ids[order],
            "value": self.history_[[user_index]].data.astype(np.float64)[order],
            "weight": (contribution / c)[order],
            "contribution": contribution[order],
            "share": contribution[order] / total if total else np.full(order.size, np.nan),
        }


def _column_tiles(conf_t: sp.csr_array, k: int) -> list[tuple]:
    """``conf_t`` cut by columns into tiles of at most ``_TILE_BYTES / (8 k)`` columns and
    about equal entries: (low, high, indptr, local indices, data) each."""
    n_cols = conf_t.shape[1]
    widest = max(1, _TILE_BYTES // (8 * k))
    counts = np.bincount(conf_t.indices, minlength=n_cols)
    cuts = [0]
    target = max(1, conf_t.nnz // max(1, -(-n_cols // widest)))
    total = 0
    for col in range(n_cols):  # close a tile when it is full of columns or of entries
        if col > cuts[-1] and (col - cuts[-1] >= widest or total >= target):
            cuts.append(col)
            total = 0
        total += int(counts[col])
    cuts.append(n_cols)
    tiles = []
    for low, high in itertools.pairwise(cuts):
        part = conf_t[:, low:high]
        part.sort_indices()
        indptr, indices = csr_arrays(part)
        tiles.append((low, high, indptr, indices, part.data.astype(np.float32)))
    return tiles


def _row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)
