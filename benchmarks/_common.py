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


def median_run(call: Callable[[], object], repeat: int) -> tuple[object, float]:
    """The last result of ``repeat`` calls and their median wall time (no warm-up)."""
    result, times = None, []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


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


def quest_baskets(
    n_baskets: int = 100_000,
    n_items: int = 1_000,
    mean_size: float = 10.0,
    n_patterns: int = 60,
    seed: int = 0,
) -> list[list[int]]:
    """Quest-style synthetic baskets (Agrawal & Srikant 1994, simplified).

    Items have Zipf popularity; ``n_patterns`` patterns of 3-6 items (drawn by popularity) have
    exponential weights. Each basket takes one pattern with probability 1/2, drops each of its
    items with probability 1/4 (corruption), and is filled up to a Poisson(mean_size) size with
    items drawn by popularity. Seeded; returns lists of item ints.
    """
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.0
    popularity /= popularity.sum()
    labels = rng.permutation(n_items)
    patterns = [
        labels[rng.choice(n_items, size=int(rng.integers(3, 7)), replace=False, p=popularity)]
        for _ in range(n_patterns)
    ]
    weights = rng.exponential(1.0, n_patterns)
    weights /= weights.sum()
    sizes = np.maximum(1, rng.poisson(mean_size, n_baskets))
    fill = labels[rng.choice(n_items, size=int(sizes.sum()), p=popularity)]
    use_pattern = rng.random(n_baskets) < 0.5
    chosen = rng.choice(n_patterns, size=n_baskets, p=weights)
    baskets, at = [], 0
    for b in range(n_baskets):
        items = set()
        if use_pattern[b]:
            pattern = patterns[chosen[b]]
            items.update(pattern[rng.random(pattern.size) >= 0.25].tolist())
        need = max(0, sizes[b] - len(items))
        items.update(fill[at : at + need].tolist())
        at += sizes[b]
        baskets.append(sorted(items))
    return baskets
