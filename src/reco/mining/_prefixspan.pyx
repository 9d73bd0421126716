"""Compiled PrefixSpan (Pei et al. 2001) with pseudo-projection, gap and span limits.

Events are positions 0..n-1, grouped by session (contiguous, in time order). A pattern's
projection is a list of embeddings: the position of its last matched event and the time of
its first. Growing a pattern scans each embedding's suffix in its session (stopping at the
first event past ``gap`` after the last match or ``span`` after the first), counts each item
once per session, and for every frequent item x builds the child projection in one more pass.
Without limits only the earliest embedding per session matters, so each session keeps one;
with limits every reachable position is kept once, with the latest first time (the one that
leaves the most room under ``span``).

The search is depth first on an explicit stack; projections live in one arena, children above
their parent, so memory is bounded by the projections along one search path.
"""

from libc.stdint cimport int64_t
from libcpp.vector cimport vector

import numpy as np

from reco._arrays cimport int64_array


cdef inline void _suffix(
    int64_t depth, int64_t e, const int64_t* emb_end, const double* emb_first,
    const int64_t* starts, const int64_t* stops, const int64_t* session_end,
    const double* times, double gap, double span, int64_t* lo_out, int64_t* hi_out,
) noexcept nogil:
    """Positions embedding ``e`` may extend into, ``[lo, hi)``: its session after the last
    matched event (at depth 0 the embedding is the session's number and the whole session is
    open), cut at the first event past ``gap`` after the last match or ``span`` after the
    first (times rise within a session)."""
    cdef int64_t end = emb_end[e], lo, hi, stop
    if depth == 0:
        lo_out[0] = starts[end]
        hi_out[0] = stops[end]
        return
    lo = end + 1
    hi = session_end[end]
    if gap < 0 and span < 0:
        lo_out[0] = lo
        hi_out[0] = hi
        return
    stop = lo
    while stop < hi:
        if gap >= 0 and times[stop] - times[end] > gap:
            break
        if span >= 0 and times[stop] - emb_first[e] > span:
            break
        stop += 1
    lo_out[0] = lo
    hi_out[0] = stop


