"""AssociationRuleRecommender: "frequently bought together" from mined association rules."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._schema import Array, Csr, Scalar
from .._topk import csr_arrays
from .._validation import check_int, check_number, check_option
from ..base import Recommender
from ..data import Interactions
from ..exceptions import DataValidationError, NotSupportedError
from ..mining import METRICS, association_rules, frequent_itemsets
from ..mining.itemsets import itemsets_from_sets, itemsets_without, min_count
from ._kernels import rule_max_scores

__all__ = ["AssociationRuleRecommender"]

_METRICS = ("confidence", "lift", "support", "jaccard", "kulczynski")


class AssociationRuleRecommender(Recommender):
    r"""Recommend the consequents of the association rules a basket or history triggers.

    Rules :math:`A \to \{c\}` are mined with :func:`reco.mining.frequent_itemsets` and
    :func:`reco.mining.association_rules`; a user's (or cart's) score for c is

    .. math::

        \mathrm{score}(H, c) = \max_{A \subseteq H,\ |A| \le L} m(A \to \{c\})

    with :math:`m` the chosen metric and :math:`L` = ``max_antecedent_len`` (1 or 2).
    ``fit(X, baskets=...)`` mines rules from order baskets (a list of item lists, a long
    frame or ``Baskets``) while ``X`` gives each user's history; without ``baskets`` each
    user's history is one transaction.

    Parameters
    ----------
    min_support : float or int
        Frequent-itemset threshold (fraction or count).
    min_threshold : float
        Keep rules whose ``metric`` is at least this.
    metric : {"confidence", "lift", "support", "jaccard", "kulczynski"}
    max_antecedent_len : {1, 2}
    fallback : {"popular", None}
        What fills a list the rules cannot: ``"popular"`` (default) ranks every item no rule
        reaches below all rule items, by training popularity, with scores in [-1, 0) (so
        ``score < 0`` marks a fill); ``None`` returns only rule items (lists may be short or
        empty).

    Attributes
    ----------
    rules_ : DataFrame
        The rules used (``antecedent``, ``consequent``, and every metric), rebuilt from
        ``rule_antecedents_``, ``rule_consequents_`` and ``rule_metrics_``.
    single_weights_ : csr_array ``(n_items_, n_items_)``
        Metric of rule {j} -> {c} at ``[j, c]``.
    pair_keys_, pair_weights_ : ndarray, csr_array
        Two-item antecedents (``a * n_items + b``) and their rules' metric per consequent.

    Examples
    --------
    >>> import pandas as pd
    >>> from reco import Interactions
    >>> orders = pd.DataFrame({
    ...     "order": [1, 1, 2, 2, 3, 3, 4],
    ...     "customer": ["ann", "ann", "bob", "bob", "cy", "cy", "dee"],
    ...     "item": ["tea", "cups", "tea", "cups", "tea", "milk", "milk"],
    ... })
    >>> X = Interactions.from_frame(orders, user="customer", item="item")
    >>> model = AssociationRuleRecommender(min_support=0.2, min_threshold=0.5).fit(
    ...     X, baskets=orders, transaction="order", item="item")
    >>> model.recommend_for_items(["tea"], 1).items.tolist()
    ['cups']
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "rule_antecedents_": Array("int32", ("rules", "antecedent_len"), low=-1, high="items"),
        "rule_consequents_": Array("int32", ("rules",), low=0, high="items"),
        "rule_metrics_": Array("float64", ("rules", len(METRICS)), finite=False),
        "single_weights_": Csr(("items", "items")),
        "pair_keys_": Array("int64", ("pairs",), low=0),
        "pair_weights_": Csr(("pairs", "items")),
        "from_baskets_": Scalar((bool,)),
        "itemsets_": Csr(("itemsets", "items")),
        "itemset_counts_": Array("int64", ("itemsets",), low=1),
        "n_baskets_": Scalar((int,), low=0),
        "min_count_": Scalar((int,), low=1),
    }

    def __init__(
        self,
        *,
        min_support: float | int = 0.01,
        min_threshold: float = 0.1,
        metric: str = "confidence",
        max_antecedent_len: int = 2,
        fallback: str | None = "popular",
        n_threads: int | None = None,
    ) -> None:
        self.min_support = min_support
        self.min_threshold = min_threshold
        self.metric = metric
        self.max_antecedent_len = max_antecedent_len
        self.fallback = fallback
        self.n_threads = n_threads

    def fit(
        self,
        X: Any,
        y: None = None,
        *,
        baskets: Any = None,
        transaction: str = "transaction_id",
        item: str = "item_id",
    ) -> AssociationRuleRecommender:
        """Mine rules from ``baskets`` (default: the rows of ``X``); ``X`` is the history.

        ``baskets`` is a list of item lists, ``Baskets``, or a long frame whose columns are
        named by ``transaction`` and ``item``. The model's catalog is every item of ``X`` and
        of ``baskets``, so a product bought in orders but absent from the histories can still
        be recommended.
        """
        from ..base import as_interactions
        from ..mining import as_baskets

        if baskets is not None:
            baskets = as_baskets(baskets, transaction=transaction, item=item)
            X = _with_items(as_interactions(X), baskets.item_map.array)
        self._baskets = baskets
        try:
            return super().fit(X, y)
        finally:
            del self._baskets

    def forget_users(
        self,
        users: Any,
        *,
        baskets: Any = None,
        removed_baskets: Any = None,
        transaction: str = "transaction_id",
        item: str = "item_id",
    ) -> AssociationRuleRecommender:
        """Remove ``users`` as if the model had been fitted without them (see
        :meth:`Recommender.forget_users`).

        Rules mined from the histories lose the users' histories from the counts of the
        frequent itemsets, and the rules are derived again. For a model fitted with
        ``baskets`` (orders do not name their buyers, so the model cannot find them itself)
        pass ``removed_baskets``, these users' orders, to subtract them the same way, and/or
        ``baskets``, the orders without theirs, to mine again. Subtraction is exact while the
        support threshold as a count stays where it was (with ``min_support`` a fraction,
        removing many baskets can lower it below itemsets that were never counted); the
        rules are mined again from ``baskets`` otherwise, and NotSupportedError says when
        neither is possible.
        """
        from ..mining import as_baskets

        self._check_fitted()
        if self.from_baskets_ and baskets is None and removed_baskets is None:
            raise NotSupportedError(
                "this model mined its rules from order baskets, which do not say whose they "
                "are: pass forget_users(users, removed_baskets=<these users' orders>) or "
                "forget_users(users, baskets=<the orders without these users'>)."
            )
        self._baskets = (
            None if baskets is None else as_baskets(baskets, transaction=transaction, item=item)
        )
        self._removed = (
            None
            if removed_baskets is None
            else self._baskets_matrix(as_baskets(removed_baskets, transaction=transaction,
                                                 item=item))
        )  # fmt: skip
        try:
            return super().forget_users(users)
        finally:
            del self._baskets, self._removed

    def _baskets_matrix(self, baskets: Any) -> sp.csr_array:
        """Baskets as rows over the model's items (each item held once)."""
        columns = self.item_map_.index(baskets.item_map.array, missing="negative")
        if (columns < 0).any():
            unknown = baskets.item_map.array[columns < 0][:5].tolist()
            raise DataValidationError(
                f"removed_baskets hold items the model never saw ({unknown}), so they were "
                "not among the orders it was fitted on. Pass the forgotten users' own orders."
            )
        X = baskets.to_csr()
        matrix = sp.csr_array(
            (np.ones(X.nnz, np.float32), columns[X.indices].astype(np.int32), X.indptr),
            shape=(X.shape[0], len(self.item_map_)),
        )
        matrix.sum_duplicates()
        return matrix

    def _validate_params(self) -> None:
        super()._validate_params()
        check_option(self.metric, "metric", _METRICS)
        check_number(self.min_threshold, "min_threshold", low=0)
        check_int(self.max_antecedent_len, "max_antecedent_len", low=1, high=2)
        check_option(self.fallback, "fallback", ("popular", None))

    def _fit(self, data: Interactions) -> dict[str, Any]:
        from ..data import Baskets

        if self._baskets is None:
            baskets = Baskets.from_csr(data.to_csr(), item_ids=data.item_map.array)
        else:
            baskets = self._baskets
        itemsets = frequent_itemsets(baskets, self.min_support, max_len=self.max_antecedent_len + 1)
        return self._from_itemsets(itemsets, data, from_baskets=self._baskets is not None)

    def _forget(self, rows: np.ndarray, remaining: Interactions) -> dict[str, Any]:
        """Subtract the forgotten baskets from the itemsets' counts when that is exact (see
        :meth:`forget_users`), else mine again (from ``baskets`` for a model of orders)."""
        removed = self._removed if self.from_baskets_ else self.history_[rows]
        subtract = removed is not None and self.n_baskets_ > removed.shape[0]
        if subtract:
            threshold = min_count(self.min_support, self.n_baskets_ - removed.shape[0])
            subtract = threshold >= self.min_count_
        if not subtract:
            if self.from_baskets_ and self._baskets is None:
                raise NotSupportedError(
                    "these orders cannot be subtracted exactly (the support threshold would "
                    "fall below itemsets the model never counted, or its file predates kept "
                    "counts): pass forget_users(users, baskets=<the orders without these "
                    "users'>) to mine them again."
                )
            return self._fit(remaining)
        stored = itemsets_from_sets(
            self.itemsets_.indices, self.itemsets_.indptr, self.itemset_counts_,
            self.n_baskets_, self.min_count_, self.item_map_,
        )  # fmt: skip
        kept = itemsets_without(stored, removed, threshold)
        return self._from_itemsets(kept, remaining, from_baskets=self.from_baskets_)

    def _from_itemsets(self, itemsets: Any, data: Interactions, from_baskets: bool) -> dict:
        """The fitted state from the frequent itemsets: the rules as score matrices, and the
        itemsets' counts (what erasure subtracts from)."""
        rules = association_rules(
            itemsets,
            self.metric,
            float(self.min_threshold),
            max_consequent_len=1,
            max_antecedent_len=self.max_antecedent_len,
        )
        n_items = data.n_items
        # map rule items (basket ids) onto the model's item map; rules about items the
        # history never saw cannot be served and are dropped
        index = data.item_map.index(itemsets.item_map.array, missing="negative")
        padded, consequents = _rule_sides(rules, index)
        values = rules.metrics[METRICS.index(self.metric)].astype(np.float32)
        pairs = padded[:, 1] >= 0
        usable = (padded[:, 0] >= 0) & (consequents >= 0)
        single, pair = np.flatnonzero(usable & ~pairs), np.flatnonzero(usable & pairs)
        single_weights = _max_matrix(
            padded[single, 0], consequents[single], values[single], n_items, n_items
        )
        keys = padded[pair].min(axis=1).astype(np.int64) * n_items + padded[pair].max(axis=1)
        unique_keys, rows = np.unique(keys, return_inverse=True)
        pair_weights = _max_matrix(rows, consequents[pair], values[pair], unique_keys.size, n_items)
        kept = np.flatnonzero(usable)
        padded = padded[kept]
        order = _canonical_order(values[kept], padded, consequents[kept], n_items)
        kept, padded = kept[order], padded[order]
        return {
            "from_baskets_": from_baskets,
            "rule_antecedents_": padded,
            "rule_consequents_": consequents[kept].astype(np.int32),
            "rule_metrics_": np.ascontiguousarray(rules.metrics[:, kept].T, np.float64),
            "single_weights_": single_weights,
            "pair_keys_": unique_keys,
            "pair_weights_": pair_weights,
            **self._itemset_state(itemsets, index, n_items),
        }

    def _itemset_state(self, itemsets: Any, index: np.ndarray, n_items: int) -> dict[str, Any]:
        """The itemsets as rows of a CSR over the model's items, with their counts and the
        number of baskets (0, with no itemsets, when an itemset holds an item the model
        lacks: erasure then mines again)."""
        flat, offsets, counts = itemsets._sorted_items, itemsets._offsets, itemsets._supports
        n_baskets = int(itemsets.n_transactions)
        if (index[flat] < 0).any():
            flat, offsets, counts, n_baskets = flat[:0], offsets[:1], counts[:0], 0
        matrix = sp.csr_array(
            (np.ones(flat.size, np.float32), index[flat].astype(np.int32), offsets),
            shape=(offsets.size - 1, n_items),
        )
        matrix.sort_indices()
        # one order whatever order the search found them in: by length, then by items
        lengths = np.diff(matrix.indptr)
        padded = np.full((lengths.size, max(1, int(lengths.max(initial=1)))), -1, np.int64)
        padded[np.repeat(np.arange(lengths.size), lengths), _positions(lengths)] = matrix.indices
        order = _lexicographic(np.column_stack([lengths, padded]), n_items)
        matrix = sp.csr_array(matrix[order])
        return {
            "itemsets_": matrix,
            "itemset_counts_": np.asarray(counts, np.int64)[order],
            "n_baskets_": n_baskets,
            "min_count_": int(itemsets.min_count),
        }

    @property
    def rules_(self) -> pd.DataFrame:
        """The rules used: ``antecedent``, ``consequent`` (tuples of item ids), every metric."""

        self._check_fitted()
        ids = self.item_map_.array
        antecedents = [tuple(ids[row[row >= 0]].tolist()) for row in self.rule_antecedents_]
        frame = pd.DataFrame(
            {
                "antecedent": antecedents,
                "consequent": [(c,) for c in ids[self.rule_consequents_].tolist()],
            }
        )
        for position, name in enumerate(METRICS):
            frame[name] = self.rule_metrics_[:, position]
        return frame

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Files written before the model kept its itemsets' counts load with none kept:
        erasure then mines again."""
        if "itemsets_" in state or "item_map_" not in state:
            return state
        n_items = len(state["item_map_"])
        return {
            **state,
            "itemsets_": sp.csr_array((0, n_items), dtype=np.float32),
            "itemset_counts_": np.zeros(0, np.int64),
            "n_baskets_": 0,
            "min_count_": 1,
        }

    def _after_load(self) -> None:
        keys, n_items = self.pair_keys_, len(self.item_map_)
        if keys.size and ((np.diff(keys) <= 0).any() or keys.max() >= n_items * n_items):
            raise DataValidationError(
                "model file is invalid: pair_keys_ must be sorted, unique and below "
                f"n_items**2 = {n_items * n_items}. Save the model again from a trusted fit."
            )

    def _score_history(self, history: sp.csr_array) -> sp.csr_array:
        history = sp.csr_array(history)
        history.sort_indices()
        single, pair = self.single_weights_, self.pair_weights_
        indptr, indices, data = rule_max_scores(
            *csr_arrays(history),
            *csr_arrays(single),
            np.ascontiguousarray(single.data, dtype=np.float32),
            np.ascontiguousarray(self.pair_keys_, dtype=np.int64),
            *csr_arrays(pair),
            np.ascontiguousarray(pair.data, dtype=np.float32),
            len(self.item_map_),
        )
        scores = sp.csr_array(
            (data, indices, indptr), shape=(history.shape[0], len(self.item_map_))
        )
        scores.has_sorted_indices = True
        if self.fallback is None:
            return scores
        # every item not reached by a rule gets a popularity score in [-1, 0): below every rule
        # (the metrics are >= 0), so short rule lists are filled with the popular items
        fills = (self._popular_scale() - 1.0).astype(np.float32)
        filled = np.repeat(fills[None, :], history.shape[0], axis=0)
        rows = np.repeat(np.arange(history.shape[0]), np.diff(scores.indptr))
        filled[rows, scores.indices] = scores.data
        return filled

    def _score_users(self, user_index: np.ndarray) -> sp.csr_array:
        return self._score_history(self.history_[user_index])

    def _similar_items_scores(self, item_index: np.ndarray) -> sp.csr_array:
        return sp.csr_array(self.single_weights_[item_index])

    def _explain(self, user_index: int, item_index: int) -> pd.DataFrame:
        history = set(self.item_map_.ids(self.history_[[user_index]].indices).tolist())
        item = self.item_map_.ids(np.array([item_index]))[0]
        rules = self.rules_
        fired = rules[
            (rules["consequent"].map(lambda c: c == (item,)))
            & rules["antecedent"].map(lambda a: set(a) <= history)
        ]
        return fired.sort_values(self.metric, ascending=False, kind="stable").reset_index(drop=True)


def _with_items(data: Interactions, extra_ids: np.ndarray) -> Interactions:
    """``data`` over an item map extended by ``extra_ids`` (new ids appended, rows unchanged)."""
    from ..data import IdMap

    known = data.item_map.pandas_index
    new = pd.Index(extra_ids).difference(known, sort=False)
    if len(new) == 0:
        return data
    item_map = IdMap(
        np.concatenate([known.to_numpy(dtype=object), new.to_numpy(dtype=object)]),
        name=data.item_map.name,
    )
    return Interactions(
        data.user_index,
        data.item_index,
        data.value,
        data.time,
        data.user_map,
        item_map,
        columns=data.columns,
        _sorted=True,
    )


def _rule_sides(rules: Any, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each rule's antecedent as a row of two model item indices (-1: none, or an item the
    model lacks) and its one consequent's index (-1 if the model lacks it), from the rules'
    flat arrays."""
    starts = rules.antecedent_offsets[:-1]
    lengths = np.diff(rules.antecedent_offsets)
    padded = np.full((lengths.size, 2), -1, np.int32)
    if lengths.size:
        items = rules.antecedent_items
        padded[:, 0] = index[items[starts]]
        second = np.flatnonzero(lengths == 2)
        padded[second, 1] = index[items[starts[second] + 1]]
        # an antecedent the model cannot serve whole is marked unusable in its first slot
        padded[(lengths == 2) & (padded[:, 1] < 0), 0] = -1
    consequents = index[rules.consequent_items[rules.consequent_offsets[:-1]]]
    return padded, np.asarray(consequents, np.int64)


