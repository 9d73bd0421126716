r"""Mining with unknown values (a one-hot table read with ``null_values=True``).

A transaction where some item of X is unknown says nothing about X, so it leaves X's
denominator: with :math:`c(X)` the transactions holding all of X and :math:`k(X)` those where
every item of X is known,

.. math::

    s(X) = c(X) / k(X), \qquad
    \mathrm{conf}(A \to C) = c(A \cup C) / (c(A) - d(A, C)),

:math:`d(A, C)` the transactions holding all of A with an item of C unknown (the
transactions where A holds and C is known make the denominator), and ``representativity``
:math:`= k(A \cup C) / n`. Lift, conviction, certainty and Kulczynski use this confidence; the
other metrics the supports :math:`s`. These are mlxtend's definitions for ``null_values=True``.
:math:`s(X)` does not fall monotonically as X grows, so the search runs at the count
:math:`\lceil s_{min} (n - m) \rceil`, m the transactions with any unknown, which no frequent
itemset can be under, and each itemset is then checked against its own :math:`k(X)`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_CELLS = 1 << 24  # rows-with-unknowns x rules per dense block


class Missing:
    """The transactions with an unknown value, kept to count :math:`k` and :math:`d`."""

    def __init__(self, matrix: sp.csr_array, unknown: sp.csr_array) -> None:
        rows = np.flatnonzero(np.diff(unknown.indptr))
        self.n_transactions = matrix.shape[0]
        self.n_rows = rows.size  # m: transactions with any unknown
        self.present = sp.csr_array(matrix[rows], dtype=np.float32)
        self.unknown = sp.csr_array(unknown[rows], dtype=np.float32)

    def known(self, items: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """:math:`k(X)` of each itemset (flat item indices with ``offsets``)."""
        out = np.empty(offsets.size - 1, np.int64)
        for first, last in self._blocks(out.size):
            part = (items[offsets[first] : offsets[last]], offsets[first : last + 1])
            out[first:last] = self.n_transactions - self._touched(self.unknown, *part).sum(0)
        return out

    def _blocks(self, n: int):
        step = max(1, _CELLS // max(self.n_rows, 1))
        return ((first, min(first + step, n)) for first in range(0, n, step))

    def rule_parts(self, a_items, a_offsets, c_items, c_offsets) -> dict[str, np.ndarray]:
        """:math:`k(A), k(C), k(A \\cup C), d(A, C), d(C, A)` of each rule."""
        parts = {name: [] for name in ("k_a", "k_c", "k_ac", "d_ac", "d_ca")}
        for first, last in self._blocks(a_offsets.size - 1):
            a = (a_items[a_offsets[first] : a_offsets[last]], a_offsets[first : last + 1])
            c = (c_items[c_offsets[first] : c_offsets[last]], c_offsets[first : last + 1])
            unknown_a, unknown_c = self._touched(self.unknown, *a), self._touched(self.unknown, *c)
            holds_a, holds_c = self._holds(*a), self._holds(*c)
            n = self.n_transactions
            parts["k_a"].append(n - unknown_a.sum(axis=0))
            parts["k_c"].append(n - unknown_c.sum(axis=0))
            parts["k_ac"].append(n - (unknown_a | unknown_c).sum(axis=0))
            parts["d_ac"].append((holds_a & unknown_c).sum(axis=0))
            parts["d_ca"].append((holds_c & unknown_a).sum(axis=0))
        empty = np.zeros(0, np.int64)
        return {k: np.concatenate(v) if v else empty for k, v in parts.items()}

    def _holds(self, items: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(rows x itemsets) bool: the row holds every item of the itemset."""
        lengths = np.diff(offsets)
        counts = (self.present @ _indicator(items, offsets, self.present.shape[1]).T).toarray()
        return counts == lengths[None, :]

    @staticmethod
    def _touched(matrix: sp.csr_array, items: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(rows x itemsets) bool: the row has an entry of ``matrix`` at an item of the set."""
        return (matrix @ _indicator(items, offsets, matrix.shape[1]).T).toarray() > 0


def _indicator(items: np.ndarray, offsets: np.ndarray, n_items: int) -> sp.csr_array:
    """(itemsets x items) 0/1 matrix of flat itemsets."""
    offsets = np.asarray(offsets, np.int64)
    return sp.csr_array(
        (np.ones(items.size, np.float32), np.asarray(items, np.int64), offsets - offsets[0]),
        shape=(offsets.size - 1, n_items),
    )
