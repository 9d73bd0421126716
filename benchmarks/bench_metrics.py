"""ndcg@100 + recall@100 + map@100 for 100,000 users: reco.eval vs ranx on the same input.

Both get the same ranked lists (100 items per user, strictly decreasing scores) and the same
truth (binary, 1-30 items per user, 80% of them among 20,000 known items). Input building is
timed apart from evaluation. Target (issue #3): reco at least as fast as ranx, same values.

    python benchmarks/bench_metrics.py [--users 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from _common import print_table, timed
from reco.base import RecBatch
from reco.data import IdMap, Interactions
from reco.eval import metrics as m


def make_input(n_users: int, n_items: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity /= popularity.sum()
    # ranked lists: n distinct items per user, drawn by popularity
    keys = rng.random((n_users, n_items // 20)) ** (1.0 / (popularity[: n_items // 20] * 1e4))
    lists = np.argsort(-keys, axis=1)[:, :n].astype(np.int32)
    sizes = rng.integers(1, 31, n_users)
    truth_user = np.repeat(np.arange(n_users), sizes)
    truth_item = rng.choice(n_items, size=truth_user.size, p=popularity)
    truth = pd.DataFrame({"user": truth_user, "item": truth_item}).drop_duplicates()
    return lists, truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import ranx

    k = 100
    lists, truth = make_input(args.users, args.items, k)
    users = np.array([f"u{u}" for u in range(args.users)], dtype=object)
    item_ids = np.array([f"i{j}" for j in range(args.items)], dtype=object)

    started = time.perf_counter()
    item_map = IdMap(item_ids, name="item")
    recs = RecBatch(
        users,
        lists,
        np.tile(-np.arange(k, dtype=np.float32), (args.users, 1)),
        np.full(args.users, k, np.int32),
        item_map,
    )
    frame = pd.DataFrame({"user_id": users[truth["user"]], "item_id": item_ids[truth["item"]]})
    test = Interactions.from_frame(frame, user_map=IdMap(users, name="user"), item_map=item_map)
    reco_build = time.perf_counter() - started

    started = time.perf_counter()
    run_frame = pd.DataFrame(
        {
            "q_id": pd.Series(np.repeat(users, k), dtype=object),
            "doc_id": pd.Series(item_ids[lists.ravel()], dtype=object),
            "score": np.tile(np.arange(k, 0, -1, dtype=np.float64), args.users),
        }
    )
    qrels_frame = pd.DataFrame(
        {
            "q_id": frame["user_id"].astype(object),
            "doc_id": frame["item_id"].astype(object),
            "score": 1,
        }
    )
    qrels = ranx.Qrels.from_df(qrels_frame, q_id_col="q_id", doc_id_col="doc_id", score_col="score")
    run = ranx.Run.from_df(run_frame, q_id_col="q_id", doc_id_col="doc_id", score_col="score")
    ranx_build = time.perf_counter() - started

    names = [f"ndcg@{k}", f"recall@{k}", f"map@{k}"]

    def ours():
        judged = m.judge(recs, test, k)
        return {
            "ndcg": m.ACCURACY["ndcg"](judged, k),
            "recall": m.ACCURACY["recall"](judged, k),
            "map": m.ACCURACY["map"](judged, k),
        }

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ranx.evaluate(qrels, run, names, return_mean=False)

    reco_values, peer_values = ours(), theirs()
    order = pd.Index(users).get_indexer(sorted(run.keys()))  # ranx orders queries by id
    gaps = {
        name: float(np.abs(reco_values[name.split("@")[0]][order] - peer_values[name]).max())
        for name in names
    }
    reco_s, _ = timed(ours, args.repeat)
    ranx_s, _ = timed(theirs, args.repeat)
    print(
        f"{args.users:,} users, lists of {k}, {len(truth):,} truth pairs; median of {args.repeat}"
    )
    print("max |reco - ranx| per metric: " + ", ".join(f"{n} {g:.1e}" for n, g in gaps.items()))
    print_table(
        "ndcg@100 + recall@100 + map@100",
        ["library", "evaluate s", "input build s", "evaluate vs ranx"],
        [
            ["ranx", f"{ranx_s:.3f}", f"{ranx_build:.2f}", "1.00x"],
            ["reco", f"{reco_s:.3f}", f"{reco_build:.2f}", f"{ranx_s / reco_s:.2f}x faster"],
        ],
    )
    print(f"\nratio ranx / reco = {ranx_s / reco_s:.2f} (target >= 1)")


if __name__ == "__main__":
    main()
