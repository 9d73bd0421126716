"""Batch scoring: top-10 for every user of a large shop, written to Parquet, beside implicit.

A seeded power-law matrix of 1,000,000 users x 20,000 items (``--users``, ``--items``,
``--nnz``). Each job runs in its own process, which loads the matrix (and the model file),
resets its peak-memory counter (``/proc/self/clear_refs``), then scores every user and writes
``user, item, score, rank`` rows to Parquet:

* reco, one process: ``reco.batch.recommend_all`` (chunks of 20,000 users);
* reco on a Dask ``LocalCluster`` (2 worker processes): ``reco.batch.dask.recommend_all``;
* implicit's ``ItemItemRecommender`` (CosineRecommender, the same model as reco's
  ``ItemKNN(neighbourhood="history")``), ``recommend`` over the same users in chunks of
  20,000, ``filter_already_liked_items=True``, rows written with pyarrow's ParquetWriter.

Prints fit seconds, scoring seconds, rows per second and peak resident memory (the driver's,
and for Dask the largest worker's) of each. Target (issue 11): reco single process under
2 GiB peak at 1M users x 20k items.

Then one row per customer for 1,000,000 customers (``--customers``, BG/NBD-like purchases
over two years, read from Parquet in each child):

* reco: ``reco.batch.score_customers`` (summary, RFM, BG/NBD, Gamma-Gamma, 12-month CLV);
* lifetimes: ``summary_data_from_transaction_data``, ``BetaGeoFitter``, ``GammaGammaFitter``
  (repeat buyers), expected purchases, P(alive) and ``customer_lifetime_value`` (12 months),
  written with ``DataFrame.to_parquet``. It computes less (no RFM) on the same input.

    python benchmarks/bench_batch.py [--users 1000000] [--items 20000] [--nnz 20000000]
        [--customers 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
K = 100
CHUNK = 20_000


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Restart the peak-memory count of this process (Linux: VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(kind: str, folder: Path) -> dict:
    import numpy as np
    import scipy.sparse as sp

    matrix = sp.csr_matrix(sp.load_npz(folder / "matrix.npz"))
    out = folder / f"{kind}.parquet"
    if kind == "implicit":
        import pyarrow as pa
        import pyarrow.parquet as pq
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=K)
        started = time.perf_counter()
        model.fit(matrix, show_progress=False)
        fit_s = time.perf_counter() - started
        reset_peak()
        started = time.perf_counter()
        rows = 0
        schema = pa.schema(
            [("user", pa.int64()), ("item", pa.int64()), ("score", pa.float32()),
             ("rank", pa.int32())]
        )  # fmt: skip
        with pq.ParquetWriter(out, schema) as writer:
            for start in range(0, matrix.shape[0], CHUNK):
                users = np.arange(start, min(start + CHUNK, matrix.shape[0]))
                ids, scores = model.recommend(
                    users, matrix[users], N=10, filter_already_liked_items=True
                )
                keep = ids >= 0
                counts = keep.sum(axis=1)
                table = pa.table(
                    {
                        "user": np.repeat(users, counts),
                        "item": ids[keep].astype(np.int64),
                        "score": scores[keep].astype(np.float32),
                        "rank": np.broadcast_to(np.arange(1, 11, dtype=np.int32), ids.shape)[keep],
                    },
                    schema=schema,
                )
                writer.write_table(table)
                rows += len(table)
        return {"fit_s": fit_s, "seconds": time.perf_counter() - started, "rows": rows,
                "peak_mib": peak_mib()}  # fmt: skip
    from reco.base import Recommender

    model = Recommender.load(folder / "model.npz")
    del matrix
    reset_peak()
    started = time.perf_counter()
    if kind == "reco":
        from reco.batch import recommend_all

        recommend_all(model, n=10, out=out, chunk_size=CHUNK, show_progress=False)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(out).metadata.num_rows
        return {"seconds": time.perf_counter() - started, "rows": rows, "peak_mib": peak_mib()}
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster

    from reco.batch import dask as reco_dask

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        client.run(reset_peak)
        started = time.perf_counter()
        users = dd.from_pandas(
            pd.DataFrame({"user": model.user_map_.array}),
            npartitions=max(2, model.n_users_ // CHUNK),
        )
        reco_dask.recommend_all(model, users, 10, out=str(folder / "dask_out"))
        seconds = time.perf_counter() - started
        workers = client.run(peak_mib)
    import pyarrow.dataset as ds

    rows = ds.dataset(folder / "dask_out").count_rows()
    return {"seconds": seconds, "rows": rows, "peak_mib": peak_mib(),
            "worker_peak_mib": max(workers.values())}  # fmt: skip


def customers_child(kind: str, folder: Path) -> dict:
    """One row per customer from the transactions file: reco or lifetimes."""
    import warnings

    import pandas as pd

    lines = pd.read_parquet(folder / "transactions.parquet")
    out = folder / f"{kind}.parquet"
    reset_peak()
    started = time.perf_counter()
    if kind == "customers_reco":
        from reco.batch import score_customers

        score_customers(lines, value="value", out=out, show_progress=False)
    else:
        warnings.filterwarnings("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.utils import summary_data_from_transaction_data

        table = summary_data_from_transaction_data(
            lines, "customer_id", "timestamp", monetary_value_col="value", freq="D"
        )
        from lifetimes.utils import ConvergenceError

        note = ""
        bgf = BetaGeoFitter().fit(table["frequency"], table["recency"], table["T"])
        repeat = table[table["frequency"] > 0]
        try:
            ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        except ConvergenceError:  # lifetimes' own advice: a small penalizer
            note = "Gamma-Gamma did not converge at defaults; refitted with penalizer_coef=1e-3"
            ggf = GammaGammaFitter(penalizer_coef=1e-3).fit(
                repeat["frequency"], repeat["monetary_value"]
            )
        table["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
            360, table["frequency"], table["recency"], table["T"]
        )
        table["probability_alive"] = bgf.conditional_probability_alive(
            table["frequency"], table["recency"], table["T"]
        )
        table["clv"] = ggf.customer_lifetime_value(
            bgf, table["frequency"], table["recency"], table["T"], table["monetary_value"],
            time=12, freq="D", discount_rate=0.01,
        )  # fmt: skip
        table.reset_index().to_parquet(out)
    import pyarrow.parquet as pq

    return {"seconds": time.perf_counter() - started, "rows": pq.ParquetFile(out).metadata.num_rows,
            "peak_mib": peak_mib(), "note": locals().get("note", "")}  # fmt: skip


def make_transactions(n_customers: int, path: Path, seed: int = 0) -> int:
    """BG/NBD-like purchases over two years: each customer buys at a Gamma-distributed rate
    and drops out after any purchase with a Beta-distributed probability; columns
    customer_id, timestamp, value."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    dropout = rng.beta(2.0, 6.0, n_customers)
    counts = rng.geometric(dropout)  # purchases until the customer drops out (>= 1)
    gap = 1.0 / rng.gamma(2.0, 1 / 60.0, n_customers)  # mean days between purchases
    customer = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    first = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    steps = rng.exponential(1.0, customer.size) * gap[customer]
    steps[first] = rng.uniform(0, 600, n_customers)  # the first purchase
    day = np.cumsum(steps)
    day -= np.repeat(day[first] - steps[first], counts)  # restart the sum per customer
    keep = day < 730
    frame = pd.DataFrame(
        {
            "customer_id": customer[keep],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(day[keep], unit="D"),
            "value": np.round(rng.gamma(2.0, 25.0, int(keep.sum())), 2),
        }
    )
    frame.to_parquet(path)
    return len(frame)


