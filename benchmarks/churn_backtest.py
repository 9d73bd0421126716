"""Churn: reference checks on real and generated data, and speed at a million customers.

1. CDNOW (23,570 customers, RECO_DATA_DIR/cdnow): rolling-origin backtest at four cutoffs,
   26-week horizon; the model beside the recency rule ("no purchase for k days", k tuned on
   the training cutoffs) and BG/NBD 1 - P(alive), on the same customers.
2. telco_churn (7,043 contracts, ready features): 5-fold cross-validated ROC-AUC of
   ``ChurnModel.fit_table``, beside a one-hot logistic regression in the same folds.
3. make_shop: ROC-AUC of P(churn) against the generator's truth (customers already dropped
   out at the cutoff) and against the observed labels.
4. Speed: features and a fit for 1,000,000 customers and about 20M order lines, with peak
   memory, in a child process.

    python benchmarks/churn_backtest.py [--customers 1000000] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from _common import print_table
from reco.customers import ChurnModel, backtest_churn, churn_labels
from reco.datasets import make_shop, read_cdnow

DATA = Path(
    os.environ.get("RECO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)
METRICS = ["roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile"]


def cdnow() -> list[str]:
    transactions = read_cdnow(DATA / "cdnow" / "CDNOW_master.txt.gz")
    cutoffs = ["1997-09-30", "1997-10-31", "1997-11-30", "1997-12-30"]
    model = ChurnModel(horizon="182D", n_cutoffs=3, cutoff_spacing="30D", random_state=0)
    result = backtest_churn(model, transactions, cutoffs=cutoffs, time="date", value="value")
    rows, verdicts = [], []
    for (cutoff, method), row in result.metrics.set_index(["cutoff", "method"]).iterrows():
        rows.append(
            [
                f"{cutoff:%Y-%m-%d}",
                method,
                f"{int(row['n_customers']):,}",
                f"{row['churn_rate']:.3f}",
            ]
            + [f"{row[m]:.4f}" for m in METRICS]
        )
    by_cutoff = result.metrics.set_index(["cutoff", "method"])
    for cutoff in by_cutoff.index.get_level_values(0).unique():
        part = by_cutoff.loc[cutoff]
        wins = all(
            part.loc["model", m] > part.loc[b, m]
            for m in ("roc_auc", "pr_auc")
            for b in ("recency_rule", "btyd")
        ) and all(
            part.loc["model", "brier"] < part.loc[b, "brier"] for b in ("recency_rule", "btyd")
        )
        verdicts.append(f"{cutoff:%Y-%m-%d}: model beats both baselines: {wins}")
    print_table(
        "CDNOW rolling-origin backtest (26-week horizon; recency k per cutoff: "
        + ", ".join(f"{k:.0f}" for k in result.recency_days.values())
        + " days)",
        ["cutoff", "method", "customers", "churn rate", *METRICS],
        rows,
    )
    print("\n".join(verdicts))
    return verdicts


def telco() -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(DATA / "telco_churn" / "wa_churn.csv.gz")
    y = (frame["churn"] == "Yes").astype(int).to_numpy()
    X = frame.drop(columns=["rownames", "churn"])
    text = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) == "str"]
    numbers = [c for c in X.columns if c not in text]
    reco_auc, peer_auc, reco_brier = [], [], []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        model = ChurnModel(random_state=0).fit_table(X.iloc[train], y[train])
        p = model.predict_proba_table(X.iloc[test]).to_numpy()
        reco_auc.append(roc_auc_score(y[test], p))
        reco_brier.append(float(np.mean((p - y[test]) ** 2)))
        peer = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), text),
                (StandardScaler(), numbers),
            ),
            LogisticRegression(max_iter=2000),
        )
        filled = X.fillna({"total_charges": 0.0})
        peer.fit(filled.iloc[train], y[train])
        peer_auc.append(roc_auc_score(y[test], peer.predict_proba(filled.iloc[test])[:, 1]))
    print_table(
        "telco_churn, 5-fold stratified CV (seed 0)",
        ["model", *[f"fold {k + 1}" for k in range(5)], "mean ROC-AUC", "mean Brier"],
        [
            [
                "reco ChurnModel.fit_table",
                *[f"{a:.4f}" for a in reco_auc],
                f"{np.mean(reco_auc):.4f}",
                f"{np.mean(reco_brier):.4f}",
            ],
            [
                "sklearn one-hot logistic regression",
                *[f"{a:.4f}" for a in peer_auc],
                f"{np.mean(peer_auc):.4f}",
                "",
            ],
        ],
    )


def shop(customers: int) -> None:
    generated = make_shop(customers, 300, random_state=0)
    cutoff, horizon = pd.Timestamp("2024-10-15"), 60
    args = dict(value="value", order="order_id", cutoff=cutoff, events=generated.events)
    model = ChurnModel(horizon=horizon, random_state=0).fit(generated.order_lines, **args)
    risk = model.predict_proba(generated.order_lines, **args)
    dropout = generated.truth.customers.set_index("customer_id")["dropout_time"]
    gone = (dropout.loc[risk.index] <= cutoff).astype(int)
    labels = churn_labels(generated.order_lines, cutoff=cutoff, horizon=horizon)
    print_table(
        f"make_shop({customers:,}, 300), cutoff {cutoff:%Y-%m-%d}, horizon {horizon} days",
        ["truth", "customers", "positives", "ROC-AUC"],
        [
            [
                "dropped out by the cutoff (generator)",
                f"{gone.size:,}",
                f"{gone.mean():.3f}",
                f"{roc_auc_score(gone, risk):.4f}",
            ],
            [
                "no purchase in the horizon (labels)",
                f"{gone.size:,}",
                f"{labels.loc[risk.index].mean():.3f}",
                f"{roc_auc_score(labels.loc[risk.index], risk):.4f}",
            ],
        ],
    )
    top = model.feature_importances(n_repeats=3).head(5)
    print(
        "top features (permutation importance, held-out ROC-AUC drop): "
        + ", ".join(f"{r.feature} {r.importance:.3f}" for r in top.itertuples())
    )


GENERATE = """
import sys
from reco.datasets import make_shop
shop = make_shop(int(sys.argv[1]), 2000, orders_per_year=22.0, random_state=0,
                 views_per_purchase=0, extra_views_per_order=0, browse_sessions_per_order=0)
