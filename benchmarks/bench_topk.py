"""Batch top-10 with seen items excluded: reco's fused kernel vs implicit's filtered recommend.

Same factor matrices (10,000 users and 10,000 items, 64 factors, float32), same interaction
matrix, 2 threads for both (BLAS limited to 2 as well). Prints the medians and the ratios.
Target (issue #2): reco's filtered top-k at least 3x faster than implicit's filtered call.

    python benchmarks/bench_topk.py [--users 10000] [--items 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from _common import power_law_matrix, print_table, timed
from reco._topk import dot_topk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--per-user", type=int, default=50, help="mean seen items per user")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from implicit.cpu.als import AlternatingLeastSquares

    rng = np.random.default_rng(0)
    users = rng.standard_normal((args.users, args.factors), dtype=np.float32) / 8
    items = rng.standard_normal((args.items, args.factors), dtype=np.float32) / 8
    seen = power_law_matrix(
        args.users, args.items, args.users * args.per_user, seed=1, exponent=0.8
    )
    seen.sort_indices()
    user_ids = np.arange(args.users)

    peer = AlternatingLeastSquares(factors=args.factors, num_threads=args.threads)
    peer.user_factors, peer.item_factors = users, items
    seen_scipy = seen.tocsr()
    import scipy.sparse as sp

    seen_matrix = sp.csr_matrix(seen_scipy)

    with threadpool_limits(limits=args.threads):
        ours = dot_topk(users, items, 10, history=seen, n_threads=args.threads)
        ids, scores = peer.recommend(user_ids, seen_matrix, N=10, filter_already_liked_items=True)
        same_items = float((np.sort(ids, axis=1) == np.sort(ours.items, axis=1)).mean())
        score_gap = float(np.abs(np.sort(scores, axis=1) - np.sort(ours.scores, axis=1)).max())

        reco_s, _ = timed(
            lambda: dot_topk(users, items, 10, history=seen, n_threads=args.threads), args.repeat
        )
        reco_plain_s, _ = timed(
            lambda: dot_topk(users, items, 10, n_threads=args.threads), args.repeat
        )
        peer_s, _ = timed(
            lambda: peer.recommend(user_ids, seen_matrix, N=10, filter_already_liked_items=True),
            args.repeat,
        )
        peer_plain_s, _ = timed(
            lambda: peer.recommend(user_ids, seen_matrix, N=10, filter_already_liked_items=False),
            args.repeat,
        )

    print(
        f"{args.users:,} users x {args.items:,} items, {args.factors} factors, "
        f"{seen.nnz:,} seen pairs (mean {seen.nnz / args.users:.0f}/user), "
        f"{args.threads} threads, median of {args.repeat}"
    )
    print(
        f"agreement with implicit: {same_items:.4%} of top-10 items identical, max score gap "
        f"{score_gap:.2e}"
    )
    print_table(
        "batch top-10",
        ["call", "median s", "vs implicit filtered"],
        [
            ["implicit recommend, filtered", f"{peer_s:.3f}", "1.00x"],
            [
                "implicit recommend, unfiltered",
                f"{peer_plain_s:.3f}",
                f"{peer_s / peer_plain_s:.2f}x faster",
            ],
            ["reco dot_topk, filtered", f"{reco_s:.3f}", f"{peer_s / reco_s:.2f}x faster"],
            [
                "reco dot_topk, unfiltered",
                f"{reco_plain_s:.3f}",
                f"{peer_s / reco_plain_s:.2f}x faster",
            ],
        ],
    )
    print(f"\nratio implicit filtered / reco filtered = {peer_s / reco_s:.2f} (target >= 3)")


if __name__ == "__main__":
    main()
