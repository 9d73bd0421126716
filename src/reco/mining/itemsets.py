"""frequent_itemsets(): all, closed or maximal frequent itemsets, with no one-hot table."""

from __future__ import annotations

import gc
import math
import numbers
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._threads import run_chunks
from .._topk import csr_arrays
from .._validation import as_written, check_int, check_option
from ..data import Baskets, IdMap
from ..exceptions import DataValidationError, InvalidParameterError, NotSupportedError
from . import _eclat, _fpgrowth, _table
from ._missing import Missing

__all__ = ["FrequentItemsets", "as_baskets", "frequent_itemsets", "min_count"]

# bitsets of all frequent items must fit in this many bytes
_BITSET_BYTES = 4 * 2**30
# classes of first items held by at most n_words * _LISTS_BELOW transactions (at 2.0: one
# transaction in 32) are searched on transaction lists instead of bitsets
_LISTS_BELOW = 2.0


def as_baskets(
    data: Any,
    *,
    transaction: str = "transaction_id",
    item: str = "item_id",
    null_values: bool = False,
) -> Baskets:
    """``Baskets`` from a list of baskets, a long frame, Baskets, a CSR matrix or a one-hot frame.

    A DataFrame with both ``transaction`` and ``item`` columns is a long frame; a DataFrame of
    bool / 0-1 columns is an mlxtend-style one-hot table (read column by column, never copied
    densely; missing cells only with ``null_values=True``, see :meth:`Baskets.from_onehot`).

    Parameters
    ----------
    data : list of lists, DataFrame, Baskets or sparse matrix
        The transactions.
    transaction, item : str
        The columns of a long frame.
    null_values : bool
        Read missing cells of a one-hot table as unknown.

    Returns
    -------
    Baskets

    Raises
    ------
    DataValidationError
        A frame that is neither a long frame with those columns nor a 0/1 table, NaN ids, or
        missing cells without ``null_values``.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"order": [1, 1, 2], "sku": ["tea", "cups", "tea"]})
    >>> baskets = as_baskets(lines, transaction="order", item="sku")
    >>> baskets.to_lists()
    [['tea', 'cups'], ['tea']]
    """
    if isinstance(data, Baskets):
        return data
    if sp.issparse(data) or isinstance(data, np.ndarray):
        return Baskets.from_csr(data)
    if isinstance(data, pd.DataFrame):
        if transaction in data.columns and item in data.columns:
            return Baskets.from_frame(data, transaction=transaction, item=item)
        kinds = {
            dtype.kind if not isinstance(dtype, pd.SparseDtype) else dtype.subtype.kind
            for dtype in data.dtypes
        }
        if kinds <= {"b", "i", "u", "f"}:
            try:
                return Baskets.from_onehot(data, null_values=null_values)
            except DataValidationError as error:
                if data.shape[1] == 2:  # most likely a long frame under other column names
                    first, second = (str(c) for c in data.columns)
                    raise DataValidationError(
                        f"{error} This frame has two columns, so it is probably a long frame "
                        f"of (transaction, item) rows: pass transaction={first!r}, "
                        f"item={second!r}."
                    ) from None
                raise
        raise DataValidationError(
            f"a DataFrame must be a long frame with columns {transaction!r} and {item!r} "
            f"(pass transaction=..., item=... for other names) or a one-hot table of bool "
            f"columns; got columns {list(data.columns)[:8]}."
        )
    return Baskets.from_lists(data)


