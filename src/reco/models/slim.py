"""SLIM: sparse linear methods (Ning & Karypis 2011), elastic net with non-negative weights."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Csr
from .._threads import run_chunks
from .._validation import check_int, check_number
from ..base import Recommender
from ..data import Interactions
from ._item_based import (
    ItemBasedRecommender,
    canonical,
    check_dense_memory,
    gram_matrix,
)
from ._kernels import slim_columns

__all__ = ["SLIM"]


class SLIM(ItemBasedRecommender):
    r"""SLIM: one non-negative elastic-net regression per item.

    For every item i, with :math:`x_i` its column of the interaction matrix:

    .. math::

        w_i = \arg\min_{w \ge 0,\; w_{i} = 0}\;
        \tfrac12 \|x_i - X w\|^2 + \ell_1 \|w\|_1 + \tfrac12 \ell_2 \|w\|^2

    and ``score(u, i) = x_u w_i``. Solved by coordinate descent on the Gram matrix (compiled),
    items in parallel threads; only items that co-occur with i more than :math:`\ell_1` can get
    weight, so each regression is small. In scikit-learn's ``ElasticNet(alpha, l1_ratio)``
    terms: :math:`\ell_1 = n_{users}\,\alpha\,r`, :math:`\ell_2 = n_{users}\,\alpha\,(1-r)`.
    Needs a dense Gram matrix (same memory check as EASE).

    Parameters
    ----------
    l1, l2 : float >= 0
        Penalties on the absolute and squared weights.
    max_features : int or None
        Regress each item on at most this many most co-occurring items (fsSLIM).
    max_iter : int
        Coordinate-descent sweeps per item.
    tol : float
        Stop when no weight moved more than ``tol`` times the largest weight.
    max_memory : int or None
    n_threads : int or None

    Attributes
    ----------
    weights_ : csr_array ``(n_items_, n_items_)``
        ``weights_[j, i]`` = weight of history item j in the regression of item i.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 60, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> model = SLIM(l1=0.1, l2=1.0, max_features=30).fit(X)
    >>> bool((model.weights_.data >= 0).all()), bool(model.weights_.diagonal().any())
    (True, False)
    >>> len(model.recommend_for_items([int(X.item_map.ids([0])[0])], 3))
    3
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "weights_": Csr(("items", "items")),
    }

    def __init__(
        self,
        *,
        l1: float = 1.0,
        l2: float = 10.0,
        max_features: int | None = None,
        max_iter: int = 100,
        tol: float = 1e-4,
        max_memory: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.l1 = l1
        self.l2 = l2
        self.max_features = max_features
        self.max_iter = max_iter
        self.tol = tol
        self.max_memory = max_memory
        self.n_threads = n_threads

    def _validate_params(self) -> None:
        super()._validate_params()
        check_number(self.l1, "l1", low=0)
        check_number(self.l2, "l2", low=0)
        if self.l1 == 0 and self.l2 == 0:
            from ..exceptions import InvalidParameterError

            raise InvalidParameterError(
                "l1 and l2 cannot both be 0: the regression would copy each item onto its "
                "duplicates. Set l2 > 0 (e.g. 10)."
            )
        if self.max_features is not None:
            check_int(self.max_features, "max_features", low=1)
        check_int(self.max_iter, "max_iter", low=1)
        check_number(self.tol, "tol", low=0, low_open=True)
        if self.max_memory is not None:
            check_int(self.max_memory, "max_memory", low=1)

    def _fit(self, data: Interactions) -> dict[str, Any]:
        n_items = data.n_items
        check_dense_memory("SLIM", n_items, 1.2, self.max_memory)
        gram = gram_matrix(data.to_csr(), self._threads()).astype(np.float64)
        cap = n_items if self.max_features is None else min(n_items, int(self.max_features))
        columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        chunk = 64

        def work(start: int, stop: int) -> None:
            rows = np.zeros((stop - start, cap), np.int64)
            values = np.zeros((stop - start, cap), np.float64)
            lengths = np.zeros(stop - start, np.int64)
            slim_columns(
                gram,
                float(self.l1),
                float(self.l2),
                int(self.max_iter),
                float(self.tol),
                int(self.max_features or 0),
                start,
                stop,
                rows,
                values,
                lengths,
            )
            mask = np.arange(cap)[None, :] < lengths[:, None]
            targets = np.repeat(np.arange(start, stop), lengths)
            columns.append((rows[mask], targets, values[mask]))

        run_chunks(work, n_items, self._threads(), chunk=chunk)
        rows = np.concatenate([c[0] for c in columns]) if columns else np.zeros(0, np.int64)
        cols = np.concatenate([c[1] for c in columns]) if columns else np.zeros(0, np.int64)
        vals = np.concatenate([c[2] for c in columns]) if columns else np.zeros(0)
        weights = sp.csr_array((vals, (rows, cols)), shape=(n_items, n_items))
        return {"weights_": canonical(weights)}
