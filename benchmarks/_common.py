"""Helpers shared by the benchmarks: timing, peak memory in a child process, table printing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp


def timed(call: Callable[[], object], repeat: int = 5, warmup: int = 1) -> tuple[float, list]:
    """Median wall time of ``repeat`` calls (after ``warmup`` calls), and all times."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def power_law_matrix(
    n_users: int, n_items: int, nnz: int, seed: int = 0, exponent: float = 1.0
) -> sp.csr_array:
    """A seeded users x items 0/1 matrix with Zipf item popularity and varied user activity."""
    rng = np.random.default_rng(seed)
    item_weight = 1.0 / np.arange(1, n_items + 1) ** exponent
    item_weight /= item_weight.sum()
    user_weight = rng.lognormal(0.0, 1.0, n_users)
    user_weight /= user_weight.sum()
    users = rng.choice(n_users, size=nnz, p=user_weight)
    items = rng.permutation(n_items)[rng.choice(n_items, size=nnz, p=item_weight)]
    matrix = sp.csr_array((np.ones(nnz, np.float32), (users, items)), shape=(n_users, n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
