"""Time the first and the second call of one public entry point, in this (fresh) process.

Run by ``bench_coldstart.py`` as ``python _coldstart_probe.py NAME`` inside the environment
being measured; prints one JSON line ``{"name", "first", "second"}`` (seconds). ``NAME`` is
one of :data:`ENTRY_POINTS`, or ``import`` (the time to import reco and its four subpackages,
printed as ``first``). The shop data are made before the clock starts; a step's inputs (an
``Interactions``, fitted itemsets, a summary) are made by a setup function outside the timing.
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def _import_time() -> float:
    started = time.perf_counter()
    import reco
    import reco.customers
    import reco.eval
    import reco.mining
    import reco.models  # noqa: F401

    return time.perf_counter() - started


def _shop():
    from reco.datasets import make_shop

    return make_shop(2000, 300, random_state=0)


def _interactions(shop):
    from reco import Interactions

    return Interactions.from_frame(
        shop.events,
        user="customer_id",
        item="product_id",
        time="timestamp",
        event="event",
        event_weights={"view": 1.0, "cart": 3.0, "purchase": 10.0},
    )


def _orders(shop):
    return shop.order_lines.rename(columns={"order_id": "transaction_id", "product_id": "item_id"})


def _model_steps(name: str, make):
    """Two steps per model: ``fit`` and ``recommend`` (a batch of 500 users, then one user)."""

    def fit(state):
        make().fit(state["train"])

    def recommend(state):
        model = state.setdefault(name, make().fit(state["train"]))
        users = state["train"].user_map.pandas_index[:500].to_numpy()
        model.recommend_batch(users, 10)
        model.recommend(users[0], 10)

    return {f"{name}.fit": (fit, "train"), f"{name}.recommend": (recommend, "train")}


def _entry_points():
    from reco import customers as cu
    from reco import eval as ev
    from reco import mining as mi
    from reco import models as mo

    steps = {"Interactions.from_frame": (lambda s: _interactions(s["shop"]), "shop")}
    for name, make in {
        "Popularity": mo.Popularity,
        "ItemKNN": lambda: mo.ItemKNN(k=50),
        "RP3beta": lambda: mo.RP3beta(k=100),
        "EASE": lambda: mo.EASE(regularization=200.0),
        "SLIM": lambda: mo.SLIM(),
        "AssociationRuleRecommender": lambda: mo.AssociationRuleRecommender(min_support=0.002),
    }.items():
        steps.update(_model_steps(name, make))
    for algorithm in ("fpgrowth", "eclat", "apriori"):
        steps[f"frequent_itemsets[{algorithm}]"] = (
            lambda s, a=algorithm: mi.frequent_itemsets(s["orders"], 0.002, algorithm=a),
            "orders",
        )
    for kind in ("closed", "maximal"):
        steps[f"frequent_itemsets[{kind}]"] = (
            lambda s, k=kind: mi.frequent_itemsets(s["orders"], 0.002, kind=k),
            "orders",
        )
    steps["association_rules"] = (
        lambda s: mi.association_rules(s["itemsets"], "lift", 1.0),
        "itemsets",
    )
    steps["frequent_sequences"] = (
        lambda s: mi.frequent_sequences(
            s["shop"].events, 0.005, session="customer_id", item="product_id", max_len=4
        ),
        "shop",
    )
    steps["sequential_rules"] = (lambda s: mi.sequential_rules(s["sequences"], 0.1), "sequences")
    steps["summary"] = (lambda s: cu.summary(s["shop"].order_lines, value="value"), "shop")
    steps["RFMScorer"] = (lambda s: cu.RFMScorer().fit_transform(s["summary"]), "summary")
    for model in ("BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGamma"):
        steps[f"{model}.fit"] = (
            lambda s, m=model: (
                getattr(cu, m)().fit(s["summary"]).probability_alive()
                if m != "GammaGamma"
                else cu.GammaGamma().fit(s["summary"]).conditional_expected_spend()
            ),
            "summary",
        )
    steps["BetaGeoBetaBinom.fit"] = (
        lambda s: cu.BetaGeoBetaBinom().fit(s["discrete"]).conditional_expected_purchases(5),
        "discrete",
    )
    steps["lifetime_value"] = (
        lambda s: cu.lifetime_value(
            cu.BetaGeo().fit(s["summary"]), cu.GammaGamma().fit(s["summary"]), s["summary"]
        ),
        "summary",
    )
    steps["evaluate"] = (
        lambda s: ev.evaluate(
            {"pop": mo.Popularity(), "knn": mo.ItemKNN(k=50)},
            ev.leave_last_n(s["train"], 1),
        ),
        "train",
    )
    steps["churn_features"] = (
        lambda s: cu.churn_features(s["shop"].order_lines, cutoff=s["cutoff"], value="value"),
        "cutoff",
    )
    return steps


def _state(need: str):
    import pandas as pd

    state = {"shop": _shop()}
    shop = state["shop"]
    if need in ("train",):
        state["train"] = _interactions(shop)
    if need in ("orders", "itemsets"):
        state["orders"] = _orders(shop)
    if need == "itemsets":
        from reco.mining import frequent_itemsets

        state["itemsets"] = frequent_itemsets(state["orders"], 0.002)
    if need == "sequences":
        from reco.mining import frequent_sequences

        state["sequences"] = frequent_sequences(
            shop.events, 0.005, session="customer_id", item="product_id", max_len=4
        )
    if need in ("summary", "discrete"):
        from reco.customers import summary

        state["summary"] = summary(shop.order_lines, value="value")
        weekly = summary(shop.order_lines, freq="W")
        state["discrete"] = pd.DataFrame(
            {
                "frequency": weekly["frequency"].round().astype(int),
                "recency": weekly["recency"].round().astype(int),
                "n_periods": weekly["T"].round().astype(int),
            }
        ).query("frequency <= recency <= n_periods and (frequency == 0) == (recency == 0)")
    if need == "cutoff":
        state["cutoff"] = shop.truth.end - pd.Timedelta(days=90)
    return state


def main(name: str) -> None:
    if name == "import":
        print(json.dumps({"name": name, "first": _import_time(), "second": 0.0}))
        return
    steps = _entry_points()
    step, need = steps[name]
    state = _state(need)
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            started = time.perf_counter()
            step(state)
            times.append(time.perf_counter() - started)
    print(json.dumps({"name": name, "first": times[0], "second": times[1]}))


def names() -> list[str]:
    return list(_entry_points())


if __name__ == "__main__":
    if sys.argv[1] == "--list":
        print("\n".join(names()))
    else:
        main(sys.argv[1])
