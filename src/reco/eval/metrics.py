r"""Ranking metrics: pure, vectorised, one value per user.

Every accuracy metric takes ``(recs, truth, k=10)``: ``recs`` a :class:`~reco.base.RecBatch`,
``truth`` the test part of a split (an :class:`~reco.data.Interactions`) or a long frame with
``user``, ``item`` and optionally ``relevance`` columns. An item is *relevant* when its truth
value is > 0; truth items the model does not know still count in :math:`|R_u|` (a model cannot
recommend them, and hiding them would inflate recall).

Notation: :math:`L_u` is user u's list cut at k, :math:`R_u` the relevant items,
:math:`\mathrm{rel}_u(i)` the truth value, :math:`h_u(r) = 1` when the item at rank r is relevant.

Users with no relevant item get NaN and an :class:`~reco.exceptions.UndefinedMetricWarning`
naming how many; the metric is undefined for them and they must not be averaged in (
:func:`reco.eval.evaluate` evaluates only users with relevant items, so it never warns).
The definitions agree with ranx / trec_eval to 1e-9 (tested); where a variant exists the
docstring names it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._topk import csr_arrays
from .._validation import check_finite, check_int, check_option
from ..base import RecBatch
from ..data import IdMap, Interactions
from ..exceptions import DataValidationError, InvalidParameterError, UndefinedMetricWarning
from ._judge import judge_rows

__all__ = [
    "average_popularity",
    "average_precision",
    "catalog_coverage",
    "dcg",
    "f1",
    "gini_index",
    "hit_rate",
    "intra_list_diversity",
    "ndcg",
    "novelty",
    "personalisation",
    "precision",
    "r_precision",
    "recall",
    "recall_liang",
    "reciprocal_rank",
]


# -- judging: which recommended items are relevant --------------------------------------------


@dataclass
class Judged:
    """Relevance of each recommended item (``gains``, users x k), |R_u|, and ideal gains."""

    users: np.ndarray
    gains: np.ndarray
    ideal: np.ndarray
    n_relevant: np.ndarray

    @property
    def k(self) -> int:
        return self.gains.shape[1]

    def hits(self, k: int) -> np.ndarray:
        return (self.gains[:, :k] > 0).astype(np.float64)


def _truth_parts(recs: RecBatch, truth: Any) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """(truth CSR, truth row of each recs user (-1 none), truth column -> recs item index)."""
    if isinstance(truth, Interactions):
        matrix = truth.to_csr()
        user_map, item_map = truth.user_map, truth.item_map
    elif isinstance(truth, pd.DataFrame):
        missing = [c for c in ("user", "item") if c not in truth.columns]
        if missing:
            raise DataValidationError(
                f"a truth frame needs columns 'user' and 'item' (and optionally 'relevance'); "
                f"missing {missing}, present {list(truth.columns)}."
            )
        value = "relevance" if "relevance" in truth.columns else None
        data = Interactions.from_frame(
            truth, user="user", item="item", value=value, allow_negative=True
        )
        matrix, user_map, item_map = data.to_csr(), data.user_map, data.item_map
    else:
        raise DataValidationError(
            "truth must be an Interactions (the test part of a split) or a DataFrame with user, "
            f"item and optional relevance columns; got {type(truth).__name__}."
        )
    rows = user_map.index(recs.users, missing="negative").astype(np.int64)
    if item_map is recs.item_map or item_map == recs.item_map:
        columns = np.arange(len(item_map), dtype=np.int64)
    else:
        columns = recs.item_map.index(item_map.array, missing="negative").astype(np.int64)
    return matrix, rows, columns


def judge(recs: RecBatch, truth: Any, k: int) -> Judged:
    """Compare ``recs`` with ``truth`` once, for any metric at cut-offs up to ``k``."""
    if not isinstance(recs, RecBatch):
        raise DataValidationError(
            f"recs must be a RecBatch (from recommend_batch); got {type(recs).__name__}."
        )
    k = check_int(k, "k", low=1)
    if k > recs.n:
        raise InvalidParameterError(
            f"k={k} is larger than the lists in recs (n={recs.n}); recommend with n >= {k}."
        )
    matrix, rows, columns = _truth_parts(recs, truth)
    indptr, indices = csr_arrays(matrix)
    gains, ideal, n_relevant = judge_rows(
        np.ascontiguousarray(recs.item_index, dtype=np.int32),
        np.ascontiguousarray(recs.lengths, dtype=np.int64),
        rows,
        indptr,
        indices,
        np.ascontiguousarray(matrix.data, dtype=np.float64),
        columns,
        k,
    )
    return Judged(recs.users, gains, ideal, n_relevant)


def _undefined(values: np.ndarray, judged: Judged, name: str, warn: bool) -> np.ndarray:
    empty = judged.n_relevant == 0
    if empty.any():
        values[empty] = np.nan
        if warn:
            warnings.warn(
                f"{name} is undefined for {int(empty.sum())} of {empty.size} users with no "
                "relevant item in truth; they get NaN. Leave them out of the mean (np.nanmean), "
                "or evaluate only users with test items, as reco.eval.evaluate does.",
                UndefinedMetricWarning,
                stacklevel=3,
            )
    return values


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


# -- the metrics on judged lists (shared by the public functions and evaluate) ----------------


def _precision(j: Judged, k: int) -> np.ndarray:
    return j.hits(k).sum(axis=1) / k


def _recall(j: Judged, k: int) -> np.ndarray:
    return j.hits(k).sum(axis=1) / np.maximum(j.n_relevant, 1)


def _recall_liang(j: Judged, k: int) -> np.ndarray:
    return j.hits(k).sum(axis=1) / np.maximum(np.minimum(j.n_relevant, k), 1)


def _hit_rate(j: Judged, k: int) -> np.ndarray:
    return (j.hits(k).sum(axis=1) > 0).astype(np.float64)


def _ndcg(j: Judged, k: int, graded: bool = False) -> np.ndarray:
    disc = _discounts(k)
    if graded:
        dcg = j.gains[:, :k] @ disc
        idcg = j.ideal[:, :k] @ disc
    else:
        dcg = j.hits(k) @ disc
        cumulative = np.concatenate(([0.0], np.cumsum(disc)))
        idcg = cumulative[np.minimum(j.n_relevant, k)]
    return dcg / np.where(idcg > 0, idcg, 1.0)


def _average_precision(j: Judged, k: int, normalize: str = "relevant") -> np.ndarray:
    hits = j.hits(k)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    total = (precision_at * hits).sum(axis=1)
    denominator = j.n_relevant if normalize == "relevant" else np.minimum(j.n_relevant, k)
    return total / np.maximum(denominator, 1)


def _f1(j: Judged, k: int) -> np.ndarray:
    precision, recall = _precision(j, k), _recall(j, k)
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)


def _dcg(j: Judged, k: int, graded: bool = False) -> np.ndarray:
    return (j.gains[:, :k] if graded else j.hits(k)) @ _discounts(k)


def _r_precision(j: Judged, k: int) -> np.ndarray:
    cumulative = np.concatenate((np.zeros((j.gains.shape[0], 1)), np.cumsum(j.hits(k), axis=1)), 1)
    cut = np.minimum(j.n_relevant, k)
    return cumulative[np.arange(cut.size), cut] / np.maximum(j.n_relevant, 1)


def _reciprocal_rank(j: Judged, k: int) -> np.ndarray:
    hits = j.hits(k) > 0
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


ACCURACY = {
    "precision": _precision,
    "recall": _recall,
    "recall_liang": _recall_liang,
    "hit_rate": _hit_rate,
    "ndcg": _ndcg,
    "ndcg_graded": lambda j, k: _ndcg(j, k, graded=True),
    "map": _average_precision,
    "average_precision": _average_precision,
    "mrr": _reciprocal_rank,
    "reciprocal_rank": _reciprocal_rank,
    "f1": _f1,
    "dcg": _dcg,
    "dcg_graded": lambda j, k: _dcg(j, k, graded=True),
    "r_precision": _r_precision,
}


def _public(name: str, recs: RecBatch, truth: Any, k: int, **options: Any) -> np.ndarray:
    judged = judge(recs, truth, k)
    values = ACCURACY[name](judged, k, **options) if options else ACCURACY[name](judged, k)
    return _undefined(values, judged, name, warn=True)


def precision(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""Precision@k :math:`= |L_u \cap R_u| / k` (k even when the list is shorter)."""
    return _public("precision", recs, truth, k)


