"""numba kernels over a finished set of frequent itemsets: an open-addressing hash table from
itemset contents to row, rule candidates A -> C with the counts of A and C, and the closed /
maximal marks.

Itemsets are flat sorted item indices (``flat[offsets[r]:offsets[r + 1]]``). A subset of
itemset r is a bit mask over its positions: an int64 holds it, since a frequent itemset of 63
items would bring 2^63 frequent subsets with it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _mix(h, v):  # pragma: no cover - compiled
    h ^= np.uint64(v) + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    return h


@njit(cache=True, nogil=True, inline="always")
def _finish(h):  # pragma: no cover - compiled
    """MurmurHash3's 64-bit finaliser: spreads the combined hash over every bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, nogil=True)
def build_table(flat, offsets):  # pragma: no cover - compiled
    """Hash table (a power-of-two array of row + 1, 0 = empty) of every itemset."""
    n_rows = offsets.size - 1
    size = 16
    while size < 2 * n_rows:
        size *= 2
    table = np.zeros(size, np.int64)
    mask = np.uint64(size - 1)
    for r in range(n_rows):
        h = np.uint64(offsets[r + 1] - offsets[r])
        for p in range(offsets[r], offsets[r + 1]):
            h = _mix(h, flat[p])
        slot = _finish(h) & mask
        while table[slot] != 0:
            slot = (slot + np.uint64(1)) & mask
        table[slot] = r + 1
    return table


@njit(cache=True, nogil=True)
def find(table, flat, offsets, query, size):  # pragma: no cover - compiled
    """Row of the itemset ``query[:size]`` (sorted), or -1."""
    mask = np.uint64(table.size - 1)
    h = np.uint64(size)
    for p in range(size):
        h = _mix(h, query[p])
    slot = _finish(h) & mask
    while table[slot] != 0:
        r = table[slot] - 1
        a = offsets[r]
        if offsets[r + 1] - a == size:
            same = True
            for p in range(size):
                if flat[a + p] != query[p]:
                    same = False
                    break
            if same:
                return r
        slot = (slot + np.uint64(1)) & mask
    return -1


