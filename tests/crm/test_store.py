"""CustomerStore: rows in, checked, kept in DuckDB, one customer's profile out, erased on
request."""

import json

import numpy as np
import pandas as pd
import pytest

from reco.crm import CustomerProfile, CustomerStore
from reco.datasets import make_shop
from reco.exceptions import DataValidationError, UnknownIdError

ORDERS = {"customer": "customer_id", "item": "product_id", "time": "timestamp",
          "value": "value", "order": "order_id"}  # fmt: skip
EVENTS = {"customer": "customer_id", "item": "product_id", "time": "timestamp", "event": "event"}
CONTACTS = {"customer": "customer_id", "time": "timestamp", "channel": "channel",
            "kind": "kind", "outcome": "outcome", "direction": "direction"}  # fmt: skip
CONSENT = ["consent_email", "consent_sms", "consent_phone"]


@pytest.fixture(scope="module")
def shop():
    return make_shop(1500, 80, random_state=3, contacts=True)


def filled(shop, path=None) -> CustomerStore:
    store = CustomerStore(path)
    store.add_customers(shop.customers, customer="customer_id", consent=CONSENT)
    store.add_orders(shop.order_lines, **ORDERS)
    store.add_events(shop.events, **EVENTS)
    store.add_contacts(shop.contacts, **CONTACTS)
    return store


@pytest.fixture(scope="module")
def store(shop):
    return filled(shop)


def test_a_file_store_reopens_with_everything(shop, tmp_path):
    path = tmp_path / "shop.duckdb"
    with filled(shop, path) as store:
        before = store.profile(11).to_dict()
    with CustomerStore.open(path) as again:
        assert again.count("orders") == len(shop.order_lines)
        assert again.count("events") == len(shop.events)
        assert again.count("contacts") == len(shop.contacts)
        assert again.count("customers") == len(shop.customers)
        assert again.profile(11).to_dict() == before
    with pytest.raises(DataValidationError, match="no customer store"):
        CustomerStore.open(tmp_path / "absent.duckdb")


def test_files_in_csv_and_parquet(shop, tmp_path):
    lines = shop.order_lines.head(300)
    lines.to_csv(tmp_path / "orders.csv", index=False)
    lines.to_parquet(tmp_path / "orders.parquet")
    from_csv, from_parquet = CustomerStore(), CustomerStore()
    from_csv.add_orders(tmp_path / "orders.csv", **ORDERS)
    from_parquet.add_orders(str(tmp_path / "orders.parquet"), **ORDERS)
    query = "SELECT * FROM orders ORDER BY order_id, item_id"
    pd.testing.assert_frame_equal(from_csv.sql(query), from_parquet.sql(query), check_dtype=False)
    with pytest.raises(DataValidationError, match=r"expected a \.csv"):
        CustomerStore().add_orders(tmp_path / "orders.xlsx", **ORDERS)


def test_times_are_stored_in_utc():
    store = CustomerStore()
    local = pd.Timestamp("2024-03-01 10:00", tz="Europe/Paris")
    store.add_orders(pd.DataFrame({"c": [1], "i": [2], "t": [local]}), customer="c", item="i",
                     time="t")  # fmt: skip
    assert store.sql("SELECT time FROM orders")["time"][0] == pd.Timestamp("2024-03-01 09:00")


