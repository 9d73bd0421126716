"""Churn labels and features: hand-checked values, no leakage, clear errors."""

import numpy as np
import pandas as pd
import pytest

from reco.customers import churn_features, churn_labels
from reco.exceptions import ConvergenceWarning, DataValidationError, InvalidParameterError


def _log() -> pd.DataFrame:
    """A dozen order lines of four customers (times in 2024)."""
    rows = [
        # customer, order, time, value, category
        ("a", 1, "2024-01-10 10:00", 10.0, "x"),
        ("a", 1, "2024-01-10 10:00", 5.0, "y"),
        ("a", 2, "2024-02-09 09:00", 20.0, "x"),
        ("a", 3, "2024-03-20 12:00", 30.0, "z"),
        ("b", 4, "2024-01-05 08:00", 7.0, "x"),
        ("c", 5, "2024-02-01 00:00", 3.0, "y"),
        ("c", 6, "2024-03-01 00:00", 4.0, "y"),
        ("c", 7, "2024-03-31 00:00", 5.0, "y"),
        ("a", 8, "2024-04-20 00:00", 1.0, "x"),  # after the cutoff below
        ("d", 9, "2024-04-25 00:00", 9.0, "x"),  # first seen after the cutoff
        ("c", 10, "2024-06-15 00:00", 2.0, "y"),
        ("b", 11, "2024-06-30 00:00", 2.0, "y"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "value", "cat"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


CUTOFF = pd.Timestamp("2024-04-01")


def test_labels_by_hand():
    labels = churn_labels(_log(), cutoff=CUTOFF, horizon=60)
    # a buys on 04-20 (within 60 days), b and c not until June, d is first seen later
    assert labels.to_dict() == {"a": 0, "b": 1, "c": 1}
    assert labels.name == "churn" and labels.dtype == np.int8
    longer = churn_labels(_log(), cutoff=CUTOFF, horizon="80D")
    assert longer.to_dict() == {"a": 0, "b": 1, "c": 0}
    recent = churn_labels(_log(), cutoff=CUTOFF, horizon=60, active_since="70D")
    assert recent.to_dict() == {"a": 0, "c": 1}  # b last bought 87 days before
    dated = churn_labels(_log(), cutoff=CUTOFF, horizon=60, active_since="2024-01-06")
    assert dated.to_dict() == recent.to_dict()


def test_labels_refuse_bad_input():
    log = _log()
    with pytest.raises(InvalidParameterError, match="positive duration"):
        churn_labels(log, cutoff=CUTOFF, horizon=0)
    with pytest.raises(DataValidationError, match=r"before the log.s first transaction"):
        churn_labels(log, cutoff="2023-06-01", horizon=30)
    with pytest.raises(DataValidationError, match="after the end of the log"):
        churn_labels(log, cutoff="2024-06-01", horizon=60)
    with pytest.raises(DataValidationError, match="no customer bought"):
        churn_labels(log, cutoff=CUTOFF, horizon=30, active_since="12h")
    broken = log.assign(timestamp=log["timestamp"].astype(object))
    broken.loc[3, "timestamp"] = None
    with pytest.raises(DataValidationError, match="missing or unparseable"):
        churn_labels(broken, cutoff=CUTOFF, horizon=30)
    numeric = log.assign(timestamp=log["timestamp"].dt.strftime("%Y%m%d").astype(int))
    with pytest.raises(DataValidationError, match="yyyymmdd"):
        churn_labels(numeric, cutoff=CUTOFF, horizon=30)
    with pytest.raises(InvalidParameterError, match="cutoff must be a date"):
        churn_labels(log, cutoff=20240401, horizon=30)
    with pytest.raises(DataValidationError, match="time='when'"):
        churn_labels(log, time="when", cutoff=CUTOFF, horizon=30)


def test_time_zones_compare_in_utc():
    log = _log()
    aware = log.assign(timestamp=log["timestamp"].dt.tz_localize("UTC"))
    # 2024-03-31 00:00 UTC is 05:00 in Karachi: a cutoff at 04:00 Karachi time is before it
    cutoff = pd.Timestamp("2024-03-31 04:00", tz="Asia/Karachi")
    features = churn_features(aware, cutoff=cutoff, btyd=False)
    assert features.loc["c", "purchases"] == 2
    later = pd.Timestamp("2024-03-31 05:00", tz="Asia/Karachi")
    assert churn_features(aware, cutoff=later, btyd=False).loc["c", "purchases"] == 3


def test_features_by_hand():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "c", "b", "a", "zz"],
            "timestamp": pd.to_datetime(
                ["2024-03-25", "2024-03-30", "2024-01-15", "2024-03-31", "2024-05-01", "2024-03-01"]
            ),
            "event": ["view", "cart", "view", "view", "view", "view"],
        }
    )
    f = churn_features(
        _log(),
        value="value",
        order="order_id",
        category="cat",
        cutoff=CUTOFF,
        events=events,
        windows=(30, 90),
        btyd=False,
    )
    assert list(f.index) == ["a", "b", "c"]
    a, b, c = f.loc["a"], f.loc["b"], f.loc["c"]
    # a: purchases at 01-10 10:00, 02-09 09:00, 03-20 12:00 (days before 04-01 00:00)
    ages = np.array([81 + 14 / 24, 51 + 15 / 24, 11 + 12 / 24])
    assert a["purchases"] == 3 and a["recency_days"] == pytest.approx(ages[2])
    assert a["tenure_days"] == pytest.approx(ages[0])
    gaps = np.array([ages[0] - ages[1], ages[1] - ages[2]])
    assert a["gap_mean_days"] == pytest.approx(gaps.mean())
    assert a["gap_std_days"] == pytest.approx(gaps.std())
    assert a["gap_max_days"] == pytest.approx(gaps.max())
    assert a["gap_ratio"] == pytest.approx(ages[2] / gaps.mean())
    assert a["purchases_30d"] == 1 and a["purchases_90d"] == 3
    # 30-day trend: 1 in (03-02, 04-01], 1 in (02-01, 03-02] -> 0
    assert a["purchases_trend_30d"] == 0.0
    assert a["lines_per_purchase"] == pytest.approx(4 / 3)
    assert a["spend"] == 65.0 and a["spend_per_purchase"] == pytest.approx(65 / 3)
    assert a["spend_30d"] == 30.0 and a["spend_trend_30d"] == pytest.approx((30 - 20) / 50)
    assert a["categories"] == 3 and c["categories"] == 1
    assert a["events_view_30d"] == 1 and a["events_cart_30d"] == 1
    assert a["days_since_visit"] == pytest.approx(2.0)
    # b: one purchase 87 days 16 h before; its typical gap is the repeat buyers' median
    assert b["purchases"] == 1 and b["gap_mean_days"] == 0 and b["gap_max_days"] == 0
    typical = np.median([gaps.mean(), 29.5])  # c: 02-01, 03-01, 03-31 -> gaps 29, 30
    assert b["gap_ratio"] == pytest.approx(b["recency_days"] / typical)
    assert b["days_since_visit"] == pytest.approx(1.0)
    assert c["events_view_30d"] == 0 and c["events_view_90d"] == 1
    assert c["purchases_trend_30d"] == pytest.approx(0.0)  # 1 (03-31) vs 1 (03-01)
    # no events for a customer -> the tenure
    no_events = churn_features(
        _log(), cutoff=CUTOFF, events=events.iloc[:2], windows=(30,), btyd=False
    )
    assert no_events.loc["c", "days_since_visit"] == no_events.loc["c", "tenure_days"]


