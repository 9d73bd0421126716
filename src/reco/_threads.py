"""A thread pool over row ranges, for compiled kernels that release the GIL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def run_chunks(work, n_rows: int, n_threads: int, chunk: int = 256) -> None:
    """Call ``work(start, stop)`` over row chunks on a pool (dynamic: uneven rows balance).

    Runs inline when there is one thread or one chunk.
    """
    ranges = [(a, min(n_rows, a + chunk)) for a in range(0, n_rows, chunk)]
    if n_threads <= 1 or len(ranges) <= 1:
        for a, b in ranges:
            work(a, b)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for future in [pool.submit(work, a, b) for a, b in ranges]:
            future.result()
