"""The store from and to a real PostgreSQL server (.ci/run starts one from Debian's packages
and sets RECO_POSTGRES_URL; without it these tests skip locally and fail on CI)."""

import os

import pandas as pd
import pytest

from reco.crm import CustomerStore, sql_source
from reco.datasets import make_shop
from reco.exceptions import DataValidationError

URL = os.environ.get("RECO_POSTGRES_URL")
pytestmark = pytest.mark.skipif(URL is None, reason="RECO_POSTGRES_URL not set (no server)")


@pytest.fixture(scope="module")
def shop():
    return make_shop(300, 40, random_state=11, contacts=True)


@pytest.fixture(scope="module")
def database(shop):
    """The shop's tables in PostgreSQL, as a shop's own database would hold them."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(URL)
    with engine.begin() as connection:
        for name, frame in (("shop_orders", shop.order_lines), ("shop_contacts", shop.contacts),
                            ("shop_customers", shop.customers)):  # fmt: skip
            categorical = [c for c in frame.columns
                           if isinstance(frame[c].dtype, pd.CategoricalDtype)]  # fmt: skip
            frame = frame.astype({c: str for c in categorical})
            frame.to_sql(name, connection, if_exists="replace", index=False)
    yield engine
    with engine.begin() as connection:
        for name in ("shop_orders", "shop_contacts", "shop_customers", "orders", "contacts",
                     "customers", "consent"):  # fmt: skip
            connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


def test_round_trip_through_postgresql(shop, database):
    """PostgreSQL -> store equals frames -> store; store -> PostgreSQL -> store again."""
    from_sql, from_frames = CustomerStore(), CustomerStore()
    orders = {"customer": "customer_id", "item": "product_id", "time": "timestamp",
              "value": "value", "order": "order_id"}  # fmt: skip
    contacts = {"customer": "customer_id", "time": "timestamp", "channel": "channel",
                "kind": "kind", "outcome": "outcome"}  # fmt: skip
    consent = ["consent_email", "consent_sms", "consent_phone"]
    from_sql.add_orders(sql_source(URL, "SELECT * FROM shop_orders", chunk_size=500), **orders)
    from_sql.add_contacts(sql_source(URL, "SELECT * FROM shop_contacts"), **contacts)
    from_sql.add_customers(sql_source(URL, "SELECT * FROM shop_customers"),
                           customer="customer_id", consent=consent)  # fmt: skip
    from_frames.add_orders(shop.order_lines, **orders)
    from_frames.add_contacts(shop.contacts, **contacts)
    from_frames.add_customers(shop.customers, customer="customer_id", consent=consent)
    for table, key in (("orders", "order_id, item_id"), ("contacts", "customer_id, time"),
                       ("consent", "customer_id, channel")):  # fmt: skip
        query = f"SELECT * EXCLUDE (updated_at) FROM {table}" if table == "consent" else (
            f"SELECT * FROM {table}")  # fmt: skip
        pd.testing.assert_frame_equal(from_sql.sql(f"{query} ORDER BY {key}"),
                                      from_frames.sql(f"{query} ORDER BY {key}"))  # fmt: skip
    customer = int(shop.contacts["customer_id"].iloc[0])
    assert from_sql.profile(customer).to_dict() == from_frames.profile(customer).to_dict()

    written = from_sql.export_sql(URL, tables=["orders", "contacts"], if_exists="replace")
    assert written == ["orders", "contacts"]
    back = CustomerStore()
    back.add_orders(sql_source(URL, "SELECT * FROM orders"), customer="customer_id",
                    item="item_id", time="time", value="value", order="order_id")  # fmt: skip
    query = "SELECT * FROM orders ORDER BY order_id, item_id"
    pd.testing.assert_frame_equal(back.sql(query), from_sql.sql(query))


def test_database_errors_are_clear(database):
    store = CustomerStore()
    with pytest.raises(DataValidationError, match="failed"):
        store.add_orders(sql_source(URL, "SELECT * FROM no_such_table"), customer="c",
                         item="i", time="t")  # fmt: skip
    with pytest.raises(DataValidationError, match="no rows"):
        store.add_orders(sql_source(URL, "SELECT * FROM shop_orders WHERE false"),
                         customer="customer_id", item="product_id", time="timestamp")  # fmt: skip
    assert store.count("orders") == 0