@pytest.mark.parametrize(
    "change, names, match",
    [
        (lambda f: f, {**ORDERS, "customer": "customerid"}, "Did you mean customer=.customer_id."),
        (
            lambda f: f.astype({"customer_id": float}).assign(customer_id=np.nan),
            ORDERS,
            "integer or string ids",
        ),
        (
            lambda f: f.assign(timestamp=pd.Timestamp.now() + pd.Timedelta(days=30)),
            ORDERS,
            "times in the future",
        ),
        (lambda f: pd.concat([f, f.head(1)]), ORDERS, "repeats 1 row"),
        (
            lambda f: f.assign(customer_id=f["customer_id"].astype(str)),
            ORDERS,
            "ids in this store are integers",
        ),
        (lambda f: f.assign(timestamp=1_700_000_000), ORDERS, "Numbers are ambiguous"),
        (lambda f: f.assign(value="cheap"), ORDERS, "not numbers"),
        (lambda f: f.assign(timestamp="yesterday-ish"), ORDERS, "not dates"),
        (lambda f: f.assign(item_id=None), {**ORDERS, "item": "item_id"}, "missing values"),
        (lambda f: f.iloc[:0], ORDERS, "empty"),
    ],
)
def test_bad_batches_change_nothing(shop, change, names, match):
    store = CustomerStore()
    store.add_orders(shop.order_lines.head(50), **ORDERS)
    log = store.audit_log()
    fresh = shop.order_lines.iloc[50:80].reset_index(drop=True)
    with pytest.raises(DataValidationError, match=match):
        store.add_orders(change(fresh), **names)
    assert store.count("orders") == 50
    pd.testing.assert_frame_equal(store.audit_log(), log)


def test_a_batch_added_twice_is_refused(shop):
    store = CustomerStore()
    store.add_contacts(shop.contacts.head(40), **CONTACTS)
    with pytest.raises(DataValidationError, match="in the store already"):
        store.add_contacts(shop.contacts.head(60), **CONTACTS)
    assert store.count("contacts") == 40


def test_customers_are_updated_in_place(shop):
    store = CustomerStore()
    store.add_customers(shop.customers, customer="customer_id", consent=CONSENT)
    moved = shop.customers.head(2).assign(region="abroad", vip=True)
    store.add_customers(moved, customer="customer_id", attributes=["region", "vip"],
                        consent={"email": "consent_sms"})  # fmt: skip
    assert store.count("customers") == len(shop.customers)
    first = store.profile(1)
    assert first.attributes["region"] == "abroad" and first.attributes["vip"] is True
    assert first.consent["email"] == bool(shop.customers.loc[0, "consent_sms"])
    assert store.profile(3).attributes["vip"] is None
    with pytest.raises(DataValidationError, match="more than once"):
        store.add_customers(pd.concat([moved, moved]), customer="customer_id")
    with pytest.raises(DataValidationError, match="do not fit"):
        store.add_customers(moved.assign(vip="very"), customer="customer_id",
                            attributes=["vip"])  # fmt: skip
    assert store.profile(1).attributes["vip"] is True


def test_profile_matches_the_tables(shop, store):
    customer = int(shop.contacts["customer_id"].value_counts().index[0])
    profile = store.profile(customer, last=3)
    lines = shop.order_lines[shop.order_lines["customer_id"] == customer]
    assert profile.n_orders == lines["order_id"].nunique()
    assert profile.spend == pytest.approx(lines["value"].sum())
    assert profile.first_purchase == lines["timestamp"].min()
    assert profile.last_purchase == lines["timestamp"].max()
    assert len(profile.last_orders) == min(3, profile.n_orders)
    assert profile.last_orders["time"].is_monotonic_decreasing
    contacts = shop.contacts[shop.contacts["customer_id"] == customer]
    complaints = contacts[contacts["kind"] == "complaint"]
    assert profile.n_contacts == len(contacts)
    assert profile.n_complaints == len(complaints)
    if len(complaints):
        assert profile.last_complaint == complaints["timestamp"].max()
    row = shop.customers.set_index("customer_id").loc[customer]
    assert profile.consent == {c: bool(row[f"consent_{c}"]) for c in ("email", "sms", "phone")}
    assert profile.preferred_channel is None or profile.consent[profile.preferred_channel]
    assert json.loads(json.dumps(profile.to_dict()))["customer_id"] == customer
    assert "Customer" in profile._repr_html_() and f"CustomerProfile({customer})" in repr(profile)
    assert profile.p_churn is None and profile.next_best is None  # no model fitted: absent
    with pytest.raises(UnknownIdError, match="no customer"):
        store.profile(10**9)
    with pytest.raises(UnknownIdError, match="integers"):
        store.profile("7")


