"""Silent wrong answers and raw errors found by fuzzing: each is now an error or a right answer."""

import numpy as np
import pandas as pd
import pytest

from reco.customers import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    RFMScorer,
    lifetime_value,
    summary,
)
from reco.data import Baskets, IdMap, Interactions
from reco.eval import evaluate, intra_list_diversity, random_holdout, temporal_split
from reco.exceptions import (
    ConvergenceError,
    DataValidationError,
    InvalidParameterError,
)
from reco.mining import association_rules, frequent_itemsets, frequent_sequences
from reco.models import EASE, SLIM, Popularity

# -- time --------------------------------------------------------------------------------------


def test_dates_after_2262_keep_their_value():
    times = pd.to_datetime(["2500-01-01", "2500-01-02", "2500-01-03"]).astype("datetime64[us]")
    frame = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "t": times})
    X = Interactions.from_frame(frame, time="t")
    assert pd.Timestamp(X.time.min()) == pd.Timestamp("2500-01-01")
    assert len(X.filter(end="2500-01-02 12:00")) == 2
    model = Popularity(half_life="1D").fit(X)
    assert np.isfinite(model.scores_).all() and model.scores_[0] > 0


def _zoned():
    times = pd.date_range("2024-01-01 16:00", periods=4, freq="h", tz="UTC")
    frame = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 2], "t": times})
    return Interactions.from_frame(frame, time="t")


def test_zone_aware_bounds_are_compared_in_utc():
    X = _zoned()  # rows at 16, 17, 18, 19 UTC
    karachi = "Asia/Karachi"  # UTC+5
    assert len(X.filter(end=pd.Timestamp("2024-01-01 23:00", tz=karachi))) == 2  # < 18 UTC
    split = temporal_split(X, cutoff=pd.Timestamp("2024-01-01 23:30", tz=karachi))
    assert len(split.train) == 3 and len(split.test) == 1
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02"]).tz_localize(
                "UTC"
            ),
        }
    )
    # 03:00 at +05:00 on the 11th is 22:00 UTC on the 10th: 9 whole days after the 1st
    out = summary(tx, observation_end="2024-01-11 03:00+05:00")
    assert out["T"].tolist() == [9.0, 8.0]


def test_numeric_dates_are_refused_with_the_fix():
    tx = pd.DataFrame({"customer_id": [1, 1], "timestamp": [20240101, 20240301]})
    with pytest.raises(DataValidationError, match="format='%Y%m%d'"):
        summary(tx)


# -- models --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [EASE(), SLIM()])
def test_huge_values_are_refused_not_served_as_nan(model):
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3],
            "item_id": [1, 2, 1, 3, 2],
            "v": [1e19, 2e19, 1e19, 3e19, 1e19],
        }
    )
    X = Interactions.from_frame(frame, value="v")
    with pytest.raises(DataValidationError, match="log1p"):
        model.fit(X)
    assert not hasattr(model, "weights_")


def test_a_fit_with_non_finite_weights_fails():
    from reco.base import _check_learned_finite

    with pytest.raises(ConvergenceError, match="weights_"):
        _check_learned_finite("EASE", {"weights_": np.array([[np.nan]], np.float32)}, {})


def test_list_length_is_clamped_and_weights_checked():
    X = Interactions.from_frame(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]}))
    model = Popularity().fit(X)
    assert model.recommend(1, n=10**12).items.tolist() == [2]
    with pytest.raises(DataValidationError, match="weights must be numbers"):
        model.recommend_for_items([1, 2], weights=["a", "b"])


# -- customer models ---------------------------------------------------------------------------


RFT = pd.DataFrame({"frequency": [1, 2, 0, 3], "recency": [2.0, 3, 0, 5], "T": [5.0, 6, 4, 9]})


@pytest.mark.parametrize("model", [BetaGeo(), ModifiedBetaGeo(), ParetoNBD()])
def test_unidentifiable_data_are_refused(model):
    with pytest.raises(DataValidationError, match="repeat purchase"):
        model.fit(RFT.assign(frequency=0, recency=0.0))
    with pytest.raises(DataValidationError, match="positive sum"):
        model.fit(RFT, weights=[0, 0, 0, 0])
    with pytest.raises(DataValidationError, match="repeat purchase"):
        model.fit(RFT.assign(frequency=0, recency=0.0, T=0.0))


def test_predictions_refuse_non_finite_horizons():
    model = BetaGeo().fit(RFT)
    for t in (np.nan, np.inf, -1.0):
        with pytest.raises(DataValidationError, match="t must be"):
            model.conditional_expected_purchases(t)
    with pytest.raises(DataValidationError, match="numeric"):
        model.conditional_expected_purchases("ten")