def min_count(min_support: Any, n_transactions: int) -> int:
    """The support threshold as a count: ``ceil(min_support * n)`` for a fraction, or the count.

    A fraction must be in (0, 1]; an integer >= 1 is an absolute count.
    """
    if isinstance(min_support, bool) or not isinstance(min_support, numbers.Real):
        raise InvalidParameterError(
            f"min_support must be in (0, 1] or a positive count; got {min_support!r}. Pass a "
            "fraction such as 0.01."
        )
    if isinstance(min_support, numbers.Integral):
        if min_support < 1:
            raise InvalidParameterError(
                f"min_support must be in (0, 1] or a positive count; got {min_support}. Pass a "
                "fraction such as 0.01."
            )
        return int(min_support)
    value = as_written(min_support)
    if not (0 < value <= 1) or not math.isfinite(value):
        raise InvalidParameterError(
            f"min_support must be in (0, 1] or a positive count; got {min_support}. Pass a "
            "fraction such as 0.01."
        )
    # the tiny tolerance keeps 0.3 * 10 = 3.0000000000000004 at 3
    return max(1, math.ceil(value * n_transactions - 1e-9))


@dataclass
class FrequentItemsets:
    """Frequent itemsets of a set of transactions.

    The result is columnar: ``supports``, ``counts`` and ``lengths`` are arrays in report
    order and ``itemset(i)`` reads one itemset, all without building two million Python
    tuples; ``frame`` builds the table on first access (for large results building the tuples
    takes longer than mining them) and keeps it.

    Attributes
    ----------
    frame : DataFrame
        ``itemset`` (tuple of external item ids, in item-map order), ``support`` (fraction of
        transactions), ``count``, ``length``; sorted by support descending, then length
        (equal ones in the order the search found them). With unknown values also ``known``
        (transactions where every item of the itemset is known: the support's denominator).
    supports, counts, lengths : ndarray
        The ``support``, ``count`` and ``length`` columns of ``frame``, without building it.
    n_transactions : int
    min_count : int
        The count threshold used.
    kind : str
        ``"all"``, ``"closed"`` or ``"maximal"``.

    Examples
    --------
    >>> baskets = [["milk", "bread"], ["milk"], ["milk", "bread", "jam"], ["bread", "jam"]]
    >>> result = frequent_itemsets(baskets, min_support=2)
    >>> len(result), result.n_transactions
    (5, 4)
    >>> result.itemset(0), int(result.counts[0])
    (('milk',), 3)
    >>> result.count_of(result.item_map.index(["bread", "jam"]))
    2
    """

    n_transactions: int
    min_count: int
    kind: str
    item_map: IdMap = field(repr=False)
    # the reported itemsets in report order, as rows of the search's arrays
    _rows: np.ndarray = field(repr=False, default=None)
    _frame: pd.DataFrame | None = field(repr=False, default=None)
    _n_threads: int = field(repr=False, default=1)
    # every frequent itemset, whatever kind: flat labels of the search, offsets, counts, and
    # the item index of each label
    _labels: np.ndarray = field(repr=False, default=None)
    _offsets: np.ndarray = field(repr=False, default=None)
    _supports: np.ndarray = field(repr=False, default=None)
    _item_of_label: np.ndarray = field(repr=False, default=None)
    _sorted_cache: np.ndarray | None = field(repr=False, default=None)
    # with unknown values: which searched itemsets are frequent, k(X) of each, the unknowns
    _frequent: np.ndarray | None = field(repr=False, default=None)
    _known: np.ndarray | None = field(repr=False, default=None)
    _missing: Missing | None = field(repr=False, default=None)
    _table_cache: np.ndarray | None = field(repr=False, default=None)

    def __len__(self) -> int:
        return int(self._rows.size)

    @property
    def counts(self) -> np.ndarray:
        return self._supports[self._rows]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self._offsets)[self._rows]

    @property
    def supports(self) -> np.ndarray:
        known = self.n_transactions if self._known is None else self._known[self._rows]
        return self.counts / known

    def itemset(self, position: int) -> tuple:
        """The itemset at ``position`` of the report order (item ids, in item-map order)."""
        row = self._rows[check_int(position, "position", low=0, high=len(self) - 1)]
        labels = self._labels[self._offsets[row] : self._offsets[row + 1]]
        return tuple(self.item_map.array[np.sort(self._item_of_label[labels])].tolist())

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._build_frame()
        return self._frame

    def _build_frame(self) -> pd.DataFrame:
        """The table of ``frame``: tuples built in discovery order (sequential reads), each
        put at its report position."""
        destination = np.empty(self._supports.size, np.int64)
        destination[self._rows] = np.arange(self._rows.size)
        selected = np.sort(self._rows)
        tuples = itemset_tuples(
            self._labels, self._offsets, self._item_of_label, self.item_map.array, selected,
            destination[selected], self._n_threads,
        )  # fmt: skip
        frame = pd.DataFrame(
            {
                "itemset": pd.Series(tuples, dtype=object, copy=False),
                "support": self.supports,
                "count": self.counts,
                "length": self.lengths,
            }
        )
        if self._known is not None:
            frame["known"] = self._known[self._rows]
        return frame

    @property
    def _sorted_items(self) -> np.ndarray:
        """Every itemset as item indices, each sorted (flat, with ``_offsets``), built once."""
        if self._sorted_cache is None:
            self._sorted_cache = _eclat.relabel_sorted(
                self._labels, self._offsets, self._item_of_label
            )
        return self._sorted_cache

    @property
    def _table(self) -> np.ndarray:
        """Hash table from itemset contents to row (see :mod:`reco.mining._table`)."""
        if self._table_cache is None:
            self._table_cache = _table.build_table(self._sorted_items, self._offsets)
        return self._table_cache

    def count_of(self, itemset: Any) -> int:
        """Support count of an itemset given as item-map indices, 0 if not frequent."""
        values = list(itemset) if not isinstance(itemset, (str, bytes)) else [itemset]
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise DataValidationError(
                f"count_of takes item-map indices (integers); got {values[:5]!r}. Translate "
                "ids first: result.item_map.index(ids)."
            )
        query = np.unique(np.asarray(values, dtype=np.int64))
        row = _table.find(self._table, self._sorted_items, self._offsets, query, query.size)
        return int(self._supports[row]) if row >= 0 else 0


