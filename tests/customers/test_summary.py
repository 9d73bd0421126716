import numpy as np
import pandas as pd
import pytest

from reco.customers import summary
from reco.datasets import read_cdnow
from reco.exceptions import DataValidationError, InvalidParameterError


def test_reproduces_the_published_cdnow_calibration_summary(data_dir):
    transactions = read_cdnow(data_dir / "cdnow" / "CDNOW_sample.txt")
    ours = summary(
        transactions,
        customer="sample_id",
        time="date",
        value="value",
        freq="W",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    reference = pd.read_csv(
        data_dir / "cdnow" / "cdnow_customers_summary_with_transactions.csv", index_col="ID"
    )
    ours = ours.loc[reference.index]
    assert (ours["frequency"] == reference["x"]).all()
    np.testing.assert_allclose(ours["recency"], reference["t_x"], atol=0.005)
    np.testing.assert_allclose(ours["T"], reference["T"], atol=0.005)
    np.testing.assert_allclose(ours["monetary_value"], reference["zbar"], atol=0.005)
    assert (ours["duration_holdout"] == 39).all()


def test_hand_example():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-08 00:00",
                    "2024-01-15 00:00",
                    "2024-01-10 00:00",
                ]
            ),
            "value": [10.0, 5.0, 20.0, 30.0, 7.0],
        }
    )
    out = summary(tx, value="value", observation_end="2024-01-22")
    assert out.loc["a", "frequency"] == 2  # the two purchases of Jan 1 merge
    assert out.loc["a", "recency"] == 14 and out.loc["a", "T"] == 21
    assert out.loc["a", "monetary_value"] == 25.0  # mean of the repeat purchases only
    assert out.loc["b", "frequency"] == 0 and out.loc["b", "monetary_value"] == 0.0
    every = summary(tx, value="value", observation_end="2024-01-22", merge_same_period=False)
    assert every.loc["a", "frequency"] == 3  # exact time: 09:00 and 18:00 are two purchases
    assert every.loc["a", "recency"] == pytest.approx(13 + 15 / 24)  # from Jan 1 09:00
    assert every.loc["a", "T"] == pytest.approx(20 + 15 / 24)
    weeks = summary(tx, freq="W", observation_end="2024-01-22")
    assert weeks.loc["a", "recency"] == pytest.approx(2.0)


def test_errors():
    tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-05"]})
    with pytest.raises(DataValidationError, match="fall after observation_end"):
        summary(tx, observation_end="2024-01-01")
    with pytest.raises(InvalidParameterError, match="freq"):
        summary(tx, freq="banana")
    with pytest.raises(InvalidParameterError, match="merge_same_period=False"):
        summary(tx, freq="M", merge_same_period=False)
    with pytest.raises(DataValidationError, match="time='date'"):
        summary(tx, time="date")


def test_calendar_periods_count_whole_periods():
    times = pd.to_datetime(["2024-01-31", "2024-02-01", "2024-05-10", "2024-03-03"])
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "timestamp": times, "value": 1.0})
    months = summary(tx, freq="M", value="value", observation_end="2024-06-30")
    assert months.loc[1, "frequency"] == 2 and months.loc[1, "recency"] == 4.0
    assert months.loc[1, "T"] == 5.0 and months.loc[2, "T"] == 3.0
    quarters = summary(tx, freq="Q")
    assert quarters.loc[1, "frequency"] == 1 and quarters.loc[1, "recency"] == 1.0


def test_every_summary_option_fits_every_model():
    import itertools

    from reco.customers import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
    from reco.datasets import make_shop

    lines = make_shop(800, 40, random_state=5).order_lines  # several lines per order
    options = itertools.product(["D", "W", "M"], [True, False], [None, "2024-09-01"])
    for freq, merge, calibration in options:
        if freq == "M" and not merge:
            continue
        data = summary(
            lines, value="value", freq=freq, merge_same_period=merge, calibration_end=calibration
        )
        assert not ((data["frequency"] > 0) & (data["recency"] == 0)).any()
        for model in (BetaGeo(), ModifiedBetaGeo(), ParetoNBD()):
            model.fit(data)
            assert np.isfinite(model.conditional_expected_purchases(3)).all()
        GammaGamma().fit(data[data["monetary_value"] > 0])