def test_tiny_time_units_do_not_divide_by_zero():
    model = BetaGeo().fit(RFT.assign(recency=RFT["recency"] / 1e9, T=RFT["T"] / 1e9))
    assert all(np.isfinite(v) for v in model.params_.values())


def test_identical_customers_never_give_nan_or_negative_value():
    same = pd.DataFrame(
        {"frequency": [3] * 50, "recency": [20.0] * 50, "T": [40.0] * 50, "monetary_value": 10.0}
    )
    model = BetaGeo().fit(same)
    spend = pd.Series(10.0, index=same.index)
    try:
        clv = lifetime_value(model, spend, same, horizon=120)
    except ConvergenceError as error:
        assert "penalizer" in str(error)
    else:
        assert np.isfinite(clv["clv"]).all() and (clv["clv"] >= 0).all()
    steady = lifetime_value(BetaGeo(penalizer=0.001).fit(same), spend, same, horizon=120)
    assert np.isfinite(steady["clv"]).all() and (steady["clv"] >= 0).all()


def test_lifetime_value_takes_every_purchase_model_and_a_spend_series():
    from reco.datasets import make_shop

    shop = make_shop(800, 40, random_state=2)
    data = summary(shop.order_lines, value="value")
    spend = GammaGamma().fit(data)
    for model in (BetaGeo(), ModifiedBetaGeo(), ParetoNBD()):
        clv = lifetime_value(model.fit(data), spend, data, horizon=6)
        assert (clv["clv"] >= 0).all() and clv["clv"].is_monotonic_decreasing
    flat = pd.Series(20.0, index=data.index)
    clv = lifetime_value(BetaGeo().fit(data), flat, data, horizon=6, discount_rate=0.0)
    assert np.allclose(clv["clv"], 20.0 * clv["expected_purchases"])
    with pytest.raises(InvalidParameterError, match="horizon"):
        lifetime_value(BetaGeo().fit(data), flat, data, horizon=10**6)
    bb = pd.DataFrame(
        {
            "frequency": [0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 2, 1],
            "recency": [0, 0, 0, 2, 5, 4, 5, 6, 6, 6, 3, 1],
            "n_periods": 6,
        }
    )
    discrete = lifetime_value(
        BetaGeoBetaBinom().fit(bb), pd.Series(5.0, index=bb.index), bb, horizon=3, period=2
    )
    assert (discrete["clv"] > 0).all()


def test_bg_bb_bounds_the_opportunities():
    with pytest.raises(DataValidationError, match="at most 10,000"):
        BetaGeoBetaBinom().fit(frequency=[1, 2], recency=[2, 3], n_periods=[10**10, 10**10])


def test_rfm_refuses_nan_and_negative_values():
    with pytest.raises(InvalidParameterError, match="increasing cut points"):
        RFMScorer(method="fixed", edges={"recency": [1, np.nan, 3, 4]}).fit(RFT)
    with pytest.raises(DataValidationError, match="finite"):
        RFMScorer().fit(RFT.assign(recency=[np.nan, 3, 0, 5]))
    with pytest.raises(DataValidationError, match="non-negative"):
        RFMScorer().fit(RFT.assign(recency=[-1.0, 3, 0, 5]))
    with pytest.raises(DataValidationError, match="exceed T"):
        RFMScorer().fit(RFT.assign(recency=[20.0, 3, 0, 5]))


def test_rfm_saves_and_reloads_its_edges(tmp_path):
    scorer = RFMScorer().fit(RFT)
    scorer.save(tmp_path / "rfm.npz")
    again = RFMScorer.load(tmp_path / "rfm.npz")
    pd.testing.assert_frame_equal(again.transform(RFT), scorer.transform(RFT))


# -- mining ------------------------------------------------------------------------------------

BASKETS = [[1, 2], [1, 3], [2, 3], [1, 2, 3], [4]]


def test_float32_thresholds_mean_what_was_written():
    assert len(frequent_itemsets(BASKETS, np.float32(0.4))) == len(frequent_itemsets(BASKETS, 0.4))
    itemsets = frequent_itemsets(BASKETS, 0.2)
    assert len(association_rules(itemsets, "confidence", np.float32(0.5))) == len(
        association_rules(itemsets, "confidence", 0.5)
    )
    with pytest.raises(InvalidParameterError, match="finite"):
        association_rules(itemsets, "confidence", np.nan)


def test_sequences_refuse_nan_limits_and_bad_times():
    events = pd.DataFrame(
        {
            "session_id": [1, 1, 2, 2],
            "item_id": [1, 2, 1, 2],
            "timestamp": [0.0, 1.0, 0.0, 2.0],
        }
    )
    with pytest.raises(InvalidParameterError, match="finite"):
        frequent_sequences(events, 0.5, max_gap=np.nan)
    with pytest.raises(DataValidationError, match="NaN"):
        frequent_sequences(events.assign(timestamp=[0.0, np.nan, 0.0, 1.0]), 0.5)
    with pytest.raises(DataValidationError, match="booleans"):
        frequent_sequences(events.assign(timestamp=[True, False, True, True]), 0.5)
    far = events.assign(timestamp=pd.to_datetime(["2500-01-01", "2500-01-02"] * 2))
    assert len(frequent_sequences(far.astype({"timestamp": "datetime64[s]"}), 0.5)) > 0


