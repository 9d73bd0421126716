r"""association_rules(): every rule A -> C of the frequent itemsets, with mlxtend's metrics.

With :math:`s(X)` the support (fraction of transactions) of itemset X, for a rule A -> C:

* ``support`` :math:`= s(A \cup C)`, ``antecedent_support`` :math:`= s(A)`,
  ``consequent_support`` :math:`= s(C)`;
* ``confidence`` :math:`= s(A \cup C)/s(A)` in [0, 1];
  ``lift`` :math:`= \mathrm{conf}/s(C)` in [0, inf);
* ``representativity`` :math:`= k(A \cup C)/n`, the share of transactions where every item
  of the rule is known (1 without unknown values);
* ``leverage`` :math:`= s(A \cup C) - s(A)s(C)` in [-1, 1];
* ``conviction`` :math:`= (1 - s(C))/(1 - \mathrm{conf})` (inf when conf = 1);
* ``zhangs_metric`` :math:`= \mathrm{leverage}/\max(s(A\cup C)(1-s(A)),\,s(A)(s(C)-s(A\cup C)))`
  in [-1, 1] (0 when the denominator is 0);
* ``jaccard`` :math:`= s(A \cup C)/(s(A) + s(C) - s(A \cup C))`;
* ``certainty`` :math:`= (\mathrm{conf} - s(C))/(1 - s(C))` (0 when s(C) = 1);
* ``kulczynski`` :math:`= (s(A\cup C)/s(A) + s(A\cup C)/s(C))/2`.

Values equal mlxtend's ``association_rules`` (tested), with unknown values too
(``null_values=True``; supports and confidence then count only the transactions where the
items are known, see :mod:`reco.mining._missing`). Because the itemsets result keeps every
frequent itemset, the supports of A and C are always known (no KeyError, whatever ``kind``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_ids, check_int, check_number
from ..exceptions import DataValidationError, EfficiencyWarning, InvalidParameterError
from . import _table
from .itemsets import FrequentItemsets, itemset_tuples

__all__ = ["METRICS", "AssociationRules", "association_rules"]

# rule candidates generated per kernel call (memory stays flat however many rules there are)
_RULE_CHUNK = 1 << 20

METRICS = (
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "representativity",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "certainty",
    "kulczynski",
)


@dataclass
class AssociationRules:
    """Rules found by :func:`association_rules`.

    Attributes
    ----------
    frame : DataFrame
        ``antecedent``, ``consequent`` (tuples of external ids) and one column per metric,
        sorted by the chosen metric, then support (descending).
    n_transactions : int

    Examples
    --------
    >>> baskets = [["milk", "bread"], ["milk"], ["milk", "bread", "jam"], ["bread", "jam"]]
    >>> rules = association_rules(frequent_itemsets(baskets, min_support=2), "lift", 1.2)
    >>> len(rules), rules.n_transactions
    (2, 4)
    >>> sorted(rules.frame.columns)[:4]
    ['antecedent', 'antecedent_support', 'certainty', 'confidence']
    """

    n_transactions: int
    # every metric of each rule ((metrics x rules), METRICS order) and the item-map indices
    # of each rule's sides (flat items and offsets), in frame order; the item ids
    metrics: np.ndarray = field(repr=False)
    antecedent_items: np.ndarray = field(repr=False)
    antecedent_offsets: np.ndarray = field(repr=False)
    consequent_items: np.ndarray = field(repr=False)
    consequent_offsets: np.ndarray = field(repr=False)
    item_ids: np.ndarray = field(repr=False)
    _frame: pd.DataFrame | None = field(repr=False, default=None)

    def __len__(self) -> int:
        return int(self.metrics.shape[1])

    @property
    def frame(self) -> pd.DataFrame:
        """The rules as a table, built on first access (a caller that reads the arrays, as
        the rule recommender does, never pays for millions of tuples)."""
        if self._frame is None:
            frame = pd.DataFrame(self.metrics.T, columns=list(METRICS), copy=False)
            identity = np.arange(self.item_ids.size, dtype=np.int64)
            in_order = np.arange(len(self), dtype=np.int64)
            sides = [
                ("antecedent", self.antecedent_items, self.antecedent_offsets),
                ("consequent", self.consequent_items, self.consequent_offsets),
            ]
            for position, (name, items, bounds) in enumerate(sides):
                tuples = itemset_tuples(items, bounds, identity, self.item_ids, in_order, in_order)
                frame.insert(position, name, pd.Series(tuples, dtype=object, copy=False))
            self._frame = frame
        return self._frame

    @property
    def antecedent_index(self) -> list[tuple[int, ...]]:
        """Item-map index tuple of each rule's antecedent (frame order)."""
        return _split(self.antecedent_items, self.antecedent_offsets)

    @property
    def consequent_index(self) -> list[tuple[int, ...]]:
        """Item-map index tuple of each rule's consequent (frame order)."""
        return _split(self.consequent_items, self.consequent_offsets)


