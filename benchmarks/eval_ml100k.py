"""MovieLens 100K through reco.eval: every reco model beside implicit's item-item peers.

Reads ``ml100k/u.data.gz`` from RECO_DATA_DIR (default ../shared/data; MovieLens may not be
redistributed, so it is never copied here). Every rating is an interaction. Two seeded splits:

* a per-user 80/20 random holdout: NDCG, Recall, Precision, MAP, MRR, HitRate at 10 and 20,
  plus coverage, novelty and Gini;
* strong generalisation (Liang et al. 2018): 100 held-out users, 80% of their items folded in,
  Recall@20, Recall@50 (recall_liang) and NDCG@100.

Peers: implicit's CosineRecommender, TFIDFRecommender and BM25Recommender, tuned like reco's
models (the same search, the same validation carve, NDCG@10; every grid is printed), then fitted
on the same training part with the tuned parameters and asked through their own recommend();
their lists are scored by the same reco metrics. Ratios are quoted against the tuned peers.

    python benchmarks/eval_ml100k.py [--extra-seeds 1 2]
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pandas as pd

from _peers import implicit_lists, implicit_spaces
from reco.data import Interactions
from reco.datasets import read_movielens
from reco.eval import evaluate, random_holdout, search, user_split
from reco.models import EASE, SLIM, ItemKNN, Popularity, RP3beta

DATA = Path(
    os.environ.get("RECO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


SPACES = {
    "ItemKNN": (
        ItemKNN(),
        {
            "k": [20, 50, 100, 200, 400],
            "shrink": [0.0, 10.0, 50.0],
            "similarity": ["cosine", "asymmetric_cosine"],
            "alpha": [0.1, 0.2, 0.3, 0.5, 0.7],
            "neighbourhood": ["candidate", "history"],
        },
    ),
    "RP3beta": (
        RP3beta(),
        {
            "alpha": [0.4, 0.6, 0.8, 1.0, 1.2],
            "beta": [0.0, 0.1, 0.2, 0.35, 0.5, 0.65],
            "k": [50, 100, 200, 400, 800],
            "normalize": [False, True],
            "neighbourhood": ["history", "candidate"],
        },
    ),
    "EASE": (
        EASE(),
        {"regularization": [50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0, 2000.0, 3000.0]},
    ),
    "SLIM": (SLIM(), {"l1": [0.1, 0.5, 1.0, 3.0], "l2": [3.0, 10.0, 30.0, 100.0]}),
}


def reco_models(split) -> tuple[dict, list]:
    """Every reco recommender, each tuned by a full grid search (reco.eval.search, NDCG@10) on
    a validation split carved from this split's training part."""
    models = {"reco Popularity": Popularity()}
    notes = []
    for name, (estimator, space) in SPACES.items():
        found = search(estimator, space, split, metric="ndcg", k=10, method="grid", n_iter=None)
        params = ", ".join(f"{k}={v}" for k, v in found.best_params.items())
        models[f"reco {name}"] = found.best_estimator
        notes.append(
            f"  {name}: {params} (validation ndcg@10 {found.best_score:.4f}, "
            f"{len(found.trace)} candidates, {found.trace['fit_s'].sum():.1f} s fitting)"
        )
    return models, notes


def tuned_peers(split) -> tuple[dict, list]:
    """implicit's item-item models, each tuned by the same grid search as reco's models."""
    models, notes = {}, []
    for name, (estimator, space) in implicit_spaces().items():
        found = search(estimator, space, split, metric="ndcg", k=10, method="grid", n_iter=None)
        params = ", ".join(f"{k}={v}" for k, v in found.best_params.items())
        models[f"{name}({params})"] = found.best_estimator.implicit_model()
        notes.append(
            f"  {name}: {params} (validation ndcg@10 {found.best_score:.4f}, "
            f"{len(found.trace)} candidates)"
        )
    return models, notes


def print_grids() -> None:
    print("\n== grids searched (NDCG@10 on a validation carve of each split's training part)")
    for name, (_, space) in {**SPACES, **implicit_spaces()}.items():
        size = 1
        for values in space.values():
            size *= len(values)
        print(f"  {name} ({size} candidates): " + "; ".join(f"{k} {v}" for k, v in space.items()))


