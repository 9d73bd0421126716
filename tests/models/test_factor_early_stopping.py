"""Early stopping of the factor models on a validation split given to fit."""

import numpy as np
import pytest

from reco import Interactions
from reco.datasets import make_shop
from reco.eval import ndcg, random_holdout
from reco.exceptions import DataValidationError, InvalidParameterError
from reco.models import ALS, BPR
from reco.models._factors import EarlyStopping, HeldOut


@pytest.fixture(scope="module")
def split():
    shop = make_shop(400, 80, random_state=2)
    data = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    return random_holdout(data, 0.2, random_state=0)


def test_held_out_ndcg_is_reco_eval_ndcg(split):
    """The stopping metric equals reco.eval.ndcg on the model's own lists."""
    model = ALS(n_factors=8, n_iter=3, random_state=0).fit(split.train)
    held = HeldOut(split.test, split.train, 10)
    users = split.test.user_map.ids(np.unique(split.test.user_index))
    recs = model.recommend_batch(users, 10)
    expected = ndcg(recs, split.test, 10)
    # the held-out set drops pairs already in training (none here) and empty users
    assert held.ndcg(model.user_factors_, model.item_factors_) == pytest.approx(
        float(np.nanmean(expected)), rel=1e-6
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: ALS(n_factors=8, n_iter=12, random_state=0),
        lambda: BPR(n_factors=8, n_iter=30, learning_rate=0.05, random_state=0, n_threads=1),
    ],
)
def test_keeps_the_best_iteration(split, make):
    model = make().fit(split.train, validation=split.test, patience=2)
    scores = model.validation_ndcg_
    assert 1 <= scores.size <= model.n_iter
    assert model.best_iteration_ == int(np.argmax(scores)) + 1
    if scores.size < model.n_iter:  # stopped: patience iterations without improvement
        assert scores.size - model.best_iteration_ == 2
    final = HeldOut(split.test, split.train, 10).ndcg(model.user_factors_, model.item_factors_)
    if isinstance(model, BPR):  # the best epoch's factors, as they were
        assert final == scores.max()
    else:  # the best items with their exact users: at least as good, within noise
        assert final >= scores.max() - 0.02
    plain = make().fit(split.train)
    assert plain.validation_ndcg_.size == 0 and plain.best_iteration_ == plain.n_iter


def test_stopping_rule():
    stop = EarlyStopping(None, 2)
    assert not stop.done(0, np.zeros((1, 1)), np.zeros((1, 1)))

    class Scripted:
        def __init__(self, values):
            self.values = iter(values)

        def ndcg(self, users, items):
            return next(self.values)

    stop = EarlyStopping(Scripted([0.1, 0.3, 0.2, 0.3, 0.25]), 2)
    done = [stop.done(i, np.full((1, 1), i), np.full((1, 1), i)) for i in range(4)]
    assert done == [False, False, False, True]  # 0.3 at 1 not beaten by 0.2, 0.3 (ties lose)
    assert stop.best[0] == 1 and stop.learned(10)["best_iteration_"] == 2


def test_bad_validation(split):
    elsewhere = Interactions.from_frame(
        __import__("pandas").DataFrame({"u": ["nobody"], "i": ["nothing"]}), user="u", item="i"
    )
    with pytest.raises(DataValidationError, match="validation holds no interaction"):
        ALS(n_iter=2).fit(split.train, validation=elsewhere)
    with pytest.raises(InvalidParameterError, match="patience"):
        ALS(n_iter=2).fit(split.train, validation=split.test, patience=0)