def prefixspan(
    const int64_t[::1] items,
    const int64_t[::1] session_of,
    const int64_t[::1] session_end,
    const double[::1] times,
    const int64_t[::1] starts,
    const int64_t[::1] stops,
    int64_t n_items,
    int64_t min_count,
    int64_t max_len,
    double gap,
    double span,
):
    """Every sequence pattern with support count >= ``min_count`` and length <= ``max_len``.

    ``gap`` / ``span`` < 0 mean no limit. Returns ``(flat, offsets, counts)``: pattern k is
    ``flat[offsets[k]:offsets[k + 1]]`` (item codes, in order) with support ``counts[k]``.
    """
    cdef bint constrained = gap >= 0 or span >= 0
    cdef int64_t n_sessions = starts.shape[0], n_positions = items.shape[0]
    # embeddings arena; the root has one virtual embedding per session
    cdef int64_t arena = max(16, 2 * n_positions + n_sessions)
    cdef vector[int64_t] emb_end = vector[int64_t](arena)
    cdef vector[double] emb_first = vector[double](arena)
    cdef vector[int64_t] reach = vector[int64_t](max(n_sessions, 1))
    # frames: embeddings [start, stop), reserved end, depth, item
    cdef vector[int64_t] f_start, f_stop, f_end, f_depth, f_item
    cdef vector[int64_t] prefix = vector[int64_t](max(1, max_len))
    # per-item scratch, valid while stamp_node[x] == node
    cdef vector[int64_t] stamp_node = vector[int64_t](max(n_items, 1), -1)
    cdef vector[int64_t] stamp_session = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] stamp_embedding = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] support = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] occurrences = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] fill = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] frequent_node = vector[int64_t](max(n_items, 1), -1)
    cdef vector[int64_t] touched = vector[int64_t](max(n_items, 1))
    cdef vector[int64_t] position_node = vector[int64_t](max(n_positions, 1), -1)
    cdef vector[int64_t] position_slot = vector[int64_t](max(n_positions, 1))
    cdef vector[int64_t] out_flat
    cdef vector[int64_t] out_offsets
    cdef vector[int64_t] out_counts
    cdef int64_t k, n_frames, a, b, top, depth, node = 0, n_touched, e, lo, hi, s, q, x, t, d
    cdef int64_t reserved, first_child, slot
    cdef double first, start_time
    cdef bint grow
    out_offsets.push_back(0)
    for k in range(n_sessions):
        emb_end[k] = k
    f_start.push_back(0)
    f_stop.push_back(n_sessions)
    f_end.push_back(n_sessions)
    f_depth.push_back(0)
    f_item.push_back(-1)
    with nogil:
        while f_start.size() > 0:
            n_frames = f_start.size() - 1
            a = f_start[n_frames]
            b = f_stop[n_frames]
            top = f_end[n_frames]  # everything above this frame is finished
            depth = f_depth[n_frames]
            if depth > 0:
                prefix[depth - 1] = f_item[n_frames]
            f_start.pop_back()
            f_stop.pop_back()
            f_end.pop_back()
            f_depth.pop_back()
            f_item.pop_back()
            node += 1
            if <int64_t>reach.size() < b - a:
                reach.resize(b - a)
            # pass 1: support (sessions) and occurrences of every item in the suffixes
            n_touched = 0
            for e in range(a, b):
                _suffix(
                    depth, e, emb_end.data(), emb_first.data(), &starts[0], &stops[0],
                    &session_end[0], &times[0], gap, span, &lo, &hi,
                )
                reach[e - a] = hi  # pass 2 reads the same suffix
                if lo >= hi:
                    continue
                s = session_of[lo]
                for q in range(lo, hi):
                    x = items[q]
                    if stamp_node[x] != node:
                        stamp_node[x] = node
                        stamp_session[x] = -1
                        support[x] = 0
                        occurrences[x] = 0
                        touched[n_touched] = x
                        n_touched += 1
                    occurrences[x] += 1
                    if stamp_session[x] != s:
                        stamp_session[x] = s
                        support[x] += 1
            # emit the frequent extensions; reserve their projections above the arena top
            grow = depth + 1 < max_len
            reserved = top
            first_child = f_start.size()
            for t in range(n_touched):
                x = touched[t]
                if support[x] < min_count:
                    continue
                for d in range(depth):
                    out_flat.push_back(prefix[d])
                out_flat.push_back(x)
                out_counts.push_back(support[x])
                out_offsets.push_back(out_flat.size())
                if not grow:
                    continue
                frequent_node[x] = node
                stamp_embedding[x] = -1
                fill[x] = reserved
                f_start.push_back(reserved)
                reserved += occurrences[x]
                f_stop.push_back(0)
                f_end.push_back(reserved)
                f_depth.push_back(depth + 1)
                f_item.push_back(x)
            if <int64_t>f_start.size() == first_child:
                continue
            if reserved > <int64_t>emb_end.size():
                emb_end.resize(max(reserved, 2 * <int64_t>emb_end.size()))
                emb_first.resize(emb_end.size())
            # pass 2: the child projections
            for e in range(a, b):
                first = emb_first[e]
                lo = starts[emb_end[e]] if depth == 0 else emb_end[e] + 1
                for q in range(lo, reach[e - a]):
                    x = items[q]
                    if frequent_node[x] != node:
                        continue
                    start_time = times[q] if depth == 0 else first
                    if not constrained:  # the earliest occurrence per session is enough
                        if stamp_embedding[x] == e:
                            continue
                        stamp_embedding[x] = e
                        slot = fill[x]
                        fill[x] += 1
                    elif position_node[q] == node:  # reached before: keep the latest first
                        slot = position_slot[q]
                        if emb_first[slot] > start_time:
                            start_time = emb_first[slot]
                    else:
                        position_node[q] = node
                        slot = fill[x]
                        fill[x] += 1
                        position_slot[q] = slot
                    emb_end[slot] = q
                    emb_first[slot] = start_time
            for k in range(first_child, f_start.size()):
                f_stop[k] = fill[f_item[k]]
    return int64_array(out_flat), int64_array(out_offsets), int64_array(out_counts)
