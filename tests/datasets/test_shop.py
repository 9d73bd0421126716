import itertools

import numpy as np
import pandas as pd
import pytest

from reco.datasets import make_shop
from reco.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def shop():
    return make_shop(3000, 300, random_state=7)


def test_same_seed_same_shop():
    a, b = make_shop(300, 60, random_state=3), make_shop(300, 60, random_state=3)
    for name in ("customers", "products", "orders", "order_lines", "events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth.bundles == b.truth.bundles
    c = make_shop(300, 60, random_state=4)
    assert not a.order_lines["product_id"].equals(c.order_lines["product_id"])


def test_tables_are_consistent(shop):
    lines, orders, events = shop.order_lines, shop.orders, shop.events
    assert set(lines["product_id"]) <= set(shop.products["product_id"])
    assert set(orders["customer_id"]) <= set(shop.customers["customer_id"])
    totals = lines.groupby("order_id")["value"].sum()
    np.testing.assert_allclose(orders.set_index("order_id")["total"], totals, atol=0.01)
    assert not lines.duplicated(["order_id", "product_id"]).any()
    assert (lines["value"] > 0).all() and (lines["quantity"] >= 1).all()
    assert events["timestamp"].is_monotonic_increasing
    assert (events["timestamp"] >= shop.truth.start).all()
    # every purchase line has a purchase event at the order time
    purchases = events[events["event"] == "purchase"]
    assert len(purchases) == len(lines)


def test_orders_stop_at_dropout(shop):
    truth = shop.truth.customers.set_index("customer_id")
    last_order = shop.orders.groupby("customer_id")["timestamp"].max()
    dropout = truth.loc[last_order.index, "dropout_time"]
    first = shop.orders.groupby("customer_id")["timestamp"].min()
    repeat_buyers = last_order > first
    assert (last_order[repeat_buyers] <= dropout[repeat_buyers] + pd.Timedelta(seconds=1)).all()
    assert 0.05 < truth["alive_at_end"].mean() < 0.95  # both churned and alive customers exist


def test_heterogeneous_purchase_rates(shop):
    counts = shop.orders.groupby("customer_id").size()
    assert counts.min() == 1 and counts.max() >= 10
    rate = shop.truth.customers.set_index("customer_id")["purchase_rate"]
    assert np.corrcoef(rate.loc[counts.index], counts)[0, 1] > 0.3


def test_planted_bundles_are_frequent_together(shop):
    baskets = shop.order_lines.groupby("order_id")["product_id"].agg(frozenset)
    n = len(baskets)
    for bundle in shop.truth.bundles:
        together = baskets.map(lambda b, bundle=bundle: set(bundle) <= b).mean()
        expected = 0.15 / len(shop.truth.bundles)
        assert together > 0.5 * expected
        # far above what independent purchases of the same items would give
        singles = [baskets.map(lambda b, p=p: p in b).mean() for p in bundle]
        assert together > 5 * np.prod(singles)
    assert n == len(shop.orders)
    all_bundle_items = list(itertools.chain.from_iterable(shop.truth.bundles))
    assert len(all_bundle_items) == len(set(all_bundle_items))


def test_tastes_concentrate_on_categories(shop):
    lines = shop.order_lines.merge(shop.products[["product_id", "category"]], on="product_id")
    share = lines.groupby("customer_id")["category"].agg(
        lambda c: c.value_counts().iloc[0] / len(c)
    )
    big = lines.groupby("customer_id").size() >= 5
    n_categories = shop.products["category"].nunique()
    assert share[big].mean() > 2.5 / n_categories


def test_zipf_popularity(shop):
    counts = shop.order_lines["product_id"].value_counts()
    assert counts.iloc[: len(counts) // 10].sum() > 0.25 * counts.sum()


def test_browsing_precedes_purchases(shop):
    ev = shop.events
    first = ev.groupby(["session_id", "product_id", "event"], observed=True)["timestamp"].min()
    first = first.unstack("event")
    bought = first.dropna(subset=["purchase"])
    assert (bought["view"] <= bought["cart"]).all()
    assert (bought["cart"] <= bought["purchase"]).all()
    assert len(first) > len(bought)  # views that did not convert


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_products": 1.5}, "n_products"),
        ({"bundle_rate": 2}, "bundle_rate"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        make_shop(**{"n_customers": 10, "n_products": 10, **kwargs})


def test_contacts_are_planted_and_leave_the_rest_alone():
    """contacts=True adds consent, regions and contacts from its own stream; the planted
    preferred channel and complaints before dropout are there to be found."""
    plain = make_shop(3000, 100, random_state=0)
    shop = make_shop(3000, 100, random_state=0, contacts=True)
    pd.testing.assert_frame_equal(plain.order_lines, shop.order_lines)
    pd.testing.assert_frame_equal(plain.events, shop.events)
    assert plain.contacts is None
    contacts, customers = shop.contacts, shop.customers.set_index("customer_id")
    assert contacts["timestamp"].is_monotonic_increasing
    assert set(contacts["kind"].unique()) == {"campaign", "complaint", "inquiry"}
    campaigns = contacts[contacts["kind"] == "campaign"]
    # never contacted on a channel without consent
    consented = customers.loc[campaigns["customer_id"], [f"consent_{c}" for c in
                                                         ("email", "sms", "phone")]]  # fmt: skip
    column = "consent_" + campaigns["channel"].astype(str)
    assert all(consented.to_numpy()[np.arange(len(column)), consented.columns.get_indexer(column)])
    # the preferred channel answers best
    truth = shop.truth.customers.set_index("customer_id")
    responded = campaigns["outcome"].eq("responded")
    preferred = campaigns["channel"].astype(str).to_numpy() == truth.loc[
        campaigns["customer_id"], "preferred_channel"].astype(str).to_numpy()  # fmt: skip
    assert responded[preferred].mean() > 2.5 * responded[~preferred].mean()
    # complaints come mostly from customers who leave
    complained = contacts.loc[contacts["kind"] == "complaint", "customer_id"].unique()
    assert not truth.loc[complained, "alive_at_end"].mean() > 0.5
    assert truth.loc[complained, "complainer"].all()