def run(split, metrics, k, title):
    entries, notes = reco_models(split)
    peers, peer_notes = tuned_peers(split)
    print(f"\n== {title}: tuned settings")
    print("\n".join(notes + peer_notes))
    timings = {}
    for name, model in peers.items():
        recs, fit_s, rec_s = implicit_lists(model, split, max(k))
        entries[name] = recs
        timings[name] = (fit_s, rec_s)
    result = evaluate(entries, split, metrics=metrics, k=k)
    table = result.summary.assign(
        value=lambda f: (
            f["mean"].map("{:.4f}".format)
            + " ±"
            + ((f["ci_high"] - f["ci_low"]) / 2).map(lambda v: f"{v:.4f}" if v == v else "")
        )
    )
    wide = table.pivot_table(
        index="model", columns=["metric", "k"], values="value", aggfunc="first", sort=False
    )
    times = result.timings.set_index("model")[["fit_s", "recommend_s"]]
    times.loc[times["fit_s"] == 0.0, "fit_s"] = float("nan")  # refit inside search
    for name, (fit_s, rec_s) in timings.items():
        times.loc[name] = (fit_s, rec_s)
    print(f"\n== {title}: {split}")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(wide.to_string())
        print("\nseconds:")
        print(times.round(3).to_string())
    return result


def check_targets(result) -> None:
    """The published ordering and the margin over implicit, with paired tests (reco.eval)."""
    from reco.eval import compare

    table = result.table(10)["ndcg"]
    order = ["reco EASE", "reco ItemKNN", "reco RP3beta", "reco Popularity"]
    print(
        "\nndcg@10 ordering, as measured here (paired tests; the published one is EASE > "
        "RP3beta > ItemKNN > Popularity):"
    )
    for better, worse in itertools.pairwise(order):
        test = compare(result, baseline=worse, metrics=["ndcg"], n_bootstrap=2000)
        row = test[(test["model"] == better) & (test["k"] == 10)].iloc[0]
        verdict = "higher" if row["diff"] > 0 else "NOT higher"
        print(
            f"  {better} {table[better]:.4f} vs {worse} {table[worse]:.4f}: {verdict} "
            f"(diff {row['diff']:+.4f}, 95% CI [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}], "
            f"paired t-test p = {row['p_ttest']:.3g})"
        )
    best_reco = max((v, n) for n, v in table.items() if n.startswith("reco"))
    best_peer = max((v, n) for n, v in table.items() if n.startswith("implicit"))
    print(
        f"best reco ({best_reco[1]}) / best implicit item-item ({best_peer[1]}) ndcg@10 = "
        f"{best_reco[0]:.4f} / {best_peer[0]:.4f} = {best_reco[0] / best_peer[0]:.3f} "
        "against the tuned peers (target >= 1.10)"
    )


def main() -> None:
    import argparse
    import warnings

    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--extra-seeds",
        type=int,
        nargs="*",
        default=[],
        help="also repeat the tuned 80/20 holdout and the ordering check with these split seeds",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Method expects CSR input")  # implicit's BM25
    ratings = read_movielens(DATA / "ml100k")
    data = Interactions.from_frame(ratings, time="timestamp")  # binary: a rating is a 1
    print(
        f"MovieLens 100K: {data.describe()['n_users']} users, {data.describe()['n_items']} "
        f"items, {len(data)} ratings (all ratings count as interactions)"
    )
    print_grids()
    metrics = ["ndcg", "recall", "precision", "map", "mrr", "hit_rate", "coverage", "novelty"]
    holdout = random_holdout(data, 0.2, random_state=42)
    result = run(holdout, [*metrics, "gini"], (10, 20), "per-user 80/20 holdout")
    check_targets(result)
    strong = user_split(data, 100, fold_in=0.8, random_state=42)
    run(strong, ["recall_liang", "ndcg"], (20, 50, 100), "strong generalisation")
    for seed in args.extra_seeds:
        split = random_holdout(data, 0.2, random_state=seed)
        check_targets(run(split, ["ndcg", "recall", "map"], (10,), f"80/20 holdout, seed {seed}"))


if __name__ == "__main__":
    main()