shop.order_lines[["order_id", "customer_id", "value", "timestamp"]].to_parquet(sys.argv[2])
"""

SPEED = """
import json, resource, sys, time
import pandas as pd
from reco.customers import ChurnModel, churn_features
lines = pd.read_parquet(sys.argv[1])
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
features = churn_features(lines, value="value", order="order_id", cutoff=lines["timestamp"].max())
features_s = time.perf_counter() - started
started = time.perf_counter()
model = ChurnModel(random_state=0).fit(lines, value="value", order="order_id")
fit_s = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"lines": len(lines), "customers": len(features), "features_s": features_s,
                  "fit_s": fit_s, "train_rows": model.n_train_rows_,
                  "peak_mib": peak, "loaded_mib": loaded}))
"""


def speed(customers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "lines.parquet")
        subprocess.run([sys.executable, "-c", GENERATE, str(customers), path], check=True)
        done = subprocess.run(
            [sys.executable, "-c", SPEED, path], capture_output=True, text=True, check=True
        )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print_table(
        "Speed: churn_features at one cutoff, and ChurnModel.fit (3 training cutoffs stacked); "
        "a fresh process that reads the lines from Parquet",
        [
            "order lines",
            "customers",
            "features s",
            "fit s",
            "train rows",
            "peak RSS MiB",
            "RSS with the lines loaded MiB",
            "target",
        ],
        [
            [
                f"{out['lines']:,}",
                f"{out['customers']:,}",
                f"{out['features_s']:.1f}",
                f"{out['fit_s']:.1f}",
                f"{out['train_rows']:,}",
                f"{out['peak_mib']:,.0f}",
                f"{out['loaded_mib']:,.0f}",
                f"features + fit < 120 s: {out['features_s'] + out['fit_s'] < 120}",
            ]
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--shop-customers", type=int, default=50_000)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    cdnow()
    telco()
    shop(args.shop_customers)
    if not args.skip_speed:
        speed(args.customers)


if __name__ == "__main__":
    main()