def run_child(kind: str, folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--folder", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--nnz", type=int, default=20_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--child")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        job = customers_child if args.child.startswith("customers") else child
        print(json.dumps(job(args.child, args.folder)))
        return

    import scipy.sparse as sp

    sys.path.insert(0, str(HERE))
    from _common import power_law_matrix
    from reco.models import ItemKNN

    with tempfile.TemporaryDirectory(prefix="reco-batch-") as name:
        folder = Path(name)
        started = time.perf_counter()
        matrix = power_law_matrix(args.users, args.items, args.nnz, seed=0)
        sp.save_npz(folder / "matrix.npz", matrix, compressed=False)
        print(
            f"{matrix.shape[0]:,} users x {matrix.shape[1]:,} items, {matrix.nnz:,} "
            f"interactions (made in {time.perf_counter() - started:.0f} s); top-10 each"
        )
        started = time.perf_counter()
        model = ItemKNN(k=K, neighbourhood="history").fit(matrix)
        fit_s = time.perf_counter() - started
        model.save(folder / "model.npz")
        del matrix
        results = {kind: run_child(kind, folder) for kind in ("reco", "dask", "implicit")}
        n_lines = make_transactions(args.customers, folder / "transactions.parquet")
        customers = {k: run_child(k, folder) for k in ("customers_reco", "customers_lifetimes")}
    print(f"\n{'job':<44} {'fit s':>7} {'score s':>8} {'rows/s':>11} {'peak MiB':>9}")
    labels = {
        "reco": "reco recommend_all, 1 process",
        "dask": "reco.batch.dask, LocalCluster 2 workers",
        "implicit": "implicit CosineRecommender, chunks of 20k",
    }
    for kind, result in results.items():
        fit = result.get("fit_s", fit_s)
        peak = f"{result['peak_mib']:.0f}"
        if "worker_peak_mib" in result:
            peak += f" (+{result['worker_peak_mib']:.0f}/worker)"
        print(
            f"{labels[kind]:<44} {fit:7.1f} {result['seconds']:8.1f} "
            f"{result['rows'] / result['seconds']:11,.0f} {peak:>9}"
        )
    reco, peer = results["reco"], results["implicit"]
    print(
        f"\nscoring: implicit / reco = {peer['seconds'] / reco['seconds']:.2f}x; reco peak "
        f"{reco['peak_mib']:.0f} MiB (target < 2048: "
        f"{'met' if reco['peak_mib'] < 2048 else 'NOT met'}); rows equal in count: "
        f"{reco['rows'] == peer['rows'] == results['dask']['rows']}"
    )
    print(
        f"\none row per customer: {args.customers:,} customers, {n_lines:,} purchases\n"
        f"{'job':<44} {'seconds':>8} {'rows/s':>11} {'peak MiB':>9}"
    )
    labels = {
        "customers_reco": "reco score_customers (RFM, BG/NBD, GG, CLV)",
        "customers_lifetimes": "lifetimes summary, BG/NBD, GG, CLV",
    }
    for kind, result in customers.items():
        print(
            f"{labels[kind]:<44} {result['seconds']:8.1f} "
            f"{result['rows'] / result['seconds']:11,.0f} {result['peak_mib']:9.0f}"
        )
    for result in customers.values():
        if result.get("note"):
            print(f"  note: {result['note']}")
    reco, peer = customers["customers_reco"], customers["customers_lifetimes"]
    print(
        f"lifetimes / reco = {peer['seconds'] / reco['seconds']:.2f}x; peak memory "
        f"lifetimes / reco = {peer['peak_mib'] / reco['peak_mib']:.2f}x; rows equal in count: "
        f"{reco['rows'] == peer['rows']}"
    )


if __name__ == "__main__":
    main()
