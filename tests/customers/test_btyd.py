"""BG/NBD and Gamma-Gamma against the published CDNOW numbers, plus properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.customers import BetaGeo, GammaGamma
from reco.exceptions import DataValidationError, NotFittedError


@pytest.fixture(scope="module")
def cdnow(data_dir):
    return pd.read_csv(data_dir / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return BetaGeo().fit(cdnow)


def central_gradient(function, point, step=1e-5):
    """Central finite differences: error O(step^2), unlike check_grad's forward ones."""
    out = np.empty(point.size)
    for i in range(point.size):
        up, down = point.copy(), point.copy()
        up[i] += step
        down[i] -= step
        out[i] = (function(up) - function(down)) / (2 * step)
    return out


def sig3(value, reference):
    return value == pytest.approx(reference, rel=5e-3)


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd):
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert sig3(bgnbd.params_[name], value), name
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    # the paper's worked customer: x = 2, t_x = 30.43, T = 38.86 -> 1.226 in 39 weeks
    value = bgnbd.conditional_expected_purchases(39, frequency=[2], recency=[30.43], T=[38.86])
    assert sig3(float(value[0]), 1.226)
    assert set(bgnbd.summary_.columns) == {"coef", "se", "lower 95% bound", "upper 95% bound"}
    assert (bgnbd.summary_["se"] > 0).all()


