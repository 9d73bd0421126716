import numpy as np
import pandas as pd
import pytest

from reco.data import Interactions
from reco.exceptions import DataValidationError, InvalidParameterError
from reco.models import Popularity


@pytest.fixture
def log():
    # item a: users 1, 2, 3 (user 1 twice); item b: users 1, 2; item c: user 3
    return pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3, 1, 2, 3],
            "item_id": ["a", "a", "a", "a", "b", "b", "c"],
            "value": [1.0, 5.0, 1.0, 1.0, 2.0, 2.0, 10.0],
            "day": [0, 10, 10, 10, 9, 10, 0],
        }
    )


def test_distinct_users(log):
    model = Popularity().fit(Interactions.from_frame(log, value="value", time="day"))
    scores = dict(zip(model.item_map_.array, model.scores_, strict=True))
    assert scores == {"a": 3.0, "b": 2.0, "c": 1.0}
    assert model.recommend(3, n=5).items.tolist() == ["b"]  # a and c seen
    assert model.recommend(3, n=5, exclude_seen=False).items.tolist() == ["a", "b", "c"]


def test_value_measure(log):
    model = Popularity(measure="value").fit(Interactions.from_frame(log, value="value", time="day"))
    scores = dict(zip(model.item_map_.array, model.scores_, strict=True))
    assert scores == {"a": 8.0, "b": 4.0, "c": 10.0}


def test_half_life_numeric_time(log):
    X = Interactions.from_frame(log, value="value", time="day")
    model = Popularity(half_life=10).fit(X)
    scores = dict(zip(model.item_map_.array, model.scores_.tolist(), strict=True))
    # latest day is 10; a: users 1, 2, 3 at day 10 (user 1's latest) -> 3 * 1
    assert scores["a"] == pytest.approx(3.0)
    assert scores["b"] == pytest.approx(2**-0.1 + 1.0)
    assert scores["c"] == pytest.approx(0.5)


def test_half_life_datetime(log):
    frame = log.assign(ts=pd.Timestamp("2024-01-01") + pd.to_timedelta(log["day"], unit="D"))
    model = Popularity(measure="value", half_life="10D").fit(
        Interactions.from_frame(frame, value="value", time="ts", duplicates="keep")
    )
    scores = dict(zip(model.item_map_.array, model.scores_.tolist(), strict=True))
    assert scores["c"] == pytest.approx(5.0)
    assert scores["a"] == pytest.approx(0.5 * 1 + 5 + 1 + 1)  # user 1's day-0 row decays
    merged = Popularity(measure="value", half_life="10D").fit(
        Interactions.from_frame(frame, value="value", time="ts")
    )  # (1, a) summed at day 10
    assert merged.scores_[merged.item_map_.index_one("a")] == pytest.approx(8.0)


def test_half_life_errors(log):
    with pytest.raises(DataValidationError, match="needs timestamps"):
        Popularity(half_life=5).fit(log)
    X = Interactions.from_frame(log, time="day")
    with pytest.raises(InvalidParameterError, match="half_life must be a finite number > 0"):
        Popularity(half_life=-1).fit(X)
    frame = log.assign(ts=pd.Timestamp("2024-01-01") + pd.to_timedelta(log["day"], unit="D"))
    with pytest.raises(InvalidParameterError, match="positive duration"):
        Popularity(half_life="soon").fit(Interactions.from_frame(frame, time="ts"))
    with pytest.raises(InvalidParameterError, match="measure must be one of"):
        Popularity(measure="clicks").fit(X)
    with pytest.raises(InvalidParameterError, match="n_threads"):
        Popularity(n_threads=0).fit(X)


def test_failed_refit_keeps_old_model(log):
    model = Popularity().fit(log)
    before = model.scores_.copy()
    with pytest.raises(InvalidParameterError):
        model.set_params(measure="bogus").fit(log.iloc[:2])
    np.testing.assert_array_equal(model.scores_, before)
    assert model.n_items_ == 3


def test_fallback_for_unknown_users_is_popularity(log):
    model = Popularity(measure="value").fit(log.assign(value=1.0))
    batch = model.recommend_batch([99], 2, unknown="popular")
    assert batch[0].items.tolist() == ["a", "b"]
