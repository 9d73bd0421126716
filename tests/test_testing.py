"""The conformance suite itself: it must catch broken recommenders."""

import numpy as np
import pytest

from reco import testing
from reco.models import ItemKNN, Popularity


class LeaksSeenItems(Popularity):
    def _rank_known(self, user_index, n, exclude_seen, blocked):
        return super()._rank_known(user_index, n, False, blocked)


class IgnoresCandidates(Popularity):
    def _blocked(self, exclude_items, candidates):
        return super()._blocked(exclude_items, None)


class NoisyScores(Popularity):
    def __init__(self, *, random_state=None):
        super().__init__()
        self.random_state = random_state

    def _fit(self, data):
        learned = super()._fit(data)
        noise = np.random.default_rng().random(learned["scores_"].size).astype(np.float32)
        return {"scores_": learned["scores_"] + noise}


class ChangesParams(Popularity):
    def __init__(self, *, measure="users", half_life=None, n_threads=None):
        super().__init__(measure=measure.upper(), half_life=half_life, n_threads=n_threads)


class DriftsWhileServing(Popularity):
    def _score_users(self, user_index):
        self.scores_ = self.scores_ * np.float32(0.5) + np.float32(1.0)
        return super()._score_users(user_index)


class LeastPopular(Popularity):
    def _fit(self, data):
        learned = super()._fit(data)
        return {"scores_": -learned["scores_"]}


class ZeroScores(Popularity):
    def _fit(self, data):
        learned = super()._fit(data)
        return {"scores_": np.zeros_like(learned["scores_"])}


class LeastPopularForAll(LeastPopular):
    """Claims to personalise, but lists the least popular items for everyone."""

    personalised = True


class InventsExplanations(ItemKNN):
    def _explain(self, user_index, item_index):
        frame = super()._explain(user_index, item_index)
        return frame.assign(contribution=frame["contribution"] * 2)


@pytest.mark.parametrize(
    "model, check",
    [
        (LeastPopular(), testing.check_lists_carry_signal),
        (ZeroScores(), testing.check_lists_carry_signal),
        (LeastPopularForAll(), testing.check_lists_carry_signal),
        (InventsExplanations(k=10), testing.check_explain_matches_score),
        (LeaksSeenItems(), testing.check_exclude_seen),
        (IgnoresCandidates(), testing.check_exclude_and_candidates),
        (NoisyScores(random_state=0), testing.check_deterministic),
        (ChangesParams(), testing.check_params_and_clone),
        (DriftsWhileServing(), testing.check_recommend_matches_batch),
    ],
)
def test_suite_catches_broken_models(model, check):
    with pytest.raises(AssertionError):
        check(model)


def test_suite_passes_on_a_correct_model():
    testing.check_recommender(Popularity())


def test_conformance_data_is_two_communities():
    data = testing.conformance_data()
    assert data.shape == (30, 20) and data.has_time
    matrix = data.to_csr().toarray()
    assert matrix[:15, :10].astype(bool).sum() > 4 * matrix[:15, 10:].astype(bool).sum()
