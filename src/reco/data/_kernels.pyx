"""Compiled kernel that puts interaction rows in (user, item, time) order and merges repeats."""

from libc.stdint cimport int32_t, int64_t
from libcpp.vector cimport vector

import numpy as np

__all__ = ["POLICY_CODES", "sort_and_merge"]

# duplicates policy -> code used inside the kernel
POLICY_CODES = {"keep": 0, "sum": 1, "max": 2, "first": 3, "last": 4, "count": 5, "raise": 6}

ctypedef fused time_t:
    int64_t
    double


cdef extern from *:
    """
    #include <algorithm>
    #include <cstdint>
    /* order[0:m] (positions a.. of a segment) stably by (item, time) */
    template <typename T>
    static void reco_order_segment(int64_t* order, int64_t m, const int32_t* items,
                                   const T* times, bool has_time) {
        std::stable_sort(order, order + m, [&](int64_t x, int64_t y) {
            if (items[x] != items[y]) return items[x] < items[y];
            return has_time && times[x] < times[y];
        });
    }
    """
    void order_segment "reco_order_segment"[T](
        int64_t* order, int64_t m, const int32_t* items, const T* times, bint has_time
    ) noexcept nogil


cdef void _sort_segment(
    int32_t* items, time_t* times, int64_t* rows, float* values, int64_t a, int64_t b,
    bint has_time, vector[int64_t]& order, vector[int32_t]& s_items, vector[time_t]& s_times,
    vector[int64_t]& s_rows, vector[float]& s_values,
) noexcept nogil:
    """Stable sort of positions a:b by (item, time), moving the payload along."""
    cdef int64_t m = b - a, p, q
    cdef int32_t it
    cdef time_t tm
    cdef int64_t rw
    cdef float vl
    if m <= 32:
        for p in range(a + 1, b):  # insertion sort: stable, and fast on short segments
            it = items[p]
            tm = times[p] if has_time else 0
            rw = rows[p]
            vl = values[p]
            q = p - 1
            while q >= a and (
                it < items[q] or (has_time and it == items[q] and tm < times[q])
            ):
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
    order.resize(m)
    for p in range(m):
        order[p] = a + p
    order_segment(order.data(), m, items, times, has_time)
    s_items.resize(m)
    s_rows.resize(m)
    s_values.resize(m)
    if has_time:
        s_times.resize(m)
    for p in range(m):
        q = order[p]
        s_items[p] = items[q]
        s_rows[p] = rows[q]
        s_values[p] = values[q]
        if has_time:
            s_times[p] = times[q]
    for p in range(m):
        items[a + p] = s_items[p]
        rows[a + p] = s_rows[p]
        values[a + p] = s_values[p]
        if has_time:
            times[a + p] = s_times[p]


def sort_and_merge(
    const int32_t[::1] user,
    const int32_t[::1] item,
    const float[::1] value,
    const time_t[::1] time,
    bint has_time,
    int64_t n_users,
    int64_t n_items,
    int policy,
):
    """Sort rows by (user, item, time) and merge repeated pairs under ``policy``.

    One counting-sort pass by user that scatters the payload (item, value, row, time) with it,
    so later passes read memory in order; then each user's rows are sorted by (item, time)
    (insertion sort for the usual few rows). Merging compacts in place. Returns ``(source,
    user, item, value, n_repeats)``: ``source[k]`` is the input row whose time output row
    ``k`` carries (the latest of its group, or the earliest for "first"); ``n_repeats``
    counts repeated pairs (for "raise" nothing is merged; the caller refuses).
    """
    cdef int64_t n = user.shape[0]
    dtype = np.int64 if time_t is int64_t else np.float64
    items_a = np.empty(n, np.int32)
    rows_a = np.empty(n, np.int64)
    values_a = np.empty(n, np.float32)
    times_a = np.empty(n if has_time else 1, dtype)
    users_a = np.empty(n, np.int32)
    cdef int32_t[::1] items = items_a
    cdef int64_t[::1] rows = rows_a
    cdef float[::1] values = values_a
    cdef time_t[::1] times = times_a
    cdef int32_t[::1] out_user = users_a
    cdef vector[int64_t] offsets = vector[int64_t](n_users + 1, 0)
    cdef vector[int64_t] fill
    cdef vector[int64_t] order
    cdef vector[int32_t] s_items
    cdef vector[time_t] s_times
    cdef vector[int64_t] s_rows
    cdef vector[float] s_values
    cdef int64_t p, q, u, k = -1, repeats = 0, row
    cdef int32_t i
    cdef float v
    cdef bint merge = policy != 0 and policy != 6, first_of_user, repeated
    if n == 0:
        return rows_a, users_a, items_a, values_a, 0
    with nogil:
        for p in range(n):
            offsets[user[p] + 1] += 1
        for u in range(n_users):
            offsets[u + 1] += offsets[u]
        fill.assign(offsets.begin(), offsets.end() - 1)
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
                _sort_segment(
                    &items[0], &times[0], &rows[0], &values[0], offsets[u], offsets[u + 1],
                    has_time, order, s_items, s_times, s_rows, s_values,
                )
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
                out_user[k] = <int32_t>u
                items[k] = i
                values[k] = 1.0 if policy == 5 else v
                rows[k] = row
    size = k + 1
    return rows_a[:size], users_a[:size], items_a[:size], values_a[:size], repeats