def test_the_planted_preferred_channel_is_found(shop, store):
    """Among customers with many campaign contacts on two or more channels, the profile's
    preferred channel is the planted one far more often than chance."""
    campaigns = shop.contacts[shop.contacts["kind"] == "campaign"]
    per_customer = campaigns.groupby("customer_id")["channel"].agg(["size", "nunique"])
    busy = per_customer[(per_customer["size"] >= 12) & (per_customer["nunique"] >= 2)].index
    truth = shop.truth.customers.set_index("customer_id")["preferred_channel"].astype(str)
    found = [store.profile(int(c)).preferred_channel == truth[c] for c in busy]
    assert len(found) > 50 and np.mean(found) > 0.7


def test_forget_erases_everywhere_and_logs_no_ids(shop):
    store = filled(shop)
    gone = [int(c) for c in shop.contacts["customer_id"].unique()[:3]]
    deleted = store.forget(gone)
    assert deleted["orders"] == shop.order_lines["customer_id"].isin(gone).sum()
    for table in store.tables():
        left = store.sql(f"SELECT count(*) AS n FROM {table} WHERE customer_id IN "
                         f"({', '.join(map(str, gone))})")  # fmt: skip
        assert left["n"][0] == 0, table
    entry = store.audit_log().iloc[-1]
    assert entry["action"] == "forget"
    assert json.loads(entry["detail"])["customers"] == 3
    assert not any(str(c) in entry["detail"].replace('"customers": 3', "") for c in gone)
    with pytest.raises(UnknownIdError):
        store.profile(gone[0])