def test_frames_read_as_what_they_are():
    long = pd.DataFrame({"order_id": [1, 1, 2], "product_id": [10, 11, 10]})
    with pytest.raises(DataValidationError, match="transaction='order_id'"):
        frequent_itemsets(long, 0.5)
    assert len(frequent_itemsets(long, 0.5, transaction="order_id", item="product_id")) > 0
    twice = pd.DataFrame([[1, 0, 1], [1, 1, 0]], columns=["a", "a", "b"]).astype(bool)
    with pytest.raises(DataValidationError, match="repeated"):
        frequent_itemsets(twice, 0.5)


def test_sparse_one_hot_frames_are_read_from_their_entries():
    rng = np.random.default_rng(0)
    dense = pd.DataFrame(rng.random((300, 40)) < 0.1, columns=[f"i{k}" for k in range(40)])
    sparse = dense.astype(pd.SparseDtype(bool, False))
    a, b = Baskets.from_onehot(dense).to_csr(), Baskets.from_onehot(sparse).to_csr()
    assert (a != b).nnz == 0


# -- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ids, words",
    [
        ([[1], [2]], "hashable"),
        ([1 + 2j, 3 + 0j], "complex"),
        ([2**70, 1], "64 bits"),
    ],
)
def test_ids_that_cannot_be_ids_are_refused(ids, words):
    with pytest.raises(InvalidParameterError, match=words):
        IdMap(ids)


def test_unhashable_ids_in_frames_get_reco_errors():
    with pytest.raises(DataValidationError, match="hashable"):
        Interactions.from_frame(pd.DataFrame({"user_id": [[1], [2]], "item_id": [1, 2]}))
    with pytest.raises(DataValidationError, match="hashable"):
        frequent_itemsets([[[1], [2]], [[1]]], 0.5)


def test_positions_must_be_integers():
    with pytest.raises(InvalidParameterError, match="integers"):
        IdMap([1, 2, 3]).ids([1.7])


# -- evaluation ----------------------------------------------------------------------------------


def test_evaluation_bounds_and_nan_features():
    from reco.datasets import make_shop

    shop = make_shop(200, 30, random_state=0)
    X = Interactions.from_frame(shop.events, user="customer_id", item="product_id")
    split = random_holdout(X, test_size=0.2, random_state=0)
    with pytest.raises(InvalidParameterError, match="k must be an integer"):
        evaluate([Popularity()], split, k=10**6)
    recs = Popularity().fit(split.train).recommend_batch(split.test.user_map.array[:5], 5)
    features = np.ones((len(recs.item_map), 3))
    features[0, 0] = np.nan
    with pytest.raises(DataValidationError, match="item_features"):
        intra_list_diversity(recs, 5, item_features=features)


def test_search_refuses_when_nothing_could_be_scored(monkeypatch):
    from reco.datasets import make_shop
    from reco.eval import search, tuning

    shop = make_shop(200, 30, random_state=0)
    X = Interactions.from_frame(shop.events, user="customer_id", item="product_id")
    split = random_holdout(X, test_size=0.2, random_state=0)
    real = tuning.m.judge

    def no_truth(recs, truth, k):
        judged = real(recs, truth, k)
        judged.n_relevant[:] = 0
        return judged

    monkeypatch.setattr(tuning.m, "judge", no_truth)
    with pytest.raises(DataValidationError, match="no validation user"):
        search(Popularity(), {"half_life": [None]}, split, metric="ndcg", method="grid")


def test_id_maps_must_be_id_maps():
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    with pytest.raises(InvalidParameterError, match="user_map must be an IdMap"):
        Interactions.from_frame(frame, user_map="u0")


def test_modified_bg_nbd_with_one_time_buyers_at_t0_predicts_everywhere():
    data = pd.DataFrame(
        {
            "frequency": [0, 0, 0, 1, 2, 0, 3],
            "recency": [0, 0, 0, 5, 8, 0, 9.0],
            "T": [0, 0, 0, 10, 10, 3, 10.0],
        }
    )
    model = ModifiedBetaGeo().fit(data)
    f, r, t = (g.ravel().astype(float) for g in np.meshgrid(*[np.arange(11)] * 3))
    ok = (r <= t) & ~((f > 0) & (r == 0)) & ~((f == 0) & (r > 0))
    grid = dict(frequency=f[ok], recency=r[ok], T=t[ok])
    expected = model.conditional_expected_purchases(10.0, **grid)
    alive = model.probability_alive(**grid)
    assert np.isfinite(expected).all() and (expected >= 0).all()
    assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()