def test_lines_sharing_a_timestamp_are_one_purchase_without_an_order_column():
    f = churn_features(_log(), cutoff=CUTOFF, btyd=False)
    assert f.loc["a", "purchases"] == 3 and f.loc["a", "lines_per_purchase"] == pytest.approx(4 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_after_the_cutoff_never_reach_a_feature(seed):
    from reco.datasets import make_shop

    shop = make_shop(600, 60, random_state=seed)
    lines = shop.order_lines.assign(cat=shop.order_lines["product_id"] % 7)
    events = shop.events
    cutoff = pd.Timestamp("2024-09-15 12:00")
    kwargs = dict(value="value", order="order_id", category="cat", cutoff=cutoff)
    before = churn_features(lines[lines["timestamp"] <= cutoff], events=events, **kwargs)
    rng = np.random.default_rng(seed)
    n = 500
    noise = pd.DataFrame(
        {
            "order_id": rng.integers(0, 10**6, n),
            "customer_id": rng.integers(1, 900, n),  # known and new customers
            "product_id": rng.integers(1, 60, n),
            "quantity": 1,
            "price": 1.0,
            "value": rng.normal(0, 1000, n),
            "timestamp": cutoff + pd.to_timedelta(rng.integers(1, 10**7, n), unit="s"),
            "cat": rng.integers(0, 50, n),
        }
    )
    later_events = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 900, n),
            "product_id": 1,
            "event": rng.choice(["view", "wishlist"], n),
            "timestamp": cutoff + pd.to_timedelta(rng.integers(1, 10**7, n), unit="s"),
            "session_id": 0,
        }
    )
    # interleaved at random places; the rows before the cutoff keep their order
    place = np.concatenate([np.arange(len(lines)), rng.uniform(0, len(lines), n)])
    mixed = pd.concat([lines, noise]).iloc[np.argsort(place, kind="stable")]
    after = churn_features(mixed, events=pd.concat([events, later_events]), **kwargs)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert before.to_numpy().tobytes() == after.to_numpy().tobytes()
    assert np.isfinite(before.to_numpy()).all()


def test_feature_errors():
    log = _log()
    with pytest.raises(InvalidParameterError, match="windows"):
        churn_features(log, cutoff=CUTOFF, windows=())
    with pytest.raises(InvalidParameterError, match="repeat"):
        churn_features(log, cutoff=CUTOFF, windows=(30, 30))
    with pytest.raises(DataValidationError, match="value column 'value' must be numeric"):
        churn_features(log.assign(value="ten"), value="value", cutoff=CUTOFF)
    with pytest.raises(DataValidationError, match="events frame"):
        churn_features(log, cutoff=CUTOFF, events=log[["customer_id"]])
    with pytest.raises(DataValidationError, match="unhashable"):
        churn_features(log.assign(customer_id=[[1]] * len(log)), cutoff=CUTOFF)


def test_btyd_failure_is_a_warning_with_nan_columns():
    log = _log().iloc[[4, 5]]  # two one-time buyers: BG/NBD has nothing to learn
    with pytest.warns(ConvergenceWarning, match="btyd=False"):
        f = churn_features(log, cutoff="2024-03-01")
    assert f["btyd_p_alive"].isna().all()


def test_far_future_dates_are_kept():
    shift = pd.Timedelta(days=175_000)  # past 2262, where nanoseconds wrap
    log = _log()
    later = log.assign(timestamp=log["timestamp"].astype("datetime64[s]") + shift)
    cutoff = CUTOFF.as_unit("s") + shift
    assert cutoff.year == 2503
    expected = churn_labels(log, cutoff=CUTOFF, horizon=60)
    pd.testing.assert_series_equal(churn_labels(later, cutoff=cutoff, horizon=60), expected)
    pd.testing.assert_frame_equal(
        churn_features(later, cutoff=cutoff, btyd=False),
        churn_features(log, cutoff=CUTOFF, btyd=False),
    )
