"""Baskets: transactions x items incidence, the input of frequent-pattern mining."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool, check_frame, check_sparse
from ..exceptions import DataValidationError
from .idmap import IdMap

__all__ = ["Baskets"]


class Baskets:
    """A set of transactions, each a set of items, stored as a boolean CSR (rows = transactions).

    Repeated items within a transaction count once. Empty transactions are kept: they count
    in the denominator of support.

    Attributes
    ----------
    matrix : csr_array of bool, shape (n_transactions, n_items)
    transaction_map, item_map : IdMap
    unknown : csr_array of bool or None
        Cells whose value is missing (NaN in a one-hot table read with ``null_values=True``);
        None when every value is known. Mining counts an itemset's support only over the
        transactions where all its items are known.

    Examples
    --------
    >>> b = Baskets.from_lists([["milk", "bread"], ["milk"], ["beer", "milk", "milk"]])
    >>> len(b), b.n_items
    (3, 3)
    >>> b.item_counts().to_dict()
    {'milk': 3, 'bread': 1, 'beer': 1}
    """

    __slots__ = ("item_map", "matrix", "transaction_map", "unknown")

    def __init__(
        self,
        matrix: sp.csr_array,
        transaction_map: IdMap,
        item_map: IdMap,
        unknown: sp.csr_array | None = None,
    ) -> None:
        if matrix.shape != (len(transaction_map), len(item_map)):
            raise DataValidationError(
                f"matrix shape {matrix.shape} does not match the id maps "
                f"({len(transaction_map)} transactions, {len(item_map)} items)."
            )
        if unknown is not None and (unknown.shape != matrix.shape or unknown.nnz == 0):
            unknown = None if unknown.nnz == 0 else unknown
            if unknown is not None:
                raise DataValidationError(
                    f"unknown has shape {unknown.shape}, the baskets {matrix.shape}."
                )
        self.matrix = matrix
        self.transaction_map = transaction_map
        self.item_map = item_map
        self.unknown = unknown

    @classmethod
    def from_lists(
        cls, baskets: Iterable[Iterable[Any]], *, transaction_ids: Any = None
    ) -> Baskets:
        """Build from a list of baskets, each an iterable of item ids."""
        if isinstance(baskets, (str, bytes, pd.DataFrame)) or not isinstance(baskets, Iterable):
            raise DataValidationError(
                f"baskets must be a list of item lists, such as [['milk', 'bread'], ['milk']]; "
                f"got {type(baskets).__name__}."
            )
        lengths, flat = [], []
        for position, basket in enumerate(baskets):
            if isinstance(basket, (str, bytes)) or not isinstance(basket, Iterable):
                raise DataValidationError(
                    f"each basket must be a list of item ids; basket {position} is "
                    f"{basket!r}. Wrap single items in a list: [{basket!r}]."
                )
            items = list(basket)
            lengths.append(len(items))
            flat.extend(items)
        if not lengths:
            raise DataValidationError("baskets is empty; it must hold at least one basket.")
        # integer ids (the common case) are factorised as an int array: faster and far less
        # memory than hashing a million Python objects
        as_ints = (
            np.fromiter(flat, dtype=np.int64, count=len(flat))
            if flat and all(type(v) is int for v in flat)
            else None
        )
        if as_ints is not None:
            codes, uniques = pd.factorize(as_ints, sort=False)
            uniques = uniques.astype(object)
        else:
            flat_series = pd.Series(flat, dtype=object)
            if flat_series.isna().any():
                raise DataValidationError("baskets contain None or NaN items; drop them first.")
            try:
                codes, uniques = pd.factorize(flat_series, sort=False)
            except TypeError as error:
                raise DataValidationError(
                    f"item ids must be hashable (str, int, tuple); got {error}. Convert them "
                    "to str first."
                ) from None
        rows = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        t_map = (
            IdMap.range(len(lengths), name="transaction")
            if transaction_ids is None
            else IdMap(transaction_ids, name="transaction")
        )
        if len(t_map) != len(lengths):
            raise DataValidationError(
                f"transaction_ids must have one id per basket ({len(lengths)}); got {len(t_map)}."
            )
        i_map = IdMap._from_index(pd.Index(uniques, dtype=object), "item")
        return cls(_incidence(rows, codes, len(lengths), len(uniques)), t_map, i_map)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, transaction: str = "transaction_id", item: str = "item_id"
    ) -> Baskets:
        """Build from a long frame with one row per (transaction, item)."""
        check_frame(frame, {"transaction": transaction, "item": item})
        for col in (transaction, item):
            if frame[col].isna().any():
                raise DataValidationError(
                    f"column {col!r} has {int(frame[col].isna().sum())} missing value(s); drop "
                    "those rows first."
                )
        try:
            t_codes, t_uniques = pd.factorize(frame[transaction], sort=False)
            i_codes, i_uniques = pd.factorize(frame[item], sort=False)
        except TypeError as error:
            raise DataValidationError(
                f"transaction and item ids must be hashable (str, int, tuple); got {error}. "
                "Convert them to str first."
            ) from None
        matrix = _incidence(t_codes, i_codes, len(t_uniques), len(i_uniques))
        return cls(
            matrix,
            IdMap._from_index(pd.Index(t_uniques), "transaction"),
            IdMap._from_index(pd.Index(i_uniques), "item"),
        )

    @classmethod
    def from_csr(cls, matrix: Any, *, item_ids: Any = None) -> Baskets:
        """Build from a transactions x items sparse matrix (any non-zero = bought)."""
        csr = check_sparse(matrix, "matrix")
        csr.eliminate_zeros()
        csr = sp.csr_array((np.ones(csr.nnz, dtype=bool), csr.indices, csr.indptr), shape=csr.shape)
        i_map = (
            IdMap.range(csr.shape[1], name="item")
            if item_ids is None
            else IdMap(item_ids, name="item")
        )
        return cls(csr, IdMap.range(csr.shape[0], name="transaction"), i_map)

    @classmethod
    def from_onehot(cls, frame: pd.DataFrame, *, null_values: bool = False) -> Baskets:
        """Build from an mlxtend-style one-hot DataFrame (columns = items, True/1 = bought).

        Read column by column into sparse form; no dense copy of the table is made. Missing
        cells (NaN, pandas NA) are refused unless ``null_values=True``, which keeps them as
        unknown (:attr:`unknown`; mlxtend's ``null_values=True``).
        """
        if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0 or len(frame) == 0:
            raise DataValidationError(
                "a one-hot frame must be a non-empty DataFrame with one bool column per item."
            )
        if not frame.columns.is_unique:
            repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
            raise DataValidationError(
                f"one-hot column names are the item ids and must be unique; repeated: "
                f"{repeated[:5]}. Merge or rename those columns first."
            )
        null_values = check_bool(null_values, "null_values")
        rows, cols, missing_rows, missing_cols = [], [], [], []
        for position, name in enumerate(frame.columns):
            hits, missing = _onehot_hits(frame.iloc[:, position], name, null_values)
            rows.append(hits)
            cols.append(np.full(hits.size, position, dtype=np.int64))
            missing_rows.append(missing)
            missing_cols.append(np.full(missing.size, position, dtype=np.int64))
        shape = (len(frame), frame.shape[1])
        matrix = _incidence(np.concatenate(rows), np.concatenate(cols), *shape)
        unknown = _incidence(np.concatenate(missing_rows), np.concatenate(missing_cols), *shape)
        return cls(
            matrix,
            IdMap(frame.index, name="transaction"),
            IdMap(list(frame.columns), name="item"),
            unknown if unknown.nnz else None,
        )

    # -- views -------------------------------------------------------------------------------
    def to_csr(self) -> sp.csr_array:
        return self.matrix

    def to_lists(self) -> list[list[Any]]:
        """Each transaction's items as external ids, in column order."""
        ids = self.item_map.array
        indptr, indices = self.matrix.indptr, self.matrix.indices
        return [ids[indices[indptr[t] : indptr[t + 1]]].tolist() for t in range(len(self))]

    def item_counts(self) -> pd.Series:
        """Number of transactions holding each item, by external id."""
        counts = np.bincount(self.matrix.indices, minlength=self.n_items)
        return pd.Series(counts, index=self.item_map.pandas_index, name="count")

    def describe(self) -> pd.Series:
        sizes = np.diff(self.matrix.indptr)
        return pd.Series(
            {
                "n_transactions": len(self),
                "n_items": self.n_items,
                "n_entries": int(self.matrix.nnz),
                "basket_size_mean": float(sizes.mean()),
                "basket_size_max": int(sizes.max()),
                "empty_transactions": int((sizes == 0).sum()),
            },
            name="baskets",
            dtype=object,
        )

    @property
    def n_items(self) -> int:
        return len(self.item_map)

    @property
    def n_transactions(self) -> int:
        return len(self.transaction_map)

    def __len__(self) -> int:
        return len(self.transaction_map)

    def __repr__(self) -> str:
        return (
            f"Baskets({len(self)} transactions x {self.n_items} items, {self.matrix.nnz} entries)"
        )


def _incidence(rows, cols, n_rows, n_cols) -> sp.csr_array:
    """Boolean CSR with duplicates dropped and sorted indices."""
    coo = sp.coo_array((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_rows, n_cols))
    csr = coo.tocsr()
    csr.sum_duplicates()
    return sp.csr_array(
        (np.ones(csr.nnz, dtype=bool), csr.indices.astype(np.int32), csr.indptr),
        shape=(n_rows, n_cols),
    )


def _onehot_hits(column: pd.Series, name: Any, null_values: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the True / 1 entries of one one-hot column, and of its missing
    entries, checked.

    A pandas sparse column is read from its stored entries (no dense copy), which is what
    makes mlxtend's sparse one-hot frames fast to read.
    """
    dtype = column.dtype
    sparse = isinstance(dtype, pd.SparseDtype)
    kind = dtype.subtype.kind if sparse else dtype.kind
    if kind not in "biuf":
        raise DataValidationError(
            f"one-hot columns must hold True/False or 0/1; column {name!r} has dtype {dtype}."
        )
    if sparse and column.array.fill_value in (0, False):
        positions = column.array.sp_index.indices
        values = column.array.sp_values
    else:
        values = (
            column.to_numpy(dtype=float, na_value=np.nan)
            if kind == "f" or column.hasnans
            else column.to_numpy()
        )
        positions = None
    missing = np.zeros(0, np.int64)
    if values.dtype.kind == "f":
        absent = np.isnan(values)
        if absent.any():
            if not null_values:
                raise DataValidationError(
                    f"one-hot column {name!r} has {int(absent.sum())} missing value(s) (NaN). "
                    "Pass null_values=True to keep them as unknown (an itemset's support then "
                    "counts only the transactions where all its items are known, as mlxtend's "
                    "null_values=True), or fill them (frame.fillna(False))."
                )
            missing = np.flatnonzero(absent)
            values = np.where(absent, 0.0, values)
    if kind != "b":
        outside = ~np.isin(values, (0, 1))
        if outside.any():
            raise DataValidationError(
                f"one-hot columns must hold True/False or 0/1; column {name!r} holds "
                f"{values[outside][0]}."
            )
    hits = np.flatnonzero(values)
    if positions is not None:
        hits, missing = positions[hits], positions[missing]
    return hits.astype(np.int64), missing.astype(np.int64)
