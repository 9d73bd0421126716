"""ChurnModel, backtest_churn and value_at_risk on generated shops with planted dropouts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from reco.customers import (
    ChurnModel,
    backtest_churn,
    churn_features,
    churn_labels,
    value_at_risk,
)
from reco.customers.backtest import top_share
from reco.datasets import make_shop
from reco.exceptions import (
    DataValidationError,
    InvalidParameterError,
    NotFittedError,
    NotSupportedError,
)

CUTOFF = pd.Timestamp("2024-10-15")
ARGS = dict(value="value", order="order_id")


@pytest.fixture(scope="module")
def shop():
    return make_shop(4000, 80, random_state=3)


@pytest.fixture(scope="module")
def fitted(shop):
    model = ChurnModel(horizon=60, random_state=0)
    return model.fit(shop.order_lines, cutoff=CUTOFF, events=shop.events, **ARGS)


def test_estimator_contract(fitted):
    model = ChurnModel(horizon="26W", calibration="sigmoid")
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict_proba_table(pd.DataFrame({"a": [1.0]}))
    assert fitted.training_cutoffs_[-1] == CUTOFF - pd.Timedelta(days=60)
    assert len(fitted.training_cutoffs_) == 3
    assert np.diff(fitted.training_cutoffs_).tolist() == [pd.Timedelta(days=60)] * 2
    with pytest.raises(NotSupportedError, match="pickle"):
        fitted.save("model.npz")


def test_same_seed_same_model(shop, fitted):
    again = ChurnModel(horizon=60, random_state=0).fit(
        shop.order_lines, cutoff=CUTOFF, events=shop.events, **ARGS
    )
    a = fitted.predict_proba(shop.order_lines, cutoff=CUTOFF, events=shop.events, **ARGS)
    b = again.predict_proba(shop.order_lines, cutoff=CUTOFF, events=shop.events, **ARGS)
    pd.testing.assert_series_equal(a, b)


def test_risk_ranks_the_planted_dropouts(shop, fitted):
    risk = fitted.predict_proba(shop.order_lines, cutoff=CUTOFF, events=shop.events, **ARGS)
    assert risk.between(0, 1).all() and risk.name == "p_churn"
    known = shop.order_lines.loc[shop.order_lines["timestamp"] <= CUTOFF, "customer_id"]
    assert set(risk.index) == set(known.unique())
    dropout = shop.truth.customers.set_index("customer_id")["dropout_time"]
    gone = (dropout.loc[risk.index] <= CUTOFF).astype(int)
    assert roc_auc_score(gone, risk) > 0.8
    labels = churn_labels(shop.order_lines, cutoff=CUTOFF, horizon=60)
    assert roc_auc_score(labels.loc[risk.index], risk) > 0.75


def test_the_scored_window_is_never_trained_on(shop, fitted):
    # rows after the scoring cutoff change nothing: neither the fit nor the scores
    lines = shop.order_lines
    cut = ChurnModel(horizon=60, random_state=0).fit(
        lines[lines["timestamp"] <= CUTOFF],
        cutoff=CUTOFF,
        events=shop.events[shop.events["timestamp"] <= CUTOFF],
        **ARGS,
    )
    a = cut.predict_proba(lines, cutoff=CUTOFF, events=shop.events, **ARGS)
    b = fitted.predict_proba(lines, cutoff=CUTOFF, events=shop.events, **ARGS)
    pd.testing.assert_series_equal(a, b)


def test_importances_and_drivers(shop, fitted):
    importances = fitted.feature_importances(n_repeats=2)
    assert sorted(importances["feature"]) == sorted(fitted.feature_names_)
    assert importances["importance"].iloc[0] > 0.01
    features = churn_features(
        shop.order_lines, cutoff=CUTOFF, events=shop.events, horizon=60, **ARGS
    ).iloc[:4]
    drivers = fitted.drivers(features, n=3)
    assert drivers.groupby("customer").size().max() == 3
    assert (drivers["effect"] > 0).all()
    order = features.index.get_indexer(drivers["customer"])
    assert (np.diff(order) >= 0).all()  # customers in the order given
    assert all(group["effect"].is_monotonic_decreasing for _, group in drivers.groupby("customer"))
    first = drivers.iloc[0]
    row = features.loc[[first["customer"]]]
    changed = row.copy()
    changed[first["feature"]] = first["typical"]
    base = fitted.predict_proba_table(row).iloc[0]
    assert first["effect"] == pytest.approx(base - fitted.predict_proba_table(changed).iloc[0])


def test_calibration_improves_brier_on_held_out_data(shop):
    from sklearn.ensemble import HistGradientBoostingClassifier

    # class weights push the raw probabilities away from the observed rates
    skewed = HistGradientBoostingClassifier(class_weight={0: 1.0, 1: 0.2}, random_state=0)
    later = CUTOFF + pd.Timedelta(days=15)
    labels = churn_labels(shop.order_lines, cutoff=later, horizon=60)
    brier = {}
    for calibration in (None, "isotonic", "sigmoid"):
        model = ChurnModel(estimator=skewed, calibration=calibration, horizon=60, random_state=0)
        model.fit(shop.order_lines, cutoff=later, **ARGS)
        risk = model.predict_proba(shop.order_lines, cutoff=later, **ARGS)
        y = labels.loc[risk.index].to_numpy()
        brier[calibration] = float(np.mean((risk.to_numpy() - y) ** 2))
    assert brier["isotonic"] < brier[None] - 0.01
    assert brier["sigmoid"] < brier[None] - 0.01


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    contract = rng.choice(["monthly", "yearly", "two-year"], n)
    tenure = rng.integers(0, 72, n).astype(float)
    charges = rng.normal(60, 20, n)
    logit = -1.0 + 2.0 * (contract == "monthly") - 0.04 * tenure + 0.01 * charges
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    charges[:5] = np.nan
    return pd.DataFrame({"contract": contract, "tenure": tenure, "charges": charges}), y


def test_fit_table_with_categories_and_any_classifier():
    from sklearn.linear_model import LogisticRegression

    X, y = _table()
    model = ChurnModel(random_state=0).fit_table(X, y)
    risk = model.predict_proba_table(X)
    assert risk.between(0, 1).all() and roc_auc_score(y, risk) > 0.75
    assert set(model.categories_["contract"]) == set(X["contract"])
    unseen = X.iloc[:3].assign(contract=["weekly", "monthly", None])
    assert model.predict_proba_table(unseen).notna().all()
    linear = ChurnModel(estimator=LogisticRegression(max_iter=500), random_state=0)
    filled = X.fillna({"charges": 60.0})
    linear.fit_table(filled, y.astype(bool))
    assert roc_auc_score(y, linear.predict_proba_table(filled)) > 0.75
    with pytest.raises(NotSupportedError, match="predict_proba_table"):
        model.predict_proba(pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"]}))


def test_fit_table_refuses_bad_input():
    X, y = _table()
    model = ChurnModel()
    with pytest.raises(DataValidationError, match="1 \\(churned\\) and 0"):
        model.fit_table(X, np.where(y == 1, "Yes", "No"))
    with pytest.raises(DataValidationError, match="one label per row"):
        model.fit_table(X, y[:-1])
    with pytest.raises(DataValidationError, match="stayed \\(0\\)"):
        model.fit_table(X, np.zeros(len(X), dtype=int))
    with pytest.raises(DataValidationError, match="DataFrame"):
        model.fit_table(X.to_numpy(), y)
    with pytest.raises(InvalidParameterError, match="calibration"):
        ChurnModel(calibration="platt").fit_table(X, y)
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        ChurnModel(estimator=object()).fit_table(X, y)
    fitted = ChurnModel(random_state=0).fit_table(X, y)
    with pytest.raises(DataValidationError, match="lacks 1 feature"):
        fitted.predict_proba_table(X.drop(columns="tenure"))
    assert not hasattr(model, "estimator_")


def test_single_class_and_short_logs_are_clear(shop):
    lines = shop.order_lines
    with pytest.raises(DataValidationError, match="too short"):
        ChurnModel(horizon=400).fit(lines, **ARGS)
    with pytest.raises(DataValidationError, match="before the log's first transaction"):
        ChurnModel(horizon=30).fit(lines, cutoff="2020-01-01", **ARGS)
    # a tiny shop where everybody comes back: one class
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(0, 200, 5), unit="D")
    busy = pd.DataFrame(
        {"customer_id": np.tile([1, 2, 3], len(days)), "timestamp": np.repeat(days, 3)}
    )
    with pytest.raises(DataValidationError, match=r"stayed \(0\).*another cutoff or horizon"):
        ChurnModel(horizon=30, n_cutoffs=2).fit(busy)


def test_backtest_beats_the_rules(shop):
    model = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    cutoffs = ["2024-09-01", "2024-10-15"]
    result = backtest_churn(model, shop.order_lines, cutoffs=cutoffs, **ARGS)
    assert not hasattr(model, "estimator_")  # the model given is never fitted
    metrics = result.metrics.set_index(["cutoff", "method"])
    assert len(metrics) == 6
    for cutoff in pd.to_datetime(cutoffs):
        rows = metrics.loc[cutoff]
        assert rows["n_customers"].nunique() == 1
        assert rows.loc["model", "roc_auc"] > rows.loc["btyd", "roc_auc"]
        assert rows.loc["model", "roc_auc"] > rows.loc["recency_rule", "roc_auc"]
        assert rows.loc["model", "brier"] < rows.loc["btyd", "brier"]
    assert set(result.recency_days) == set(pd.to_datetime(cutoffs))
    table = result.calibration
    counts = table.groupby(["cutoff", "method"])["n"].sum()
    assert counts.to_dict() == metrics["n_customers"].to_dict()
    scores = result.scores
    assert set(scores.columns) == {"cutoff", "customer", "churn", "model", "recency_rule", "btyd"}
    assert scores["recency_rule"].nunique() <= 4  # two rates per cutoff


def test_backtest_plots(shop):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    result = backtest_churn(
        ChurnModel(horizon=60, n_cutoffs=1, random_state=0),
        shop.order_lines,
        cutoffs=["2024-10-15"],
        **ARGS,
    )
    ax = result.plot_gains()
    assert len(ax.lines) == 4
    ax = result.plot_calibration(cutoff="2024-10-15")
    assert ax.get_xlabel() == "mean predicted P(churn)"
    with pytest.raises(InvalidParameterError, match="one of the backtest's cutoffs"):
        result.plot_gains(cutoff="2024-01-01")


def test_backtest_refuses_bad_input(shop):
    with pytest.raises(InvalidParameterError, match="ChurnModel"):
        backtest_churn(object(), shop.order_lines, cutoffs=["2024-10-01"])
    with pytest.raises(InvalidParameterError, match="cutoffs"):
        backtest_churn(ChurnModel(), shop.order_lines, cutoffs="2024-10-01")


def test_top_share_shares_ties():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    # the top 20% is two rows; a score with everyone tied gets the base rate
    lift, capture = top_share(y, np.zeros(10), 0.2)
    assert lift == pytest.approx(1.0) and capture == pytest.approx(0.2)
    score = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1])
    lift, capture = top_share(y, score, 0.2)  # rows 0 and 1: one churner of three
    assert capture == pytest.approx(1 / 3) and lift == pytest.approx(0.5 / 0.3)
    lift, capture = top_share(y, score, 0.3)  # rows 0, 1 and one of four tied (1 churner)
    assert capture == pytest.approx((1 + 0.25) / 3)


def test_value_at_risk():
    churn = pd.Series([0.5, 0.1, 0.9], index=["a", "b", "c"])
    clv = pd.DataFrame({"clv": [100.0, 1000.0, 10.0, 5.0]}, index=["a", "b", "c", "d"])
    out = value_at_risk(churn, clv)
    assert out.index.tolist() == ["b", "a", "c"]
    assert out["value_at_risk"].tolist() == pytest.approx([100.0, 50.0, 9.0])
    assert out["rank"].tolist() == [1, 2, 3]
    with pytest.raises(DataValidationError, match="1 customer\\(s\\) of churn have no"):
        value_at_risk(pd.Series([0.2], index=["z"]), clv)
    with pytest.raises(DataValidationError, match="probabilities"):
        value_at_risk(churn * 2, clv)
    with pytest.raises(DataValidationError, match="NaN"):
        value_at_risk(churn.where(churn > 0.2), clv)
    with pytest.raises(DataValidationError, match="'clv' column"):
        value_at_risk(churn, clv.rename(columns={"clv": "value"}))
