import numpy as np
import pandas as pd
import pytest

from reco.customers import (
    DEFAULT_SEGMENTS,
    BetaGeo,
    GammaGamma,
    RFMScorer,
    lifetime_value,
    summary,
)
from reco.datasets import make_shop
from reco.exceptions import DataValidationError, InvalidParameterError


@pytest.fixture(scope="module")
def fitted():
    shop = make_shop(3000, 100, random_state=4)
    data = summary(shop.order_lines, value="value", freq="D")
    return data, BetaGeo().fit(data), GammaGamma().fit(data), shop


def test_clv_is_the_discounted_sum(fitted):
    # written out from the papers' formulas with scipy, not with reco's predictions:
    # E[Y(t) | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10) and E[Z | x, m] = p (gamma + m x)
    # / (p x + q - 1) (Fader, Hardie & Lee 2005b, eq. 5)
    from scipy.special import hyp2f1

    data, bg, gg, _ = fitted
    out = lifetime_value(bg, gg, data, horizon=3, period=30.0, discount_rate=0.1)
    r, alpha, a, b = (bg.params_[k] for k in ("r", "alpha", "a", "b"))
    p, q, gamma = (gg.params_[k] for k in ("p", "q", "gamma"))
    rows = data.iloc[:25]
    x, t_x, T = (rows[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def expected(t):
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1, t / (alpha + T + t)
        )
        repeat = np.maximum(x, 1)
        odds = np.where(x > 0, a / (b + repeat - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0)
        return (a + b + x - 1) / (a - 1) * inner / (1 + odds)

    spend = p * (gamma + rows["monetary_value"].to_numpy() * x) / (p * x + q - 1)
    cumulative = [np.zeros(len(rows))] + [expected(30.0 * k) for k in (1, 2, 3)]
    clv = sum(spend * (cumulative[k] - cumulative[k - 1]) / 1.1**k for k in (1, 2, 3))
    np.testing.assert_allclose(out.loc[rows.index, "clv"], clv, rtol=1e-7)
    np.testing.assert_allclose(out.loc[rows.index, "expected_spend"], spend, rtol=1e-9)
    assert out["clv"].is_monotonic_decreasing and out["rank"].iloc[0] == 1
    assert (out["clv"] >= 0).all() and out["probability_alive"].between(0, 1).all()


def test_clv_tracks_the_planted_truth(fitted):
    data, bg, gg, shop = fitted
    out = lifetime_value(bg, gg, data, horizon=12)
    truth = shop.truth.customers.set_index("customer_id")
    alive = truth.loc[out.index, "alive_at_end"].to_numpy()
    # customers the models rank in the top decile are far more often still alive
    top = out["rank"].to_numpy() <= len(out) // 10
    assert alive[top].mean() > alive[~top].mean() + 0.2


def test_rfm_scores_and_segments(fitted):
    data, *_ = fitted
    scorer = RFMScorer().fit(data)
    scores = scorer.transform(data)
    assert set(scores.columns) == {"R", "F", "M", "cell", "segment"}
    assert scores[["R", "F", "M"]].isin(range(1, 6)).all().all()
    since_last = data["T"] - data["recency"]
    # higher R means more recent; higher F means more purchases
    assert since_last[scores["R"] == 5].max() <= since_last[scores["R"] == 1].min()
    assert data["frequency"][scores["F"] == 5].min() >= data["frequency"][scores["F"] == 1].max()
    champions = scores["segment"] == "Champions"
    assert (scores.loc[champions, "R"] >= 4).all()
    assert set(scores["segment"]) <= {name for name, *_ in DEFAULT_SEGMENTS}


def test_rfm_fixed_edges_and_migration():
    data = pd.DataFrame(
        {
            "frequency": [0, 3, 9],
            "recency": [0, 10, 28],
            "T": [30, 30, 30],
            "monetary_value": [0, 20, 80],
        }
    )
    scorer = RFMScorer(
        bins=3,
        method="fixed",
        edges={"recency": [5, 20], "frequency": [1, 5], "monetary": [10, 50]},
    ).fit(data)
    scores = scorer.transform(data)
    assert scores["cell"].tolist() == ["111", "222", "333"]
    later = data.assign(recency=[0, 10, 28], T=[60, 60, 30])
    table = scorer.migration(data, later)
    assert table.to_numpy().sum() == 3
    with pytest.raises(InvalidParameterError, match="edges"):
        RFMScorer(method="fixed").fit(data)
    with pytest.raises(DataValidationError, match="summary frame"):
        RFMScorer().fit(pd.DataFrame({"x": [1]}))