@pytest.fixture(scope="module")
def fitted(shop, tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "shop.duckdb"
    store = filled(shop, path)
    store.fit_models()
    return store


def test_model_parts_come_from_the_reco_models(shop, fitted):
    """Each model part equals what reco's own functions give on the same orders."""
    from reco.customers import BetaGeo, GammaGamma, lifetime_value, summary
    from reco.data import Interactions
    from reco.models import ItemKNN

    customer = int(shop.order_lines["customer_id"].value_counts().index[3])
    profile = fitted.profile(customer)
    lines = shop.order_lines.sort_values(["customer_id", "timestamp", "order_id"])
    table = summary(lines, customer="customer_id", time="timestamp", value="value")
    value = lifetime_value(BetaGeo().fit(table), GammaGamma().fit(table), table).loc[customer]
    assert profile.clv == pytest.approx(value["clv"], rel=1e-6)
    assert profile.p_alive == pytest.approx(value["probability_alive"], rel=1e-6)
    assert profile.rfm["segment"] and len(profile.rfm["score"]) == 3
    assert 0 <= profile.p_churn <= 1 and list(profile.churn_drivers.columns) == [
        "feature", "value", "typical", "effect"]  # fmt: skip
    history = Interactions.from_frame(lines, user="customer_id", item="product_id")
    expected = ItemKNN().fit(history).recommend(customer, 5)
    assert profile.next_best["item"].tolist() == expected.items.tolist()
    because = profile.next_best_because
    bought = set(lines.loc[lines["customer_id"] == customer, "product_id"])
    assert set(because["item"]) <= bought and because["contribution"].is_monotonic_decreasing


def test_complainers_are_at_higher_risk(shop, fitted):
    """Complaints come before customers leave (planted): their P(churn) is higher."""
    scores = fitted.sql("SELECT customer_id, p_churn FROM scores").set_index("customer_id")
    complained = shop.contacts.loc[shop.contacts["kind"] == "complaint", "customer_id"].unique()
    risk = scores["p_churn"]
    assert risk[risk.index.isin(complained)].mean() > risk[~risk.index.isin(complained)].mean()


def test_models_live_beside_a_file_store(shop, fitted):
    customer = int(shop.order_lines["customer_id"].iloc[0])
    before = fitted.profile(customer).to_dict()
    assert (fitted.models_path / "recommender.npz").is_file()
    with CustomerStore.open(fitted.path) as again:
        assert again.profile(customer).to_dict() == before


def test_targets_only_consenting_customers_ranked_by_expected_value(shop, fitted):
    listed = fitted.target("phone", segments=["At Risk", "Cannot Lose Them", "Hibernating"],
                           min_p_churn=0.5, where={"region": ["north", "east"]})  # fmt: skip
    customers = shop.customers.set_index("customer_id")
    assert len(listed) > 5
    assert customers.loc[listed["customer_id"], "consent_phone"].all()  # never without consent
    assert customers.loc[listed["customer_id"], "region"].isin(["north", "east"]).all()
    assert (listed["p_churn"] >= 0.5).all() and listed["expected_value"].is_monotonic_decreasing
    np.testing.assert_allclose(
        listed["expected_value"], listed["p_churn"] * listed["clv"] * listed["response_rate"]
    )
    # the response rate is the profile's shrunk rate on that channel
    first = fitted.profile(int(listed["customer_id"].iloc[0]))
    rates = first.response_rates.set_index("channel")
    if "phone" in rates.index:
        row = rates.loc["phone"]
        shrunk = (row["responses"] + 5 * row["shop_rate"]) / (row["contacts"] + 5)
        assert listed["response_rate"].iloc[0] == pytest.approx(shrunk)
    with pytest.raises(Exception, match="where must be a dict"):
        fitted.target("phone", where="region = 'north'")
    with pytest.raises(Exception, match="not a customer attribute"):
        fitted.target("phone", where={"colour": "red"})
    everyone = fitted.target("phone")
    assert len(everyone) == customers["consent_phone"].sum()
    assert len(fitted.target("phone", n=3)) == 3


def test_targeting_needs_consent_and_models(shop):
    store = CustomerStore()
    store.add_orders(shop.order_lines, **ORDERS)
    with pytest.raises(DataValidationError, match="never lists a customer without"):
        store.target("email")
    store.add_customers(shop.customers, customer="customer_id", consent=CONSENT)
    with pytest.raises(DataValidationError, match="fit_models"):
        store.target("email")


def test_forget_reaches_the_fitted_models(shop, tmp_path):
    """After forget, the recommender is the one a refit without the customers gives, the
    scores hold no row of theirs, and the models saved beside the store agree."""
    from reco.data import Interactions
    from reco.models import ItemKNN

    store = filled(shop, tmp_path / "shop.duckdb")
    store.fit_models()
    buyers = shop.order_lines["customer_id"].unique()
    gone = [int(c) for c in buyers[:5]]
    store.forget(gone)
    assert store.sql("SELECT count(*) AS n FROM scores WHERE customer_id IN "
                     f"({', '.join(map(str, gone))})")["n"][0] == 0  # fmt: skip
    model = store._fitted_models()["recommender"]
    assert not any(c in model.user_map_ for c in gone)
    lines = shop.order_lines[~shop.order_lines["customer_id"].isin(gone)]
    lines = lines.sort_values(["customer_id", "timestamp", "order_id", "product_id"])
    refit = ItemKNN().fit(Interactions.from_frame(lines, user="customer_id", item="product_id"))
    other = int(buyers[10])
    assert model.recommend(other, 5).items.tolist() == refit.recommend(other, 5).items.tolist()
    log = store.audit_log()
    assert log["action"].tolist()[-3:] == ["forget", "fit_models", "forget_models"]
    assert json.loads(log["detail"].iloc[-1])["models"] == [
        "churn", "purchases", "recommender", "rfm", "rules", "spend"]  # fmt: skip
    reopened = CustomerStore.open(store.path)
    assert not any(c in reopened._fitted_models()["recommender"].user_map_ for c in gone)


def test_pseudonymised_exports_join_but_hide_the_ids(shop, store, tmp_path):
    import hashlib
    import hmac

    key = b"a secret key of 32 bytes, really"
    paths = store.export(tmp_path / "out", tables=["orders", "contacts"], pseudonymise=key)
    orders = pd.read_parquet(paths["orders"])
    contacts = pd.read_parquet(paths["contacts"])
    assert len(orders) == len(shop.order_lines) and len(contacts) == len(shop.contacts)
    first = int(shop.order_lines["customer_id"].iloc[0])
    pseudonym = hmac.new(key, str(first).encode(), hashlib.sha256).hexdigest()
    assert pseudonym in set(orders["customer_id"]) and pseudonym in set(contacts["customer_id"])
    assert (
        not orders["customer_id"].astype(str).isin(shop.customers["customer_id"].astype(str)).any()
    )
    assert set(orders["customer_id"]) & set(contacts["customer_id"])  # the tables still join
    plain = store.export(tmp_path / "plain", tables="customers", format="csv")
    assert pd.read_csv(plain["customers"])["customer_id"].tolist() == shop.customers[
        "customer_id"].tolist()  # fmt: skip
    assert json.loads(store.audit_log()["detail"].iloc[-1])["pseudonymised"] is False
    assert not list((tmp_path / "out").glob(".*.tmp"))
    with pytest.raises(Exception, match="at least 16 bytes"):
        store.export(tmp_path / "bad", pseudonymise="short")


def test_profile_tables_are_frames_whenever_read(shop, fitted):
    """The profile keeps its tables as read and builds each DataFrame on first access: what
    a caller sees is the same frame, with its columns, empty or not, read once."""
    customer = int(shop.order_lines["customer_id"].value_counts().index[0])
    profile = fitted.profile(customer, last=2)
    assert list(profile.last_orders.columns) == ["order_id", "time", "n_lines", "value", "items"]
    assert profile.last_orders is profile.last_orders  # built once
    assert list(profile.next_best.columns) == ["item", "score"] and len(profile.next_best) == 5
    assert list(profile.next_best_because.columns) == ["item", "contribution", "share"]
    assert list(profile.response_rates.columns) == ["channel", "contacts", "responses",
                                                    "shop_rate"]  # fmt: skip
    replaced = pd.DataFrame({"x": [1]})
    profile.last_contacts = replaced  # fields stay assignable
    assert profile.last_contacts is replaced
    # no order listed: the frame is empty but keeps its columns, and the items bought with
    # the last order still come from that order
    quiet = fitted.profile(customer, last=0)
    assert quiet.last_orders.empty and "items" in quiet.last_orders.columns
    assert quiet.bought_with_last_order == profile.bought_with_last_order
    blank = CustomerProfile(1)
    assert blank.last_orders.empty and blank.next_best is None
    assert blank.last_orders is not CustomerProfile(2).last_orders  # no shared default
    assert json.loads(json.dumps(profile.to_dict()))["next_best"][0]["item"] == (
        profile.next_best["item"].iloc[0])  # fmt: skip


def test_forget_subtracts_the_orders_from_the_rules(shop, tmp_path, monkeypatch):
    """The store hands the rule recommender the forgotten customers' orders, read before
    they are erased: it subtracts them without mining again, and its rules are those of a
    store that never held these customers."""
    import reco.models.rules

    store = filled(shop, tmp_path / "a.duckdb")
    store.fit_models()
    gone = [int(c) for c in shop.order_lines["customer_id"].unique()[:4]]
    with monkeypatch.context() as patch:
        patch.setattr(reco.models.rules, "frequent_itemsets", lambda *a, **k: 1 / 0)
        store.forget(gone)
    without = shop.order_lines[~shop.order_lines["customer_id"].isin(gone)]
    never = CustomerStore(tmp_path / "b.duckdb")
    never.add_orders(without, **ORDERS)
    never.fit_models(churn=False)
    ours, theirs = store._fitted_models()["rules"], never._fitted_models()["rules"]
    assert len(ours.rules_) > 10
    assert set(map(tuple, ours.rules_[["antecedent", "consequent", "lift"]].itertuples(
        index=False))) == set(map(tuple, theirs.rules_[["antecedent", "consequent", "lift"]]
                                  .itertuples(index=False)))  # fmt: skip