def frequent_itemsets(
    baskets: Any,
    min_support: float | int,
    *,
    max_len: int | None = None,
    kind: str = "all",
    algorithm: str = "auto",
    transaction: str = "transaction_id",
    item: str = "item_id",
    null_values: bool = False,
    n_threads: int | None = None,
) -> FrequentItemsets:
    """Itemsets bought together in at least ``min_support`` of the transactions.

    Parameters
    ----------
    baskets : list of lists, DataFrame, Baskets, sparse matrix
        See :func:`as_baskets`.
    min_support : float in (0, 1] or int >= 1
        A fraction of transactions or an absolute count; an itemset is frequent when its count
        is >= ``ceil(min_support * n_transactions)``.
    max_len : int, optional
        Longest itemset to report.
    kind : {"all", "closed", "maximal"}
        All frequent itemsets; only closed ones (no frequent superset has the same count); only
        maximal ones (no superset is frequent). Supersets longer than ``max_len`` count: with
        ``max_len=2`` a pair inside a frequent triple is not maximal (as in mlxtend's fpmax).
    algorithm : {"auto", "eclat", "fpgrowth", "apriori"}
        ``"eclat"`` (and ``"auto"``): depth-first over transaction bitsets (compiled); the
        fastest here on sparse and dense data (``benchmarks/bench_mining.py``).
        ``"fpgrowth"``: FP-growth on prefix trees; needs no bitsets (memory grows with the
        total basket size, not items x transactions), so it works where the bitsets would not
        fit. ``"apriori"``: level-wise candidate generation with subset pruning, counted on the
        bitsets. All give the same itemsets and counts.
    null_values : bool
        Read missing cells (NaN) of a one-hot table as unknown instead of refusing them
        (mlxtend's ``null_values=True``): an itemset's support is then its count over the
        transactions where all its items are known (the ``known`` column), and rules use
        mlxtend's matching confidence (see :mod:`reco.mining._missing`). Baskets that carry
        unknown cells (:attr:`Baskets.unknown`) are always mined so. ``kind`` must be
        ``"all"``: closed and maximal itemsets assume supports that fall as itemsets grow.
    n_threads : int, optional
        Threads for the Eclat search, the closed/maximal marks and the report (None: all
        cores); the result does not depend on it.

    Returns
    -------
    FrequentItemsets
        Columnar (``supports``, ``counts``, ``lengths``, ``itemset(i)``), with the tuple frame
        built on first access of ``frame``.

    Raises
    ------
    InvalidParameterError
        ``min_support`` outside (0, 1] and not a count, or a bad ``kind`` or ``algorithm``.
    DataValidationError
        Unreadable baskets (see :func:`as_baskets`).
    NotSupportedError
        The bitsets of Eclat would not fit in memory (use ``algorithm="fpgrowth"``).

    Examples
    --------
    >>> result = frequent_itemsets([["milk", "bread"], ["milk"], ["milk", "bread", "jam"]],
    ...                            min_support=2)
    >>> result.frame[["itemset", "count"]].to_dict("records")
    [{'itemset': ('milk',), 'count': 3}, {'itemset': ('bread',), 'count': 2}, \
{'itemset': ('milk', 'bread'), 'count': 2}]
    """
    check_option(kind, "kind", ("all", "closed", "maximal"))
    check_option(algorithm, "algorithm", ("auto", "fpgrowth", "eclat", "apriori"))
    if n_threads is None:
        n_threads = os.cpu_count() or 1
    n_threads = check_int(n_threads, "n_threads", low=1)
    data = as_baskets(baskets, transaction=transaction, item=item, null_values=null_values)
    n = len(data)
    if n == 0:
        raise DataValidationError("there are no transactions to mine.")
    threshold = min_count(min_support, n)
    missing = None if data.unknown is None else Missing(data.to_csr(), data.unknown)
    if missing is not None:
        if kind != "all":
            raise NotSupportedError(
                f"kind={kind!r} with unknown values: closed and maximal itemsets assume that "
                "support falls as itemsets grow, which it need not when each itemset has its "
                "own denominator. Use kind='all', or fill the missing cells."
            )
        if not isinstance(min_support, numbers.Integral):  # no frequent count is below this
            threshold = min_count(min_support, max(n - missing.n_rows, 1))
    max_len = data.n_items if max_len is None else check_int(max_len, "max_len", low=1)
    # closed and maximal are defined against every frequent superset, not only those within
    # max_len: one level deeper suffices (if X has a frequent superset, or one of equal count,
    # so does some X + {a}, as counts only fall as itemsets grow)
    search_len = max_len if kind == "all" else min(max_len + 1, data.n_items)
    labels, offsets, supports, item_of_label = _search(
        data.to_csr(), threshold, search_len, algorithm, n_threads
    )
    lengths = np.diff(offsets)
    result = FrequentItemsets(
        n, threshold, kind, data.item_map, _labels=labels, _offsets=offsets, _supports=supports,
        _item_of_label=item_of_label,
    )  # fmt: skip
    keep = _select(result, kind, n_threads)
    if search_len > max_len:
        keep &= lengths <= max_len
    known = None
    if missing is not None:
        known = missing.known(result._sorted_items, offsets)
        if not isinstance(min_support, numbers.Integral):
            keep &= supports >= np.maximum(1, np.ceil(as_written(min_support) * known - 1e-9))
        result._frequent, result._known, result._missing = keep.copy(), known, missing
    order_rows = _report_order(supports, lengths)
    if known is not None:  # by support, then length (stable)
        ratio = supports[order_rows] / known[order_rows]
        order_rows = order_rows[np.lexsort((lengths[order_rows], -ratio))]
    if kind != "all" or known is not None:
        order_rows = order_rows[keep[order_rows]]
    result._rows, result._n_threads = order_rows, n_threads
    return result