def _lexicographic(columns: np.ndarray, n_items: int) -> np.ndarray:
    """Row order of a small non-negative-or--1 integer table (first column first): one
    sort of one integer key where the rows fit one, else a sort on every column."""
    base = n_items + 2
    if columns.shape[1] * np.log2(base) < 62:
        key = np.zeros(columns.shape[0], np.int64)
        for column in columns.T:
            key = key * base + (column.astype(np.int64) + 1)
        return np.argsort(key, kind="stable")
    return np.lexsort(columns.T[::-1])


def _positions(lengths: np.ndarray) -> np.ndarray:
    """0, 1, .., length - 1 for each length, concatenated."""
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - starts


def _canonical_order(values, antecedents, consequents, n_items: int) -> np.ndarray:
    """Rules by metric (descending), then by their items: one order whatever order the
    search found them in. One sort of one integer key where it fits: the metric's float32
    bits (which order like the values when none is negative) above the rule's rank by items."""
    by_items = _lexicographic(np.column_stack([antecedents, consequents]), n_items)
    rank = np.empty(by_items.size, np.int64)
    rank[by_items] = np.arange(by_items.size)
    if values.size >= 2**22 or not (values >= 0).all():
        return np.lexsort((rank, -values))
    bits = np.abs(values).astype(np.float32).view(np.uint32).astype(np.int64)  # -0.0 as 0.0
    return np.argsort(((2**32 - 1 - bits) << 22) | rank, kind="stable")


def _max_matrix(rows, cols, values, n_rows, n_cols) -> sp.csr_array:
    """CSR keeping the largest value per (row, col)."""
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    values = np.asarray(values, np.float32)
    if rows.size == 0:
        return sp.csr_array((n_rows, n_cols), dtype=np.float32)
    cells = rows * n_cols + cols
    order = np.argsort(cells, kind="stable")
    cells = cells[order]
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
    best = np.maximum.reduceat(values[order], starts)
    cells = cells[starts]
    matrix = sp.csr_array((best, (cells // n_cols, cells % n_cols)), shape=(n_rows, n_cols))
    matrix.sort_indices()
    return matrix
