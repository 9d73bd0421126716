"""forget_users: after erasure, every other user's recommendations equal those of a model
refit without the forgotten users."""

import numpy as np
import pandas as pd
import pytest

from reco.base import Recommender
from reco.data import Interactions
from reco.datasets import make_shop
from reco.exceptions import DataValidationError, NotSupportedError
from reco.models import (
    ALS,
    BPR,
    EASE,
    SLIM,
    AssociationRuleRecommender,
    ItemKNN,
    Popularity,
    RP3beta,
)


@pytest.fixture(scope="module")
def shop():
    return make_shop(500, 40, random_state=7)


@pytest.fixture(scope="module")
def parts(shop):
    lines = shop.order_lines[["order_id", "customer_id", "product_id"]]
    full = Interactions.from_frame(lines, user="customer_id", item="product_id")
    gone = full.user_map.array[[0, 7, 99, 250]].tolist()
    kept = lines[~lines["customer_id"].isin(gone)]
    # the reference keeps the full model's item order (ids order the random factor rows)
    order = pd.Categorical(kept["product_id"], categories=full.item_map.array)
    rows = pd.Categorical(kept["customer_id"], categories=[u for u in full.user_map.array
                                                           if u not in gone])  # fmt: skip
    matrix = __import__("scipy.sparse", fromlist=["csr_array"]).csr_array(
        (np.ones(len(kept), np.float32), (rows.codes, order.codes)),
        shape=(len(rows.categories), len(order.categories)),
    )
    reference = Interactions.from_csr(matrix, user_ids=list(rows.categories),
                                      item_ids=list(order.categories))  # fmt: skip
    return full, gone, reference, lines, kept


MODELS = {
    "Popularity": lambda: Popularity(),
    "ItemKNN": lambda: ItemKNN(k=20),
    "RP3beta": lambda: RP3beta(),
    "EASE": lambda: EASE(regularization=30.0),
    "EASE pruned": lambda: EASE(regularization=30.0, prune=10),
    "SLIM": lambda: SLIM(),
    "rules": lambda: AssociationRuleRecommender(min_support=0.01),
    "ALS": lambda: ALS(n_factors=8, n_iter=4, random_state=0, n_threads=1),
    "BPR": lambda: BPR(n_factors=8, n_iter=5, random_state=0, n_threads=1),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_forgetting_equals_refitting_without_them(parts, name, tmp_path):
    full, gone, reference, _, _ = parts
    model = MODELS[name]().fit(full).forget_users(gone)
    refit = MODELS[name]().fit(reference)
    assert not any(u in model.user_map_ for u in gone)
    users = reference.user_map.array
    ours, theirs = model.recommend_batch(users, 5), refit.recommend_batch(users, 5)
    assert model.item_map_ == refit.item_map_
    np.testing.assert_array_equal(ours.item_index, theirs.item_index)
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=1e-4, atol=1e-5)
    model.save(tmp_path / "model.npz")
    again = Recommender.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(again.recommend_batch(users, 5).item_index, ours.item_index)


def test_rules_mined_from_orders_need_the_remaining_orders(parts):
    full, gone, reference, lines, kept = parts
    model = AssociationRuleRecommender(min_support=0.01)
    model.fit(full, baskets=lines, transaction="order_id", item="product_id")
    with pytest.raises(NotSupportedError, match="baskets="):
        model.forget_users(gone)
    model.forget_users(gone, baskets=kept, transaction="order_id", item="product_id")
    refit = AssociationRuleRecommender(min_support=0.01)
    refit.fit(reference, baskets=kept, transaction="order_id", item="product_id")
    users = reference.user_map.array
    np.testing.assert_array_equal(model.recommend_batch(users, 5).item_index,
                                  refit.recommend_batch(users, 5).item_index)  # fmt: skip


def test_unknown_ids_are_ignored_and_everyone_is_refused(parts):
    full, _, _, _, _ = parts
    model = Popularity().fit(full)
    assert model.forget_users([10**9]).n_users_ == full.n_users
    with pytest.raises(DataValidationError, match="every user"):
        model.forget_users(full.user_map.array)
