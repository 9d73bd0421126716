"""numba kernels that put interaction rows in (user, item, time) order."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["group_order"]


@njit(cache=True, nogil=True)
def group_order(user, item, time, has_time, n_users):  # pragma: no cover - compiled
    """Permutation sorting rows by user, then item, then time (stable), and the user offsets.

    A counting sort on the user index (O(rows)), then a stable sort of each user's few rows by
    time and by item. Rows equal in all three keep their input order.
    """
    n = user.size
    offsets = np.zeros(n_users + 1, np.int64)
    for i in range(n):
        offsets[user[i] + 1] += 1
    for u in range(n_users):
        offsets[u + 1] += offsets[u]
    fill = offsets[:-1].copy()
    perm = np.empty(n, np.int64)
    for i in range(n):
        u = user[i]
        perm[fill[u]] = i
        fill[u] += 1
    for u in range(n_users):
        a = offsets[u]
        b = offsets[u + 1]
        if b - a > 1:
            seg = perm[a:b].copy()
            if has_time:
                seg = seg[np.argsort(time[seg], kind="mergesort")]
            seg = seg[np.argsort(item[seg], kind="mergesort")]
            perm[a:b] = seg
    return offsets, perm
