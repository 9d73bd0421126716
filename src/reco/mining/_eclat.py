"""numba kernels for frequent-itemset mining: pair counts and a depth-first Eclat on bitsets.

Items are relabelled 0..f-1 by ascending support (rare first keeps equivalence classes small).
Pairs are counted directly from the transactions (one pass, no bitsets); longer itemsets come
from intersecting the transaction bitsets of two members of the same prefix class. The search
is iterative (an explicit stack), so depth is bounded only by ``max_len``. An intersection is
counted before it is stored, and stored only when frequent and extendable.

Also here, shared by every search: one Apriori level on the same bitsets, and the report
kernels (labels back to sorted item indices, report order by counting sort, regrouping by
length for tuple building, lexicographic sorting of itemsets).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def pair_counts(indptr, indices, label, n_frequent):  # pragma: no cover - compiled
    """``counts[a, b]`` (a < b) = transactions holding both relabelled items a and b."""
    counts = np.zeros((n_frequent, n_frequent), np.int32)
    row = np.empty(indices.size, np.int32)
    for t in range(indptr.size - 1):
        m = 0
        for p in range(indptr[t], indptr[t + 1]):
            item = label[indices[p]]
            if item >= 0:
                row[m] = item
                m += 1
        if m < 2:
            continue
        items = np.sort(row[:m])
        for x in range(m):
            a = items[x]
            for y in range(x + 1, m):
                counts[a, items[y]] += 1
    return counts


@njit(cache=True, nogil=True)
def build_bitsets(indptr, indices, label, n_frequent, n_words):  # pragma: no cover
    """One bitset of transactions per relabelled item."""
    bits = np.zeros((n_frequent, n_words), np.uint64)
    for t in range(indptr.size - 1):
        word = t >> 6
        mask = np.uint64(1) << np.uint64(t & 63)
        for p in range(indptr[t], indptr[t + 1]):
            item = label[indices[p]]
            if item >= 0:
                bits[item, word] |= mask
    return bits


@njit(cache=True, nogil=True, inline="always")
def _popcount(x):  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True, nogil=True)
def _and_count(a, b, out):  # pragma: no cover - compiled
    total = np.uint64(0)
    for w in range(a.size):
        x = a[w] & b[w]
        out[w] = x
        total += _popcount(x)
    return np.int64(total)


@njit(cache=True, nogil=True)
def _and_popcount(a, b):  # pragma: no cover - compiled
    total = np.uint64(0)
    for w in range(a.size):
        total += _popcount(a[w] & b[w])
    return np.int64(total)


@njit(cache=True, nogil=True)
def _and_into(a, b, out):  # pragma: no cover - compiled
    for w in range(a.size):
        out[w] = a[w] & b[w]


@njit(cache=True, nogil=True)
def room(array, needed, keep):  # pragma: no cover - compiled
    """``array`` if it holds ``needed`` values, else a larger copy (at least double) of its
    first ``keep`` values."""
    if needed <= array.size:
        return array
    bigger = np.empty(max(needed, 2 * array.size), array.dtype)
    bigger[:keep] = array[:keep]
    return bigger


@njit(cache=True, nogil=True)
def eclat(bits, singles, pairs, min_count, max_len, first, stop):  # pragma: no cover
    """All itemsets with count >= min_count and length <= max_len whose first (rarest) item
    is in ``first..stop-1``, as flat arrays (disjoint ranges can run on parallel threads).

    Returns ``(items, offsets, counts)``: itemset k is ``items[offsets[k]:offsets[k + 1]]``
    (relabelled, ascending) with support count ``counts[k]``.
    """
    n_frequent, n_words = bits.shape
    out_items = np.empty(1024, np.int32)
    out_offsets = np.zeros(1025, np.int64)
    out_counts = np.empty(1024, np.int64)
    n_out = 0
    n_items_out = 0
    capacity = max(16, 2 * n_frequent)
    pool_bits = np.empty((capacity, n_words), np.uint64)
    pool_item = np.empty(capacity, np.int32)
    depth_cap = max(2, min(max_len, n_frequent) + 1)
    f_start = np.zeros(depth_cap, np.int64)
    f_size = np.zeros(depth_cap, np.int64)
    f_next = np.zeros(depth_cap, np.int64)
    prefix = np.zeros(depth_cap + 1, np.int32)

    for a in range(first, stop):
        # emit {a}
        out_items = room(out_items, n_items_out + 1, n_items_out)
        out_counts = room(out_counts, n_out + 1, n_out)
        out_offsets = room(out_offsets, n_out + 2, n_out + 1)
        out_items[n_items_out] = a
        n_items_out += 1
        out_counts[n_out] = singles[a]
        n_out += 1
        out_offsets[n_out] = n_items_out
        if max_len < 2:
            continue
        size = 0
        for b in range(a + 1, n_frequent):
            c = pairs[a, b]
            if c >= min_count:
                pool_item[size] = b
                size += 1
                out_items = room(out_items, n_items_out + 2, n_items_out)
                out_counts = room(out_counts, n_out + 1, n_out)
                out_offsets = room(out_offsets, n_out + 2, n_out + 1)
                out_items[n_items_out] = a
                out_items[n_items_out + 1] = b
                n_items_out += 2
                out_counts[n_out] = c
                n_out += 1
                out_offsets[n_out] = n_items_out
        if max_len < 3 or size < 2:
            continue
        for s in range(size):
            row = pool_bits[s]
            other = bits[pool_item[s]]
            for w in range(n_words):
                row[w] = bits[a, w] & other[w]
        prefix[0] = a
        depth = 0
        f_start[0] = 0
        f_size[0] = size
        f_next[0] = 0
        top = size
        while depth >= 0:
            start = f_start[depth]
            count = f_size[depth]
            i = f_next[depth]
            if i >= count:
                depth -= 1
                if depth >= 0:
                    top = f_start[depth] + f_size[depth]
                continue
            f_next[depth] = i + 1
            item_i = pool_item[start + i]
            length = depth + 2  # prefix[0..depth] plus item_i
            if length >= max_len:
                continue
            needed = top + (count - i)
            if needed > pool_item.size:
                new_cap = max(needed, 2 * pool_item.size)
                grown_bits = np.empty((new_cap, n_words), np.uint64)
                grown_bits[:top] = pool_bits[:top]
                pool_bits = grown_bits
                pool_item = room(pool_item, new_cap, pool_item.size)
            new_start = top
            new_size = 0
            for j in range(i + 1, count):
                item_j = pool_item[start + j]
                if pairs[item_i, item_j] < min_count:
                    continue
                slot = new_start + new_size
                # count first (reads only); store the intersection only for frequent ones
                c = _and_popcount(pool_bits[start + i], pool_bits[start + j])
                if c < min_count:
                    continue
                if length + 1 < max_len:
                    _and_into(pool_bits[start + i], pool_bits[start + j], pool_bits[slot])
                pool_item[slot] = item_j
                new_size += 1
                out_items = room(out_items, n_items_out + length + 1, n_items_out)
                out_counts = room(out_counts, n_out + 1, n_out)
                out_offsets = room(out_offsets, n_out + 2, n_out + 1)
                for d in range(depth + 1):
                    out_items[n_items_out + d] = prefix[d]
                out_items[n_items_out + depth + 1] = item_i
                out_items[n_items_out + depth + 2] = item_j
                n_items_out += length + 1
                out_counts[n_out] = c
                n_out += 1
                out_offsets[n_out] = n_items_out
            if new_size >= 2 and length + 1 < max_len:
                depth += 1
                prefix[depth] = item_i
                f_start[depth] = new_start
                f_size[depth] = new_size
                f_next[depth] = 0
                top = new_start + new_size
    return out_items[:n_items_out], out_offsets[: n_out + 1], out_counts[:n_out]


@njit(cache=True, nogil=True)
def relabel_sorted(items, offsets, order):  # pragma: no cover - compiled
    """``order[items]`` with every segment ``offsets[k]:offsets[k + 1]`` sorted ascending
    (insertion sort: itemsets are short)."""
    values = np.empty(items.size, np.int64)
    for k in range(offsets.size - 1):
        a, b = offsets[k], offsets[k + 1]
        for p in range(a, b):
            v = order[items[p]]
            q = p - 1
            while q >= a and values[q] > v:
                values[q + 1] = values[q]
                q -= 1
            values[q + 1] = v
    return values


@njit(cache=True, nogil=True)
def group_layout(offsets, rows, n_chunks):  # pragma: no cover - compiled
    """Layout for regrouping itemsets ``rows`` by length, keeping their order within a length.

    Returns ``(starts, block, fill)``: the ``starts[L + 1] - starts[L]`` itemsets of length L
    take slots ``starts[L]..starts[L + 1]``; their items form one row-major (m, L) block from
    ``block[L]``; ``fill[c, L]`` is the first slot of length L for rows chunk c (chunks of
    ``ceil(rows.size / n_chunks)`` rows, so chunks can be filled in parallel).
    """
    max_length = 0
    for r in rows:
        max_length = max(max_length, offsets[r + 1] - offsets[r])
    chunk = max(1, (rows.size + n_chunks - 1) // n_chunks)
    per_chunk = np.zeros((n_chunks, max_length + 1), np.int64)
    for k in range(rows.size):
        per_chunk[k // chunk, offsets[rows[k] + 1] - offsets[rows[k]]] += 1
    starts = np.zeros(max_length + 2, np.int64)
    for length in range(max_length + 1):
        starts[length + 1] = starts[length] + per_chunk[:, length].sum()
    fill = np.empty((n_chunks, max_length + 1), np.int64)
    for length in range(max_length + 1):
        slot = starts[length]
        for c in range(n_chunks):
            fill[c, length] = slot
            slot += per_chunk[c, length]
    block = np.zeros(max_length + 2, np.int64)
    for length in range(1, max_length + 2):
        block[length] = block[length - 1] + (length - 1) * (starts[length] - starts[length - 1])
    return starts, block, fill


@njit(cache=True, nogil=True)
def group_fill(
    labels,
    offsets,
    rows,
    item_of_label,
    destination,
    first,
    stop,
    fill,
    starts,
    block,
    grouped,
    positions,
):  # pragma: no cover - compiled
    """Write rows ``first..stop-1`` (one chunk of :func:`group_layout`) into their slots: items
    as ``item_of_label[labels]``, each itemset sorted, and ``positions[slot] = destination``."""
    fill = fill.copy()
    for k in range(first, stop):
        r = rows[k]
        a = offsets[r]
        length = offsets[r + 1] - a
        slot = fill[length]
        fill[length] += 1
        positions[slot] = destination[k]
        out = block[length] + (slot - starts[length]) * length
        for p in range(length):  # insertion sort: itemsets are short
            v = item_of_label[labels[a + p]]
            q = out + p - 1
            while q >= out and grouped[q] > v:
                grouped[q + 1] = grouped[q]
                q -= 1
            grouped[q + 1] = v


@njit(cache=True, nogil=True, inline="always")
def _itemset_less(values, offsets, r, s):  # pragma: no cover - compiled
    """Itemset r before itemset s: lexicographic on the items, a prefix first."""
    a = offsets[r]
    b = offsets[s]
    size_r = offsets[r + 1] - a
    size_s = offsets[s + 1] - b
    for p in range(min(size_r, size_s)):
        if values[a + p] != values[b + p]:
            return values[a + p] < values[b + p]
    return size_r < size_s


@njit(cache=True, nogil=True)
def sort_itemsets(order, start, stop, values, offsets, scratch):  # pragma: no cover
    """Sort ``order[start:stop]`` (indices of itemsets ``values[offsets[r]:offsets[r + 1]]``)
    lexicographically, stably: a bottom-up merge sort through ``scratch``."""
    width = 1
    while width < stop - start:
        for lo in range(start, stop, 2 * width):
            mid = min(lo + width, stop)
            hi = min(lo + 2 * width, stop)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _itemset_less(values, offsets, order[j], order[i]):
                    scratch[k] = order[j]
                    j += 1
                else:
                    scratch[k] = order[i]
                    i += 1
                k += 1
            while i < mid:
                scratch[k] = order[i]
                i += 1
                k += 1
            while j < hi:
                scratch[k] = order[j]
                j += 1
                k += 1
        order[start:stop] = scratch[start:stop]
        width *= 2


@njit(cache=True, nogil=True)
def report_order(counts, lengths, max_keys):  # pragma: no cover - compiled
    """Stable order by count descending, then length ascending: a counting sort on the key
    ``(max_count - count) * (max_length + 1) + length`` when it has at most ``max_keys``
    values; returns an empty array otherwise (the caller falls back to a comparison sort)."""
    n = counts.size
    if n == 0:
        return np.empty(0, np.int64)
    top = counts.max()
    low = counts.min()
    width = lengths.max() + 1
    n_keys = (top - low + 1) * width
    if n_keys > max_keys:
        return np.empty(0, np.int64)
    starts = np.zeros(n_keys + 1, np.int64)
    for r in range(n):
        starts[(top - counts[r]) * width + lengths[r] + 1] += 1
    for key in range(n_keys):
        starts[key + 1] += starts[key]
    out = np.empty(n, np.int64)
    for r in range(n):
        key = (top - counts[r]) * width + lengths[r]
        out[starts[key]] = r
        starts[key] += 1
    return out


@njit(cache=True, nogil=True)
def _row_less(a, b):  # pragma: no cover - compiled
    for p in range(a.size):
        if a[p] != b[p]:
            return a[p] < b[p]
    return False


@njit(cache=True, nogil=True)
def _contains(rows, key):  # pragma: no cover - compiled
    """Binary search for ``key`` among lexicographically sorted ``rows``."""
    lo, hi = 0, rows.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if _row_less(rows[mid], key):
            lo = mid + 1
        else:
            hi = mid
    if lo == rows.shape[0]:
        return False
    for p in range(key.size):  # noqa: SIM110 - numba compiles loops, not generators
        if rows[lo, p] != key[p]:
            return False
    return True


@njit(cache=True, nogil=True)
def apriori_level(rows, bits, min_count):  # pragma: no cover - compiled
    """One Apriori step: join (k-1)-itemsets sharing their first k-2 items, prune candidates
    with an infrequent (k-1)-subset, count the rest by intersecting the parents' bitsets.

    ``rows`` (m x (k-1), lexicographically sorted, each ascending) and their bitsets; returns
    the frequent k-itemsets (sorted), their counts and bitsets.
    """
    m, width = rows.shape
    n_words = bits.shape[1]
    capacity = max(16, m)
    out_rows = np.empty((capacity, width + 1), np.int64)
    out_counts = np.empty(capacity, np.int64)
    out_bits = np.empty((capacity, n_words), np.uint64)
    size = 0
    candidate = np.empty(width + 1, np.int64)
    subset = np.empty(width, np.int64)
    scratch = np.empty(n_words, np.uint64)
    for i in range(m):
        for j in range(i + 1, m):
            same_prefix = True
            for p in range(width - 1):
                if rows[i, p] != rows[j, p]:
                    same_prefix = False
                    break
            if not same_prefix:
                break
            candidate[:width] = rows[i]
            candidate[width] = rows[j, width - 1]
            pruned = False
            for drop in range(width - 1):  # the two parents are frequent already
                q = 0
                for p in range(width + 1):
                    if p != drop:
                        subset[q] = candidate[p]
                        q += 1
                if not _contains(rows, subset):
                    pruned = True
                    break
            if pruned:
                continue
            count = _and_count(bits[i], bits[j], scratch)
            if count < min_count:
                continue
            if size == capacity:
                capacity *= 2
                grown_rows = np.empty((capacity, width + 1), np.int64)
                grown_rows[:size] = out_rows[:size]
                out_rows = grown_rows
                grown_counts = np.empty(capacity, np.int64)
                grown_counts[:size] = out_counts[:size]
                out_counts = grown_counts
                grown_bits = np.empty((capacity, n_words), np.uint64)
                grown_bits[:size] = out_bits[:size]
                out_bits = grown_bits
            out_rows[size] = candidate
            out_counts[size] = count
            out_bits[size] = scratch
            size += 1
    return out_rows[:size], out_counts[:size], out_bits[:size]
