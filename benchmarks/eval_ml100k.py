"""MovieLens 100K through reco.eval: every reco model beside implicit's item-item peers.

Reads ``ml100k/u.data.gz`` from RECO_DATA_DIR (default ../shared/data; MovieLens may not be
redistributed, so it is never copied here). Every rating is an interaction. Two seeded splits:

* a per-user 80/20 random holdout: NDCG, Recall, Precision, MAP, MRR, HitRate at 10 and 20,
  plus coverage, novelty and Gini;
* strong generalisation (Liang et al. 2018): 100 held-out users, 80% of their items folded in,
  Recall@20, Recall@50 (recall_liang) and NDCG@100.

Peers: implicit's CosineRecommender and BM25Recommender (K=100), fitted on the same training part
and asked through their own recommend(); their lists are scored by the same reco metrics.

    python benchmarks/eval_ml100k.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from _peers import implicit_lists
from reco.data import Interactions
from reco.datasets import read_movielens
from reco.eval import evaluate, random_holdout, user_split
from reco.models import Popularity

DATA = Path(
    os.environ.get("RECO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def reco_models() -> dict:
    """Every reco recommender that exists, with its defaults or tuned settings."""
    return {
        "reco Popularity": Popularity(),
        "reco Popularity(half_life=60D)": Popularity(half_life="60D"),
    }


def peers() -> dict:
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

    return {
        "implicit Cosine(K=100)": CosineRecommender(K=100, num_threads=2),
        "implicit BM25(K=100)": BM25Recommender(K=100, num_threads=2),
    }


def run(split, metrics, k, title):
    entries = dict(reco_models())
    timings = {}
    for name, model in peers().items():
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
    for name, (fit_s, rec_s) in timings.items():
        times.loc[name] = (fit_s, rec_s)
    print(f"\n== {title}: {split}")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(wide.to_string())
        print("\nseconds:")
        print(times.round(3).to_string())
    return result


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="Method expects CSR input")  # implicit's BM25
    ratings = read_movielens(DATA / "ml100k")
    data = Interactions.from_frame(ratings, value="rating", time="timestamp")
    print(
        f"MovieLens 100K: {data.describe()['n_users']} users, {data.describe()['n_items']} "
        f"items, {len(data)} ratings (all ratings count as interactions)"
    )
    holdout = random_holdout(data, 0.2, random_state=42)
    run(
        holdout,
        ["ndcg", "recall", "precision", "map", "mrr", "hit_rate", "coverage", "novelty", "gini"],
        (10, 20),
        "per-user 80/20 holdout",
    )
    strong = user_split(data, 100, fold_in=0.8, random_state=42)
    run(strong, ["recall_liang", "ndcg"], (20, 50, 100), "strong generalisation")


if __name__ == "__main__":
    main()
