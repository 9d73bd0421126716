"""Compiled frequent-itemset kernels: pair counts and a depth-first Eclat on bitsets.

Items are relabelled 0..f-1 by ascending support (rare first keeps equivalence classes small).
Pairs are counted directly from the transactions (one pass, no bitsets); longer itemsets come
from intersecting the transaction bitsets of two members of the same prefix class. The search
is iterative (an explicit stack), so depth is bounded only by ``max_len``. An intersection is
counted before it is stored, and stored only when frequent and extendable.

Also here, shared by every search: one Apriori level on the same bitsets, and the report
kernels (labels back to sorted item indices, report order by counting sort, regrouping by
length for tuple building).

Types: indptr / offsets / counts int64, item indices and labels int32, bitsets uint64.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from libcpp.algorithm cimport sort
from libcpp.vector cimport vector

import numpy as np

from reco._arrays cimport int32_array, int64_array


cdef extern from "_bits.h" nogil:
    int64_t and_popcount "reco_and_popcount"(const uint64_t* a, const uint64_t* b, int64_t n)
    int64_t and_count "reco_and_count"(
        const uint64_t* a, const uint64_t* b, uint64_t* out, int64_t n
    )


def pair_counts(
    const int64_t[::1] indptr, const int32_t[::1] indices, const int32_t[::1] label,
    int64_t n_frequent,
):
    """``counts[a, b]`` (a < b) = transactions holding both relabelled items a and b."""
    counts_a = np.zeros((n_frequent, n_frequent), np.int32)
    cdef int32_t[:, ::1] counts = counts_a
    cdef vector[int32_t] row
    cdef int64_t t, p, x, y, m
    cdef int32_t item, a
    with nogil:
        for t in range(indptr.shape[0] - 1):
            row.clear()
            for p in range(indptr[t], indptr[t + 1]):
                item = label[indices[p]]
                if item >= 0:
                    row.push_back(item)
            m = row.size()
            if m < 2:
                continue
            sort(row.begin(), row.end())
            for x in range(m):
                a = row[x]
                for y in range(x + 1, m):
                    counts[a, row[y]] += 1
    return counts_a


def build_bitsets(
    const int64_t[::1] indptr, const int32_t[::1] indices, const int32_t[::1] label,
    int64_t n_frequent, int64_t n_words,
):
    """One bitset of transactions per relabelled item."""
    bits_a = np.zeros((n_frequent, n_words), np.uint64)
    cdef uint64_t[:, ::1] bits = bits_a
    cdef int64_t t, p, word
    cdef int32_t item
    cdef uint64_t mask
    with nogil:
        for t in range(indptr.shape[0] - 1):
            word = t >> 6
            mask = (<uint64_t>1) << (t & 63)
            for p in range(indptr[t], indptr[t + 1]):
                item = label[indices[p]]
                if item >= 0:
                    bits[item, word] |= mask
    return bits_a


cdef inline void _emit(
    vector[int32_t]& out_items, vector[int64_t]& out_offsets, vector[int64_t]& out_counts,
    const int32_t* prefix, int64_t depth, int32_t item_i, int32_t item_j, int64_t count,
) noexcept nogil:
    """Report the itemset ``prefix[0..depth] + (item_i, item_j)`` with its count."""
    cdef int64_t d
    for d in range(depth + 1):
        out_items.push_back(prefix[d])
    out_items.push_back(item_i)
    out_items.push_back(item_j)
    out_counts.push_back(count)
    out_offsets.push_back(out_items.size())


cdef inline int64_t _next_member(
    int64_t* depth, int64_t* top, const int64_t* f_start, const int64_t* f_size,
    int64_t* f_next,
) noexcept nogil:
    """The depth-first search's next member of the current class (its position in the
    class), leaving the classes it has finished (``top``: the end of the pool in use); -1
    when the search is over."""
    cdef int64_t i
    while depth[0] >= 0:
        i = f_next[depth[0]]
        if i < f_size[depth[0]]:
            f_next[depth[0]] = i + 1
            return i
        depth[0] -= 1
        if depth[0] >= 0:
            top[0] = f_start[depth[0]] + f_size[depth[0]]
    return -1


cdef inline void _enter(
    int64_t* depth, int64_t* top, int64_t* f_start, int64_t* f_size, int64_t* f_next,
    int32_t* prefix, int32_t item, int64_t start, int64_t size,
) noexcept nogil:
    """Descend into the class of the current prefix extended by ``item``: its members sit
    at ``start .. start + size`` of the pool."""
    depth[0] += 1
    prefix[depth[0]] = item
    f_start[depth[0]] = start
    f_size[depth[0]] = size
    f_next[depth[0]] = 0
    top[0] = start + size


def eclat(
    const uint64_t[:, ::1] bits,
    const int64_t[::1] singles,
    const int32_t[:, ::1] pairs,
    int64_t min_count,
    int64_t max_len,
    int64_t first,
    int64_t stop,
):
    """All itemsets with count >= min_count and length <= max_len whose first (rarest) item
    is in ``first..stop-1``, as flat arrays (disjoint ranges can run on parallel threads).

    Returns ``(items, offsets, counts)``: itemset k is ``items[offsets[k]:offsets[k + 1]]``
    (relabelled, ascending) with support count ``counts[k]``.
    """
    cdef int64_t n_frequent = bits.shape[0], n_words = bits.shape[1]
    cdef vector[int32_t] out_items
    cdef vector[int64_t] out_offsets
    cdef vector[int64_t] out_counts
    cdef int64_t capacity = max(16, 2 * n_frequent)
    cdef vector[uint64_t] pool_bits = vector[uint64_t](capacity * n_words)
    cdef vector[int32_t] pool_item = vector[int32_t](capacity)
    cdef int64_t depth_cap = max(2, min(max_len, n_frequent) + 1)
    cdef vector[int64_t] f_start = vector[int64_t](depth_cap)
    cdef vector[int64_t] f_size = vector[int64_t](depth_cap)
    cdef vector[int64_t] f_next = vector[int64_t](depth_cap)
    cdef vector[int32_t] prefix = vector[int32_t](depth_cap + 1)
    cdef int64_t a, b, c, s, w, size, depth, start, count, i, j, length, needed, new_cap
    cdef int64_t new_start, new_size, slot, top, d
    cdef int32_t item_i, item_j
    cdef uint64_t* row
    cdef uint64_t* bi
    cdef uint64_t* bj
    cdef const uint64_t* other
    cdef const uint64_t* abits
    out_offsets.push_back(0)
    with nogil:
        for a in range(first, stop):
            out_items.push_back(<int32_t>a)  # {a}
            out_counts.push_back(singles[a])
            out_offsets.push_back(out_items.size())
            if max_len < 2:
                continue
            size = 0
            for b in range(a + 1, n_frequent):
                c = pairs[a, b]
                if c >= min_count:
                    pool_item[size] = <int32_t>b
                    size += 1
                    out_items.push_back(<int32_t>a)
                    out_items.push_back(<int32_t>b)
                    out_counts.push_back(c)
                    out_offsets.push_back(out_items.size())
            if max_len < 3 or size < 2:
                continue
            abits = &bits[a, 0]
            for s in range(size):
                row = &pool_bits[s * n_words]
                other = &bits[pool_item[s], 0]
                for w in range(n_words):
                    row[w] = abits[w] & other[w]
            prefix[0] = <int32_t>a
            depth = 0
            f_start[0] = 0
            f_size[0] = size
            f_next[0] = 0
            top = size
            while True:
                i = _next_member(&depth, &top, f_start.data(), f_size.data(), f_next.data())
                if i < 0:
                    break
                start = f_start[depth]
                count = f_size[depth]
                item_i = pool_item[start + i]
                length = depth + 2  # prefix[0..depth] plus item_i
                if length >= max_len:
                    continue
                needed = top + (count - i)
                if needed > <int64_t>pool_item.size():
                    new_cap = max(needed, 2 * <int64_t>pool_item.size())
                    pool_bits.resize(new_cap * n_words)
                    pool_item.resize(new_cap)
                new_start = top
                new_size = 0
                for j in range(i + 1, count):
                    item_j = pool_item[start + j]
                    if pairs[item_i, item_j] < min_count:
                        continue
                    slot = new_start + new_size
                    bi = &pool_bits[(start + i) * n_words]
                    bj = &pool_bits[(start + j) * n_words]
                    # count first (reads only); store the intersection only for frequent ones
                    c = and_popcount(bi, bj, n_words)
                    if c < min_count:
                        continue
                    if length + 1 < max_len:
                        and_count(bi, bj, &pool_bits[slot * n_words], n_words)
                    pool_item[slot] = item_j
                    new_size += 1
                    _emit(out_items, out_offsets, out_counts, prefix.data(), depth, item_i,
                          item_j, c)
                if new_size >= 2 and length + 1 < max_len:
                    _enter(&depth, &top, f_start.data(), f_size.data(), f_next.data(),
                           prefix.data(), item_i, new_start, new_size)
    return int32_array(out_items), int64_array(out_offsets), int64_array(out_counts)


def relabel_sorted(
    const int32_t[::1] items, const int64_t[::1] offsets, const int64_t[::1] order
):
    """``order[items]`` with every segment ``offsets[k]:offsets[k + 1]`` sorted ascending
    (insertion sort: itemsets are short)."""
    values_a = np.empty(items.shape[0], np.int64)
    cdef int64_t[::1] values = values_a
    cdef int64_t k, a, b, p, q, v
    with nogil:
        for k in range(offsets.shape[0] - 1):
            a = offsets[k]
            b = offsets[k + 1]
            for p in range(a, b):
                v = order[items[p]]
                q = p - 1
                while q >= a and values[q] > v:
                    values[q + 1] = values[q]
                    q -= 1
                values[q + 1] = v
    return values_a


def group_layout(const int64_t[::1] offsets, const int64_t[::1] rows, int64_t n_chunks):
    """Layout for regrouping itemsets ``rows`` by length, keeping their order within a length.

    Returns ``(starts, block, fill)``: the ``starts[L + 1] - starts[L]`` itemsets of length L
    take slots ``starts[L]..starts[L + 1]``; their items form one row-major (m, L) block from
    ``block[L]``; ``fill[c, L]`` is the first slot of length L for rows chunk c (chunks of
    ``ceil(rows.size / n_chunks)`` rows, so chunks can be filled in parallel).
    """
    cdef int64_t n = rows.shape[0], max_length = 0, k, length, c, slot, total
    for k in range(n):
        max_length = max(max_length, offsets[rows[k] + 1] - offsets[rows[k]])
    cdef int64_t chunk = max(1, (n + n_chunks - 1) // n_chunks)
    per_chunk_a = np.zeros((n_chunks, max_length + 1), np.int64)
    cdef int64_t[:, ::1] per_chunk = per_chunk_a
    for k in range(n):
        per_chunk[k // chunk, offsets[rows[k] + 1] - offsets[rows[k]]] += 1
    starts_a = np.zeros(max_length + 2, np.int64)
    fill_a = np.empty((n_chunks, max_length + 1), np.int64)
    block_a = np.zeros(max_length + 2, np.int64)
    cdef int64_t[::1] starts = starts_a
    cdef int64_t[:, ::1] fill = fill_a
    cdef int64_t[::1] block = block_a
    for length in range(max_length + 1):
        total = 0
        for c in range(n_chunks):
            total += per_chunk[c, length]
        starts[length + 1] = starts[length] + total
    for length in range(max_length + 1):
        slot = starts[length]
        for c in range(n_chunks):
            fill[c, length] = slot
            slot += per_chunk[c, length]
    for length in range(1, max_length + 2):
        block[length] = block[length - 1] + (length - 1) * (starts[length] - starts[length - 1])
    return starts_a, block_a, fill_a


def group_fill(
    const int32_t[::1] labels,
    const int64_t[::1] offsets,
    const int64_t[::1] rows,
    const int64_t[::1] item_of_label,
    const int64_t[::1] destination,
    int64_t first,
    int64_t stop,
    const int64_t[::1] fill_start,
    const int64_t[::1] starts,
    const int64_t[::1] block,
    int32_t[::1] grouped,
    int64_t[::1] positions,
):
    """Write rows ``first..stop-1`` (one chunk of :func:`group_layout`) into their slots: items
    as ``item_of_label[labels]``, each itemset sorted, and ``positions[slot] = destination``."""
    cdef vector[int64_t] fill = vector[int64_t](fill_start.shape[0])
    cdef int64_t k, r, a, length, slot, out, p, q
    cdef int32_t v
    for k in range(fill_start.shape[0]):
        fill[k] = fill_start[k]
    with nogil:
        for k in range(first, stop):
            r = rows[k]
            a = offsets[r]
            length = offsets[r + 1] - a
            slot = fill[length]
            fill[length] += 1
            positions[slot] = destination[k]
            out = block[length] + (slot - starts[length]) * length
            for p in range(length):  # insertion sort: itemsets are short
                v = <int32_t>item_of_label[labels[a + p]]
                q = out + p - 1
                while q >= out and grouped[q] > v:
                    grouped[q + 1] = grouped[q]
                    q -= 1
                grouped[q + 1] = v


def report_order(const int64_t[::1] counts, const int64_t[::1] lengths, int64_t max_keys):
    """Stable order by count descending, then length ascending: a counting sort on the key
    ``(max_count - count) * (max_length + 1) + length`` when it has at most ``max_keys``
    values; returns an empty array otherwise (the caller falls back to a comparison sort)."""
    cdef int64_t n = counts.shape[0], top, low, width, n_keys, r, key
    if n == 0:
        return np.empty(0, np.int64)
    top = low = counts[0]
    width = lengths[0]
    for r in range(n):
        top = max(top, counts[r])
        low = min(low, counts[r])
        width = max(width, lengths[r])
    width += 1
    n_keys = (top - low + 1) * width
    if n_keys > max_keys:
        return np.empty(0, np.int64)
    cdef vector[int64_t] starts = vector[int64_t](n_keys + 1, 0)
    out_a = np.empty(n, np.int64)
    cdef int64_t[::1] out = out_a
    with nogil:
        for r in range(n):
            starts[(top - counts[r]) * width + lengths[r] + 1] += 1
        for key in range(n_keys):
            starts[key + 1] += starts[key]
        for r in range(n):
            key = (top - counts[r]) * width + lengths[r]
            out[starts[key]] = r
            starts[key] += 1
    return out_a


cdef bint _contains(const int64_t[:, ::1] rows, const int64_t* key, int64_t width) noexcept nogil:
    """Binary search for ``key`` among lexicographically sorted ``rows``."""
    cdef int64_t lo = 0, hi = rows.shape[0], mid, p
    cdef bint less
    while lo < hi:
        mid = (lo + hi) // 2
        less = False
        for p in range(width):
            if rows[mid, p] != key[p]:
                less = rows[mid, p] < key[p]
                break
        if less:
            lo = mid + 1
        else:
            hi = mid
    if lo == rows.shape[0]:
        return False
    for p in range(width):
        if rows[lo, p] != key[p]:
            return False
    return True


def apriori_level(const int64_t[:, ::1] rows, const uint64_t[:, ::1] bits, int64_t min_count):
    """One Apriori step: join (k-1)-itemsets sharing their first k-2 items, prune candidates
    with an infrequent (k-1)-subset, count the rest by intersecting the parents' bitsets.

    ``rows`` (m x (k-1), lexicographically sorted, each ascending) and their bitsets; returns
    the frequent k-itemsets (sorted), their counts and bitsets.
    """
    cdef int64_t m = rows.shape[0], width = rows.shape[1], n_words = bits.shape[1]
    cdef vector[int64_t] out_rows
    cdef vector[int64_t] out_counts
    cdef vector[uint64_t] out_bits
    cdef vector[int64_t] candidate = vector[int64_t](width + 1)
    cdef vector[int64_t] subset = vector[int64_t](max(width, 1))
    cdef vector[uint64_t] scratch = vector[uint64_t](max(n_words, 1))
    cdef int64_t i, j, p, q, drop, count, size = 0
    cdef bint same_prefix, pruned
    with nogil:
        for i in range(m):
            for j in range(i + 1, m):
                same_prefix = True
                for p in range(width - 1):
                    if rows[i, p] != rows[j, p]:
                        same_prefix = False
                        break
                if not same_prefix:
                    break
                for p in range(width):
                    candidate[p] = rows[i, p]
                candidate[width] = rows[j, width - 1]
                pruned = False
                for drop in range(width - 1):  # the two parents are frequent already
                    q = 0
                    for p in range(width + 1):
                        if p != drop:
                            subset[q] = candidate[p]
                            q += 1
                    if not _contains(rows, subset.data(), width):
                        pruned = True
                        break
                if pruned:
                    continue
                count = and_count(&bits[i, 0], &bits[j, 0], scratch.data(), n_words)
                if count < min_count:
                    continue
                for p in range(width + 1):
                    out_rows.push_back(candidate[p])
                out_counts.push_back(count)
                for p in range(n_words):
                    out_bits.push_back(scratch[p])
                size += 1
    rows_out = int64_array(out_rows).reshape(size, width + 1)
    bits_out = np.empty((size, n_words), np.uint64)
    cdef uint64_t[:, ::1] bits_view = bits_out
    if size and n_words:
        memcpy(&bits_view[0, 0], out_bits.data(), size * n_words * sizeof(uint64_t))
    return rows_out, int64_array(out_counts), bits_out


cdef inline int64_t _intersect(
    const int32_t* x, int64_t nx, const int32_t* y, int64_t ny, int32_t* out, int64_t need
) noexcept nogil:
    """``out = x & y`` for sorted transaction lists; returns its length, or stops early
    (returning less than ``need``) once ``need`` is out of reach."""
    cdef int64_t i = 0, j = 0, c = 0
    cdef int32_t u, v
    while i < nx and j < ny:
        if c + min(nx - i, ny - j) < need:
            return c
        u = x[i]
        v = y[j]
        if u < v:
            i += 1
        elif u > v:
            j += 1
        else:
            out[c] = u
            c += 1
            i += 1
            j += 1
    return c


cdef inline int64_t _probe(
    const int32_t* x, int64_t nx, const uint64_t* bits, int32_t* out
) noexcept nogil:
    """``out`` = the transactions of ``x`` set in the bitset ``bits``; returns the count
    (a pass over the short list only, however long the other item's list is)."""
    cdef int64_t i, c = 0
    cdef int32_t t
    for i in range(nx):
        t = x[i]
        out[c] = t
        c += (bits[t >> 6] >> (t & 63)) & 1
    return c


def eclat_tids(
    const uint64_t[:, ::1] bits,
    const int64_t[::1] t_indptr,
    const int32_t[::1] t_indices,
    const int64_t[::1] singles,
    const int32_t[:, ::1] pairs,
    int64_t min_count,
    int64_t max_len,
    int64_t first,
    int64_t stop,
):
    """:func:`eclat` on transaction lists instead of bitsets, for classes of rare first
    items (an intersection costs the lists' lengths, not the number of transactions): the
    first item's list probed against the other's bitset, then lists merged.
    ``t_indptr`` / ``t_indices``: the sorted transactions of the labels ``0..stop-1``. The same
    itemsets in the same order as :func:`eclat` over the same range."""
    cdef int64_t n_frequent = singles.shape[0]
    cdef vector[int32_t] out_items
    cdef vector[int64_t] out_offsets
    cdef vector[int64_t] out_counts
    cdef vector[int32_t] pool = vector[int32_t](1024)
    cdef vector[int64_t] pool_off = vector[int64_t](max(16, 2 * n_frequent) + 1)
    cdef vector[int32_t] pool_item = vector[int32_t](max(16, 2 * n_frequent))
    cdef int64_t depth_cap = max(2, min(max_len, n_frequent) + 1)
    cdef vector[int64_t] f_start = vector[int64_t](depth_cap)
    cdef vector[int64_t] f_size = vector[int64_t](depth_cap)
    cdef vector[int64_t] f_next = vector[int64_t](depth_cap)
    cdef vector[int32_t] prefix = vector[int32_t](depth_cap + 1)
    cdef int64_t a, b, c, s, size, depth, start, count, i, j, length, needed, top, d
    cdef int64_t new_start, new_size, slot, at, ni, nj, na
    cdef int32_t item_i, item_j
    out_offsets.push_back(0)
    with nogil:
        for a in range(first, stop):
            out_items.push_back(<int32_t>a)
            out_counts.push_back(singles[a])
            out_offsets.push_back(out_items.size())
            if max_len < 2:
                continue
            size = 0
            na = t_indptr[a + 1] - t_indptr[a]
            pool_off[0] = 0
            for b in range(a + 1, n_frequent):
                c = pairs[a, b]
                if c < min_count:
                    continue
                out_items.push_back(<int32_t>a)
                out_items.push_back(<int32_t>b)
                out_counts.push_back(c)
                out_offsets.push_back(out_items.size())
                if max_len < 3:
                    continue
                at = pool_off[size]
                if <int64_t>pool.size() < at + na:
                    pool.resize(max(at + na, 2 * <int64_t>pool.size()))
                _probe(&t_indices[t_indptr[a]], na, &bits[b, 0], pool.data() + at)
                pool_item[size] = <int32_t>b
                pool_off[size + 1] = at + c
                size += 1
            if max_len < 3 or size < 2:
                continue
            prefix[0] = <int32_t>a
            depth = 0
            f_start[0] = 0
            f_size[0] = size
            f_next[0] = 0
            top = size
            while True:
                i = _next_member(&depth, &top, f_start.data(), f_size.data(), f_next.data())
                if i < 0:
                    break
                start = f_start[depth]
                count = f_size[depth]
                item_i = pool_item[start + i]
                length = depth + 2
                if length >= max_len:
                    continue
                needed = top + (count - i) + 1
                if needed > <int64_t>pool_item.size():
                    pool_item.resize(max(needed, 2 * <int64_t>pool_item.size()))
                    pool_off.resize(pool_item.size() + 1)
                new_start = top
                new_size = 0
                ni = pool_off[start + i + 1] - pool_off[start + i]
                for j in range(i + 1, count):
                    item_j = pool_item[start + j]
                    if pairs[item_i, item_j] < min_count:
                        continue
                    slot = new_start + new_size
                    at = pool_off[slot]
                    nj = pool_off[start + j + 1] - pool_off[start + j]
                    if <int64_t>pool.size() < at + min(ni, nj):
                        pool.resize(max(at + min(ni, nj), 2 * <int64_t>pool.size()))
                    c = _intersect(
                        pool.data() + pool_off[start + i], ni, pool.data() + pool_off[start + j],
                        nj, pool.data() + at, min_count,
                    )
                    if c < min_count:
                        continue
                    pool_item[slot] = item_j
                    pool_off[slot + 1] = at + c
                    new_size += 1
                    _emit(out_items, out_offsets, out_counts, prefix.data(), depth, item_i,
                          item_j, c)
                if new_size >= 2 and length + 1 < max_len:
                    _enter(&depth, &top, f_start.data(), f_size.data(), f_next.data(),
                           prefix.data(), item_i, new_start, new_size)
    return int32_array(out_items), int64_array(out_offsets), int64_array(out_counts)