@njit(cache=True, nogil=True)
def _next_combination(x):  # pragma: no cover - compiled
    """Next larger integer with the same number of set bits (Gosper's hack)."""
    c = x & -x
    r = x + c
    return (((r ^ x) >> 2) // c) | r


@njit(cache=True, nogil=True)
def rule_candidates(
    flat, offsets, counts, table, allowed_a, allowed_c, max_a, max_c, start, capacity
):  # pragma: no cover - compiled
    """Rules A -> C of the itemsets from row ``start`` on, whole itemsets at a time, until
    ``capacity`` rules would be exceeded.

    (An itemset with more rules than ``capacity`` is done alone, in larger arrays.)
    Returns ``(n, next_row, rows, masks, count_a, count_c)``: rule k splits itemset
    ``rows[k]`` into the positions in ``masks[k]`` (antecedent) and the rest (consequent).
    """
    rows = np.empty(capacity, np.int64)
    masks = np.empty(capacity, np.int64)
    count_a = np.empty(capacity, np.int64)
    count_c = np.empty(capacity, np.int64)
    query = np.empty(64, np.int64)
    subset_count = np.empty(1, np.int64)
    n = 0
    n_rows = offsets.size - 1
    r = start
    while r < n_rows:
        a = offsets[r]
        size = offsets[r + 1] - a
        if size < 2:
            r += 1
            continue
        low = max(1, size - max_c)
        high = min(size - 1, max_a)
        bound = 0  # rules of this itemset: sum of C(size, a_len) over the allowed lengths
        choose = 1
        for a_len in range(1, high + 1):
            choose = choose * (size - a_len + 1) // a_len
            if a_len >= low:
                bound += choose
        if n + bound > rows.size:
            if n > 0:
                break
            rows = np.empty(bound, np.int64)
            masks = np.empty(bound, np.int64)
            count_a = np.empty(bound, np.int64)
            count_c = np.empty(bound, np.int64)
        full = (1 << size) - 1
        # every subset's count once, when the rules use most subsets (each subset is then
        # looked up once, not once per side)
        cached = size <= 20 and 2 * bound >= full
        if cached:
            if subset_count.size < full + 1:
                subset_count = np.empty(full + 1, np.int64)
            for mask in range(1, full):
                n_q = 0
                for p in range(size):
                    if (mask >> p) & 1:
                        query[n_q] = flat[a + p]
                        n_q += 1
                subset_count[mask] = counts[find(table, flat, offsets, query, n_q)]
        for a_len in range(low, high + 1):
            mask = (1 << a_len) - 1
            while mask < full:
                ok = True
                n_a = 0
                n_c = 0
                for p in range(size):
                    side = allowed_a if (mask >> p) & 1 else allowed_c
                    if not side[flat[a + p]]:
                        ok = False
                        break
                if ok:
                    rows[n] = r
                    masks[n] = mask
                    if cached:
                        count_a[n] = subset_count[mask]
                        count_c[n] = subset_count[full ^ mask]
                    else:
                        for p in range(size):  # antecedent first, then consequent
                            if (mask >> p) & 1:
                                query[n_a] = flat[a + p]
                                n_a += 1
                        count_a[n] = counts[find(table, flat, offsets, query, n_a)]
                        for p in range(size):
                            if not (mask >> p) & 1:
                                query[n_c] = flat[a + p]
                                n_c += 1
                        count_c[n] = counts[find(table, flat, offsets, query, n_c)]
                    n += 1
                mask = _next_combination(mask)
        r += 1
    return n, r, rows, masks, count_a, count_c


@njit(cache=True, nogil=True)
def split_rules(flat, offsets, rows, masks):  # pragma: no cover - compiled
    """Antecedent and consequent items of each rule as flat arrays with offsets."""
    n = rows.size
    a_offsets = np.zeros(n + 1, np.int64)
    c_offsets = np.zeros(n + 1, np.int64)
    for k in range(n):
        size = offsets[rows[k] + 1] - offsets[rows[k]]
        n_a = 0
        for p in range(size):
            n_a += (masks[k] >> p) & 1
        a_offsets[k + 1] = a_offsets[k] + n_a
        c_offsets[k + 1] = c_offsets[k] + size - n_a
    a_items = np.empty(a_offsets[n], np.int64)
    c_items = np.empty(c_offsets[n], np.int64)
    for k in range(n):
        a = offsets[rows[k]]
        size = offsets[rows[k] + 1] - a
        i = a_offsets[k]
        j = c_offsets[k]
        for p in range(size):
            if (masks[k] >> p) & 1:
                a_items[i] = flat[a + p]
                i += 1
            else:
                c_items[j] = flat[a + p]
                j += 1
    return a_items, a_offsets, c_items, c_offsets


@njit(cache=True, nogil=True)
def mark_subsumed(flat, offsets, counts, table, maximal, first, stop, out):  # pragma: no cover
    """Set ``out[s]`` for every itemset s that is not closed (a superset one item longer, among
    rows ``first..stop-1``, has the same count) or, with ``maximal``, not maximal (any
    frequent superset one item longer). Disjoint row ranges may run on parallel threads (they
    only ever write True)."""
    longest = 1
    for r in range(first, stop):
        longest = max(longest, offsets[r + 1] - offsets[r])
    query = np.empty(longest, np.int64)
    for r in range(first, stop):
        a = offsets[r]
        size = offsets[r + 1] - a
        if size < 2:
            continue
        for drop in range(size):
            q = 0
            for p in range(size):
                if p != drop:
                    query[q] = flat[a + p]
                    q += 1
            s = find(table, flat, offsets, query, size - 1)
            if s >= 0 and (maximal or counts[s] == counts[r]):
                out[s] = True


@njit(cache=True, nogil=True, error_model="numpy")
def _metric(code, s_ac, s_a, s_c, n):  # pragma: no cover - compiled
    """Metric ``code`` (position in ``reco.mining.rules.METRICS``) of one rule, with the same
    floating-point operations as mlxtend (ratios as ``(s * n) / (s' * n)``)."""
    if code == 0:
        return s_a
    if code == 1:
        return s_c
    if code == 2:
        return s_ac
    confidence = (s_ac * n) / (s_a * n)
    if code == 3:
        return confidence
    if code == 4:
        return confidence / s_c
    if code == 5:
        return 1.0
    leverage = s_ac - s_a * s_c
    if code == 6:
        return leverage
    if code == 7:
        return (1.0 - s_c) / (1.0 - confidence) if confidence < 1.0 else np.inf
    if code == 8:
        denominator = max(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        return 0.0 if denominator == 0 else leverage / denominator
    if code == 9:
        return s_ac / (s_a + s_c - s_ac)
    if code == 10:
        denominator = 1 - s_c
        return 0.0 if denominator == 0 else (confidence - s_c) / denominator
    return ((s_ac * n) / (s_a * n) + (s_ac * n) / (s_c * n)) / 2


@njit(cache=True, nogil=True)
def rule_metrics(codes, s_ac, s_a, s_c, n):  # pragma: no cover - compiled
    """``out[m, k]``: metric ``codes[m]`` of rule k, in one pass without temporaries."""
    out = np.empty((codes.size, s_ac.size))
    for k in range(s_ac.size):
        for m in range(codes.size):
            out[m, k] = _metric(codes[m], s_ac[k], s_a[k], s_c[k], n)
    return out
