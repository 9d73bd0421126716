"""numba FP-growth (Han, Pei & Yin 2000): frequent itemsets from prefix trees of transactions.

Items are relabelled 0..f-1 by descending support, so each transaction, sorted by label, is a
root-to-leaf path and common prefixes share nodes. A tree is flat arrays (item, count, parent)
plus a header listing each item's nodes; the trees of the current search path are stacked in
one arena, so no tree allocates. For every item x
of a tree, from the rarest up, ``prefix + x`` is emitted with the summed count of x's nodes;
the paths above those nodes (weighted by the nodes' counts) form x's *conditional* database,
whose frequent items build the next tree. A tree that is a single path is finished without
recursion: every subset of its nodes is frequent, with the count of its deepest node.

Output is the same flat layout as :func:`reco.mining._eclat.eclat`: labels, offsets, counts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._eclat import room, sort_itemsets


@njit(cache=True, nogil=True)
def _build_tree(
    flat, offsets, weights, n_items, node_base, item_base, nodes, header, order, merge, trail
):  # pragma: no cover - compiled
    """Prefix tree of weighted paths (each ascending in label), stored from ``node_base`` of
    the node arena ``nodes`` (rows: item, count, parent, header nodes) and ``item_base`` of the
    header arena (``header[x] .. header[x + 1]`` index item x's nodes in the header-nodes row).
    Node numbers are local to the tree. Returns ``(n_nodes, single_path, nodes, header)``;
    the arenas grow when full, keeping everything below the bases. A single path has node
    k + 1 as its k-th item.

    The paths are visited in lexicographic order, so a path shares nodes exactly along its
    longest common prefix with the previous one: no child lookups.
    """
    n_paths = offsets.size - 1
    if node_base + flat.size + 1 > nodes.shape[1]:
        grown = np.empty((4, max(node_base + flat.size + 1, 2 * nodes.shape[1])), np.int64)
        grown[:, :node_base] = nodes[:, :node_base]
        nodes = grown
    header = room(header, item_base + n_items + 1, item_base)
    item = nodes[0, node_base:]
    count = nodes[1, node_base:]
    parent = nodes[2, node_base:]
    for t in range(n_paths):
        order[t] = t
    sort_itemsets(order, 0, n_paths, flat, offsets, merge)
    item[0] = -1
    parent[0] = -1
    count[0] = 0
    trail[0] = 0  # nodes of the previous path, by depth
    n_nodes = 1
    single_path = True
    previous = -1
    for r in range(n_paths):
        t = order[r]
        a = offsets[t]
        size = offsets[t + 1] - a
        shared = 0
        if previous >= 0:
            b = offsets[previous]
            limit = min(size, offsets[previous + 1] - b)
            while shared < limit and flat[a + shared] == flat[b + shared]:
                shared += 1
            # a new branch below an existing child (the previous path went deeper)
            if shared < size and shared < offsets[previous + 1] - b:
                single_path = False
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
    head_start = header[item_base : item_base + n_items + 1]
    head_start[:] = 0
    for node in range(1, n_nodes):
        head_start[item[node] + 1] += 1
    for x in range(n_items):
        head_start[x + 1] += head_start[x]
    head_nodes = nodes[3, node_base:]
    fill = order  # free again: the header's write positions
    fill[:n_items] = head_start[:n_items]
    for node in range(1, n_nodes):
        head_nodes[fill[item[node]]] = node
        fill[item[node]] += 1
    return n_nodes, single_path, nodes, header


@njit(cache=True, nogil=True)
def _emit(items, offsets, counts, state, prefix, depth, tail, n_tail, count):  # pragma: no cover
    """Append the itemset ``prefix[:depth] + tail[:n_tail]`` with its count; returns the
    output arrays (grown when full)."""
    n_out = state[0]
    n_flat = state[1]
    size = depth + n_tail
    if n_flat + size > items.size:
        grown = np.empty(max(2 * items.size, n_flat + size), np.int64)
        grown[:n_flat] = items[:n_flat]
        items = grown
    if n_out + 1 >= counts.size:  # offsets keep one more slot than counts
        grown = np.empty(2 * counts.size + 2, np.int64)
        grown[: n_out + 1] = offsets[: n_out + 1]
        offsets = grown
        grown = np.empty(2 * counts.size + 2, np.int64)
        grown[:n_out] = counts[:n_out]
        counts = grown
    for d in range(depth):
        items[n_flat + d] = prefix[d]
    for d in range(n_tail):
        items[n_flat + depth + d] = tail[d]
    counts[n_out] = count
    offsets[n_out + 1] = n_flat + size
    state[0] = n_out + 1
    state[1] = n_flat + size
    return items, offsets, counts


@njit(cache=True, nogil=True)
def _single_path(
    item,
    count,
    n_nodes,
    labels,
    out_items,
    out_offsets,
    out_counts,
    state,
    prefix,
    depth,
    max_len,
    chosen,
    tail,
):  # pragma: no cover - compiled
    """Every non-empty subset of a single-path tree's nodes (up to ``max_len`` items in all),
    each with the count of its deepest node: subsets grown by an explicit stack of nodes."""
    n_path = n_nodes - 1
    room = max_len - depth
    size = 0
    nxt = 0
    while n_path > 0 and room > 0:
        if nxt < n_path and size < room:
            chosen[size] = nxt
            tail[size] = labels[item[nxt + 1]]
            size += 1
            out_items, out_offsets, out_counts = _emit(
                out_items,
                out_offsets,
                out_counts,
                state,
                prefix,
                depth,
                tail,
                size,
                count[nxt + 1],
            )
            nxt += 1
            continue
        if size == 0:
            break
        size -= 1
        nxt = chosen[size] + 1
    return out_items, out_offsets, out_counts


@njit(cache=True, nogil=True)
def fpgrowth(indptr, indices, label, n_frequent, min_count, max_len):  # pragma: no cover
    """All itemsets with count >= min_count and length <= max_len.

    ``label[i]`` is item i's rank by descending support among the frequent items (-1 when
    infrequent). Returns ``(items, offsets, counts)`` with items as labels. The recursion of
    FP-growth runs on an explicit stack: one tree per depth, in buffers reused across trees.
    """
    n_transactions = indptr.size - 1
    flat = np.empty(indices.size, np.int64)
    offsets = np.zeros(n_transactions + 1, np.int64)
    n_flat = 0
    for t in range(n_transactions):
        start = n_flat
        for p in range(indptr[t], indptr[t + 1]):
            v = label[indices[p]]
            if v >= 0:
                flat[n_flat] = v
                n_flat += 1
        flat[start:n_flat].sort()
        offsets[t + 1] = n_flat
    n_levels = max(1, min(max_len, n_frequent))
    # the trees of the current search path, one per depth, stacked in two arenas: nodes (item,
    # count, parent, header nodes) and per-item values (header offsets, labels)
    nodes = np.empty((4, 2 * n_flat + 2), np.int64)
    header = np.empty(2 * n_frequent + 2, np.int64)
    item_labels = np.empty(2 * n_frequent + 2, np.int64)
    node_base = np.zeros(n_levels + 1, np.int64)
    item_base = np.zeros(n_levels + 1, np.int64)
    # scratch: a tree has at most as many paths as its parent has nodes of one item
    order = np.empty(max(n_transactions, n_flat) + 1, np.int64)
    merge = np.empty(order.size, np.int64)
    weights = np.empty(order.size, np.int64)
    raw = np.empty(n_flat + 1, np.int64)  # a conditional database never outgrows the data
    raw_offsets = np.zeros(order.size, np.int64)
    trail = np.empty(n_frequent + 1, np.int64)
    out_items = np.empty(1024, np.int64)
    out_offsets = np.zeros(1024, np.int64)
    out_counts = np.empty(1024, np.int64)
    state = np.zeros(2, np.int64)
    prefix = np.empty(n_levels, np.int64)
    n_nodes = np.zeros(n_levels, np.int64)
    n_items = np.zeros(n_levels, np.int64)
    next_x = np.zeros(n_levels, np.int64)
    single = np.zeros(n_levels, np.bool_)

    n_nodes[0], single[0], nodes, header = _build_tree(
        flat[:n_flat],
        offsets,
        np.ones(n_transactions, np.int64),
        n_frequent,
        0,
        0,
        nodes,
        header,
        order,
        merge,
        trail,
    )
    item_labels[:n_frequent] = np.arange(n_frequent)
    n_items[0] = n_frequent
    next_x[0] = n_frequent - 1
    cond_count = np.zeros(n_frequent, np.int64)
    new_label = np.full(n_frequent, -1, np.int64)
    ranked = np.empty(n_frequent, np.int64)
    ranked_count = np.empty(n_frequent, np.int64)
    touched = np.empty(n_frequent, np.int64)
    tail = np.empty(n_levels, np.int64)
    chosen = np.empty(n_levels, np.int64)
    depth = 0
    loaded = -1
    item = nodes[0]
    count = nodes[1]
    parent = nodes[2]
    head_nodes = nodes[3]
    head_start = header
    labels = item_labels
    while depth >= 0:
        if depth != loaded:  # views of this depth's tree (arenas may have been regrown)
            nb = node_base[depth]
            ib = item_base[depth]
            item = nodes[0, nb : nb + n_nodes[depth]]
            count = nodes[1, nb : nb + n_nodes[depth]]
            parent = nodes[2, nb : nb + n_nodes[depth]]
            head_nodes = nodes[3, nb : nb + n_nodes[depth]]
            head_start = header[ib : ib + n_items[depth] + 1]
            labels = item_labels[ib : ib + n_items[depth] + 1]
            loaded = depth
        if single[depth]:
            out_items, out_offsets, out_counts = _single_path(
                item,
                count,
                n_nodes[depth],
                labels,
                out_items,
                out_offsets,
                out_counts,
                state,
                prefix,
                depth,
                max_len,
                chosen,
                tail,
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
        out_items, out_offsets, out_counts = _emit(
            out_items, out_offsets, out_counts, state, prefix, depth, tail, 1, support
        )
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
                while q >= 0 and (ranked_count[q] < c or (ranked_count[q] == c and ranked[q] > y)):
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
        if offsets.size < n_paths + 1:
            offsets = np.zeros(max(n_paths + 1, 2 * offsets.size), np.int64)
        n_flat = 0
        for k in range(n_paths):
            # raw labels descending: read backwards they come nearly ascending in the new
            # labels too, so the insertion sort is ~linear
            start = n_flat
            for p in range(raw_offsets[k + 1] - 1, raw_offsets[k] - 1, -1):
                v = new_label[raw[p]]
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
        item_labels = room(item_labels, base + n_ranked + 1, base)
        for k in range(n_ranked):
            item_labels[base + k] = labels[ranked[k]]
        n_nodes[child], single[child], nodes, header = _build_tree(
            flat[:n_flat],
            offsets[: n_paths + 1],
            weights[:n_paths],
            n_ranked,
            node_base[child],
            base,
            nodes,
            header,
            order,
            merge,
            trail,
        )
        n_items[child] = n_ranked
        next_x[child] = n_ranked - 1
        prefix[depth] = labels[x]
        depth = child
    return out_items[: state[1]], out_offsets[: state[0] + 1], out_counts[: state[0]]
