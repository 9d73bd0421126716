"""Run every benchmark and write benchmarks/RESULTS.md: reco beside its peers, in one run.

Each benchmark runs in its own process (its peers in the same run, tuned with the same budget
as reco, medians and ratios); its printed tables are copied into RESULTS.md under a heading,
with the machine, the library versions and the date. The README quotes this file.

    python benchmarks/run_all.py [--only bench_mining churn_backtest] [--out RESULTS.md]

With ``--only`` the chosen benchmarks are run and their sections replaced; the others are
kept from the existing file (each section names the day it ran).

Peers install with ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments, what it compares)
BENCHMARKS = [
    ("churn_backtest.py", [], "churn against the recency rule and BTYD; speed at 1M customers"),
    ("bench_models.py", [], "item-based models against implicit (fit and batch top-10)"),
    ("eval_ml100k.py", [], "held-out accuracy on MovieLens 100K, every model tuned alike"),
    ("bench_mining.py", [], "frequent itemsets and rules against pyfim and mlxtend"),
    (
        "bench_clv.py",
        ["--customers", "200000", "--repeat", "3"],
        "BG/NBD, Pareto/NBD and Gamma-Gamma against lifetimes (lifetimes' Pareto/NBD takes over "
        "20 minutes at 1M customers, so 200,000 here)",
    ),
    ("bench_sequences.py", [], "sequential patterns against the prefixspan package"),
    ("bench_metrics.py", [], "ranking metrics against ranx"),
    ("bench_data.py", [], "Interactions.from_frame against the bare pandas + scipy route"),
    (
        "bench_coldstart.py",
        [],
        "first call against second call of every entry point, in a fresh environment",
    ),
    (
        "bench_serving.py",
        [],
        "recommend() latency in process and reco serve under wrk, with model swaps",
    ),
    (
        "bench_batch.py",
        [],
        "top-10 for 1M users to Parquet (one process, a Dask LocalCluster, implicit) and one "
        "row per customer for 1M customers (reco, lifetimes)",
    ),
    ("bench_als.py", [], "ALS against implicit's: CG and Cholesky iterations, loss, top-10"),
    (
        "bench_forget.py",
        [],
        "erasure: item-item forget_users against a refit (reco's and implicit's)",
    ),
    (
        "bench_crm.py",
        [],
        "the customer store: profile latency at 1M customers, the KPI cube beside pandas on "
        "20M order lines",
    ),
]
PACKAGES = [
    "reco",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "implicit",
    "mlxtend",
    "pyfim",
    "lifetimes",
    "prefixspan",
    "ranx",
    "duckdb",
]


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.platform()}",
        f"Python {platform.python_version()}",
    ]


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def run(script: str, arguments: list[str]) -> tuple[str, float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    output = done.stdout.strip()
    if done.returncode != 0:
        output += f"\n\n[exit code {done.returncode}]\n{done.stderr.strip()[-3000:]}"
    return output, time.perf_counter() - started, done.returncode


def previous_sections(path: Path) -> dict[str, list[str]]:
    """The benchmark sections of an earlier RESULTS.md, by script name."""
    if not path.exists():
        return {}
    out: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("## ") and ":" in line and not line.startswith("## Machine"):
            current = line[3:].split(":", 1)[0] + ".py"
            out[current] = []
        elif line.startswith("## "):
            current = None
        if current is not None:
            out[current].append(line)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="script names (no .py)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if args.only is None or b[0].removesuffix(".py") in args.only]
    today = datetime.date.today().isoformat()
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python benchmarks/run_all.py` on {today}. Every table below is one "
        "benchmark's output, reco and its peers measured in the same run on this machine; "
        "figures are medians over repeated runs unless the table says otherwise, and ratios are "
        "taken within the run. Regenerate this file rather than editing it.",
        "",
        "## Machine and versions",
        "",
        *[f"- {line}" for line in machine()],
        f"- {versions()}",
        "",
    ]
    # with --only, the other benchmarks keep their sections (each says when it ran)
    kept = previous_sections(Path(args.out)) if args.only is not None else {}
    sections: dict[str, list[str]] = {}
    failed = 0

    def write() -> None:
        body = [line for script, _, _ in BENCHMARKS for line in sections.get(script, [])]
        Path(args.out).write_text("\n".join(lines + body))

    for script, _, _ in BENCHMARKS:
        if script in kept:
            sections[script] = kept[script]
    for script, arguments, what in chosen:
        print(f"running {script} ...", flush=True)
        output, seconds, code = run(script, arguments)
        failed += code != 0
        command = " ".join(["python", f"benchmarks/{script}", *arguments])
        sections[script] = [
            f"## {script.removesuffix('.py')}: {what}",
            "",
            f"`{command}` ({seconds / 60:.1f} min, run on {today})",
            "",
            "```",
            output,
            "```",
            "",
        ]
        write()  # after each one: a long run keeps its part
    write()
    print(f"wrote {args.out} ({len(chosen)} benchmarks, {failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