def test_gamma_gamma_on_identical_spends_is_finite_or_refused():
    same = pd.DataFrame({"frequency": [2, 2, 2], "monetary_value": [5.0, 5.0, 5.0]})
    try:
        model = GammaGamma().fit(same)
    except ConvergenceError:
        return
    spend = model.conditional_expected_spend(frequency=[2], monetary_value=[5.0])
    assert spend[0] == pytest.approx(5.0, rel=1e-3)


def test_summary_keeps_dates_after_2262():
    times = pd.to_datetime(["2500-01-01", "2500-02-01", "2500-01-05"]).astype("datetime64[us]")
    out = summary(pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": times}))
    assert out.loc[1, "recency"] == 31.0 and out.loc[2, "T"] == 27.0


def test_purchase_counts_must_be_whole():
    model = BetaGeo().fit(RFT)
    with pytest.raises(DataValidationError, match="whole numbers"):
        model.probability_of_purchases([1.5], 10.0)
    with pytest.raises(DataValidationError, match="whole numbers"):
        model.conditional_expected_purchases(5.0, frequency=[1.5], recency=[2.0], T=[5.0])


def test_temporal_split_warns_when_few_users_are_tested():
    from reco.exceptions import SmallSampleWarning

    times = pd.date_range("2024-01-01", periods=100, freq="D")
    frame = pd.DataFrame(
        {"user_id": np.arange(100) % 50, "item_id": np.arange(100) % 7, "t": times}
    )
    X = Interactions.from_frame(frame, time="t")
    with pytest.warns(SmallSampleWarning, match="left 1 of 50 users"):
        temporal_split(X, cutoff="2024-04-09", drop_cold=False)


def test_to_csr_gives_a_writable_copy_for_other_libraries():
    X = Interactions.from_frame(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]}))
    shared = X.to_csr()
    assert not shared.data.flags.writeable
    copy = X.to_csr(copy=True)
    copy.data[:] = 5.0
    assert X.to_csr().data.tolist() == [1.0, 1.0]
    import scipy.sparse as sp

    legacy = X.to_csr(format="matrix")
    assert isinstance(legacy, sp.csr_matrix) and legacy.data.flags.writeable


def test_short_lists_can_be_filled_with_popular_items():
    from reco.models import ItemKNN
    from reco.testing import conformance_data

    data = conformance_data()
    model = ItemKNN(k=3).fit(data)
    user = data.user_map.array[0]
    narrow = model.recommend(user, 5, candidates=["i15", "i16", "i17", "i18", "i19", "i01"])
    filled = model.recommend(
        user, 5, candidates=["i15", "i16", "i17", "i18", "i19", "i01"], fill="popular"
    )
    seen = set(model.item_map_.ids(model.history_[[0]].indices))
    eligible = {"i15", "i16", "i17", "i18", "i19", "i01"} - seen
    assert len(narrow) < len(eligible) and set(filled.items) == eligible  # whitelist kept
    assert filled.items[: len(narrow)].tolist() == narrow.items.tolist()
    assert (np.diff(filled.scores) <= 0).all()  # still best first
    # unknown users get popularity on [-1, 0), not raw counts beside similarities
    batch = model.recommend_batch([user, "stranger"], 5, unknown="popular")
    assert (batch.scores[1, : batch.lengths[1]] < 0).all()
    assert (batch.scores[1, : batch.lengths[1]] >= -1).all()
    with pytest.raises(InvalidParameterError, match="fill"):
        model.recommend(user, 5, fill="random")


def test_candidate_lists_are_remembered_but_never_confused():
    """The whitelist memo returns what a fresh lookup would, for every variant of a list."""
    import numpy as np
    import scipy.sparse as sp

    from reco.models import Popularity

    matrix = sp.csr_array(np.arange(1, 25, dtype=np.float32).reshape(4, 6))
    model = Popularity().fit(matrix)
    variants = [
        [1, 0],
        [True, False],
        [1, 0],
        np.array([1, 0]),
        np.array([1.0, 0.0]),
        np.array([True, False]),
        ["1", "0"],
        [5, 4],
        (5, 4),
        [1, 0, 9],
    ]
    for candidates in variants:
        fresh = Popularity().fit(matrix).recommend(0, 3, exclude_seen=False, candidates=candidates)
        got = model.recommend(0, 3, exclude_seen=False, candidates=candidates)
        assert got.items.tolist() == fresh.items.tolist(), candidates
    lst = [2, 3]
    model.recommend(0, 3, exclude_seen=False, candidates=lst)
    lst[0] = 5  # changed in place: the memo must notice
    assert sorted(model.recommend(0, 3, exclude_seen=False, candidates=lst).items) == [3, 5]
