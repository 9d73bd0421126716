"""BTYD fitting: reco vs lifetimes, side by side in one run.

* CDNOW (2,357 customers, the published calibration summary, weeks): BG/NBD and Gamma-Gamma
  fit times (median) and parameters;
* a 1,000,000-customer summary from ``make_shop`` (days): the same, once;
* extreme customers: conditional expected purchases and P(alive) where lifetimes overflows.

Targets (issue #6): reco >= 5x faster than lifetimes on CDNOW and >= 10x on the large summary,
with the same parameters.

    python benchmarks/bench_clv.py [--customers 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _common import print_table, timed
from reco.customers import BetaGeo, GammaGamma, ParetoNBD, summary
from reco.datasets import make_shop

DATA = Path(
    os.environ.get("RECO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def _lifetimes_fit(kind, arrays, queue):
    """Fit one lifetimes model in a child process (so a slow fit can be timed out)."""
    import warnings

    warnings.filterwarnings("ignore")
    import lifetimes

    started = time.perf_counter()
    if kind == "pareto":
        model = lifetimes.ParetoNBDFitter().fit(*arrays)
    else:
        model = lifetimes.BetaGeoFitter().fit(*arrays)
    queue.put((time.perf_counter() - started, dict(model.params_)))


def lifetimes_with_timeout(kind, arrays, timeout):
    """(seconds, params) of a lifetimes fit, or (None, None) past ``timeout`` seconds."""
    import multiprocessing as mp

    queue = mp.get_context("fork").Queue()
    child = mp.get_context("fork").Process(target=_lifetimes_fit, args=(kind, arrays, queue))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.terminate()
        child.join()
        return None, None
    return queue.get()


def compare(name, data, repeat, rows, timeout=None):
    import lifetimes

    x, t_x, T = data["frequency"], data["recency"], data["T"]
    ours_bg, _ = timed(lambda: BetaGeo().fit(data), repeat)
    theirs_bg, _ = timed(lambda: lifetimes.BetaGeoFitter().fit(x, t_x, T), repeat)
    ours = BetaGeo().fit(data)
    theirs = lifetimes.BetaGeoFitter().fit(x, t_x, T)
    gap = max(abs(ours.params_[k] / theirs.params_[k] - 1) for k in ("r", "alpha", "a", "b"))
    rows.append(
        [
            name,
            "BG/NBD",
            f"{theirs_bg:.3f}",
            f"{ours_bg:.3f}",
            f"{theirs_bg / ours_bg:.1f}x",
            ", ".join(f"{k} {v:.4g}" for k, v in ours.params_.items()),
            f"{gap:.1e}",
        ]
    )
    ours_p, _ = timed(lambda: ParetoNBD().fit(data), repeat)
    try:
        theirs_p, _ = timed(lambda: lifetimes.ParetoNBDFitter().fit(x, t_x, T), repeat)
        theirs_pm = lifetimes.ParetoNBDFitter().fit(x, t_x, T)
        pareto = ParetoNBD().fit(data)
        gap = max(
            abs(pareto.params_[k] / theirs_pm.params_[k] - 1) for k in ("r", "alpha", "s", "beta")
        )
        rows.append(
            [
                name,
                "Pareto/NBD",
                f"{theirs_p:.3f}",
                f"{ours_p:.3f}",
                f"{theirs_p / ours_p:.1f}x",
                ", ".join(f"{k} {v:.4g}" for k, v in pareto.params_.items()),
                f"{gap:.1e}",
            ]
        )
    except Exception as error:  # report lifetimes' failure instead of stopping
        rows.append(
            [name, "Pareto/NBD", f"fails: {type(error).__name__}", f"{ours_p:.3f}", "-", "", ""]
        )
    repeaters = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    ours_gg, _ = timed(lambda: GammaGamma().fit(repeaters), repeat)
    theirs_gg, _ = timed(
        lambda: lifetimes.GammaGammaFitter().fit(
            repeaters["frequency"], repeaters["monetary_value"]
        ),
        repeat,
    )
    ours_g = GammaGamma().fit(repeaters)
    theirs_g = lifetimes.GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"])
    gap = max(abs(ours_g.params_[k] / theirs_g.params_[k] - 1) for k in ("p", "q"))
    gap = max(gap, abs(ours_g.params_["gamma"] / theirs_g.params_["v"] - 1))
    rows.append(
        [
            name,
            "Gamma-Gamma",
            f"{theirs_gg:.3f}",
            f"{ours_gg:.3f}",
            f"{theirs_gg / ours_gg:.1f}x",
            ", ".join(f"{k} {v:.4g}" for k, v in ours_g.params_.items()),
            f"{gap:.1e}",
        ]
    )
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pareto-timeout",
        type=float,
        default=900,
        help="stop lifetimes' Pareto/NBD fit on the large summary after this",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # lifetimes' own deprecation and overflow chatter

    cdnow = pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    cdnow = cdnow.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    rows: list[list] = []
    ours, theirs = compare("CDNOW (2,357)", cdnow, args.repeat, rows)

    started = time.perf_counter()
    shop = make_shop(args.customers, 2000, random_state=0)
    big = summary(shop.order_lines, value="value", freq="D")
    built = time.perf_counter() - started
    compare(f"make_shop ({len(big):,})", big, 1, rows, timeout=args.pareto_timeout)

    print_table(
        "BTYD fit time (seconds; CDNOW median of "
        f"{args.repeat}, large once; large summary built in {built:.1f} s)",
        [
            "data",
            "model",
            "lifetimes s",
            "reco s",
            "speed-up",
            "reco parameters",
            "max rel. param gap",
        ],
        rows,
    )

    extreme = pd.DataFrame(
        {"frequency": [10, 100, 400, 2000], "recency": [30, 30, 38, 38.5], "T": [39, 39, 39, 39]}
    )
    out = []
    for _, row in extreme.iterrows():
        with np.errstate(all="ignore"):
            try:
                theirs_value = float(
                    theirs.conditional_expected_number_of_purchases_up_to_time(
                        39, row["frequency"], row["recency"], row["T"]
                    )
                )
            except (OverflowError, ValueError, ZeroDivisionError) as error:
                theirs_value = f"{type(error).__name__}"
        ours_value = float(
            ours.conditional_expected_purchases(
                39, frequency=[row["frequency"]], recency=[row["recency"]], T=[row["T"]]
            )[0]
        )
        out.append(
            [int(row["frequency"]), row["recency"], row["T"], theirs_value, f"{ours_value:.4g}"]
        )
    print_table(
        "conditional expected purchases in 39 weeks for extreme customers (CDNOW fit)",
        ["x", "t_x", "T", "lifetimes", "reco"],
        out,
    )


if __name__ == "__main__":
    main()
