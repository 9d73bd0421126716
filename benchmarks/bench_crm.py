"""The customer store: profile latency on a large store, and the KPI cube beside pandas.

1. Profile latency: a ``make_shop`` store of ``--customers`` customers (orders, contacts,
   consent; no browsing) is loaded into a DuckDB file, ``fit_models`` runs, then
   ``store.profile(id)`` is timed for 1,000 random customers (median, p95, p99), with the
   model parts and before them. No peer library builds such a profile, so there is no
   ratio; the target is 20 ms.
2. The cube: ``--lines`` synthetic order lines (customers with a region, orders over two
   years). ``store.cube(["revenue", "orders", "customers", "aov", "repeat_rate"],
   by=["region", "period"], period="M", rollup=True)`` against the same numbers computed in
   pandas (a merge for the region, per-customer sums, then the groups and each roll-up
   level), each in its own process: seconds and the memory the query adds (peak RSS minus
   RSS before it). The results are checked equal.

    python benchmarks/bench_crm.py [--customers 1000000] [--lines 20000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MEASURES = ["revenue", "orders", "customers", "aov", "repeat_rate"]


def rss_mib() -> float:
    """Resident memory now (MiB), from /proc."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- 1. profile latency ----------------------------------------------------------------------
def profile_latency(n_customers: int, folder: Path) -> None:
    from reco.crm import CustomerStore
    from reco.datasets import make_shop

    started = time.perf_counter()
    shop = make_shop(n_customers, 2000, random_state=0, contacts=True, views_per_purchase=0.0,
                     extra_views_per_order=0.0, browse_sessions_per_order=0.0)  # fmt: skip
    made = time.perf_counter() - started
    store = CustomerStore(folder / "shop.duckdb")
    started = time.perf_counter()
    store.add_customers(shop.customers, customer="customer_id",
                        consent=["consent_email", "consent_sms", "consent_phone"])  # fmt: skip
    store.add_orders(shop.order_lines, customer="customer_id", item="product_id",
                     time="timestamp", value="value", order="order_id")  # fmt: skip
    store.add_contacts(shop.contacts, customer="customer_id", time="timestamp",
                       channel="channel", kind="kind", outcome="outcome")  # fmt: skip
    loaded = time.perf_counter() - started
    print(
        f"\n== profile latency: {n_customers:,} customers, {len(shop.order_lines):,} order "
        f"lines, {len(shop.contacts):,} contacts (generated in {made:.1f} s, loaded into "
        f"DuckDB with indexes in {loaded:.1f} s)"
    )
    ids = np.random.default_rng(1).choice(shop.customers["customer_id"].to_numpy(), 1000)
    report("history only", store, ids)
    started = time.perf_counter()
    store.fit_models()
    print(f"fit_models: {time.perf_counter() - started:.1f} s")
    report("with every model part", store, ids)
    store.close()


def report(label: str, store, ids: np.ndarray) -> None:
    for warm in ids[:20]:
        store.profile(int(warm))
    times = []
    for customer in ids:
        started = time.perf_counter()
        store.profile(int(customer))
        times.append((time.perf_counter() - started) * 1000)
    median, p95, p99 = np.percentile(times, [50, 95, 99])
    verdict = "met" if p99 < 20 else "NOT met"
    print(
        f"profile, {label}: median {median:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms "
        f"(target < 20 ms: {verdict} at p99)"
    )


