"""EASE: embarrassingly shallow autoencoder (Steck 2019), in closed form."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .._schema import Array, Csr, DenseOrCsr
from .._validation import check_int, check_number
from ..base import Recommender
from ..data import Interactions
from ..exceptions import ConvergenceError
from ._item_based import ItemBasedRecommender, canonical, check_dense_memory, gram_matrix

__all__ = ["EASE"]


def ease_weights(gram: np.ndarray, regularization: float, diagonal_out=None) -> np.ndarray:
    r"""The EASE item-item matrix from a Gram matrix (overwritten in place).

    :math:`P = (G + \lambda I)^{-1}`, :math:`B_{ij} = -P_{ij} / P_{jj}`, :math:`B_{jj} = 0`,
    through a float32 Cholesky factorisation and inverse (LAPACK ``spotrf``/``spotri``).
    """
    from scipy.linalg import lapack

    n = gram.shape[0]
    gram[np.diag_indices(n)] += regularization
    factor, info = lapack.spotrf(gram, lower=0, overwrite_a=1, clean=0)
    if info != 0:
        raise ConvergenceError(
            f"EASE: G + regularization*I is not positive definite (LAPACK spotrf info={info}); "
            "increase regularization."
        )
    inverse, info = lapack.spotri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise ConvergenceError(f"EASE: inverting the Cholesky factor failed (info={info}).")
    # spotri's output is Fortran-ordered with P in its upper triangle: its transpose is a
    # C-ordered view with P in the lower triangle. Serving reads rows, so B is built there
    # (a Fortran-ordered B makes every `history @ B` copy the whole matrix).
    p = inverse.T if inverse.flags.f_contiguous else np.ascontiguousarray(inverse.T)
    step = max(1, (64 * 2**20) // (4 * max(1, n)))
    for start in range(0, n, step):  # mirror, one row block at a time (bounded memory)
        stop = min(n, start + step)
        p[start:stop, stop:] = p[stop:, start:stop].T
        block = p[start:stop, start:stop]
        p[start:stop, start:stop] = np.tril(block) + np.tril(block, -1).T
    diagonal = p.diagonal().copy()
    if diagonal_out is not None:
        diagonal_out[:] = diagonal
    p /= -diagonal[None, :]
    p[np.diag_indices(n)] = 0.0
    return p


class EASE(ItemBasedRecommender):
    r"""EASE (Steck 2019): a linear item-item model solved in closed form.

    .. math::

        \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad\text{s.t.}\quad \mathrm{diag}(B) = 0,
        \qquad \hat B = I - P\,\mathrm{diagMat}(1 \oslash \mathrm{diag}(P)),\;
        P = (X^\top X + \lambda I)^{-1}

    and ``score(u, i) = x_u B[:, i]``. The Gram matrix is accumulated by a threaded compiled
    kernel; the inverse goes through a float32 Cholesky factorisation (LAPACK), several times
    faster than ``numpy.linalg.inv``. Memory is dense in the catalog size (about three
    n_items x n_items float32 matrices): a catalog that would not fit is refused before work
    starts, naming the alternatives.

    Parameters
    ----------
    regularization : float > 0
        :math:`\lambda`. Larger values shrink B (Steck uses 500 on ML-20M).
    prune : int or None
        Keep only the ``prune`` largest-magnitude weights per candidate column (sparse B, far
        less memory when serving, scores change little).
    max_memory : int or None
        Byte limit for the dense matrices (default: the memory available now).
    n_threads : int or None
        Threads for the Gram matrix, LAPACK and batch scoring (None: all cores).

    Attributes
    ----------
    weights_ : ndarray ``(n_items_, n_items_)`` float32, or csr_array when pruned
        :math:`B`, with ``weights_[j, i]`` the weight of history item j towards candidate i.
    inverse_diagonal_ : ndarray float32
        :math:`\mathrm{diag}(P)` (empty when pruned): with :math:`B` it gives :math:`P` back,
        so :meth:`forget_users` updates the model by the Woodbury identity,
        :math:`P' = P + P V^\top (I - V P V^\top)^{-1} V P` for the forgotten users' rows
        :math:`V`, in :math:`O(n^2 k)` instead of a new inverse.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 60, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> model = EASE(regularization=50.0).fit(X)
    >>> model.weights_.shape == (X.n_items, X.n_items)
    True
    >>> customer = X.user_map.ids([0])[0]
    >>> len(model.recommend(customer, 5))
    5
    >>> pruned = EASE(regularization=50.0, prune=10).fit(X)     # sparse, 10 weights per column
    >>> import numpy as np
    >>> int(np.diff(pruned.weights_.tocsc().indptr).max())
    10
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "weights_": DenseOrCsr(Array("float32", ("items", "items")), Csr(("items", "items"))),
        "inverse_diagonal_": Array("float32", ("diagonal",)),
    }

    def __init__(
        self,
        *,
        regularization: float = 500.0,
        prune: int | None = None,
        max_memory: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.regularization = regularization
        self.prune = prune
        self.max_memory = max_memory
        self.n_threads = n_threads

    def _validate_params(self) -> None:
        super()._validate_params()
        check_number(self.regularization, "regularization", low=0, low_open=True)
        if self.prune is not None:
            check_int(self.prune, "prune", low=1)
        if self.max_memory is not None:
            check_int(self.max_memory, "max_memory", low=1)

    def _fit(self, data: Interactions) -> dict[str, Any]:
        n_items = data.n_items
        check_dense_memory("EASE", n_items, 2.5, self.max_memory)
        threads = self._threads()
        gram = gram_matrix(data.to_csr(), threads)
        diagonal = np.empty(n_items, np.float32)
        with threadpool_limits(limits=threads, user_api="blas"):
            weights = ease_weights(gram, float(self.regularization), diagonal)
        if self.prune is not None and self.prune < n_items:
            return {"weights_": _prune_columns(weights, int(self.prune)),
                    "inverse_diagonal_": np.zeros(0, np.float32)}  # fmt: skip
        return {"weights_": weights, "inverse_diagonal_": diagonal}

    def _forget(self, rows: np.ndarray, remaining: Interactions) -> dict[str, Any]:
        """Woodbury update of :math:`P` (see ``inverse_diagonal_``); a refit when pruned."""
        diagonal = self.inverse_diagonal_
        if sp.issparse(self.weights_) or diagonal.size != self.weights_.shape[0]:
            return self._fit(remaining)
        removed = self.history_[rows].toarray().astype(np.float64)  # V: k x n
        with threadpool_limits(limits=self._threads(), user_api="blas"):
            inverse = self.weights_.astype(np.float64) * -diagonal.astype(np.float64)[None, :]
            inverse[np.diag_indices_from(inverse)] = diagonal
            pv = inverse @ removed.T  # P V^T: n x k
            inner = np.eye(len(rows)) - removed @ pv
            inverse += pv @ np.linalg.solve(inner, pv.T)
        new_diagonal = inverse.diagonal().copy()
        inverse /= -new_diagonal[None, :]
        inverse[np.diag_indices_from(inverse)] = 0.0
        return {
            "weights_": inverse.astype(np.float32),
            "inverse_diagonal_": new_diagonal.astype(np.float32),
        }


def _prune_columns(weights: np.ndarray, keep: int) -> sp.csr_array:
    """Sparse copy keeping the ``keep`` largest |w| per column (ties: lower row index)."""
    n = weights.shape[0]
    rows, cols, values = [], [], []
    step = max(1, (64 * 2**20) // (4 * n))
    for start in range(0, n, step):
        block = weights[:, start : start + step]
        top = np.argpartition(-np.abs(block), keep - 1, axis=0)[:keep]
        picked = np.take_along_axis(block, top, axis=0)
        rows.append(top.ravel(order="F"))
        cols.append(np.repeat(np.arange(start, start + block.shape[1]), keep))
        values.append(picked.ravel(order="F"))
    matrix = sp.csr_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return canonical(matrix)