def test_gamma_gamma_reproduces_rfm_and_clv_paper(data_dir):
    data = pd.read_csv(data_dir / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    model = GammaGamma().fit(frequency=data["x"], monetary_value=data["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert sig3(model.params_[name], value), name
    spend = model.conditional_expected_spend(frequency=[2, 0], monetary_value=[22.35, 0])
    p, q, g = (model.params_[k] for k in ("p", "q", "gamma"))
    assert spend[1] == pytest.approx(p * g / (q - 1))
    assert spend[0] == pytest.approx(p * (g + 2 * 22.35) / (2 * p + q - 1))


def test_analytic_gradients(cdnow):
    data = {
        "x": cdnow["frequency"].to_numpy(float),
        "t_x": cdnow["recency"].to_numpy(float),
        "T": cdnow["T"].to_numpy(float),
        "weights": np.ones(len(cdnow)),
    }
    model = BetaGeo()
    for point in ([0.3, 4.0, 0.9, 2.0], [1.5, 0.5, 3.0, 0.7]):
        start = np.log(point)
        numeric = central_gradient(lambda v: model._negative(v, data)[0], start)
        np.testing.assert_allclose(model._negative(start, data)[1], numeric, rtol=1e-6)


def test_predictions_match_their_definitions(bgnbd):
    # P(X(t) = x) sums to 1 and its mean is the expected number of purchases
    x = np.arange(200)
    probabilities = bgnbd.probability_of_purchases(x, 39)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert (x * probabilities).sum() == pytest.approx(bgnbd.expected_purchases(39)[0], rel=1e-4)
    # a customer seen at time 0 with nothing since is the population
    fresh = bgnbd.conditional_expected_purchases(39, frequency=[0], recency=[0], T=[0])
    assert fresh[0] == pytest.approx(bgnbd.expected_purchases(39)[0], rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 400), st.floats(0, 500), st.floats(0, 500), st.floats(0.01, 200))
def test_properties_for_extreme_inputs(bgnbd_x, recency, extra, horizon):
    model = BetaGeo()
    model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    model.frequency_ = model.recency_ = model.T_ = np.zeros(1)
    recency = recency if bgnbd_x > 0 else 0.0
    if bgnbd_x > 0 and recency == 0:
        recency = 1.0
    T = recency + extra
    alive = model.probability_alive(frequency=[bgnbd_x], recency=[recency], T=[T])[0]
    assert 0.0 <= alive <= 1.0
    short, long = model.conditional_expected_purchases(
        np.array([horizon, 2 * horizon]), frequency=[bgnbd_x] * 2, recency=[recency] * 2, T=[T] * 2
    )
    assert np.isfinite(short) and np.isfinite(long)
    assert 0.0 <= short <= long + 1e-12


def test_weights_equal_repeated_rows(cdnow):
    pattern = cdnow.groupby(["frequency", "recency", "T"]).size().rename("w").reset_index()
    weighted = BetaGeo().fit(pattern, weights=pattern["w"])
    plain = BetaGeo().fit(cdnow)
    for name in ("r", "alpha", "a", "b"):
        assert weighted.params_[name] == pytest.approx(plain.params_[name], rel=1e-4)
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-8)


def test_bad_input():
    with pytest.raises(DataValidationError, match="recency must not exceed T"):
        BetaGeo().fit(frequency=[1], recency=[5], T=[3])
    with pytest.raises(DataValidationError, match="missing column"):
        BetaGeo().fit(pd.DataFrame({"frequency": [1]}))
    with pytest.raises(DataValidationError, match="finite"):
        BetaGeo().fit(frequency=[np.nan], recency=[1], T=[2])
    with pytest.raises(NotFittedError):
        BetaGeo().probability_alive()
    with pytest.raises(DataValidationError, match="two repeat buyers"):
        GammaGamma().fit(frequency=[0, 1], monetary_value=[0, 5])


def test_save_load_round_trip(bgnbd, tmp_path):
    bgnbd.save(tmp_path / "bgnbd.npz")
    loaded = BetaGeo.load(tmp_path / "bgnbd.npz")
    assert loaded.params_ == bgnbd.params_
    np.testing.assert_array_equal(loaded.probability_alive(), bgnbd.probability_alive())


def test_bgbb_reproduces_fader_hardie_shang_2010(data_dir):
    from reco.customers import BetaGeoBetaBinom

    donations = pd.read_csv(data_dir / "donations" / "donations.csv")
    model = BetaGeoBetaBinom().fit(donations)
    for name, value in {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}.items():
        assert sig3(model.params_[name], value), name
    assert model.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    x = np.arange(7)
    probabilities = model.probability_of_purchases(x, 6)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert (x * probabilities).sum() == pytest.approx(model.expected_purchases(6)[0], rel=1e-9)
    alive = model.probability_alive()
    assert ((alive >= 0) & (alive <= 1)).all()
    # a donor who gave at every opportunity is more valuable than one who never did
    best, worst = model.conditional_expected_purchases(
        5, frequency=[6, 0], recency=[6, 0], n_periods=[6, 6]
    )
    assert best > worst > 0


def test_bgbb_gradients_and_errors(data_dir):
    from reco.customers import BetaGeoBetaBinom

    donations = pd.read_csv(data_dir / "donations" / "donations.csv")
    data = {
        "x": donations["frequency"].to_numpy(float),
        "t_x": donations["recency"].to_numpy(float),
        "n": donations["periods"].to_numpy(float),
        "weights": donations["weights"].to_numpy(float),
    }
    model = BetaGeoBetaBinom()
    start = np.log([1.0, 0.8, 0.6, 2.5])
    numeric = central_gradient(lambda v: model._negative(v, data)[0], start)
    np.testing.assert_allclose(model._negative(start, data)[1], numeric, rtol=1e-6)
    with pytest.raises(DataValidationError, match="frequency <= recency <= n_periods"):
        BetaGeoBetaBinom().fit(frequency=[3], recency=[2], n_periods=[6])


def test_pareto_nbd_reproduces_fader_hardie_lee_2005(cdnow):
    from reco.customers import ParetoNBD

    model = ParetoNBD().fit(cdnow)
    for name, value in {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}.items():
        assert sig3(model.params_[name], value), name
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    x = np.arange(300)
    probabilities = model.probability_of_purchases(x, 39)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert (x * probabilities).sum() == pytest.approx(model.expected_purchases(39)[0], rel=1e-5)
    fresh = model.conditional_expected_purchases(39, frequency=[0], recency=[0], T=[0])
    assert fresh[0] == pytest.approx(model.expected_purchases(39)[0], rel=1e-9)


def test_pareto_nbd_gradient_and_extremes(cdnow):
    from reco.customers import ParetoNBD
    from reco.customers.btyd import _compress

    data = _compress(
        {
            "x": cdnow["frequency"].to_numpy(float),
            "t_x": cdnow["recency"].to_numpy(float),
            "T": cdnow["T"].to_numpy(float),
            "weights": np.ones(len(cdnow)),
        },
        ("x", "t_x", "T"),
    )
    model = ParetoNBD()
    for point in ([0.5, 10.0, 0.6, 12.0], [1.02, 3.0, 2.0, 0.5]):  # the second has r + 0 ~ 1
        start = np.log(point)
        numeric = central_gradient(lambda v: model._negative(v, data)[0], start)
        np.testing.assert_allclose(model._negative(start, data)[1], numeric, rtol=1e-6)
    model.fit(cdnow)
    alive = model.probability_alive(frequency=[0, 50, 2000], recency=[0, 38, 38.9], T=[500, 39, 39])
    assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
    expected = model.conditional_expected_purchases(39, frequency=[2000], recency=[38.9], T=[39])
    assert np.isfinite(expected).all() and expected[0] > 100


def test_modified_beta_geo(cdnow):
    from reco.customers import ModifiedBetaGeo

    model = ModifiedBetaGeo().fit(cdnow)
    # reference: lifetimes' ModifiedBetaGeoFitter on the same summary (r 0.525, alpha 6.183,
    # a 0.891, b 1.614); MBG has no CDNOW table in the original paper
    for name, value in {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}.items():
        assert sig3(model.params_[name], value), name
    x = np.arange(300)
    probabilities = model.probability_of_purchases(x, 39)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    assert (x * probabilities).sum() == pytest.approx(model.expected_purchases(39)[0], rel=1e-9)
    fresh = model.conditional_expected_purchases(39, frequency=[0], recency=[0], T=[0])
    assert fresh[0] == pytest.approx(model.expected_purchases(39)[0], rel=1e-9)
    # unlike BG/NBD, a customer without repeat purchases may already be gone
    assert model.probability_alive(frequency=[0], recency=[0], T=[39])[0] < 1
    data = {
        "x": cdnow["frequency"].to_numpy(float),
        "t_x": cdnow["recency"].to_numpy(float),
        "T": cdnow["T"].to_numpy(float),
        "weights": np.ones(len(cdnow)),
    }
    start = np.log([0.5, 6.0, 0.9, 1.6])
    numeric = central_gradient(lambda v: model._negative(v, data)[0], start)
    np.testing.assert_allclose(model._negative(start, data)[1], numeric, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(1e-3, 50),
    st.floats(1e-2, 1e4),
    st.floats(1.01, 50),
    st.floats(1e-2, 50),
    st.integers(0, 3000),
    st.floats(0, 1),
    st.floats(1, 1e4),
    st.floats(0.1, 1e3),
)
def test_no_nan_or_overflow_for_extreme_parameters(r, alpha, a, b, x, share, T, horizon):
    from reco.customers import ModifiedBetaGeo, ParetoNBD

    recency = share * T if x > 0 else 0.0
    recency = max(recency, 1e-3) if x > 0 else 0.0
    for model in (BetaGeo(), ModifiedBetaGeo()):
        model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
        model.frequency_ = model.recency_ = model.T_ = np.zeros(1)
        alive = model.probability_alive(frequency=[x], recency=[recency], T=[T])
        expected = model.conditional_expected_purchases(
            np.array([horizon, 2 * horizon]), frequency=[x, x], recency=[recency] * 2, T=[T, T]
        )
        assert np.isfinite(alive).all() and 0 <= alive[0] <= 1
        assert np.isfinite(expected).all() and 0 <= expected[0] <= expected[1] * (1 + 1e-9)
    pareto = ParetoNBD()
    pareto.params_ = {"r": r, "alpha": alpha, "s": b, "beta": a}
    pareto.frequency_ = pareto.recency_ = pareto.T_ = np.zeros(1)
    alive = pareto.probability_alive(frequency=[x], recency=[recency], T=[T])
    assert np.isfinite(alive).all() and 0 <= alive[0] <= 1


def mpmath_expectations(mpmath, params, x, t_x, T, t):
    """BG/NBD expected purchases in the next t (eq. 10 of the paper) in 40-digit arithmetic."""
    r, alpha, a, b = (mpmath.mpf(params[k]) for k in ("r", "alpha", "a", "b"))
    out = []
    for xk, txk in zip(map(mpmath.mpf, x), map(mpmath.mpf, t_x)):
        z = t / (alpha + T + t)
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + xk) * mpmath.hyp2f1(
            r + xk, b + xk, a + b + xk - 1, z
        )
        odds = 0 if xk == 0 else a / (b + xk - 1) * ((alpha + T) / (alpha + txk)) ** (r + xk)
        out.append(float((a + b + xk - 1) / (a - 1) * inner / (1 + odds)))
    return np.array(out)


