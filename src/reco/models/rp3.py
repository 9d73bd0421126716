"""RP3beta: random walks of length three with popularity penalty (Paudel et al. 2017)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._schema import Csr
from .._validation import check_bool, check_int, check_number, check_option
from ..base import Recommender
from ..data import Interactions
from ._item_based import (
    ItemBasedRecommender,
    Similarity,
    canonical,
    forget_in_similarity,
    topk_similarity,
    worth_updating,
)
from ._kernels import RAW, RAW_BY_ROW

__all__ = ["RP3beta"]


def _inverse_sums(matrix: sp.csr_array) -> np.ndarray:
    """1 / each row's sum (1 for empty rows)."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    return 1.0 / np.where(sums > 0, sums, 1.0)


def _transitions(matrix: sp.csr_array, inverse: np.ndarray, power: float, along: str):
    """``(x * inverse) ** power`` of each entry, ``inverse`` indexed by the entry's row
    (``along="rows"``) or column: one transition matrix, or the other's transpose built from
    the transposed history with the same values."""
    if along == "rows":
        factor = np.repeat(inverse, np.diff(matrix.indptr))
    else:
        factor = inverse[matrix.indices]
    return sp.csr_array(
        ((matrix.data * factor) ** power, matrix.indices, matrix.indptr), shape=matrix.shape
    )


def _row_normalise(matrix: sp.csr_array, power: float) -> sp.csr_array:
    return _transitions(matrix, _inverse_sums(matrix), power, along="rows")


class RP3beta(ItemBasedRecommender):
    r"""RP3beta: item-to-item transition probabilities of a user-item random walk.

    With :math:`P_{ui} = x_{ui} / \sum_j x_{uj}` and :math:`P_{iu} = x_{ui} / \sum_v x_{vi}`:

    .. math::

        W_{ij} = \frac{\sum_u P_{iu}^{\alpha} P_{uj}^{\alpha}}{\deg(j)^{\beta}},\qquad
        \mathrm{score}(u, j) = \sum_i x_{ui} W_{ij}

    keeping the ``k`` largest :math:`W_{ij}` of each history item i (or, with
    ``neighbourhood="candidate"``, of each candidate j). ``beta`` > 0 lowers popular items
    (:math:`\deg(j) = \sum_u x_{uj}`); alpha = 1, beta = 0 is P3alpha's walk.

    Parameters
    ----------
    alpha : float > 0
    beta : float >= 0
    k : int
        Targets kept per history item (``"history"``) or sources per candidate
        (``"candidate"``).
    normalize : bool
        Scale each row of W to sum 1 (as in Dacrema et al.'s implementation option).
    neighbourhood : {"history", "candidate"}
        ``"history"`` (default; Paudel et al., Dacrema et al.): each history item keeps its k
        strongest transitions. ``"candidate"``: each candidate keeps the k history items that
        reach it most strongly (the neighbourhood rule of :class:`ItemKNN`'s default).
    n_threads : int or None

    Attributes
    ----------
    weights_ : csr_array ``(n_items_, n_items_)``

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 60, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> model = RP3beta(alpha=1.0, beta=0.5, k=30).fit(X)
    >>> anonymous_cart = [int(i) for i in X.item_map.ids([0, 1])]
    >>> len(model.recommend_for_items(anonymous_cart, 4))
    4
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "weights_": Csr(("items", "items")),
    }

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        beta: float = 0.6,
        k: int = 200,
        normalize: bool = False,
        neighbourhood: str = "history",
        n_threads: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.normalize = normalize
        self.neighbourhood = neighbourhood
        self.n_threads = n_threads

    def _validate_params(self) -> None:
        super()._validate_params()
        check_number(self.alpha, "alpha", low=0, low_open=True)
        check_number(self.beta, "beta", low=0)
        check_int(self.k, "k", low=1)
        check_bool(self.normalize, "normalize")
        check_option(self.neighbourhood, "neighbourhood", ("history", "candidate"))

    def _fit(self, data: Interactions) -> dict[str, Any]:
        left, right, similarity, _ = self._walk(data)
        walks = topk_similarity(left, right, self.k, similarity, self._threads())
        return {"weights_": self._as_weights(walks)}

    def _forget(self, rows: np.ndarray, remaining: Interactions) -> dict[str, Any]:
        """Exact without a refit (:func:`forget_in_similarity`: removing users only raises
        the transitions into their items), except with ``normalize=True``, whose stored rows
        no longer hold the walk's values: a refit then, as also when those items make up
        most of the work of a fit."""
        changed = np.unique(self.history_[rows].indices)
        if self.normalize or not worth_updating(self.history_, changed, symmetric=False):
            return self._fit(remaining)
        left, right, similarity, transposed = self._walk(remaining)
        walks = self.weights_ if self.neighbourhood == "history" else self.weights_.T
        walks = forget_in_similarity(
            sp.csr_array(walks), left, right, changed, self.k, similarity,
            self._threads(), transposes=transposed(),
        )  # fmt: skip
        return {"weights_": self._as_weights(walks)}

    def _walk(self, data: Interactions) -> tuple:
        """(left, right, Similarity, a function giving their transposes) whose top-k rows
        are the walk's: row i, the k best targets j of item i (``"history"``); row j, the k
        best sources i of candidate j (``"candidate"``), each scaled by the penalty of its
        target. Each transition matrix is built in either orientation from the history and
        its transpose (the same values, no transposing of the walk's matrices)."""
        X = sp.csr_array(data.to_csr(), dtype=np.float64)
        XT = sp.csr_array(X.T)
        by_user, by_item = _inverse_sums(X), _inverse_sums(XT)
        user_to_item = _transitions(X, by_user, self.alpha, along="rows")  # P_uj
        item_to_user = _transitions(XT, by_item, self.alpha, along="rows")  # P_iu
        degree = np.bincount(X.indices, weights=X.data, minlength=X.shape[1])
        penalty = np.where(degree > 0, degree, 1.0) ** -float(self.beta)
        if self.neighbourhood == "history":
            return (
                item_to_user,
                user_to_item,
                Similarity(RAW, X.shape[1], scale=penalty),
                lambda: (
                    _transitions(X, by_item, self.alpha, along="columns"),
                    _transitions(XT, by_user, self.alpha, along="columns"),
                ),
            )
        return (
            _transitions(XT, by_user, self.alpha, along="columns"),  # user_to_item.T
            _transitions(X, by_item, self.alpha, along="columns"),  # item_to_user.T
            Similarity(RAW_BY_ROW, X.shape[1], scale=penalty),
            lambda: (user_to_item, item_to_user),
        )

    def _as_weights(self, walks: sp.csr_array) -> sp.csr_array:
        weights = walks if self.neighbourhood == "history" else sp.csr_array(walks.T)
        if self.normalize:
            weights = _row_normalise(weights, 1.0)
        return canonical(weights)
