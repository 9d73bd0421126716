"""``reco demo``: the whole pipeline on a generated shop, with a short report per step."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["add_demo", "demo"]

EVENT_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 10.0}


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 66 - len(title)))


def demo(customers: int, products: int, seed: int, holdout_days: int) -> int:
    from .. import __version__
    from ..base import Recommender
    from ..data import Interactions
    from ..datasets import make_shop
    from ..eval import hit_rate
    from ..models import EASE, ItemKNN, Popularity, RP3beta

    print(f"reco {__version__} demo: a generated shop, end to end")

    _section("1. Shop")
    started = time.perf_counter()
    shop = make_shop(customers, products, random_state=seed, contacts=True)
    print(f"{shop!r} generated in {time.perf_counter() - started:.2f} s (seed {seed})")
    revenue = shop.order_lines["value"].sum()
    period = f"{shop.truth.start:%Y-%m-%d} .. {shop.truth.end:%Y-%m-%d}"
    print(f"period {period}; revenue {revenue:,.2f}; {len(shop.truth.bundles)} planted bundles")
    counts = shop.events["event"].value_counts()
    print("events: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    _section("2. Interactions (views=1, carts=3, purchases=10)")
    cutoff = shop.truth.end - pd.Timedelta(days=holdout_days)
    events = shop.events
    train_events = events[events["timestamp"] < cutoff]
    train = Interactions.from_frame(
        train_events,
        user="customer_id",
        item="product_id",
        time="timestamp",
        event="event",
        event_weights=EVENT_WEIGHTS,
    )
    info = train.describe()
    print(
        f"training log before {cutoff:%Y-%m-%d}: {info['n_users']:,} customers x "
        f"{info['n_items']:,} products, {info['n_pairs']:,} pairs, density "
        f"{info['density']:.4f}"
    )

    test = shop.order_lines[shop.order_lines["timestamp"] >= cutoff]
    test = test[test["customer_id"].isin(train.user_map.pandas_index)]
    truth = test[["customer_id", "product_id"]].rename(
        columns={"customer_id": "user", "product_id": "item"}
    )
    test_users = np.sort(truth["user"].unique())
    print(
        f"holdout: purchases in the last {holdout_days} days by {len(test_users):,} known customers"
    )

    _section("3. Recommenders (hit rate@10 on the holdout, seen items excluded)")
    models = {
        "Popularity": Popularity(),
        "Popularity(half_life=14D)": Popularity(half_life="14D"),
        "ItemKNN(k=50)": ItemKNN(k=50),
        "RP3beta": RP3beta(k=100),
        "EASE(regularization=200)": EASE(regularization=200.0),
    }
    rows = []
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        batch = model.recommend_batch(test_users, 10, unknown="popular")
        rate = float(hit_rate(batch, truth, k=10).mean())
        rows.append((name, rate, fit_s, time.perf_counter() - started))
    for name, rate, fit_s, rec_s in rows:
        print(
            f"{name:<28} hit@10 {rate:6.3f}   fit {fit_s * 1000:7.1f} ms   "
            f"recommend {len(test_users):,} users {rec_s * 1000:7.1f} ms"
        )
    best_name = max(rows, key=lambda r: r[1])[0]
    best = models[best_name]

    print(f"best: {best_name}")

    _section(f"4. Top 5 for three customers ({best_name})")
    catalog = shop.products.set_index("product_id")
    for user in test_users[:3]:
        rec = best.recommend(user, 5)
        names = [
            f"{p} ({catalog.at[p, 'category']}, {catalog.at[p, 'price']:.2f})"
            for p in rec.items.tolist()
        ]
        print(f"customer {user}: " + "; ".join(names))
    if hasattr(best, "weights_") and len(test_users):
        user = test_users[0]
        top = best.recommend(user, 1).items[0]
        why = best.explain(user, top).head(3)
        reasons = ", ".join(
            f"{i} ({c:+.2f})" for i, c in zip(why["item"], why["contribution"], strict=True)
        )
        print(f"why {top} for customer {user}: because of {reasons}")

    _section("5. Frequently bought together (association rules on the orders)")
    from ..mining import association_rules, frequent_itemsets

    orders = shop.order_lines.rename(
        columns={"order_id": "transaction_id", "product_id": "item_id"}
    )
    started = time.perf_counter()
    itemsets = frequent_itemsets(orders, min_support=0.002)
    rules = association_rules(itemsets, "lift", 5.0)
    mined_s = time.perf_counter() - started
    print(
        f"{len(orders['transaction_id'].unique()):,} orders: {len(itemsets):,} frequent "
        f"itemsets (support >= 0.2%), {len(rules):,} rules with lift >= 5, "
        f"in {mined_s * 1000:.0f} ms"
    )
    top = rules.frame.sort_values(["confidence", "lift"], ascending=False).head(5)
    for row in top.itertuples():
        print(
            f"  {list(row.antecedent)} -> {list(row.consequent)}: confidence "
            f"{row.confidence:.2f}, lift {row.lift:.1f}, support {row.support:.4f}"
        )
    found = set(map(frozenset, itemsets.frame["itemset"]))
    recovered = sum(frozenset(b) in found for b in shop.truth.bundles)
    print(
        f"planted bundles found among the frequent itemsets: {recovered} of "
        f"{len(shop.truth.bundles)}"
    )

    _section("6. Customer value (RFM segments, BG/NBD + Gamma-Gamma lifetime value)")
    from ..customers import BetaGeo, GammaGamma, RFMScorer, lifetime_value, summary

    rfm_input = summary(shop.order_lines, value="value", freq="D")
    segments = RFMScorer().fit_transform(rfm_input)["segment"].value_counts()
    print("segments: " + ", ".join(f"{name} {count:,}" for name, count in segments.items()))
    started = time.perf_counter()
    purchases = BetaGeo().fit(rfm_input)
    spend = GammaGamma().fit(rfm_input)
    clv = lifetime_value(purchases, spend, rfm_input, horizon=12, period=30.0, discount_rate=0.01)
    fit_ms = (time.perf_counter() - started) * 1000
    params = ", ".join(f"{k} {v:.3g}" for k, v in purchases.params_.items())
    print(
        f"BG/NBD {params}; Gamma-Gamma p {spend.params_['p']:.3g}, q "
        f"{spend.params_['q']:.3g}, gamma {spend.params_['gamma']:.3g} ({fit_ms:.0f} ms)"
    )
    truth = shop.truth.customers.set_index("customer_id")["alive_at_end"]
    top = clv.head(len(clv) // 10)
    print(
        f"top 10% by 12-month CLV: {truth.loc[top.index].mean():.0%} still active at the "
        f"end (truth), against {truth.loc[clv.index].mean():.0%} overall"
    )
    for customer, row in clv.head(3).iterrows():
        print(
            f"  customer {customer}: CLV {row['clv']:,.2f}, P(alive) "
            f"{row['probability_alive']:.2f}, {row['expected_purchases']:.1f} purchases "
            f"expected"
        )

    _churn_section(shop, clv)

    _section("8. Serving")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        best.save(path)
        served = Recommender.load(path)
        size_kb = path.stat().st_size / 1024
    user = test_users[0] if len(test_users) else train.user_map.array[0]
    served.recommend(user, 10)
    timings = []
    for _ in range(300):
        started = time.perf_counter()
        served.recommend(user, 10)
        timings.append(time.perf_counter() - started)
    same = served.recommend(user, 10) == best.recommend(user, 10)
    print(
        f"saved and reloaded ({size_kb:.0f} KiB, no pickle); same answers: {same}; "
        f"recommend() median latency {np.median(timings) * 1e6:.0f} us"
    )
    _store_section(shop)
    return 0


def _store_section(shop) -> None:
    from ..crm import CustomerStore

    _section("9. The 360-degree view (CustomerStore in DuckDB)")
    started = time.perf_counter()
    store = CustomerStore()
    store.add_customers(shop.customers, customer="customer_id",
                        consent=["consent_email", "consent_sms", "consent_phone"])  # fmt: skip
    lines = shop.order_lines.merge(shop.products[["product_id", "category"]], on="product_id")
    store.add_orders(lines, customer="customer_id", item="product_id", time="timestamp",
                     value="value", order="order_id", category="category")  # fmt: skip
    store.add_contacts(shop.contacts, customer="customer_id", time="timestamp",
                       channel="channel", kind="kind", outcome="outcome")  # fmt: skip
    store.fit_models()
    print(f"{store!r}; loaded and models fitted in {time.perf_counter() - started:.1f} s")
    busiest = shop.contacts["customer_id"].value_counts().index[0]
    started = time.perf_counter()
    profile = store.profile(int(busiest))
    print(f"one customer's profile ({(time.perf_counter() - started) * 1000:.0f} ms):")
    print("\n".join("  " + line for line in repr(profile).splitlines()))
    cube = store.cube(["revenue", "customers", "repeat_rate"], by=["region"], period="Y",
                      rollup=True)  # fmt: skip
    print("KPIs by region (the last row: all regions):")
    print("\n".join("  " + line for line in cube.round(3).to_string(index=False).splitlines()))
    listed = store.target("email", min_p_churn=0.5, n=5)
    print(
        f"email campaign: {len(store.target('email', min_p_churn=0.5)):,} consenting customers "
        f"at risk; the first by expected value: {listed['customer_id'].tolist()}"
    )


def _churn_section(shop, clv: pd.DataFrame) -> None:
    from ..customers import ChurnModel, churn_features, value_at_risk

    _section("7. Churn (who is about to leave, and what they are worth)")
    horizon = 60
    args = {"value": "value", "order": "order_id", "events": shop.events}
    started = time.perf_counter()
    model = ChurnModel(horizon=horizon, random_state=0).fit(shop.order_lines, **args)
    risk = model.predict_proba(shop.order_lines, **args)
    held = model.holdout_scores_
    print(
        f"P(no purchase in the next {horizon} days) for {len(risk):,} customers; trained at "
        f"{len(model.training_cutoffs_)} earlier cutoffs in {time.perf_counter() - started:.1f} s; "
        f"held-out ROC-AUC {held['roc_auc']:.3f}, Brier {held['brier']:.3f}"
    )
    at_risk = value_at_risk(risk.loc[risk.index.intersection(clv.index)], clv).head(10)
    features = churn_features(
        shop.order_lines, cutoff=shop.order_lines["timestamp"].max(), horizon=horizon, **args
    )
    drivers = model.drivers(features.loc[at_risk.index], n=3)
    print("ten customers with the most value at risk (P(churn) x 12-month CLV):")
    for customer, row in at_risk.iterrows():
        why = drivers[drivers["customer"] == customer]
        reasons = ", ".join(
            f"{r.feature}={r.value:.3g} (typical {r.typical:.3g})" for r in why.itertuples()
        )
        reasons = reasons or "no feature above a typical retained customer's"
        print(
            f"  customer {customer}: P(churn) {row['p_churn']:.2f} x CLV {row['clv']:,.2f} = "
            f"{row['value_at_risk']:,.2f} at risk; drivers: {reasons}"
        )


def add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the whole pipeline on a generated shop",
        description="Generate a shop and run every step: recommenders, rules, customer value, "
        "churn, serving.",
        epilog="example:\n  reco demo --customers 2000 --products 200",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout-days", type=int, default=30)
    parser.set_defaults(run=_run_demo)


def _run_demo(args, parser) -> int:
    if args.customers < 10 or args.products < 10:
        parser.error("--customers and --products must be at least 10")
    return demo(args.customers, args.products, args.seed, args.holdout_days)
