r"""association_rules(): every rule A -> C of the frequent itemsets, with mlxtend's metrics.

With :math:`s(X)` the support (fraction of transactions) of itemset X, for a rule A -> C:

* ``support`` :math:`= s(A \cup C)`, ``antecedent_support`` :math:`= s(A)`,
  ``consequent_support`` :math:`= s(C)`;
* ``confidence`` :math:`= s(A \cup C)/s(A)` in [0, 1];
  ``lift`` :math:`= \mathrm{conf}/s(C)` in [0, inf);
* ``representativity`` = 1 (share of transactions without missing values; reco's baskets have
  none);
* ``leverage`` :math:`= s(A \cup C) - s(A)s(C)` in [-1, 1];
* ``conviction`` :math:`= (1 - s(C))/(1 - \mathrm{conf})` (inf when conf = 1);
* ``zhangs_metric`` :math:`= \mathrm{leverage}/\max(s(A\cup C)(1-s(A)),\,s(A)(s(C)-s(A\cup C)))`
  in [-1, 1] (0 when the denominator is 0);
* ``jaccard`` :math:`= s(A \cup C)/(s(A) + s(C) - s(A \cup C))`;
* ``certainty`` :math:`= (\mathrm{conf} - s(C))/(1 - s(C))` (0 when s(C) = 1);
* ``kulczynski`` :math:`= (s(A\cup C)/s(A) + s(A\cup C)/s(C))/2`.

Values equal mlxtend's ``association_rules`` (tested). Because the itemsets result keeps every
frequent itemset, the supports of A and C are always known (no KeyError, whatever ``kind``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_ids, check_int
from ..exceptions import DataValidationError, InvalidParameterError
from .itemsets import FrequentItemsets

__all__ = ["METRICS", "AssociationRules", "association_rules"]

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
        sorted by the chosen metric (descending).
    n_transactions : int
    """

    frame: pd.DataFrame
    n_transactions: int
    # item-map index tuples of each rule (for recommenders)
    antecedent_index: list[tuple[int, ...]]
    consequent_index: list[tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.frame)


def rule_metrics(
    s_ac: np.ndarray, s_a: np.ndarray, s_c: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """Every metric from the three supports (vectorised).

    Ratios are formed as ``(s * n) / (s' * n)``, the way mlxtend forms them, so thresholds such
    as confidence >= 0.8 select exactly the same rules.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        confidence = (s_ac * n) / (s_a * n)
        leverage = s_ac - s_a * s_c
        conviction = np.full(confidence.shape, np.inf)
        below = confidence < 1.0
        conviction[below] = (1.0 - s_c[below]) / (1.0 - confidence[below])
        zhang_den = np.maximum(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        certainty_den = 1 - s_c
        return {
            "antecedent_support": s_a,
            "consequent_support": s_c,
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
            "representativity": np.ones_like(s_ac),
            "leverage": leverage,
            "conviction": conviction,
            "zhangs_metric": np.where(zhang_den == 0, 0.0, leverage / zhang_den),
            "jaccard": s_ac / (s_a + s_c - s_ac),
            "certainty": np.where(certainty_den == 0, 0.0, (confidence - s_c) / certainty_den),
            "kulczynski": ((s_ac * n) / (s_a * n) + (s_ac * n) / (s_c * n)) / 2,
        }


def association_rules(
    itemsets: FrequentItemsets,
    metric: str = "confidence",
    min_threshold: float = 0.5,
    *,
    antecedents: Any = None,
    consequents: Any = None,
    max_antecedent_len: int | None = None,
    max_consequent_len: int | None = None,
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
    """
    if not isinstance(itemsets, FrequentItemsets):
        raise DataValidationError(
            "itemsets must be the result of reco.mining.frequent_itemsets(...); got "
            f"{type(itemsets).__name__}."
        )
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {list(METRICS)}; got {metric!r}.")
    if isinstance(min_threshold, bool) or not isinstance(min_threshold, (int, float)):
        raise InvalidParameterError(f"min_threshold must be a number; got {min_threshold!r}.")
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
    allowed_a = _allowed(itemsets, antecedents, "antecedents")
    allowed_c = _allowed(itemsets, consequents, "consequents")
    counts = itemsets._counts
    n = itemsets.n_transactions
    left, right, s_ac, s_a, s_c = [], [], [], [], []
    for itemset, count in counts.items():
        size = len(itemset)
        if size < 2:
            continue
        for a_len in range(1, size):
            if max_a is not None and a_len > max_a:
                break
            if max_c is not None and size - a_len > max_c:
                continue
            for antecedent in combinations(itemset, a_len):
                if allowed_a is not None and not allowed_a.issuperset(antecedent):
                    continue
                consequent = tuple(i for i in itemset if i not in antecedent)
                if allowed_c is not None and not allowed_c.issuperset(consequent):
                    continue
                left.append(antecedent)
                right.append(consequent)
                s_ac.append(count)
                s_a.append(counts[antecedent])
                s_c.append(counts[consequent])
    values = rule_metrics(
        np.asarray(s_ac, float) / n, np.asarray(s_a, float) / n, np.asarray(s_c, float) / n, n
    )
    keep = values[metric] >= min_threshold
    ids = itemsets.item_map.array
    frame = pd.DataFrame(
        {
            "antecedent": [
                tuple(ids[list(a)].tolist()) for a, k in zip(left, keep, strict=True) if k
            ],
            "consequent": [
                tuple(ids[list(c)].tolist()) for c, k in zip(right, keep, strict=True) if k
            ],
            **{name: column[keep] for name, column in values.items()},
        }
    )
    order = (
        np.lexsort((frame["support"].to_numpy() * -1, frame[metric].to_numpy() * -1))
        if len(frame)
        else np.zeros(0, int)
    )
    frame = frame.iloc[order].reset_index(drop=True)
    kept = np.flatnonzero(keep)[order]
    return AssociationRules(frame, n, [left[k] for k in kept], [right[k] for k in kept])


def _allowed(itemsets: FrequentItemsets, ids: Any, name: str) -> set[int] | None:
    if ids is None:
        return None
    return set(itemsets.item_map.index(check_ids(ids, name), missing="skip").tolist())
