import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from reco.customers import (
    BetaGeo,
    ParetoNBD,
    evaluate_holdout,
    plot_calibration_holdout,
    plot_frequency_recency,
    plot_tracking,
    summary,
    tracking,
)
from reco.datasets import read_cdnow
from reco.exceptions import DataValidationError


@pytest.fixture(scope="module")
def cdnow_sample(data_dir):
    transactions = read_cdnow(data_dir / "cdnow" / "CDNOW_sample.txt")
    data = summary(
        transactions,
        customer="sample_id",
        time="date",
        freq="W",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    return transactions, data


def test_holdout_check_matches_its_definition(cdnow_sample):
    _, data = cdnow_sample
    model = BetaGeo().fit(data)
    check = evaluate_holdout(model, data, max_frequency=7)
    # eq. 10 of Fader, Hardie & Lee (2005), written out with scipy's 2F1
    from scipy.special import hyp2f1

    r, alpha, a, b = (model.params_[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    t = 39.0
    inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + T + t)
    )
    odds = np.where(
        x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0
    )
    predicted = (a + b + x - 1) / (a - 1) * inner / (1 + odds)
    np.testing.assert_allclose(check.per_customer["predicted"], predicted, rtol=1e-8)
    by_hand = data.assign(group=np.minimum(data["frequency"], 7)).groupby("group")
    np.testing.assert_allclose(
        check.by_frequency["actual"], by_hand["frequency_holdout"].mean(), rtol=1e-12
    )
    assert check.by_frequency["n_customers"].sum() == len(data)
    assert check.by_frequency.index.max() == 7
    assert check.errors["total_actual"] == data["frequency_holdout"].sum()
    # both models under-predict the 1998 holdout of the 1/10 sample by about 12%
    assert -0.15 < check.errors["total_error"] < -0.05
    pareto = evaluate_holdout(ParetoNBD().fit(data), data)
    assert -0.15 < pareto.errors["total_error"] < -0.05
    with pytest.raises(DataValidationError, match="calibration_end"):
        evaluate_holdout(model, data.drop(columns="duration_holdout"))


def test_tracking_expected_follows_actual(cdnow_sample):
    transactions, data = cdnow_sample
    model = BetaGeo().fit(data)
    curves = tracking(
        model,
        transactions,
        customer="sample_id",
        time="date",
        freq="W",
        observation_end="1998-06-30",
    )
    assert curves["actual"].is_monotonic_increasing
    assert curves["expected"].is_monotonic_increasing
    at_calibration_end = curves.loc["1997-09-30"]
    assert at_calibration_end["expected"] == pytest.approx(at_calibration_end["actual"], rel=0.05)
    repeat = transactions.groupby("sample_id")["date"].nunique().sub(1).sum()
    assert curves["actual"].iloc[-1] == repeat


def test_plots_return_axes(cdnow_sample):
    transactions, data = cdnow_sample
    model = BetaGeo().fit(data)
    check = evaluate_holdout(model, data)
    curves = tracking(model, transactions, customer="sample_id", time="date", freq="W")
    for ax in (
        plot_frequency_recency(model, kind="alive"),
        plot_frequency_recency(model, horizon=10),
        plot_calibration_holdout(check),
        plot_tracking(curves, calibration_end="1997-09-30"),
    ):
        assert isinstance(ax, matplotlib.axes.Axes) and ax.get_ylabel()


def test_tracking_follows_r_btyds_convention(cdnow_sample):
    # R BTYD's bgnbd.ExpectedCumulativeTransactions, written out: at the end of day k
    # (k = 1, 2, ...) each customer born b days after the first purchase date contributes
    # E[X((k - b) / 7)] weeks, for b <= k
    transactions, _ = cdnow_sample
    model = BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    curves = tracking(
        model,
        transactions,
        customer="sample_id",
        time="date",
        freq="W",
        observation_end="1998-06-30",
    )
    start = transactions["date"].min()
    births = (transactions.groupby("sample_id")["date"].min() - start).dt.days.to_numpy()
    for k in (1, 7, 140, 175, 546):
        alive = births[births <= k]
        expected = model.expected_purchases((k - alive) / 7.0).sum()
        assert curves["expected"].iloc[k - 1] == pytest.approx(expected, rel=1e-12)
