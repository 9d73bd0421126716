"""numba kernels that put interaction rows in (user, item, time) order and merge repeats."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["POLICY_CODES", "sort_and_merge"]

# duplicates policy -> code used inside the kernel
POLICY_CODES = {"keep": 0, "sum": 1, "max": 2, "first": 3, "last": 4, "count": 5, "raise": 6}


@njit(cache=True, nogil=True, inline="always")
def _before(item_a, time_a, item_b, time_b):  # pragma: no cover - compiled
    return item_a < item_b or (item_a == item_b and time_a < time_b)


@njit(cache=True, nogil=True)
def _sort_segment(items, times, rows, values, a, b, has_time):  # pragma: no cover - compiled
    """Stable sort of positions a:b by (item, time), moving the payload along."""
    if b - a <= 32:
        for p in range(a + 1, b):  # insertion sort: stable, and fast on short segments
            it, tm, rw, vl = items[p], times[p] if has_time else 0, rows[p], values[p]
            q = p - 1
            while q >= a and _before(it, tm, items[q], times[q] if has_time else 0):
                items[q + 1] = items[q]
                if has_time:
                    times[q + 1] = times[q]
                rows[q + 1] = rows[q]
                values[q + 1] = values[q]
                q -= 1
            items[q + 1] = it
            if has_time:
                times[q + 1] = tm
            rows[q + 1] = rw
            values[q + 1] = vl
        return
    order = np.arange(b - a)
    if has_time:
        order = order[np.argsort(times[a:b][order], kind="mergesort")]
    order = order[np.argsort(items[a:b][order], kind="mergesort")]
    items[a:b] = items[a:b][order]
    if has_time:
        times[a:b] = times[a:b][order]
    rows[a:b] = rows[a:b][order]
    values[a:b] = values[a:b][order]


@njit(cache=True, nogil=True)
def sort_and_merge(
    user, item, value, time, has_time, n_users, n_items, policy
):  # pragma: no cover - compiled
    """Sort rows by (user, item, time) and merge repeated pairs under ``policy``.

    One counting-sort pass by user that scatters the payload (item, value, row, time) with it,
    so later passes read memory in order; then each user's rows are sorted by (item, time)
    (insertion sort for the usual few rows). Merging compacts in place. Returns ``(source,
    user, item, value, n_repeats)``: ``source[k]`` is the input row whose time output row
    ``k`` carries (the latest of its group, or the earliest for "first"); ``n_repeats``
    counts repeated pairs (for "raise" nothing is merged; the caller refuses).
    """
    n = user.size
    offsets = np.zeros(n_users + 1, np.int64)
    for p in range(n):
        offsets[user[p] + 1] += 1
    for u in range(n_users):
        offsets[u + 1] += offsets[u]
    fill = offsets[:-1].copy()
    items = np.empty(n, np.int32)
    rows = np.empty(n, np.int64)
    values = np.empty(n, np.float32)
    times = np.empty(n if has_time else 0, time.dtype)
    for p in range(n):
        u = user[p]
        q = fill[u]
        fill[u] = q + 1
        items[q] = item[p]
        rows[q] = p
        values[q] = value[p]
        if has_time:
            times[q] = time[p]
    for u in range(n_users):
        if offsets[u + 1] - offsets[u] > 1:
            _sort_segment(items, times, rows, values, offsets[u], offsets[u + 1], has_time)
    out_user = np.empty(n, np.int32)
    repeats = 0
    k = -1
    merge = policy != 0 and policy != 6
    for u in range(n_users):
        first_of_user = True
        for p in range(offsets[u], offsets[u + 1]):
            i = items[p]
            v = values[p]
            row = rows[p]
            repeated = not first_of_user and items[k] == i
            first_of_user = False
            if repeated:
                repeats += 1
            if repeated and merge:
                if policy == 1:  # sum
                    values[k] += v
                    rows[k] = row
                elif policy == 2:  # max
                    if v > values[k]:
                        values[k] = v
                    rows[k] = row
                elif policy == 4:  # last
                    values[k] = v
                    rows[k] = row
                elif policy == 5:  # count
                    values[k] += 1.0
                    rows[k] = row
                continue  # policy 3 (first) keeps the first row
            k += 1
            out_user[k] = u
            items[k] = i
            values[k] = 1.0 if policy == 5 else v
            rows[k] = row
    size = k + 1
    return rows[:size], out_user[:size], items[:size], values[:size], repeats
