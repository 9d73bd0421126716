"""The KPI cube against the same aggregates computed in pandas."""

import numpy as np
import pandas as pd
import pytest

from reco.crm import CustomerStore
from reco.datasets import make_shop
from reco.exceptions import InvalidParameterError, NotSupportedError


@pytest.fixture(scope="module")
def shop():
    return make_shop(800, 60, random_state=5, contacts=True)


@pytest.fixture(scope="module")
def lines(shop):
    return shop.order_lines.merge(shop.products[["product_id", "category"]]).merge(
        shop.customers[["customer_id", "region"]]
    )


@pytest.fixture(scope="module")
def store(shop, lines):
    store = CustomerStore()
    store.add_customers(shop.customers, customer="customer_id",
                        consent=["consent_email", "consent_sms", "consent_phone"])  # fmt: skip
    names = {"customer": "customer_id", "item": "product_id", "time": "timestamp",
             "value": "value", "order": "order_id", "category": "category"}  # fmt: skip
    store.add_orders(lines.drop(columns="region"), **names)
    store.add_contacts(shop.contacts, customer="customer_id", time="timestamp",
                       channel="channel", kind="kind", outcome="outcome")  # fmt: skip
    return store


def expected_orders(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    per_customer = frame.groupby([*keys, "customer_id"], observed=True).agg(
        revenue=("value", "sum"), n_orders=("order_id", "nunique")
    )
    grouped = per_customer.groupby(level=keys, observed=True) if keys else per_customer
    if keys:
        return pd.DataFrame({
            "revenue": grouped["revenue"].sum(), "orders": grouped["n_orders"].sum(),
            "customers": grouped.size(), "repeat_rate": grouped["n_orders"].apply(
                lambda n: (n > 1).mean()),
        })  # fmt: skip
    return pd.DataFrame({"revenue": [per_customer["revenue"].sum()],
                         "orders": [per_customer["n_orders"].sum()],
                         "customers": [len(per_customer)],
                         "repeat_rate": [(per_customer["n_orders"] > 1).mean()]})  # fmt: skip


def test_orders_by_region_and_quarter_with_rollup(store, lines):
    cube = store.cube(["revenue", "orders", "customers", "aov", "repeat_rate"],
                      by=["region", "period"], period="Q", rollup=True)  # fmt: skip
    frame = lines.assign(period=lines["timestamp"].dt.to_period("Q").dt.start_time)
    for level, keys in enumerate((["region", "period"], ["region"], [])):
        got = cube[cube["rollup_level"] == level]
        want = expected_orders(frame, keys)
        if keys:
            got = got.set_index(keys)
            want = want.loc[got.index]
        assert len(got) == len(want)
        for column in ("revenue", "orders", "customers", "repeat_rate"):
            np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float),
                                       rtol=1e-9)  # fmt: skip
        np.testing.assert_allclose(got["aov"], got["revenue"] / got["orders"], rtol=1e-9)
    # a customer of two quarters is one customer of the region, not two
    assert cube.loc[cube["rollup_level"] == 2, "customers"].item() == lines["customer_id"].nunique()


def test_contacts_by_channel(store, shop):
    cube = store.cube(["contacts", "complaints", "response_rate"], by=["channel"]).set_index(
        "channel")  # fmt: skip
    contacts = shop.contacts.assign(channel=shop.contacts["channel"].astype(str))
    campaigns = contacts[contacts["kind"] == "campaign"]
    assert cube["contacts"].to_dict() == contacts.groupby("channel").size().to_dict()
    rates = campaigns.groupby("channel")["outcome"].apply(lambda o: (o == "responded").mean())
    np.testing.assert_allclose(cube.loc[rates.index, "response_rate"], rates, rtol=1e-12)
    complaints = contacts[contacts["kind"] == "complaint"].groupby("channel").size()
    assert cube["complaints"].reindex(complaints.index).tolist() == complaints.tolist()


def test_slices_and_drill_down(store, lines):
    where = {"region": ["north", "east"], "period": ["2024-03-01", "2024-04-01"]}
    cube = store.cube(["revenue", "customers"], by=["category"], where=where)
    month = lines["timestamp"].dt.to_period("M").dt.start_time
    chosen = lines[lines["region"].isin(["north", "east"]) & month.isin(
        pd.to_datetime(["2024-03-01", "2024-04-01"]))]  # fmt: skip
    want = chosen.groupby("category", observed=True)["value"].sum()
    got = cube.set_index("category")["revenue"]
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-9)
    cell = cube.iloc[0]
    ids = store.members(cell, where=where)
    expected = np.sort(chosen.loc[chosen["category"] == cell["category"], "customer_id"].unique())
    np.testing.assert_array_equal(ids.to_numpy(), expected)
    assert len(ids) == cell["customers"]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (dict(by=["colour"]), InvalidParameterError, "unknown dimension 'colour'"),
        (dict(measures=["profit"]), InvalidParameterError, "unknown measure"),
        (dict(period="fortnight"), InvalidParameterError, "period must be one of"),
        (dict(measures=["response_rate"], by=["category"]), NotSupportedError, "cuts only"),
        (dict(measures=["revenue"], by=["segment"]), Exception, "fit_models"),
        (dict(where="region = 'north'"), InvalidParameterError, "where must be a dict"),
    ],
)
def test_bad_cubes_say_what_to_do(store, call, error, match):
    with pytest.raises(error, match=match):
        store.cube(**call)


@pytest.mark.parametrize(
    "measures, by, kind",
    [(["revenue"], ["region", "period"], "lines"), (["customers"], ["region", "category"], "heat"),
     (["response_rate"], ["channel"], "bars")],
)  # fmt: skip
def test_plot_cube_draws_what_it_says(store, measures, by, kind):
    import matplotlib

    matplotlib.use("Agg")
    from reco.crm import plot_cube

    cube = store.cube(measures, by=by, period="Q", rollup=True)
    ax = plot_cube(cube, measures[0])
    assert ax.get_title() and ax.get_xlabel()
    cells = cube[cube["rollup_level"] == 0]
    if kind == "lines":
        assert len(ax.get_lines()) == cells["region"].nunique()
        assert sum(len(line.get_xdata()) for line in ax.get_lines()) == len(cells)
    elif kind == "heat":
        assert ax.images[0].get_array().shape == (cells["region"].nunique(),
                                                  cells["category"].nunique())  # fmt: skip
    else:
        heights = sorted((p.get_height() for p in ax.patches), reverse=True)
        np.testing.assert_allclose(heights, cells["response_rate"].sort_values(ascending=False))
    with pytest.raises(InvalidParameterError, match="one of its measures"):
        plot_cube(cube, "profit")
