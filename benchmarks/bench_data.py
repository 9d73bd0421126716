"""Interactions.from_frame vs a bare pandas.factorize + scipy.sparse build, on 10M rows.

Each side runs in its own process; peak memory is the resident-set high-water mark above the
level after the input frame was built (sampled every 2 ms). Target (issue #2): reco at most 1.5x
the bare build's time and 2x its peak memory. The bare build does less: no validation, no
time column, no row order; reco's also checks values and keeps the rows sorted for splitters.

    python benchmarks/bench_data.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd

from _common import print_table


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_users, n_items = max(1, rows // 10), max(1, rows // 100)
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, n_users, rows) * 7 + 1000,
            "item_id": (rng.zipf(1.3, rows) % n_items) * 3 + 50,
            "value": rng.integers(1, 6, rows).astype(np.float32),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 86400 * 365, rows), unit="s"),
        }
    )


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def bare(frame: pd.DataFrame):
    import scipy.sparse as sp

    users, user_ids = pd.factorize(frame["user_id"])
    items, item_ids = pd.factorize(frame["item_id"])
    matrix = sp.coo_array(
        (frame["value"].to_numpy(), (users, items)), shape=(len(user_ids), len(item_ids))
    ).tocsr()
    matrix.sum_duplicates()
    return matrix


def ours(frame: pd.DataFrame, with_time: bool):
    from reco.data import Interactions

    data = Interactions.from_frame(frame, value="value", time="timestamp" if with_time else None)
    return data.to_csr()


def child(kind: str, rows: int, repeat: int) -> None:
    frame = make_frame(rows)
    if kind.startswith("reco"):
        ours(make_frame(1000), with_time=True)  # warm caches outside the timing
    run = {
        "bare": lambda: bare(frame),
        "reco": lambda: ours(frame, False),
        "reco+time": lambda: ours(frame, True),
    }[kind]
    times, peaks = [], []
    for _ in range(repeat):
        import gc

        gc.collect()
        base = rss_bytes()
        peak = [base]
        done = threading.Event()

        def sample(peak=peak, done=done) -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_bytes())
                time.sleep(0.002)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], rss_bytes())
        times.append(elapsed)
        peaks.append(peak[0] - base)
        nnz = int(result.nnz)
        del result
    print(
        json.dumps({"time": float(np.median(times)), "peak": float(np.median(peaks)), "nnz": nnz})
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.repeat)
        return
    results = {}
    for kind in ("bare", "reco", "reco+time"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--rows",
                str(args.rows),
                "--repeat",
                str(args.repeat),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["bare"]
    assert all(r["nnz"] == base["nnz"] for r in results.values()), "matrices differ"
    rows = []
    for kind, r in results.items():
        rows.append(
            [
                kind,
                f"{r['time']:.2f}",
                f"{r['time'] / base['time']:.2f}x",
                f"{r['peak'] / 2**20:.0f}",
                f"{r['peak'] / base['peak']:.2f}x",
            ]
        )
    print(f"{args.rows:,} rows -> {base['nnz']:,} distinct pairs; median of {args.repeat}")
    print_table(
        "build the users x items matrix",
        ["build", "time s", "vs bare", "peak MiB", "vs bare"],
        rows,
    )
    print(
        f"\nreco/bare: time {results['reco']['time'] / base['time']:.2f} (target <= 1.5), "
        f"peak memory {results['reco']['peak'] / base['peak']:.2f} (target <= 2)"
    )


if __name__ == "__main__":
    main()
