"""Compiled kernels over a finished set of frequent itemsets: an open-addressing hash table from
itemset contents to row, rule candidates A -> C with the counts of A and C, and the closed /
maximal marks.

Itemsets are flat sorted item indices (``flat[offsets[r]:offsets[r + 1]]``, int64). A subset of
itemset r is a bit mask over its positions: an int64 holds it, since a frequent itemset of 63
items would bring 2^63 frequent subsets with it.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libcpp.vector cimport vector

import numpy as np

from reco._arrays cimport int64_array


cdef inline uint64_t _mix(uint64_t h, int64_t v) noexcept nogil:
    h ^= <uint64_t>v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2)
    return h


cdef inline uint64_t _finish(uint64_t h) noexcept nogil:
    """MurmurHash3's 64-bit finaliser: spreads the combined hash over every bit."""
    h ^= h >> 33
    h *= 0xFF51AFD7ED558CCDULL
    h ^= h >> 33
    h *= 0xC4CEB9FE1A85EC53ULL
    h ^= h >> 33
    return h


def build_table(const int64_t[::1] flat, const int64_t[::1] offsets):
    """Hash table (a power-of-two array of row + 1, 0 = empty) of every itemset."""
    cdef int64_t n_rows = offsets.shape[0] - 1, size = 16, r, p
    while size < 2 * n_rows:
        size *= 2
    table_a = np.zeros(size, np.int64)
    cdef int64_t[::1] table = table_a
    cdef uint64_t mask = size - 1, h, slot
    with nogil:
        for r in range(n_rows):
            h = <uint64_t>(offsets[r + 1] - offsets[r])
            for p in range(offsets[r], offsets[r + 1]):
                h = _mix(h, flat[p])
            slot = _finish(h) & mask
            while table[slot] != 0:
                slot = (slot + 1) & mask
            table[slot] = r + 1
    return table_a


cdef int64_t _find(
    const int64_t* table, int64_t table_size, const int64_t* flat, const int64_t* offsets,
    const int64_t* query, int64_t size,
) noexcept nogil:
    """Row of the itemset ``query[:size]`` (sorted), or -1."""
    cdef uint64_t mask = table_size - 1, h = <uint64_t>size, slot
    cdef int64_t p, r, a
    cdef bint same
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
        slot = (slot + 1) & mask
    return -1


def find(
    const int64_t[::1] table, const int64_t[::1] flat, const int64_t[::1] offsets,
    const int64_t[::1] query, int64_t size,
):
    """Row of the itemset ``query[:size]`` (sorted item indices), or -1."""
    if flat.shape[0] == 0:
        return -1
    return _find(&table[0], table.shape[0], &flat[0], &offsets[0], &query[0], size)