def recall(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""Recall@k :math:`= |L_u \cap R_u| / |R_u|`."""
    return _public("recall", recs, truth, k)


def recall_liang(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""Recall@k as in the strong-generalisation papers (Liang et al. 2018; Steck 2019).

    :math:`|L_u \cap R_u| / \min(k, |R_u|)`: the denominator is what a perfect list could
    reach, so the metric is 1 for a perfect list even when :math:`|R_u| > k`. Equal to
    :func:`recall` when :math:`|R_u| \le k`.
    """
    return _public("recall_liang", recs, truth, k)


def hit_rate(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""HitRate@k :math:`= 1` if :math:`L_u \cap R_u \neq \emptyset`, else 0."""
    return _public("hit_rate", recs, truth, k)


def ndcg(recs: RecBatch, truth: Any, k: int = 10, *, graded: bool = False) -> np.ndarray:
    r"""NDCG@k, the normalised discounted cumulative gain.

    :math:`\mathrm{NDCG} = \mathrm{DCG}/\mathrm{IDCG}` with
    :math:`\mathrm{DCG} = \sum_{r=1}^{k} g_u(r) / \log_2(r + 1)`.

    Binary (default): :math:`g_u(r) = h_u(r)`, IDCG puts :math:`\min(k, |R_u|)` hits first.
    ``graded=True``: :math:`g_u(r) = \mathrm{rel}_u(\cdot)` (linear gain, Järvelin &
    Kekäläinen; ranx ``ndcg``), IDCG sorts all truth values descending.
    """
    return _public("ndcg_graded" if graded else "ndcg", recs, truth, k)


def average_precision(
    recs: RecBatch, truth: Any, k: int = 10, *, normalize: str = "relevant"
) -> np.ndarray:
    r"""AP@k :math:`= \frac{1}{D} \sum_{r \le k} h_u(r)\,\mathrm{Precision@}r`; its mean is MAP.

    ``normalize="relevant"`` (default; trec_eval, ranx): :math:`D = |R_u|`.
    ``normalize="k"``: :math:`D = \min(k, |R_u|)` (the Kaggle "apk" variant), so a perfect
    list scores 1 even when :math:`|R_u| > k`.
    """
    check_option(normalize, "normalize", ("relevant", "k"))
    return _public("map", recs, truth, k, normalize=normalize)


def f1(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""F1@k :math:`= 2PR / (P + R)` of Precision@k and Recall@k (0 when both are 0)."""
    return _public("f1", recs, truth, k)


def dcg(recs: RecBatch, truth: Any, k: int = 10, *, graded: bool = False) -> np.ndarray:
    r"""Raw DCG@k :math:`= \sum_{r=1}^{k} g_u(r) / \log_2(r + 1)` (not normalised; binary
    gains, or the truth's relevance with ``graded=True`` as ranx's ``dcg``)."""
    return _public("dcg_graded" if graded else "dcg", recs, truth, k)


def r_precision(recs: RecBatch, truth: Any, k: int | None = None) -> np.ndarray:
    r"""R-precision (trec_eval ``Rprec``): hits in the top :math:`|R_u|` over :math:`|R_u|`,
    ranks limited to the list length (``k``, default the lists' ``n``). 1 for a perfect list."""
    return _public("r_precision", recs, truth, recs.n if k is None else k)


def reciprocal_rank(recs: RecBatch, truth: Any, k: int = 10) -> np.ndarray:
    r"""RR@k :math:`= 1 / \text{rank of the first relevant item}` (0 if none in the top k)."""
    return _public("mrr", recs, truth, k)


# -- beyond accuracy ----------------------------------------------------------------------------


def _top(recs: RecBatch, k: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(recs, RecBatch):
        raise DataValidationError(f"recs must be a RecBatch; got {type(recs).__name__}.")
    k = check_int(k, "k", low=1)
    if k > recs.n:
        raise InvalidParameterError(
            f"k={k} is larger than the lists in recs (n={recs.n}); recommend with n >= {k}."
        )
    return recs.item_index[:, :k], np.minimum(recs.lengths, k)


def _exposure(recs: RecBatch, k: int, n_items: int | None) -> tuple[np.ndarray, int]:
    items, _ = _top(recs, k)
    size = len(recs.item_map) if n_items is None else check_int(n_items, "n_items", low=1)
    shown = items[items >= 0]
    if shown.size and shown.max() >= size:
        raise InvalidParameterError(f"n_items={size} is smaller than the item map in recs.")
    return np.bincount(shown, minlength=size), size


def catalog_coverage(recs: RecBatch, k: int = 10, *, n_items: int | None = None) -> float:
    r"""Share of the catalog recommended to at least one user: :math:`|\bigcup_u L_u| / |I|`.

    ``n_items`` defaults to the model's item count.
    """
    counts, size = _exposure(recs, k, n_items)
    return float((counts > 0).sum() / size)


def gini_index(recs: RecBatch, k: int = 10, *, n_items: int | None = None) -> float:
    r"""Gini index of item exposure over the catalog of :math:`n` items.

    With exposure counts sorted ascending :math:`c_1 \le \dots \le c_n`:
    :math:`G = \sum_i (2i - n - 1)\, c_i \,/\, (n \sum_i c_i)`, which equals the mean
    absolute difference :math:`\sum_{i,j} |c_i - c_j| / (2 n^2 \bar c)`. 0 when every item is
    shown equally often; at most :math:`(n - 1)/n` (every exposure on one item).
    """
    counts, size = _exposure(recs, k, n_items)
    total = counts.sum()
    if total == 0:
        return 0.0
    ordered = np.sort(counts).astype(np.float64)
    ranks = np.arange(1, size + 1, dtype=np.float64)
    return float(((2 * ranks - size - 1) * ordered).sum() / (size * total))


def _train_popularity(recs: RecBatch, train: Interactions) -> tuple[np.ndarray, int]:
    """Distinct training users per item, aligned with the recs item map."""
    if not isinstance(train, Interactions):
        raise DataValidationError(
            f"train must be the Interactions the model was fit on; got {type(train).__name__}."
        )
    matrix = train.to_csr()
    counts = np.bincount(matrix.indices, minlength=train.n_items).astype(np.float64)
    n_users = int((np.diff(matrix.indptr) > 0).sum())
    if train.item_map is recs.item_map or train.item_map == recs.item_map:
        return counts, n_users
    position = train.item_map.index(recs.item_map.array, missing="negative")
    aligned = np.where(position >= 0, counts[np.maximum(position, 0)], 0.0)
    return aligned, n_users


def _per_list_mean(values: np.ndarray, items: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    valid = items >= 0
    table = np.where(valid, values[np.maximum(items, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = table.sum(axis=1) / lengths
    return np.where(lengths > 0, out, np.nan)


def novelty(recs: RecBatch, train: Interactions, k: int = 10) -> np.ndarray:
    r"""Mean self-information of the recommended items, per user (Zhou et al. 2010).

    :math:`\frac{1}{|L_u|}\sum_{i \in L_u} -\log_2 p(i)`, with :math:`p(i) = |U_i| / |U|` the
    share of training users who interacted with i; items no training user touched count as
    one user (:math:`p = 1/|U|`). Empty lists give NaN.
    """
    items, lengths = _top(recs, k)
    counts, n_users = _train_popularity(recs, train)
    information = -np.log2(np.maximum(counts, 1.0) / max(n_users, 1))
    return _per_list_mean(information, items, lengths)


def average_popularity(recs: RecBatch, train: Interactions, k: int = 10) -> np.ndarray:
    r"""Average recommendation popularity (ARP, Abdollahpouri et al. 2019), per user.

    :math:`\frac{1}{|L_u|}\sum_{i \in L_u} |U_i|`: how many training users interacted with the
    recommended items, on average. Empty lists give NaN.
    """
    items, lengths = _top(recs, k)
    counts, _ = _train_popularity(recs, train)
    return _per_list_mean(counts, items, lengths)


def _aligned(values: Any, item_map: IdMap, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        position = pd.Index(values.index).get_indexer(item_map.array)
        if (position < 0).any():
            raise DataValidationError(
                f"{name} has no entry for {int((position < 0).sum())} recommended catalog "
                "item(s); give one for every item of the model."
            )
        return values.to_numpy()[position]
    array = np.asarray(values)
    if array.shape[0] != len(item_map):
        raise DataValidationError(
            f"{name} must be a Series indexed by item id or have one row per model item "
            f"({len(item_map)}); got {array.shape[0]} rows."
        )
    return array


def intra_list_diversity(
    recs: RecBatch,
    k: int = 10,
    *,
    categories: Any = None,
    item_features: Any = None,
) -> np.ndarray:
    r"""Mean pairwise dissimilarity inside each list (Ziegler et al. 2005), per user.

    :math:`\frac{2}{|L_u|(|L_u|-1)} \sum_{i<j \in L_u} (1 - s(i, j))` where :math:`s` is 1 for
    two items of the same category (``categories``: a Series item id -> category, or an array in
    item-map order) or the cosine similarity of their feature rows (``item_features``: dense or
    sparse, one row per model item). Lists with fewer than two items give NaN.
    """
    if (categories is None) == (item_features is None):
        raise InvalidParameterError(
            "intra_list_diversity needs exactly one of categories= or item_features=."
        )
    items, _lengths = _top(recs, k)
    safe = np.maximum(items, 0)
    valid = items >= 0
    pair_valid = valid[:, :, None] & valid[:, None, :]
    upper = np.triu(np.ones((items.shape[1], items.shape[1]), bool), 1)
    pair_valid &= upper[None]
    if categories is not None:
        codes = pd.factorize(_aligned(categories, recs.item_map, "categories"))[0]
        labels = codes[safe]
        dissimilar = (labels[:, :, None] != labels[:, None, :]).astype(np.float64)
    else:
        features = _aligned(item_features, recs.item_map, "item_features")
        features = sp.csr_array(features) if sp.issparse(features) else np.asarray(features)
        check_finite(features.data if sp.issparse(features) else features, "item_features")
        norms = (
            np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
            if (sp.issparse(features))
            else np.linalg.norm(features, axis=1)
        )
        dissimilar = np.empty((*items.shape, items.shape[1]), np.float64)
        for start in range(0, items.shape[0], 4096):
            block = safe[start : start + 4096]
            flat = block.ravel()
            rows = features[flat]
            rows = rows.toarray() if sp.issparse(rows) else rows
            rows = rows / np.where(norms[flat] > 0, norms[flat], 1.0)[:, None]
            rows = rows.reshape((*block.shape, -1))
            dissimilar[start : start + 4096] = 1.0 - np.einsum("uid,ujd->uij", rows, rows)
    pairs = pair_valid.sum(axis=(1, 2))
    total = np.where(pair_valid, dissimilar, 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, total / pairs, np.nan)


def personalisation(recs: RecBatch, k: int = 10) -> float:
    r"""1 minus the mean cosine similarity between the top-k lists of all pairs of users.

    :math:`1 - \binom{N}{2}^{-1} \sum_{u<v} |L_u \cap L_v| / \sqrt{|L_u||L_v|}`, computed
    exactly in O(list entries): with :math:`S_i = \sum_{u \ni i} |L_u|^{-1/2}` and
    :math:`Q_i = \sum_{u \ni i} |L_u|^{-1}`, the sum over pairs is
    :math:`\sum_i (S_i^2 - Q_i)/2`. Empty lists are left out; 0 when every user gets the same
    list, near 1 when lists do not overlap.
    """
    items, lengths = _top(recs, k)
    keep = lengths > 0
    n = int(keep.sum())
    if n < 2:
        return float("nan")
    items, lengths = items[keep], lengths[keep]
    valid = items >= 0
    weight = np.broadcast_to((1.0 / np.sqrt(lengths))[:, None], items.shape)[valid]
    size = len(recs.item_map)
    s = np.bincount(items[valid], weights=weight, minlength=size)
    q = np.bincount(items[valid], weights=weight**2, minlength=size)
    similarity = ((s**2 - q) / 2).sum() / (n * (n - 1) / 2)
    return float(1.0 - similarity)


# -- the shared sections of the metrics' docstrings ---------------------------------------------
_EXAMPLE_LISTS = """
Examples
--------
Customer 1 bought a and b, 2 bought a, 3 bought a and c; the popularity model lists what
each has not bought, and the held-out truth is what they bought next (d is an item the model
has never seen: it still counts as relevant).

>>> import pandas as pd
>>> from reco import Interactions
>>> from reco.models import Popularity
>>> log = pd.DataFrame({"user": [1, 1, 2, 3, 3], "item": ["a", "b", "a", "a", "c"]})
>>> model = Popularity().fit(Interactions.from_frame(log, user="user", item="item"))
>>> recs = model.recommend_batch([1, 2], n=2)
>>> [list(r.items) for r in recs]
[['c'], ['b', 'c']]
"""

_ACCURACY_SECTIONS = (
    """
Parameters
----------
recs : RecBatch
    Ranked lists, from :meth:`~reco.base.Recommender.recommend_batch`.
truth : Interactions or DataFrame
    What each user did next: the test part of a split, or a long frame with ``user`` and
    ``item`` columns (and ``relevance``; an item is relevant when its value is > 0).
k : int
    The cut-off: the first ``k`` items of each list (at most the lists' length ``n``).{extra}

Returns
-------
ndarray of float64
    One value per user of ``recs``, in order; NaN for a user with no relevant item.

Raises
------
InvalidParameterError
    ``k`` is not a positive integer, or is larger than the lists.
DataValidationError
    ``recs`` is not a RecBatch, or ``truth`` lacks the ``user`` and ``item`` columns.

Warns
-----
UndefinedMetricWarning
    When some users have no relevant item (their value is NaN).
"""
    + _EXAMPLE_LISTS
    + """>>> truth = pd.DataFrame({"user": [1, 2, 2], "item": ["c", "c", "d"]})
>>> {call}
{result}
"""
)

_GRADED = """
graded : bool
    Use the truth's ``relevance`` values as gains instead of 1 for every relevant item."""

_ACCURACY_EXAMPLES = {
    precision: ("precision(recs, truth, k=2)", "array([0.5, 0.5])", ""),
    recall: ("recall(recs, truth, k=2)", "array([1. , 0.5])", ""),
    recall_liang: ("recall_liang(recs, truth, k=1)", "array([1., 0.])", ""),
    hit_rate: ("hit_rate(recs, truth, k=1)", "array([1., 0.])", ""),
    ndcg: ("ndcg(recs, truth, k=2).round(4)", "array([1.    , 0.3869])", _GRADED),
    average_precision: (
        "average_precision(recs, truth, k=2)",
        "array([1.  , 0.25])",
        """
normalize : {"relevant", "k"}
    Divide by the number of relevant items, or by ``min(k, |R_u|)``.""",
    ),
    f1: ("f1(recs, truth, k=2).round(4)", "array([0.6667, 0.5   ])", ""),
    dcg: ("dcg(recs, truth, k=2).round(4)", "array([1.    , 0.6309])", _GRADED),
    r_precision: ("r_precision(recs, truth)", "array([1. , 0.5])", ""),
    reciprocal_rank: ("reciprocal_rank(recs, truth, k=2)", "array([1. , 0.5])", ""),
}


def _filled(template: str, **parts: str) -> str:
    """``template`` with each ``{name}`` replaced (the examples hold braces of their own)."""
    for name, text in parts.items():
        template = template.replace("{" + name + "}", text)
    return template


for _metric, (_call, _result, _extra) in _ACCURACY_EXAMPLES.items():
    _metric.__doc__ = (
        (_metric.__doc__ or "").rstrip()
        + "\n"
        + _filled(_ACCURACY_SECTIONS, extra=_extra, call=_call, result=_result)
    )

_BEYOND_SECTIONS = (
    """
Parameters
----------
recs : RecBatch
    Ranked lists, from :meth:`~reco.base.Recommender.recommend_batch`.{extra}
k : int
    The cut-off: the first ``k`` items of each list (at most the lists' length ``n``).{options}

Returns
-------
{returns}

Raises
------
InvalidParameterError
    ``k`` is not a positive integer or is larger than the lists{raises}.
DataValidationError
    ``recs`` is not a RecBatch{data_raises}.
"""
    + _EXAMPLE_LISTS
    + """>>> {call}
{result}
"""
)

_TRAIN = """
train : Interactions
    The data the model was fitted on (popularity counts distinct training users)."""
_N_ITEMS = """
n_items : int, optional
    Catalogue size (default: the model's item count)."""
_PER_USER = "ndarray of float64\n    One value per user of ``recs``; NaN for an empty list."

_BEYOND_EXAMPLES = {
    catalog_coverage: (
        "",
        _N_ITEMS,
        "float\n    Between 0 and 1.",
        "catalog_coverage(recs, k=2)",
        "0.6666666666666666",
        "",
        "",
    ),
    gini_index: (
        "",
        _N_ITEMS,
        "float\n    0 (even exposure) to (n - 1) / n.",
        "round(gini_index(recs, k=2), 4)",
        "0.4444",
        "",
        "",
    ),
    novelty: (
        _TRAIN,
        "",
        _PER_USER,
        "novelty(recs, model_data, k=2).round(3)",
        "array([1.585, 1.585])",
        "",
        ", or ``train`` is not an Interactions",
    ),
    average_popularity: (
        _TRAIN,
        "",
        _PER_USER,
        "average_popularity(recs, model_data, k=2)",
        "array([1., 1.])",
        "",
        ", or ``train`` is not an Interactions",
    ),
    intra_list_diversity: (
        "",
        """
categories : Series or array, optional
    Each item's category (a Series indexed by item id, or an array in item-map order).
item_features : array or sparse matrix, optional
    One feature row per model item; similarity is their cosine. Give exactly one of the two.""",
        _PER_USER.replace("an empty list", "a list of fewer than two items"),
        'intra_list_diversity(recs, k=2, categories=pd.Series({"a": "tea", "b": "tea", '
        '"c": "cups"}))',
        "array([nan,  1.])",
        ", or neither or both of ``categories`` and ``item_features`` are given",
        ", or ``categories`` misses a model item",
    ),
    personalisation: (
        "",
        "",
        "float\n    0 (everyone gets the same list) to 1 (no overlap).",
        "round(personalisation(recs, k=2), 4)",
        "0.2929",
        "",
        "",
    ),
}

for _metric, (
    _extra,
    _options,
    _returns,
    _call,
    _result,
    _raises,
    _data,
) in _BEYOND_EXAMPLES.items():
    _call = _call.replace("model_data", 'Interactions.from_frame(log, user="user", item="item")')
    _metric.__doc__ = (_metric.__doc__ or "").rstrip() + "\n" + _filled(
        _BEYOND_SECTIONS, extra=_extra, options=_options, returns=_returns, call=_call,
        result=_result, raises=_raises, data_raises=_data,
    )  # fmt: skip
del _metric, _call, _result, _extra, _options, _returns, _raises, _data
