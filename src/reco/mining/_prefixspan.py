"""numba PrefixSpan (Pei et al. 2001) with pseudo-projection, gap and span limits.

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

from __future__ import annotations

import numpy as np
from numba import njit

from ._eclat import room


@njit(cache=True, nogil=True)
def _suffix(
    depth, e, emb_end, emb_first, starts, stops, session_end, times, gap, span
):  # pragma: no cover - compiled
    """Positions embedding ``e`` may extend into, ``(lo, hi)``: its session after the last
    matched event (at depth 0 the embedding is the session's number and the whole session is
    open), cut at the first event past ``gap`` after the last match or ``span`` after the
    first (times rise within a session)."""
    end = emb_end[e]
    if depth == 0:
        return starts[end], stops[end]
    lo = end + 1
    hi = session_end[end]
    if gap < 0 and span < 0:
        return lo, hi
    stop = lo
    while stop < hi:
        if gap >= 0 and times[stop] - times[end] > gap:
            break
        if span >= 0 and times[stop] - emb_first[e] > span:
            break
        stop += 1
    return lo, stop


@njit(cache=True, nogil=True)
def prefixspan(
    items, session_of, session_end, times, starts, stops, n_items, min_count, max_len, gap, span
):  # pragma: no cover - compiled
    """Every sequence pattern with support count >= ``min_count`` and length <= ``max_len``.

    ``gap`` / ``span`` < 0 mean no limit. Returns ``(flat, offsets, counts)``: pattern k is
    ``flat[offsets[k]:offsets[k + 1]]`` (item codes, in order) with support ``counts[k]``.
    """
    constrained = gap >= 0 or span >= 0
    n_sessions = starts.size
    # embeddings arena; the root has one virtual embedding per session
    emb_end = np.empty(max(16, 2 * items.size + n_sessions), np.int64)
    emb_first = np.empty(emb_end.size, np.float64)
    for k in range(n_sessions):
        emb_end[k] = k
    top = n_sessions
    reach = np.empty(n_sessions, np.int64)  # end of each embedding's suffix, per node
    # frames: embeddings [start, stop), reserved end, depth, item
    f_start = np.empty(64, np.int64)
    f_stop = np.empty(64, np.int64)
    f_end = np.empty(64, np.int64)
    f_depth = np.empty(64, np.int64)
    f_item = np.empty(64, np.int64)
    f_start[0], f_stop[0], f_end[0], f_depth[0], f_item[0] = 0, n_sessions, top, 0, -1
    n_frames = 1
    prefix = np.empty(max(1, max_len), np.int64)
    # per-item scratch, valid while stamp_node[x] == node
    stamp_node = np.full(n_items, -1, np.int64)
    stamp_session = np.empty(n_items, np.int64)
    stamp_embedding = np.empty(n_items, np.int64)
    support = np.empty(n_items, np.int64)
    occurrences = np.empty(n_items, np.int64)
    fill = np.empty(n_items, np.int64)
    frequent_node = np.full(n_items, -1, np.int64)
    touched = np.empty(n_items, np.int64)
    position_node = np.full(items.size, -1, np.int64)
    position_slot = np.empty(items.size, np.int64)
    out_flat = np.empty(1024, np.int64)
    out_offsets = np.zeros(1025, np.int64)
    out_counts = np.empty(1024, np.int64)
    n_out = 0
    n_flat = 0
    node = 0
    while n_frames > 0:
        n_frames -= 1
        a, b = f_start[n_frames], f_stop[n_frames]
        top = f_end[n_frames]  # everything above this frame is finished
        depth = f_depth[n_frames]
        if depth > 0:
            prefix[depth - 1] = f_item[n_frames]
        node += 1
        reach = room(reach, b - a, 0)
        # pass 1: support (sessions) and occurrences of every item in the suffixes
        n_touched = 0
        for e in range(a, b):
            lo, hi = _suffix(
                depth, e, emb_end, emb_first, starts, stops, session_end, times, gap, span
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
        first_child = n_frames
        for t in range(n_touched):
            x = touched[t]
            if support[x] < min_count:
                continue
            out_flat = room(out_flat, n_flat + depth + 1, n_flat)
            out_counts = room(out_counts, n_out + 1, n_out)
            out_offsets = room(out_offsets, n_out + 2, n_out + 1)
            for d in range(depth):
                out_flat[n_flat + d] = prefix[d]
            out_flat[n_flat + depth] = x
            n_flat += depth + 1
            out_counts[n_out] = support[x]
            n_out += 1
            out_offsets[n_out] = n_flat
            if not grow:
                continue
            frequent_node[x] = node
            stamp_embedding[x] = -1
            fill[x] = reserved
            if n_frames == f_start.size:
                f_start = room(f_start, n_frames + 1, n_frames)
                f_stop = room(f_stop, n_frames + 1, n_frames)
                f_end = room(f_end, n_frames + 1, n_frames)
                f_depth = room(f_depth, n_frames + 1, n_frames)
                f_item = room(f_item, n_frames + 1, n_frames)
            f_start[n_frames] = reserved
            reserved += occurrences[x]
            f_end[n_frames] = reserved
            f_depth[n_frames] = depth + 1
            f_item[n_frames] = x
            n_frames += 1
        if n_frames == first_child:
            continue
        if reserved > emb_end.size:
            emb_end = room(emb_end, reserved, top)
            grown = np.empty(emb_end.size, np.float64)
            grown[:top] = emb_first[:top]
            emb_first = grown
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
                elif position_node[q] == node:  # reached before: keep the latest first time
                    slot = position_slot[q]
                    start_time = max(start_time, emb_first[slot])
                else:
                    position_node[q] = node
                    slot = fill[x]
                    fill[x] += 1
                    position_slot[q] = slot
                emb_end[slot] = q
                emb_first[slot] = start_time
        for k in range(first_child, n_frames):
            f_stop[k] = fill[f_item[k]]
    return out_flat[:n_flat], out_offsets[: n_out + 1], out_counts[:n_out]