cdef inline int64_t _next_combination(int64_t x) noexcept nogil:
    """Next larger integer with the same number of set bits (Gosper's hack)."""
    cdef int64_t c = x & -x
    cdef int64_t r = x + c
    return (((r ^ x) >> 2) // c) | r


def rule_candidates(
    const int64_t[::1] flat,
    const int64_t[::1] offsets,
    const int64_t[::1] counts,
    const int64_t[::1] table,
    const uint8_t[::1] allowed_a,
    const uint8_t[::1] allowed_c,
    int64_t max_a,
    int64_t max_c,
    int64_t start,
    int64_t capacity,
):
    """Rules A -> C of the itemsets from row ``start`` on, whole itemsets at a time, until
    ``capacity`` rules would be exceeded.

    (An itemset with more rules than ``capacity`` is done alone, in larger arrays.)
    Returns ``(n, next_row, rows, masks, count_a, count_c)``: rule k splits itemset
    ``rows[k]`` into the positions in ``masks[k]`` (antecedent) and the rest (consequent).
    """
    cdef vector[int64_t] rows, masks, count_a, count_c
    cdef int64_t query[64]
    cdef vector[int64_t] subset_count
    cdef int64_t n = 0, n_rows = offsets.shape[0] - 1, r = start, a, size, low, high, bound
    cdef int64_t choose, a_len, full, mask, p, n_q, n_a, n_c, limit
    cdef bint cached, ok
    cdef const uint8_t* side
    cdef const int64_t* fl = &flat[0] if flat.shape[0] else NULL
    cdef const int64_t* tb = &table[0]
    cdef const int64_t* of = &offsets[0]
    limit = capacity
    rows.reserve(capacity)
    masks.reserve(capacity)
    count_a.reserve(capacity)
    count_c.reserve(capacity)
    with nogil:
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
            if n + bound > limit:
                if n > 0:
                    break
                limit = bound
            full = (1 << size) - 1
            # every subset's count once, when the rules use most subsets (each subset is then
            # looked up once, not once per side)
            cached = size <= 20 and 2 * bound >= full
            if cached:
                if <int64_t>subset_count.size() < full + 1:
                    subset_count.resize(full + 1)
                for mask in range(1, full):
                    n_q = 0
                    for p in range(size):
                        if (mask >> p) & 1:
                            query[n_q] = flat[a + p]
                            n_q += 1
                    subset_count[mask] = counts[_find(tb, table.shape[0], fl, of, query, n_q)]
            for a_len in range(low, high + 1):
                mask = ((<int64_t>1) << a_len) - 1
                while mask < full:
                    ok = True
                    for p in range(size):
                        side = &allowed_a[0] if (mask >> p) & 1 else &allowed_c[0]
                        if not side[flat[a + p]]:
                            ok = False
                            break
                    if ok:
                        rows.push_back(r)
                        masks.push_back(mask)
                        if cached:
                            count_a.push_back(subset_count[mask])
                            count_c.push_back(subset_count[full ^ mask])
                        else:
                            n_a = 0
                            for p in range(size):  # antecedent first, then consequent
                                if (mask >> p) & 1:
                                    query[n_a] = flat[a + p]
                                    n_a += 1
                            count_a.push_back(counts[_find(tb, table.shape[0], fl, of, query, n_a)])
                            n_c = 0
                            for p in range(size):
                                if not (mask >> p) & 1:
                                    query[n_c] = flat[a + p]
                                    n_c += 1
                            count_c.push_back(counts[_find(tb, table.shape[0], fl, of, query, n_c)])
                        n += 1
                    mask = _next_combination(mask)
            r += 1
    return (
        n,
        r,
        int64_array(rows),
        int64_array(masks),
        int64_array(count_a),
        int64_array(count_c),
    )


def split_rules(
    const int64_t[::1] flat,
    const int64_t[::1] offsets,
    const int64_t[::1] rows,
    const int64_t[::1] masks,
):
    """Antecedent and consequent items (int32) of each rule as flat arrays with offsets."""
    cdef int64_t n = rows.shape[0], k, size, n_a, p, a, i, j
    a_offsets_a = np.zeros(n + 1, np.int64)
    c_offsets_a = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] a_offsets = a_offsets_a
    cdef int64_t[::1] c_offsets = c_offsets_a
    for k in range(n):
        size = offsets[rows[k] + 1] - offsets[rows[k]]
        n_a = 0
        for p in range(size):
            n_a += (masks[k] >> p) & 1
        a_offsets[k + 1] = a_offsets[k] + n_a
        c_offsets[k + 1] = c_offsets[k] + size - n_a
    a_items_a = np.empty(a_offsets[n], np.int32)
    c_items_a = np.empty(c_offsets[n], np.int32)
    cdef int32_t[::1] a_items = a_items_a
    cdef int32_t[::1] c_items = c_items_a
    with nogil:
        for k in range(n):
            a = offsets[rows[k]]
            size = offsets[rows[k] + 1] - a
            i = a_offsets[k]
            j = c_offsets[k]
            for p in range(size):
                if (masks[k] >> p) & 1:
                    a_items[i] = <int32_t>flat[a + p]
                    i += 1
                else:
                    c_items[j] = <int32_t>flat[a + p]
                    j += 1
    return a_items_a, a_offsets_a, c_items_a, c_offsets_a


def mark_subsumed(
    const int64_t[::1] flat,
    const int64_t[::1] offsets,
    const int64_t[::1] counts,
    const int64_t[::1] table,
    bint maximal,
    int64_t first,
    int64_t stop,
    uint8_t[::1] out,
):
    """Set ``out[s]`` for every itemset s that is not closed (a superset one item longer, among
    rows ``first..stop-1``, has the same count) or, with ``maximal``, not maximal (any
    frequent superset one item longer). Disjoint row ranges may run on parallel threads (they
    only ever write 1)."""
    cdef int64_t longest = 1, r, a, size, drop, q, p, s
    for r in range(first, stop):
        longest = max(longest, offsets[r + 1] - offsets[r])
    cdef vector[int64_t] query = vector[int64_t](longest)
    if flat.shape[0] == 0:
        return
    with nogil:
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
                s = _find(&table[0], table.shape[0], &flat[0], &offsets[0], query.data(), size - 1)
                if s >= 0 and (maximal or counts[s] == counts[r]):
                    out[s] = 1


cdef double _metric(int64_t code, double s_ac, double s_a, double s_c, double n) noexcept nogil:
    """Metric ``code`` (position in ``reco.mining.rules.METRICS``) of one rule, with the same
    floating-point operations as mlxtend (ratios as ``(s * n) / (s' * n)``)."""
    cdef double confidence, leverage, denominator
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
        return (1.0 - s_c) / (1.0 - confidence) if confidence < 1.0 else INFINITY
    if code == 8:
        denominator = max(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        return 0.0 if denominator == 0 else leverage / denominator
    if code == 9:
        return s_ac / (s_a + s_c - s_ac)
    if code == 10:
        denominator = 1 - s_c
        return 0.0 if denominator == 0 else (confidence - s_c) / denominator
    return ((s_ac * n) / (s_a * n) + (s_ac * n) / (s_c * n)) / 2


def rule_metrics(
    const int64_t[::1] codes,
    const double[::1] s_ac,
    const double[::1] s_a,
    const double[::1] s_c,
    double n,
):
    """``out[m, k]``: metric ``codes[m]`` of rule k, in one pass without temporaries."""
    out_a = np.empty((codes.shape[0], s_ac.shape[0]))
    cdef double[:, ::1] out = out_a
    cdef int64_t k, m
    with nogil:
        for k in range(s_ac.shape[0]):
            for m in range(codes.shape[0]):
                out[m, k] = _metric(codes[m], s_ac[k], s_a[k], s_c[k], n)
    return out_a
