"""Cold start: what a new user waits for on the first call, in a fresh environment.

Builds a new virtual environment (``python -m venv``; ``pip install <this repository>``,
not editable, so whatever reco compiles is built there from scratch), then

* times ``import reco`` and its four subpackages in fresh processes (median of 5);
* runs every public entry point of ``_coldstart_probe.py`` in its own fresh process, calling
  it twice on ``make_shop(2000, 300)`` data, and prints the first call beside the second
  (each process gets an empty ``NUMBA_CACHE_DIR``, so that the same script measures a
  numba-based reco, before 0.2, with nothing compiled by an earlier step or run reused);
* runs ``reco demo`` once on the fresh install and then three times more, and prints the
  first run beside the median of the others.

Targets (issue 12): first call at most 1.0 s over the second; demo's first run within 1.3x
of its warm median; the imports under 1.0 s.

    python benchmarks/bench_coldstart.py [--venv DIR] [--reuse] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROBE = HERE / "_coldstart_probe.py"

EXTRA_LIMIT_S = 1.0
DEMO_RATIO_LIMIT = 1.3
IMPORT_LIMIT_S = 1.0


def build_venv(venv: Path, reuse: bool) -> Path:
    python = venv / "bin" / "python"
    if reuse and python.exists():
        print(f"reusing {venv}")
        return python
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    print(f"fresh environment {venv} built in {time.perf_counter() - started:.0f} s")
    return python


def run_probe(python: Path, name: str, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="reco-numba-cache-") as cache:
        done = subprocess.run(
            [str(python), str(PROBE), name],
            check=True,
            capture_output=True,
            text=True,
            env={**env, "NUMBA_CACHE_DIR": cache},
            cwd=tempfile.gettempdir(),
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_demo(venv: Path, env: dict[str, str], runs: int = 4) -> list[float]:
    reco = venv / "bin" / "reco"
    times = []
    with tempfile.TemporaryDirectory(prefix="reco-numba-cache-") as cache:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(
                [str(reco), "demo"],
                check=True,
                capture_output=True,
                env={**env, "NUMBA_CACHE_DIR": cache},
                cwd=tempfile.gettempdir(),
            )
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "reco-cold")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing --venv")
    parser.add_argument("--only", nargs="*", help="entry points to run (default: all)")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()

    python = build_venv(args.venv, args.reuse)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    env["RECO_DATA_DIR"] = os.environ.get("RECO_DATA_DIR", str(ROOT.parent / "shared" / "data"))

    imports = [run_probe(python, "import", env)["first"] for _ in range(5)]
    import_s = statistics.median(imports)
    print(
        f"\nimport reco, reco.models, reco.mining, reco.customers, reco.eval: median "
        f"{import_s:.2f} s of 5 fresh processes (target < {IMPORT_LIMIT_S:.1f} s: "
        f"{'met' if import_s < IMPORT_LIMIT_S else 'NOT met'})"
    )

    names = subprocess.run(
        [str(python), str(PROBE), "--list"], check=True, capture_output=True, text=True, env=env
    ).stdout.split()
    names = [n for n in names if not args.only or n in args.only]
    print(
        f"\n{'entry point (make_shop(2000, 300))':<40} {'first s':>8} {'second s':>9} "
        f"{'extra s':>8}  target"
    )
    worst = 0.0
    for name in names:
        result = run_probe(python, name, env)
        extra = result["first"] - result["second"]
        worst = max(worst, extra)
        verdict = "met" if extra <= EXTRA_LIMIT_S else "NOT met"
        print(
            f"{name:<40} {result['first']:8.3f} {result['second']:9.3f} {extra:8.3f}  {verdict}",
            flush=True,
        )
    print(f"largest first-call extra: {worst:.2f} s (target <= {EXTRA_LIMIT_S:.1f} s)")

    if not args.no_demo:
        times = time_demo(args.venv, env)
        warm = statistics.median(times[1:])
        ratio = times[0] / warm
        print(
            f"\nreco demo: first run {times[0]:.1f} s, warm median {warm:.1f} s "
            f"(runs {', '.join(f'{t:.1f}' for t in times[1:])}), ratio {ratio:.2f}x "
            f"(target <= {DEMO_RATIO_LIMIT}x: {'met' if ratio <= DEMO_RATIO_LIMIT else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
