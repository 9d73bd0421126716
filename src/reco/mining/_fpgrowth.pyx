"""Compiled FP-growth (Han, Pei & Yin 2000): frequent itemsets from prefix trees.

Items are relabelled 0..f-1 by descending support, so each transaction, sorted by label, is a
root-to-leaf path and common prefixes share nodes. A tree is flat arrays (item, count, parent)
plus a header listing each item's nodes; the trees of the current search path are stacked in
one arena, so no tree allocates. For every item x of a tree, from the rarest up,
``prefix + x`` is emitted with the summed count of x's nodes; the paths above those nodes
(weighted by the nodes' counts) form x's *conditional* database, whose frequent items build
the next tree. A tree that is a single path is finished without recursion: every subset of its
nodes is frequent, with the count of its deepest node.

Output is the same flat layout as :func:`reco.mining._eclat.eclat`: labels (int32), offsets,
counts (int64).
"""

from libc.stdint cimport int32_t, int64_t
from libcpp.algorithm cimport sort
from libcpp.vector cimport vector

import numpy as np

from reco._arrays cimport int32_array, int64_array


cdef extern from *:
    """
    #include <algorithm>
    #include <cstdint>
    /* order[0:n] stably by the paths flat[offsets[r]:offsets[r + 1]], lexicographically
       (a prefix first) */
    static void reco_sort_paths(int64_t* order, int64_t n, const int64_t* flat,
                                const int64_t* offsets) {
        std::stable_sort(order, order + n, [=](int64_t r, int64_t s) {
            int64_t a = offsets[r], b = offsets[s];
            int64_t nr = offsets[r + 1] - a, ns = offsets[s + 1] - b;
            int64_t m = nr < ns ? nr : ns;
            for (int64_t p = 0; p < m; ++p)
                if (flat[a + p] != flat[b + p]) return flat[a + p] < flat[b + p];
            return nr < ns;
        });
    }
    """
    void sort_paths "reco_sort_paths"(
        int64_t* order, int64_t n, const int64_t* flat, const int64_t* offsets
    ) noexcept nogil


cdef struct Out:
    vector[int32_t]* items
    vector[int64_t]* offsets
    vector[int64_t]* counts


cdef inline void _emit(
    Out out, const int64_t* prefix, int64_t depth, const int64_t* tail, int64_t n_tail,
    int64_t count,
) noexcept nogil:
    """Append the itemset ``prefix[:depth] + tail[:n_tail]`` with its count."""
    cdef int64_t d
    for d in range(depth):
        out.items.push_back(<int32_t>prefix[d])
    for d in range(n_tail):
        out.items.push_back(<int32_t>tail[d])
    out.counts.push_back(count)
    out.offsets.push_back(out.items.size())


