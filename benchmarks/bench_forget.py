"""Erasure without a refit: ``forget_users`` against a refit without the customers.

100,000 users x 20,000 items, 3.9M distinct interactions with Zipf item popularity (seeded),
2 threads. ItemKNN and RP3beta update their neighbour lists (only the forgotten customers'
items' co-occurrences are computed again); the rule recommender subtracts the customers'
baskets from its itemsets' counts and derives the rules again. Every updated model's state
equals a refit's bit for bit, checked here on every case. The refit is what the other models
do, and what the peers offer: implicit has no erasure, so its figure is a fit of its
CosineRecommender (K=100, the same model as ItemKNN(k=99, neighbourhood="history")) on the
kept history.

Cases: one customer of median history length, one at the 99th percentile, ten drawn at
random. Medians of ``--repeat`` runs (each forget starts from a copy of the fitted model).

    python benchmarks/bench_forget.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from _common import power_law_matrix, print_table
from reco.data import Interactions
from reco.models import AssociationRuleRecommender, ItemKNN, RP3beta

MODELS = {
    "ItemKNN cosine, history (implicit's model)": lambda: ItemKNN(
        k=99, neighbourhood="history", n_threads=2
    ),
    "ItemKNN cosine, candidate (default)": lambda: ItemKNN(k=100, n_threads=2),
    "RP3beta history (default)": lambda: RP3beta(k=100, n_threads=2),
    "RP3beta candidate": lambda: RP3beta(k=100, neighbourhood="candidate", n_threads=2),
    "rules from the histories (support 0.002)": lambda: AssociationRuleRecommender(
        min_support=0.002, n_threads=2
    ),
}


def _cases(X: sp.csr_array, rng: np.random.Generator) -> dict[str, np.ndarray]:
    lengths = np.diff(X.indptr)
    order = np.argsort(lengths, kind="stable")
    return {
        "1 customer, median history": order[[len(order) // 2]],
        "1 customer, 99th percentile": order[[int(len(order) * 0.99)]],
        "10 customers at random": rng.choice(X.shape[0], 10, replace=False),
    }


def _without(data: Interactions, rows: np.ndarray) -> Interactions:
    stay = np.setdiff1d(np.arange(data.n_users), rows)
    X = sp.csr_array(data.to_csr()[stay])
    return Interactions.from_csr(X, user_ids=data.user_map.ids(stay), item_ids=data.item_map.array)


def _median_seconds(call, *args, repeat: int) -> tuple[object, float]:
    times, result = [], None
    for _ in range(repeat):
        result, seconds = call(*args)
        times.append(seconds)
    return result, statistics.median(times)


def _forget(model, ids):
    clone = copy.deepcopy(model)
    started = time.perf_counter()
    clone.forget_users(ids)
    return clone, time.perf_counter() - started


def _fit(make, data):
    started = time.perf_counter()
    model = make().fit(data)
    return model, time.perf_counter() - started


def _implicit_fit(kept: Interactions) -> float:
    from implicit.nearest_neighbours import CosineRecommender

    X = sp.csr_matrix(kept.to_csr().astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CosineRecommender(K=100, num_threads=2)
        started = time.perf_counter()
        model.fit(X, show_progress=False)
        return time.perf_counter() - started


def _same(model, refit) -> bool:
    """Every fitted attribute of the model file equal to the refit's, bit for bit."""
    for name in type(model)._file_schema:
        ours, theirs = getattr(model, name), getattr(refit, name)
        if sp.issparse(ours):
            ours, theirs = (ours.indptr, ours.indices, ours.data), (
                theirs.indptr, theirs.indices, theirs.data)  # fmt: skip
        elif hasattr(ours, "array"):  # an IdMap
            ours, theirs = (ours.array,), (theirs.array,)
        else:
            ours, theirs = (ours,), (theirs,)
        if not all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True)):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    X = power_law_matrix(100_000, 20_000, 5_000_000, seed=0)
    data = Interactions.from_csr(X)
    print(f"{X.shape[0]:,} users x {X.shape[1]:,} items, {X.nnz:,} interactions, 2 threads")
    cases = _cases(X, np.random.default_rng(1))
    kept = {name: _without(data, rows) for name, rows in cases.items()}
    rows_out, all_equal = [], True
    with threadpool_limits(2):
        implicit_times = {
            name: statistics.median(_implicit_fit(kept[name]) for _ in range(args.repeat))
            for name in cases
        }
        for label, make in MODELS.items():
            model = make().fit(data)
            for name, rows in cases.items():
                ids = data.user_map.ids(rows)
                forgot, t_forget = _median_seconds(_forget, model, ids, repeat=args.repeat)
                refit, t_refit = _median_seconds(_fit, make, kept[name], repeat=args.repeat)
                equal = _same(forgot, refit)
                all_equal &= equal
                peer = implicit_times[name] if "implicit" in label else None
                rows_out.append([
                    label, name, int(X[rows].nnz), f"{t_forget:.3f}", f"{t_refit:.3f}",
                    f"{t_forget / t_refit:.2f}",
                    "-" if peer is None else f"{peer:.3f}",
                    "-" if peer is None else f"{t_forget / peer:.2f}",
                    "yes" if equal else "NO",
                ])  # fmt: skip
    print_table(
        f"forget_users against a refit without the customers (medians of {args.repeat})",
        ["model", "forgotten", "their interactions", "forget s", "reco refit s",
         "forget / refit", "implicit refit s", "forget / implicit", "lists equal a refit's"],
        rows_out,
    )  # fmt: skip
    print(f"\nevery updated model equals its refit bit for bit: {all_equal}")


if __name__ == "__main__":
    main()
