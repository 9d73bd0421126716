import numpy as np
import pandas as pd
import pytest

from reco.data import Interactions
from reco.datasets import make_shop
from reco.exceptions import InvalidParameterError
from reco.models import AssociationRuleRecommender

BASKETS = (
    [["tent", "stove"]] * 6 + [["tent", "stove", "gas"]] * 4 + [["tent", "mat"]] * 2 + [["gas"]] * 3
)


def history():
    return Interactions.from_frame(
        pd.DataFrame({"user_id": ["ann", "ann", "bob"], "item_id": ["tent", "mat", "gas"]}),
        item_map=None,
    )


def test_scores_are_the_best_rule_confidence():
    frame = pd.DataFrame(
        [(t, i) for t, b in enumerate(BASKETS) for i in b], columns=["transaction_id", "item_id"]
    )
    model = AssociationRuleRecommender(min_support=2, min_threshold=0.0)
    model.fit(Interactions.from_frame(frame.rename(columns={"transaction_id": "user_id"})))
    rec = model.recommend_for_items(["tent"], n=3)
    # tent -> stove: 10/12; tent -> gas: 4/12; tent -> mat: 2/12
    assert rec.items.tolist() == ["stove", "gas", "mat"]
    np.testing.assert_allclose(rec.scores, [10 / 12, 4 / 12, 2 / 12], rtol=1e-6)
    # {tent, stove} -> gas: 4/10 beats tent -> gas (4/12) and stove -> gas (4/10): the max
    pair = model.recommend_for_items(["tent", "stove"], n=2)
    assert pair.items.tolist()[0] == "gas"
    assert pair.scores[0] == pytest.approx(0.4)


def test_fit_on_order_baskets_serves_user_histories():
    model = AssociationRuleRecommender(min_support=2, min_threshold=0.1)
    model.fit(history(), baskets=BASKETS)
    rec = model.recommend("ann", n=2)
    assert rec.items.tolist()[0] == "stove"  # from tent; mat is seen
    why = model.explain("ann", "stove")
    assert list(why["antecedent"]) == [("tent",)]
    assert why["confidence"].iloc[0] == pytest.approx(10 / 12)
    assert model.rules_["consequent"].map(len).eq(1).all()


def test_planted_bundles_drive_recommendations():
    shop = make_shop(2000, 120, n_bundles=3, bundle_rate=0.3, random_state=2)
    orders = shop.order_lines[["order_id", "product_id"]].rename(
        columns={"order_id": "transaction_id", "product_id": "item_id"}
    )
    data = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    model = AssociationRuleRecommender(min_support=0.005, min_threshold=0.3)
    model.fit(data, baskets=orders)
    for bundle in shop.truth.bundles:
        rest = set(bundle[1:])
        rec = model.recommend_for_items([bundle[0]], n=len(rest))
        assert set(rec.items.tolist()) == rest


def test_bad_parameters():
    for model, message in [
        (AssociationRuleRecommender(metric="leverage"), "metric"),
        (AssociationRuleRecommender(max_antecedent_len=3), "max_antecedent_len"),
        (AssociationRuleRecommender(min_threshold=-1), "min_threshold"),
    ]:
        with pytest.raises(InvalidParameterError, match=message):
            model.fit(history())


def test_popular_fallback_fills_lists_below_every_rule():
    long = pd.DataFrame(
        [(t, i) for t, b in enumerate(BASKETS) for i in b], columns=["order", "product"]
    )
    X = Interactions.from_frame(
        pd.DataFrame(
            {"user_id": ["u1", "u2", "u3", "u4"], "item_id": ["gas", "gas", "stove", "mat"]}
        )
    )
    model = AssociationRuleRecommender(min_support=2, min_threshold=0.5).fit(
        X, baskets=long, transaction="order", item="product"
    )
    rec = model.recommend_for_items(["mat"], n=3)
    # mat -> tent is the only rule (2/2); the rest are fills by training popularity
    assert rec.items.tolist() == ["tent", "gas", "stove"]
    assert rec.scores[0] == pytest.approx(1.0) and (rec.scores[1:] < 0).all()
    assert rec.scores[1] > rec.scores[2]  # gas: 2 users, stove: 1
    strict = AssociationRuleRecommender(min_support=2, min_threshold=0.5, fallback=None)
    strict.fit(X, baskets=long, transaction="order", item="product")
    assert strict.recommend_for_items(["mat"], n=3).items.tolist() == ["tent"]
    with pytest.raises(InvalidParameterError, match="fallback"):
        AssociationRuleRecommender(fallback="random").fit(
            X, baskets=long, transaction="order", item="product"
        )