def test_conditional_expectation_is_finite_when_a_and_b_drift_large():
    # a fit on a short log drifted to a ~ 3.7e3, b ~ 2.8e4; Euler's form gave 0 * inf = NaN
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    model = BetaGeo()
    model.params_ = {"r": 0.6293, "alpha": 41.96, "a": 3727.8, "b": 27997.3}
    x, t_x, T, t = np.array([0.0, 3.0, 12.0]), np.array([0.0, 40.0, 90.0]), 107.0, 60.0
    got = model.conditional_expected_purchases(t, frequency=x, recency=t_x, T=np.full(3, T))
    expected = mpmath_expectations(mpmath, model.params_, x, t_x, T, t)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_conditional_expectation_with_a_and_b_in_the_hundred_thousands():
    """A log with almost no dropout fits a ~ 2e5, b ~ 7e5: Euler's 2F1 overflows for every
    customer, the direct form is used, and the series fallback (which took seconds per
    thousand customers summing an overflowed series) is not needed; values match mpmath."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    from reco.customers._btyd_kernels import hyp2f1_series

    big = np.array([924706.9]), np.array([215505.9]), np.array([924713.4]), np.array([0.0437])
    assert np.isinf(hyp2f1_series(*big)[0])  # overflow ends the sum at once
    small = np.array([2.0]), np.array([1.0]), np.array([101.0]), np.array([0.91])
    assert hyp2f1_series(*small)[0] == pytest.approx(
        float(mpmath.hyp2f1(2, 1, 101, mpmath.mpf("0.91"))), rel=1e-12
    )
    model = BetaGeo()
    model.params_ = {"r": 3.484, "alpha": 92.13, "a": 215506.9, "b": 709204.5}
    x = np.array([0.0, 2.0, 7.0, 30.0])
    t_x, T, t = np.array([0.0, 100.0, 300.0, 500.0]), 600.0, 30.0
    got = model.conditional_expected_purchases(t, frequency=x, recency=t_x, T=np.full(4, T))
    expected = mpmath_expectations(mpmath, model.params_, x, t_x, T, t)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_repeat_buyers_at_recency_zero_are_predicted_but_not_fitted():
    from reco.customers import ModifiedBetaGeo, ParetoNBD

    data = pd.DataFrame({"frequency": [1, 2, 0, 3], "recency": [2.0, 3, 0, 5], "T": [5.0, 6, 4, 9]})
    for model in (BetaGeo(), ModifiedBetaGeo(), ParetoNBD()):
        model.fit(data)
        alive = model.probability_alive(frequency=[2, 2], recency=[0, 0.5], T=[10, 10])
        assert np.isfinite(alive).all() and (alive > 0).all() and alive[0] <= alive[1]
        expected = model.conditional_expected_purchases(5.0, frequency=[2], recency=[0], T=[10])
        assert np.isfinite(expected).all()
        with pytest.raises(DataValidationError, match="recency 0"):
            type(model)().fit(data.assign(recency=[0.0, 3, 0, 5]))


def test_from_params_predicts_with_published_values():
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    model = BetaGeo.from_params(published)
    fitted = BetaGeo()
    fitted.params_ = dict(published)
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    assert model.conditional_expected_purchases(39, frequency=x, recency=t_x, T=T) == pytest.approx(
        fitted.conditional_expected_purchases(39, frequency=x, recency=t_x, T=T)
    )
    # Fader, Hardie & Lee (2005): E[X(39) | x=2, t_x=30.43, T=38.86] = 1.226
    assert model.conditional_expected_purchases(39, frequency=x, recency=t_x, T=T)[0] == (
        pytest.approx(1.226, abs=0.001)
    )
    assert np.isnan(model.log_likelihood_)
    with pytest.raises(Exception, match="keys"):
        BetaGeo.from_params({"r": 1.0})
    with pytest.raises(Exception, match="alpha"):
        BetaGeo.from_params({**published, "alpha": -1.0})


def test_gamma_gamma_refuses_zero_spend_or_drops_it_when_asked():
    data = pd.DataFrame({"frequency": [1, 2, 3, 2, 0], "monetary_value": [5.0, 0.0, 7, 9, 0]})
    with pytest.raises(DataValidationError, match="1 repeat buyer"):
        GammaGamma().fit(data)
    from reco.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning, match="left out 1"):
        GammaGamma().fit(data, zero_spend="drop")