cdef int64_t _build_tree(
    const int64_t* flat, const int64_t* offsets, const int64_t* weights, int64_t n_paths,
    int64_t n_flat, int64_t n_items, int64_t node_base, int64_t item_base,
    vector[int64_t]& item_v, vector[int64_t]& count_v, vector[int64_t]& parent_v,
    vector[int64_t]& head_v, vector[int64_t]& header_v, int64_t* order, int64_t* trail,
    bint* single_path,
) noexcept nogil:
    """Prefix tree of weighted paths (each ascending in label), stored from ``node_base`` of
    the node arena (item, count, parent, header nodes) and ``item_base`` of the header arena
    (``header[x] .. header[x + 1]`` index item x's nodes in the header-nodes row). Node numbers
    are local to the tree; the arenas grow when full, keeping everything below the bases.
    Returns the number of nodes; a single path has node k + 1 as its k-th item.

    The paths are visited in lexicographic order, so a path shares nodes exactly along its
    longest common prefix with the previous one: no child lookups.
    """
    cdef int64_t needed = node_base + n_flat + 1, grown
    if needed > <int64_t>item_v.size():
        grown = max(needed, 2 * <int64_t>item_v.size())
        item_v.resize(grown)
        count_v.resize(grown)
        parent_v.resize(grown)
        head_v.resize(grown)
    needed = item_base + n_items + 1
    if needed > <int64_t>header_v.size():
        header_v.resize(max(needed, 2 * <int64_t>header_v.size()))
    cdef int64_t* item = item_v.data() + node_base
    cdef int64_t* count = count_v.data() + node_base
    cdef int64_t* parent = parent_v.data() + node_base
    cdef int64_t* head_nodes = head_v.data() + node_base
    cdef int64_t* head_start = header_v.data() + item_base
    cdef int64_t t, r, a, b, size, shared, limit, previous_size, weight, d, node, x
    cdef int64_t n_nodes = 1, previous = -1
    for t in range(n_paths):
        order[t] = t
    sort_paths(order, n_paths, flat, offsets)
    item[0] = -1
    parent[0] = -1
    count[0] = 0
    trail[0] = 0  # nodes of the previous path, by depth
    single_path[0] = True
    for r in range(n_paths):
        t = order[r]
        a = offsets[t]
        size = offsets[t + 1] - a
        shared = 0
        if previous >= 0:
            b = offsets[previous]
            previous_size = offsets[previous + 1] - b
            limit = min(size, previous_size)
            while shared < limit and flat[a + shared] == flat[b + shared]:
                shared += 1
            # a new branch below an existing child (the previous path went deeper)
            if shared < size and shared < previous_size:
                single_path[0] = False
        weight = weights[t]
        for d in range(shared):
            count[trail[d + 1]] += weight
        for d in range(shared, size):
            node = n_nodes
            n_nodes += 1
            item[node] = flat[a + d]
            count[node] = weight
            parent[node] = trail[d]
            trail[d + 1] = node
        previous = t
    for x in range(n_items + 1):
        head_start[x] = 0
    for node in range(1, n_nodes):
        head_start[item[node] + 1] += 1
    for x in range(n_items):
        head_start[x + 1] += head_start[x]
    for x in range(n_items):  # order is free again: the header's write positions
        order[x] = head_start[x]
    for node in range(1, n_nodes):
        head_nodes[order[item[node]]] = node
        order[item[node]] += 1
    return n_nodes


cdef void _single_path(
    const int64_t* item, const int64_t* count, int64_t n_nodes, const int64_t* labels, Out out,
    const int64_t* prefix, int64_t depth, int64_t max_len, int64_t* chosen, int64_t* tail,
) noexcept nogil:
    """Every non-empty subset of a single-path tree's nodes (up to ``max_len`` items in all),
    each with the count of its deepest node: subsets grown by an explicit stack of nodes."""
    cdef int64_t n_path = n_nodes - 1, room = max_len - depth, size = 0, nxt = 0
    while n_path > 0 and room > 0:
        if nxt < n_path and size < room:
            chosen[size] = nxt
            tail[size] = labels[item[nxt + 1]]
            size += 1
            _emit(out, prefix, depth, tail, size, count[nxt + 1])
            nxt += 1
            continue
        if size == 0:
            break
        size -= 1
        nxt = chosen[size] + 1