# -- 2. the cube beside pandas ---------------------------------------------------------------
def write_lines(n_lines: int, path: Path) -> None:
    """Order lines of 10 lines per customer on average, 3 per order, over two years."""
    rng = np.random.default_rng(0)
    n_customers = max(1, n_lines // 10)
    customer = rng.integers(0, n_customers, n_lines)
    order = customer * 8 + rng.integers(0, 4, n_lines)  # up to four orders per customer
    start = np.datetime64("2023-01-01T00:00:00", "s")
    day = rng.integers(0, 730, n_customers * 8)[order]
    time = start + (day * 86_400 + rng.integers(0, 86_400, n_lines)).astype("timedelta64[s]")
    pd.DataFrame({
        "customer_id": customer, "order_id": order, "item_id": rng.integers(0, 5000, n_lines),
        "time": time, "value": np.round(rng.gamma(2.0, 15.0, n_lines), 2),
    }).to_parquet(path / "lines.parquet")  # fmt: skip
    regions = np.array(["north", "south", "east", "west"])
    pd.DataFrame({"customer_id": np.arange(n_customers),
                  "region": regions[rng.integers(0, 4, n_customers)]}).to_parquet(
        path / "customers.parquet")  # fmt: skip


def cube_duckdb(folder: Path) -> dict:
    from reco.crm import CustomerStore

    store = CustomerStore(folder / "cube.duckdb")
    started = time.perf_counter()
    store.add_customers(folder / "customers.parquet", customer="customer_id")
    store.add_orders(folder / "lines.parquet", customer="customer_id", item="item_id",
                     time="time", value="value", order="order_id")  # fmt: skip
    loaded = time.perf_counter() - started
    before = rss_mib()
    started = time.perf_counter()
    cube = store.cube(MEASURES, by=["region", "period"], period="M", rollup=True)
    seconds = time.perf_counter() - started
    cube.to_parquet(folder / "duckdb_cube.parquet")
    return {"load_s": loaded, "seconds": seconds, "memory_mib": peak_mib() - before}


def cube_pandas(folder: Path) -> dict:
    started = time.perf_counter()
    lines = pd.read_parquet(folder / "lines.parquet")
    customers = pd.read_parquet(folder / "customers.parquet")
    loaded = time.perf_counter() - started
    before = rss_mib()
    started = time.perf_counter()
    frame = lines.merge(customers, on="customer_id", how="left")
    frame["period"] = frame["time"].dt.to_period("M").dt.start_time
    levels = []
    for keys in (["region", "period"], ["region"], []):
        per_customer = frame.groupby([*keys, "customer_id"], sort=False).agg(
            revenue=("value", "sum"), n_orders=("order_id", "nunique")
        )
        grouped = per_customer.groupby(level=keys, sort=False) if keys else None
        if keys:
            level = grouped.agg(revenue=("revenue", "sum"), orders=("n_orders", "sum"),
                                customers=("revenue", "size")).reset_index()  # fmt: skip
            level["repeat_rate"] = grouped["n_orders"].apply(lambda n: (n > 1).mean()).to_numpy()
        else:
            n_orders = per_customer["n_orders"]
            level = pd.DataFrame({"revenue": [per_customer["revenue"].sum()],
                                  "orders": [n_orders.sum()], "customers": [len(n_orders)],
                                  "repeat_rate": [(n_orders > 1).mean()]})  # fmt: skip
        level["aov"] = level["revenue"] / level["orders"]
        level["rollup_level"] = 2 - len(keys)
        levels.append(level)
    cube = pd.concat(levels, ignore_index=True)
    seconds = time.perf_counter() - started
    cube.to_parquet(folder / "pandas_cube.parquet")
    return {"load_s": loaded, "seconds": seconds, "memory_mib": peak_mib() - before}


def side(name: str, folder: Path) -> dict:
    """Run one side in a fresh process (its memory is its own)."""
    out = subprocess.run([sys.executable, __file__, "--side", name, "--folder", str(folder)],
                         check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_cubes(folder: Path) -> bool:
    ours = pd.read_parquet(folder / "duckdb_cube.parquet")
    theirs = pd.read_parquet(folder / "pandas_cube.parquet")
    keys = ["rollup_level", "region", "period"]
    ours = ours.sort_values(keys).reset_index(drop=True)
    theirs = theirs.sort_values(keys).reset_index(drop=True)[ours.columns]
    return all(np.allclose(ours[m].astype(float), theirs[m].astype(float), rtol=1e-9)
               for m in MEASURES) and len(ours) == len(theirs)  # fmt: skip


def cube_versus_pandas(n_lines: int, folder: Path) -> None:
    write_lines(n_lines, folder)
    duck, panda = side("duckdb", folder), side("pandas", folder)
    same = compare_cubes(folder)
    print(
        f"\n== cube: revenue, orders, customers, AOV, repeat rate by region x month with "
        f"roll-up, {n_lines:,} order lines"
    )
    print(f"{'':28}{'seconds':>10}{'memory added':>16}{'load':>12}")
    print(f"{'reco store (DuckDB)':28}{duck['seconds']:>10.2f}{duck['memory_mib']:>12.0f} MiB"
          f"{duck['load_s']:>10.1f} s")  # fmt: skip
    print(f"{'pandas':28}{panda['seconds']:>10.2f}{panda['memory_mib']:>12.0f} MiB"
          f"{panda['load_s']:>10.1f} s")  # fmt: skip
    print(
        f"pandas / reco: time {panda['seconds'] / duck['seconds']:.1f}x, memory "
        f"{panda['memory_mib'] / max(duck['memory_mib'], 1):.1f}x; results equal: {same} "
        "(load: DuckDB reads the Parquet files into the store with checks and indexes, pandas "
        "reads them into frames)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--side", choices=["duckdb", "pandas"])
    parser.add_argument("--folder")
    args = parser.parse_args()
    if args.side:
        run = cube_duckdb if args.side == "duckdb" else cube_pandas
        print(json.dumps(run(Path(args.folder))))
        return
    with tempfile.TemporaryDirectory() as folder:
        profile_latency(args.customers, Path(folder))
    with tempfile.TemporaryDirectory() as folder:
        cube_versus_pandas(args.lines, Path(folder))


if __name__ == "__main__":
    main()