def _split(items: np.ndarray, offsets: np.ndarray) -> list[tuple[int, ...]]:
    values, bounds = items.tolist(), offsets.tolist()
    return [tuple(values[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def rule_metric(
    name: str, s_ac: np.ndarray, s_a: np.ndarray, s_c: np.ndarray, n: int
) -> np.ndarray:
    """One metric (see the module docstring) from the supports of A | C, A and C."""
    if name not in METRICS:
        raise InvalidParameterError(f"metric must be one of {list(METRICS)}; got {name!r}.")
    return _metric_block([name], s_ac, s_a, s_c, n)[0]


def _metric_block(names, s_ac, s_a, s_c, n) -> np.ndarray:
    codes = np.array([METRICS.index(name) for name in names], dtype=np.int64)
    return _table.rule_metrics(
        codes,
        np.asarray(s_ac, np.float64),
        np.asarray(s_a, np.float64),
        np.asarray(s_c, np.float64),
        float(n),
    )


def association_rules(
    itemsets: FrequentItemsets,
    metric: str = "confidence",
    min_threshold: float = 0.5,
    *,
    antecedents: Any = None,
    consequents: Any = None,
    max_antecedent_len: int | None = None,
    max_consequent_len: int | None = None,
    max_rules: int | None = None,
) -> AssociationRules:
    """All rules A -> C (A, C disjoint, non-empty, A | C frequent) with ``metric >= min_threshold``.

    Parameters
    ----------
    itemsets : FrequentItemsets
        From :func:`frequent_itemsets` (any ``kind``: rules use every frequent itemset).
    metric : str
        One of :data:`METRICS` (see the module docstring for the formulas).
    antecedents, consequents : list of item ids, optional
        Only rules whose antecedent (consequent) items all come from these lists.
    max_antecedent_len, max_consequent_len : int, optional
    max_rules : int, optional
        Keep only the ``max_rules`` best rules (by ``metric``, then support), selected chunk by
        chunk, so memory stays bounded however many rules pass the threshold. Without it, an
        itemset collection that could yield more than 100 million candidate rules (an itemset
        of length L gives up to 2^L - 2) is warned about with an
        :class:`~reco.exceptions.EfficiencyWarning` before any work starts.

    Returns
    -------
    AssociationRules
        ``frame`` with ``antecedents``, ``consequents`` (tuples of item ids) and every metric of
        :data:`METRICS`, best ``metric`` first.

    Raises
    ------
    InvalidParameterError
        An unknown ``metric``, a bad threshold or length, or an item id the itemsets do not know.

    Examples
    --------
    >>> baskets = [["milk", "bread"], ["milk"], ["milk", "bread", "jam"], ["bread", "jam"]]
    >>> itemsets = frequent_itemsets(baskets, min_support=2)
    >>> rules = association_rules(itemsets, metric="confidence", min_threshold=0.6)
    >>> rules.frame[["antecedent", "consequent", "confidence", "lift"]].round(3)
      antecedent consequent  confidence   lift
    0     (jam,)   (bread,)       1.000  1.333
    1   (bread,)     (jam,)       0.667  1.333
    2    (milk,)   (bread,)       0.667  0.889
    3   (bread,)    (milk,)       0.667  0.889
    """
    if not isinstance(itemsets, FrequentItemsets):
        raise DataValidationError(
            "itemsets must be the result of reco.mining.frequent_itemsets(...); got "
            f"{type(itemsets).__name__}."
        )
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {list(METRICS)}; got {metric!r}.")
    min_threshold = check_number(
        min_threshold, "min_threshold", hint="Pass the metric's lower bound, such as 0.8."
    )
    max_a = (
        None
        if max_antecedent_len is None
        else check_int(max_antecedent_len, "max_antecedent_len", low=1)
    )
    max_c = (
        None
        if max_consequent_len is None
        else check_int(max_consequent_len, "max_consequent_len", low=1)
    )
    max_rules = None if max_rules is None else check_int(max_rules, "max_rules", low=1)
    _warn_if_explosive(itemsets, max_rules)
    allowed_a = _allowed(itemsets, antecedents, "antecedents")
    allowed_c = _allowed(itemsets, consequents, "consequents")
    flat, offsets, counts = itemsets._sorted_items, itemsets._offsets, itemsets._supports
    n = itemsets.n_transactions
    unbounded = np.iinfo(np.int64).max // 2
    pieces = []
    start = 0
    while start < counts.size:  # candidates in chunks: memory stays flat however many rules
        k, start, rows, masks, count_a, count_c = _table.rule_candidates(
            flat,
            offsets,
            counts,
            itemsets._table,
            allowed_a.view(np.uint8),
            allowed_c.view(np.uint8),
            unbounded if max_a is None else max_a,
            unbounded if max_c is None else max_c,
            start,
            _RULE_CHUNK,
        )
        parts = _rule_parts(itemsets, rows[:k], masks[:k], count_a[:k], count_c[:k])
        keep = np.flatnonzero(_metrics([metric], parts, n)[0] >= min_threshold)
        pieces.append({key: value[keep] for key, value in parts.items()})
        if max_rules is not None and sum(p["rows"].size for p in pieces) > max_rules:
            pieces = [_best(pieces, metric, n, max_rules)]
    parts = _joined(pieces)
    order = np.lexsort((-parts["s_ac"], -_metrics([metric], parts, n)[0]))
    parts = {key: value[order] for key, value in parts.items()}
    rows, masks = parts["rows"], parts["masks"]
    # every metric in one (metrics x rules) block: the frame's columns without a copy
    block = _metrics(METRICS, parts, n)
    a_items, a_offsets, c_items, c_offsets = _table.split_rules(flat, offsets, rows, masks)
    return AssociationRules(
        n, block, a_items, a_offsets, c_items, c_offsets, itemsets.item_map.array
    )


_EXPLOSIVE = 10**8  # candidate rules past which association_rules warns


def _warn_if_explosive(itemsets: FrequentItemsets, max_rules: int | None) -> None:
    """Warn before a rule search whose candidate count (sum of 2^L - 2) is enormous."""
    if max_rules is not None:
        return
    lengths = np.minimum(np.diff(itemsets._offsets), 62)
    candidates = float(np.sum(np.exp2(lengths[lengths >= 2]) - 2))
    if candidates > _EXPLOSIVE:
        warnings.warn(
            f"these {lengths.size:,} itemsets can yield up to {candidates:.3g} candidate rules; "
            "the search may run for a long time and return more rules than fit in memory. "
            "Raise min_support, set max_len in frequent_itemsets, or pass max_rules= to keep "
            "only the best.",
            EfficiencyWarning,
            stacklevel=3,
        )


def _rule_parts(itemsets: FrequentItemsets, rows, masks, count_a, count_c) -> dict:
    """Candidate rules (their itemset rows and antecedent masks) with the supports of
    A | C, A and C; with unknown values (:mod:`reco.mining._missing`) also both
    confidences and the representativity, and only rules of frequent itemsets."""
    counts, n = itemsets._supports, itemsets.n_transactions
    if itemsets._missing is None:
        return {
            "rows": rows, "masks": masks, "s_ac": counts[rows] / n, "s_a": count_a / n,
            "s_c": count_c / n,
        }  # fmt: skip
    frequent = itemsets._frequent[rows]
    rows, masks, count_a, count_c = (
        rows[frequent],
        masks[frequent],
        count_a[frequent],
        count_c[frequent],
    )
    sides = _table.split_rules(itemsets._sorted_items, itemsets._offsets, rows, masks)
    k = itemsets._missing.rule_parts(*sides)
    both = counts[rows].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "rows": rows, "masks": masks, "s_ac": both / k["k_ac"], "s_a": count_a / k["k_a"],
            "s_c": count_c / k["k_c"], "confidence": both / (count_a - k["d_ac"]),
            "reverse": both / (count_c - k["d_ca"]), "representativity": k["k_ac"] / n,
        }  # fmt: skip


def _metrics(names, parts: dict, n: int) -> np.ndarray:
    """(metrics x rules) block; with unknown values the confidence-based metrics use the
    confidence over the transactions where both sides are known."""
    block = _metric_block(names, parts["s_ac"], parts["s_a"], parts["s_c"], n)
    if "confidence" not in parts:
        return block
    conf, s_c = parts["confidence"], parts["s_c"]
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted = {
            "confidence": conf,
            "lift": conf / s_c,
            "representativity": parts["representativity"],
            "conviction": np.where(conf < 1, (1 - s_c) / (1 - conf), np.inf),
            "certainty": np.where(s_c == 1, 0.0, (conf - s_c) / (1 - s_c)),
            "kulczynski": (conf + parts["reverse"]) / 2,
        }
    for position, name in enumerate(names):
        if name in adjusted:
            block[position] = adjusted[name]
    return block


def _joined(pieces: list) -> dict:
    if not pieces:
        return {"rows": np.zeros(0, np.int64), "masks": np.zeros(0, np.int64),
                "s_ac": np.zeros(0), "s_a": np.zeros(0), "s_c": np.zeros(0)}  # fmt: skip
    return {key: np.concatenate([p[key] for p in pieces]) for key in pieces[0]}


def _best(pieces: list, metric: str, n: int, limit: int) -> dict:
    """The ``limit`` best candidate rules of ``pieces`` (metric, then support; stable)."""
    parts = _joined(pieces)
    order = np.lexsort((-parts["s_ac"], -_metrics([metric], parts, n)[0]))[:limit]
    order.sort()  # keep discovery order among the kept rules
    return {key: value[order] for key, value in parts.items()}


def _allowed(itemsets: FrequentItemsets, ids: Any, name: str) -> np.ndarray:
    """Boolean mask over the item map: the items a rule side may use (all when None)."""
    allowed = np.ones(len(itemsets.item_map), dtype=bool)
    if ids is not None:
        allowed[:] = False
        allowed[itemsets.item_map.index(check_ids(ids, name), missing="skip")] = True
    return allowed