def fpgrowth(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const int32_t[::1] label,
    int64_t n_frequent,
    int64_t min_count,
    int64_t max_len,
):
    """All itemsets with count >= min_count and length <= max_len.

    ``label[i]`` is item i's rank by descending support among the frequent items (-1 when
    infrequent). Returns ``(items, offsets, counts)`` with items as labels. The recursion of
    FP-growth runs on an explicit stack: one tree per depth, in buffers reused across trees.
    """
    cdef int64_t n_transactions = indptr.shape[0] - 1
    cdef vector[int64_t] flat = vector[int64_t](indices.shape[0] + 1)
    cdef vector[int64_t] offsets = vector[int64_t](n_transactions + 1, 0)
    cdef int64_t n_flat = 0, t, p, v, start
    with nogil:
        for t in range(n_transactions):
            start = n_flat
            for p in range(indptr[t], indptr[t + 1]):
                v = label[indices[p]]
                if v >= 0:
                    flat[n_flat] = v
                    n_flat += 1
            sort(flat.begin() + start, flat.begin() + n_flat)
            offsets[t + 1] = n_flat
    cdef int64_t n_levels = max(1, min(max_len, n_frequent))
    # the trees of the current search path, one per depth, stacked in two arenas: nodes (item,
    # count, parent, header nodes) and per-item values (header offsets, labels)
    cdef vector[int64_t] item_v = vector[int64_t](2 * n_flat + 2)
    cdef vector[int64_t] count_v = vector[int64_t](2 * n_flat + 2)
    cdef vector[int64_t] parent_v = vector[int64_t](2 * n_flat + 2)
    cdef vector[int64_t] head_v = vector[int64_t](2 * n_flat + 2)
    cdef vector[int64_t] header_v = vector[int64_t](2 * n_frequent + 2)
    cdef vector[int64_t] item_labels = vector[int64_t](2 * n_frequent + 2)
    cdef vector[int64_t] node_base = vector[int64_t](n_levels + 1, 0)
    cdef vector[int64_t] item_base = vector[int64_t](n_levels + 1, 0)
    # scratch: a tree has at most as many paths as its parent has nodes of one item
    cdef int64_t scratch = max(n_transactions, n_flat) + 1
    cdef vector[int64_t] order = vector[int64_t](scratch)
    cdef vector[int64_t] weights = vector[int64_t](scratch, 1)
    cdef vector[int64_t] raw = vector[int64_t](n_flat + 1)  # never outgrows the data
    cdef vector[int64_t] raw_offsets = vector[int64_t](scratch, 0)
    cdef vector[int64_t] trail = vector[int64_t](n_frequent + 1)
    cdef vector[int32_t] out_items
    cdef vector[int64_t] out_offsets
    cdef vector[int64_t] out_counts
    cdef Out out
    out.items = &out_items
    out.offsets = &out_offsets
    out.counts = &out_counts
    out_offsets.push_back(0)
    cdef vector[int64_t] prefix = vector[int64_t](n_levels)
    cdef vector[int64_t] n_nodes = vector[int64_t](n_levels, 0)
    cdef vector[int64_t] n_items = vector[int64_t](n_levels, 0)
    cdef vector[int64_t] next_x = vector[int64_t](n_levels, 0)
    cdef vector[bint] single = vector[bint](n_levels, False)
    cdef vector[int64_t] cond_count = vector[int64_t](n_frequent + 1, 0)
    cdef vector[int64_t] new_label = vector[int64_t](n_frequent + 1, -1)
    cdef vector[int64_t] ranked = vector[int64_t](n_frequent + 1)
    cdef vector[int64_t] ranked_count = vector[int64_t](n_frequent + 1)
    cdef vector[int64_t] touched = vector[int64_t](n_frequent + 1)
    cdef vector[int64_t] tail = vector[int64_t](n_levels)
    cdef vector[int64_t] chosen = vector[int64_t](n_levels)
    cdef int64_t depth = 0, nb, ib, x, h, support, n_paths, total, n_touched, k, node, weight
    cdef int64_t up, y, c, q, n_ranked, child, base
    cdef bint single_path = False
    cdef int64_t* item
    cdef int64_t* count
    cdef int64_t* parent
    cdef int64_t* head_nodes
    cdef int64_t* head_start
    cdef int64_t* labels
    with nogil:
        n_nodes[0] = _build_tree(
            flat.data(), offsets.data(), weights.data(), n_transactions, n_flat, n_frequent,
            0, 0, item_v, count_v, parent_v, head_v, header_v, order.data(), trail.data(),
            &single_path,
        )
        single[0] = single_path
        for k in range(n_frequent):
            item_labels[k] = k
        n_items[0] = n_frequent
        next_x[0] = n_frequent - 1
        while depth >= 0:
            # this depth's tree (the arenas may have been regrown)
            nb = node_base[depth]
            ib = item_base[depth]
            item = item_v.data() + nb
            count = count_v.data() + nb
            parent = parent_v.data() + nb
            head_nodes = head_v.data() + nb
            head_start = header_v.data() + ib
            labels = item_labels.data() + ib
            if single[depth]:
                _single_path(
                    item, count, n_nodes[depth], labels, out, prefix.data(), depth, max_len,
                    chosen.data(), tail.data(),
                )
                depth -= 1
                continue
            x = next_x[depth]
            if x < 0:
                depth -= 1
                continue
            next_x[depth] = x - 1
            support = 0
            for h in range(head_start[x], head_start[x + 1]):
                support += count[head_nodes[h]]
            tail[0] = labels[x]
            _emit(out, prefix.data(), depth, tail.data(), 1, support)
            if depth + 2 > max_len or x == 0:
                continue
            # conditional database of x: the paths above x's nodes, weighted by their counts,
            # copied out in one walk up the tree (labels descending) while counting the items
            # (only the items met are touched: conditional trees are many and small)
            n_paths = head_start[x + 1] - head_start[x]
            total = 0
            n_touched = 0
            for k in range(n_paths):
                node = head_nodes[head_start[x] + k]
                weight = count[node]
                weights[k] = weight
                up = parent[node]
                while up > 0:
                    y = item[up]
                    if cond_count[y] == 0:
                        touched[n_touched] = y
                        n_touched += 1
                    cond_count[y] += weight
                    raw[total] = y
                    total += 1
                    up = parent[up]
                raw_offsets[k + 1] = total
            # relabel the frequent conditional items by descending count (ties: old label)
            n_ranked = 0
            for t in range(n_touched):
                y = touched[t]
                c = cond_count[y]
                cond_count[y] = 0
                if c >= min_count:  # insertion sort: conditional databases have few items
                    q = n_ranked - 1
                    while q >= 0 and (
                        ranked_count[q] < c or (ranked_count[q] == c and ranked[q] > y)
                    ):
                        ranked[q + 1] = ranked[q]
                        ranked_count[q + 1] = ranked_count[q]
                        q -= 1
                    ranked[q + 1] = y
                    ranked_count[q + 1] = c
                    n_ranked += 1
            if n_ranked == 0:
                continue
            for k in range(n_ranked):
                new_label[ranked[k]] = k
            if <int64_t>offsets.size() < n_paths + 1:
                offsets.resize(max(n_paths + 1, 2 * <int64_t>offsets.size()))
            n_flat = 0
            for k in range(n_paths):
                # raw labels descending: read backwards they come nearly ascending in the new
                # labels too, so the insertion sort is ~linear
                start = n_flat
                p = raw_offsets[k + 1] - 1
                while p >= raw_offsets[k]:
                    v = new_label[raw[p]]
                    p -= 1
                    if v < 0:
                        continue
                    q = n_flat - 1
                    while q >= start and flat[q] > v:
                        flat[q + 1] = flat[q]
                        q -= 1
                    flat[q + 1] = v
                    n_flat += 1
                offsets[k + 1] = n_flat
            for k in range(n_ranked):
                new_label[ranked[k]] = -1
            child = depth + 1
            node_base[child] = node_base[depth] + n_nodes[depth]
            item_base[child] = item_base[depth] + n_items[depth] + 1
            base = item_base[child]
            if base + n_ranked + 1 > <int64_t>item_labels.size():
                item_labels.resize(max(base + n_ranked + 1, 2 * <int64_t>item_labels.size()))
            labels = item_labels.data() + ib
            for k in range(n_ranked):
                item_labels[base + k] = labels[ranked[k]]
            prefix[depth] = labels[x]
            n_nodes[child] = _build_tree(
                flat.data(), offsets.data(), weights.data(), n_paths, n_flat, n_ranked,
                node_base[child], base, item_v, count_v, parent_v, head_v, header_v,
                order.data(), trail.data(), &single_path,
            )
            single[child] = single_path
            n_items[child] = n_ranked
            next_x[child] = n_ranked - 1
            depth = child
    return int32_array(out_items), int64_array(out_offsets), int64_array(out_counts)
