"""Sequential patterns: reco.mining.frequent_sequences vs the `prefixspan` package (PyPI).

Data: the browsing and purchase sessions of generated shops (``make_shop``, seeded) at three
sizes; a session is the product ids of its events in time order. Both libraries mine every
frequent sequence (no gap or span limits: `prefixspan` has none) at the same absolute support;
the pattern sets must agree. Time is the median of ``--repeat`` runs on input already in each
library's form (reco: the events frame; prefixspan: a list of lists), after a warm-up call.
reco is also timed with ``max_gap="1h"``, which the peer cannot express.

    pip install prefixspan   # the peer, benchmarks only
    python benchmarks/bench_sequences.py [--repeat 3]
"""

from __future__ import annotations

import argparse

from _common import median_run, print_table
from reco.datasets import make_shop
from reco.mining import frequent_sequences


def main() -> None:
    from prefixspan import PrefixSpan

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows, verdicts = [], []
    for n_customers, n_products, min_count in [
        (2_000, 500, 20),
        (10_000, 1_000, 40),
        (30_000, 2_000, 100),
    ]:
        shop = make_shop(n_customers=n_customers, n_products=n_products, random_state=0)
        events = shop.events.sort_values(["session_id", "timestamp"], kind="stable")
        sessions = events.groupby("session_id", sort=True)["product_id"].apply(list).tolist()
        frequent_sequences(events.head(500), 2, item="product_id")  # compile outside timing
        ours, reco_s = median_run(
            lambda e=events, m=min_count: frequent_sequences(e, m, item="product_id"), args.repeat
        )
        _, gap_s = median_run(
            lambda e=events, m=min_count: frequent_sequences(e, m, item="product_id", max_gap="1h"),
            args.repeat,
        )
        theirs, peer_s = median_run(
            lambda s=sessions, m=min_count: PrefixSpan(s).frequent(m), args.repeat
        )
        agree = {tuple(p): c for c, p in theirs} == dict(
            zip(ours.frame["sequence"], ours.frame["count"], strict=True)
        )
        size = f"{len(events):,} events / {len(sessions):,} sessions"
        rows.append([size, min_count, "reco", f"{len(ours):,}", f"{reco_s:.2f}", "1.0x"])
        rows.append([size, min_count, "reco, max_gap=1h", "", f"{gap_s:.2f}", ""])
        rows.append(
            [
                size,
                min_count,
                "prefixspan",
                f"{len(theirs):,}",
                f"{peer_s:.2f}",
                f"{peer_s / reco_s:.1f}x",
            ]
        )
        verdicts.append(
            f"{size}: patterns agree: {agree}; prefixspan / reco = {peer_s / reco_s:.1f}"
        )
    print_table(
        "frequent sequences (median seconds, input in each library's form)",
        ["data", "min count", "library", "patterns", "time s", "vs reco"],
        rows,
    )
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