def _report_order(supports: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rows in report order: count descending, then length (ties in search order)."""
    order_rows = _eclat.report_order(supports, lengths, max(2**24, 4 * lengths.size))
    if order_rows.size != supports.size:
        order_rows = np.lexsort((lengths, -supports))
    return order_rows


def itemsets_from_sets(
    items: np.ndarray,
    offsets: np.ndarray,
    counts: np.ndarray,
    n_transactions: int,
    threshold: int,
    item_map: IdMap,
) -> FrequentItemsets:
    """A :class:`FrequentItemsets` (kind ``"all"``, no unknown values) of given itemsets:
    ``items[offsets[k]:offsets[k + 1]]`` (item indices, ascending) with count ``counts[k]``.
    The caller guarantees they are every itemset of count >= ``threshold``."""
    items = np.ascontiguousarray(items, np.int32)
    offsets = np.ascontiguousarray(offsets, np.int64)
    counts = np.ascontiguousarray(counts, np.int64)
    result = FrequentItemsets(
        int(n_transactions), int(threshold), "all", item_map, _labels=items, _offsets=offsets,
        _supports=counts, _item_of_label=np.arange(len(item_map), dtype=np.int64),
    )  # fmt: skip
    result._sorted_cache = items.astype(np.int64)
    result._rows = _report_order(counts, np.diff(offsets))
    return result


def itemsets_without(
    itemsets: FrequentItemsets, removed: sp.csr_array, threshold: int
) -> FrequentItemsets:
    """The frequent itemsets of the transactions less ``removed`` (rows over the same item
    map; the values do not matter, only which items a row holds), at a ``threshold`` no
    lower than the one used (every itemset that can reach it was counted): each count less
    the removed transactions that hold the itemset, those below ``threshold`` left out.
    Exact: the counts are those a new search would find."""
    if threshold < itemsets.min_count or itemsets.kind != "all" or itemsets._known is not None:
        raise NotSupportedError(
            "only all itemsets without unknown values can lose transactions, at a threshold "
            f"no lower than {itemsets.min_count}; got threshold {threshold} for kind "
            f"{itemsets.kind!r}. Mine the remaining transactions again."
        )
    flat, offsets = itemsets._sorted_items, itemsets._offsets
    held = np.zeros(itemsets._supports.size, np.int64)
    if flat.size and removed.shape[0]:
        rows = sp.csr_array(removed)
        # a block of removed transactions as a dense mask, itemsets held when all items are
        step = max(1, 2**24 // max(flat.size, rows.shape[1]))
        for start in range(0, rows.shape[0], step):
            block = sp.csr_array(rows[start : start + step])
            present = np.zeros(block.shape, bool)
            present[np.repeat(np.arange(block.shape[0]), np.diff(block.indptr)), block.indices] = 1
            inside = np.logical_and.reduceat(present[:, flat], offsets[:-1], axis=1)
            held += inside.sum(axis=0)
    counts = itemsets._supports - held
    keep = counts >= threshold
    lengths = np.diff(offsets)
    new_offsets = np.zeros(int(keep.sum()) + 1, np.int64)
    np.cumsum(lengths[keep], out=new_offsets[1:])
    return itemsets_from_sets(
        flat[np.repeat(keep, lengths)], new_offsets, counts[keep],
        itemsets.n_transactions - removed.shape[0], threshold, itemsets.item_map,
    )  # fmt: skip


def _parallel_eclat(bits, singles, pairs, threshold, max_len, n_threads, lists=None):
    """:func:`_eclat.eclat` over ranges of first items on a thread pool (the kernel releases
    the GIL); the pieces are joined in range order, so the result equals one sequential run.
    ``lists`` (see :func:`_transaction_lists`) sends the classes of the rare first items
    to :func:`_eclat.eclat_tids`."""
    n_frequent = singles.size
    if n_frequent == 0:
        return _eclat.eclat(bits, singles, pairs, threshold, max_len, 0, 0)
    indptr, indices = (None, None) if lists is None else lists
    rare = 0 if lists is None else indptr.size - 1
    chunk = n_frequent if n_threads <= 1 else max(1, -(-n_frequent // (16 * n_threads)))
    pieces = [None] * -(-n_frequent // chunk)

    def search(first, stop):
        if stop <= rare:
            return _eclat.eclat_tids(
                bits, indptr, indices, singles, pairs, threshold, max_len, first, stop
            )
        if first >= rare:
            return _eclat.eclat(bits, singles, pairs, threshold, max_len, first, stop)
        return _joined([search(first, rare), search(rare, stop)])

    def work(first, stop):
        pieces[first // chunk] = search(first, stop)

    run_chunks(work, n_frequent, n_threads, chunk)
    return pieces[0] if len(pieces) == 1 else _joined(pieces)


def _joined(pieces: list) -> tuple:
    """Flat ``(items, offsets, counts)`` results of consecutive ranges, as one."""
    items = np.concatenate([p[0] for p in pieces])
    lengths = np.concatenate([np.diff(p[1]) for p in pieces])
    offsets = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return items, offsets, np.concatenate([p[2] for p in pieces])


def _transaction_lists(matrix, order: np.ndarray, counts: np.ndarray, n_words: int):
    """``(indptr, indices)``: the sorted transactions of the rare labels, those held by at
    most ``n_words * _LISTS_BELOW`` transactions (a merge of two such lists costs less than
    an AND over ``n_words`` words; labels ascend by count, so the rare ones come first and
    their number is ``len(indptr) - 1``). None when no label is rare."""
    rare = int(np.searchsorted(counts[order], n_words * _LISTS_BELOW, side="right"))
    if rare == 0:
        return None
    columns = sp.csc_array(matrix[:, order[:rare]])
    columns.sort_indices()
    return (
        np.ascontiguousarray(columns.indptr, np.int64),
        np.ascontiguousarray(columns.indices, np.int32),
    )


def _search(matrix, threshold: int, max_len: int, algorithm: str, n_threads: int = 1):
    """Run one search: itemsets as flat labels, offsets, counts, and each label's item."""
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
    frequent = np.flatnonzero(counts >= threshold)
    indptr, indices = csr_arrays(matrix)
    label = np.full(matrix.shape[1], -1, np.int32)
    if algorithm == "fpgrowth":
        # frequent first: shared prefixes near the root of the tree
        order = frequent[np.argsort(-counts[frequent], kind="stable")]
        label[order] = np.arange(order.size, dtype=np.int32)
        items, offsets, supports = _fpgrowth.fpgrowth(
            indptr, indices, label, order.size, threshold, max_len
        )
        return items, offsets, supports, order.astype(np.int64)
    # rare first: small equivalence classes deep in the search
    order = frequent[np.argsort(counts[frequent], kind="stable")]
    label[order] = np.arange(order.size, dtype=np.int32)
    n = matrix.shape[0]
    n_words = max(1, (n + 63) // 64)
    if order.size * n_words * 8 > _BITSET_BYTES:
        raise NotSupportedError(
            f"{order.size} frequent items over {n} transactions need "
            f"{order.size * n_words * 8 / 2**30:.1f} GiB of bitsets; raise min_support or use "
            "algorithm='fpgrowth'."
        )
    pairs = (
        _eclat.pair_counts(indptr, indices, label, order.size)
        if max_len >= 2
        else np.zeros((order.size, order.size), np.int32)
    )
    bits = _eclat.build_bitsets(indptr, indices, label, order.size, n_words)
    if algorithm == "apriori":
        search = _apriori
    else:
        lists = _transaction_lists(matrix, order, counts, n_words)
        search = partial(_parallel_eclat, n_threads=n_threads, lists=lists)
    items, offsets, supports = search(
        bits, counts[order].astype(np.int64), pairs, threshold, max_len
    )
    return items, offsets, supports, order.astype(np.int64)


def _group_by_length(labels, offsets, rows, item_of_label, destination, n_threads):
    """Itemsets ``rows`` as sorted item indices, regrouped by length (see
    :func:`_eclat.group_layout`); chunks of rows are filled on parallel threads."""
    n_chunks = max(1, min(4 * n_threads, rows.size // 16384))
    starts, block, fill = _eclat.group_layout(offsets, rows, n_chunks)
    grouped = np.empty(block[-1], np.int32)  # item indices: an item map holds < 2^31
    positions = np.empty(rows.size, np.int64)
    chunk = max(1, -(-rows.size // n_chunks))

    def work(first, stop):
        _eclat.group_fill(
            labels,
            offsets,
            rows,
            item_of_label,
            destination,
            first,
            stop,
            fill[first // chunk],
            starts,
            block,
            grouped,
            positions,
        )

    run_chunks(work, rows.size, n_threads, chunk)
    return grouped, positions, starts


def itemset_tuples(
    labels, offsets, item_of_label, ids, rows, destination, n_threads: int = 1
) -> np.ndarray:
    """Object array whose ``destination[k]`` holds the tuple of external ids of itemset
    ``rows[k]`` (items sorted by item index; ascending rows read the labels in order).

    Built one length at a time with the cyclic garbage collector paused: creating millions of
    tuples otherwise triggers repeated full collections.
    """
    grouped, positions, starts = _group_by_length(
        labels, offsets, rows, item_of_label, destination, n_threads
    )
    out = np.empty(rows.size, dtype=object)
    collecting = gc.isenabled()
    gc.disable()
    try:
        begin = 0
        for length in range(1, starts.size - 1):
            m = int(starts[length + 1] - starts[length])
            if m == 0:
                continue
            values = ids.take(grouped[begin : begin + m * length]).tolist()
            begin += m * length
            # zip over one iterator `length` times: consecutive runs of `length` items
            out[positions[starts[length] : starts[length + 1]]] = np.fromiter(
                zip(*[iter(values)] * length), dtype=object, count=m
            )
    finally:
        if collecting:
            gc.enable()
    return out


def _apriori(bits, singles, pairs, threshold, max_len):
    """Level-wise search (Agrawal & Srikant 1994) on the relabelled items: flat arrays like
    :func:`_eclat.eclat`. Pairs come from the direct pair counts, longer itemsets from
    :func:`_eclat.apriori_level`."""
    n_frequent = singles.size
    levels_items = [np.arange(n_frequent, dtype=np.int64)[:, None]]
    levels_counts = [singles]
    if max_len >= 2 and n_frequent >= 2:
        a, b = np.nonzero(np.triu(pairs >= threshold, 1))
        rows = np.column_stack([a, b]).astype(np.int64)
        levels_items.append(rows)
        levels_counts.append(pairs[a, b].astype(np.int64))
        level_bits = bits[a] & bits[b]
        while rows.shape[0] > 1 and rows.shape[1] < max_len:
            rows, level_counts, level_bits = _eclat.apriori_level(rows, level_bits, threshold)
            if rows.shape[0] == 0:
                break
            levels_items.append(rows)
            levels_counts.append(level_counts)
    lengths = np.concatenate(
        [np.full(len(c), r.shape[1]) for r, c in zip(levels_items, levels_counts, strict=True)]
    )
    offsets = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    items = np.concatenate([r.ravel() for r in levels_items]).astype(np.int32)
    return items, offsets, np.concatenate(levels_counts).astype(np.int64)


def _select(result: FrequentItemsets, kind: str, n_threads: int = 1) -> np.ndarray:
    """Mask of itemsets to report: all, closed (no superset with equal count) or maximal."""
    n_rows = result._supports.size
    if kind == "all":
        return np.ones(n_rows, dtype=bool)
    flat, table = result._sorted_items, result._table
    subsumed = np.zeros(n_rows, dtype=np.uint8)

    def mark(first, stop):
        _table.mark_subsumed(
            flat, result._offsets, result._supports, table, kind == "maximal", first, stop, subsumed
        )

    run_chunks(mark, n_rows, n_threads, chunk=max(1, -(-n_rows // (4 * n_threads))))
    return subsumed == 0
