"""forget_users: after erasure, every other user's recommendations equal those of a model
refit without the forgotten users."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

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


UPDATED = {
    "Popularity": lambda: Popularity(),
    "cosine candidate": lambda: ItemKNN(k=8, n_threads=2),
    "cosine history, shrink": lambda: ItemKNN(k=8, shrink=3.0, neighbourhood="history"),
    "asymmetric cosine": lambda: ItemKNN(k=8, similarity="asymmetric_cosine", alpha=0.2),
    "jaccard": lambda: ItemKNN(k=5, similarity="jaccard", n_threads=2),
    "tfidf": lambda: ItemKNN(k=8, weighting="tfidf"),
    "RP3beta history": lambda: RP3beta(k=8, n_threads=2),
    "RP3beta candidate": lambda: RP3beta(k=8, neighbourhood="candidate"),
    "P3alpha": lambda: RP3beta(k=8, alpha=0.7, beta=0.0),
    "rules, support a fraction": lambda: AssociationRuleRecommender(min_support=0.01),
    "rules, support a count": lambda: AssociationRuleRecommender(
        min_support=12, metric="lift", min_threshold=1.0
    ),
}


def _weights_equal(a, b):
    return (
        np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def _same_state(model, refit):
    """Every fitted attribute a model file holds is the refit's, bit for bit."""
    for name in type(model)._file_schema:
        ours, theirs = getattr(model, name), getattr(refit, name)
        if sp.issparse(ours):
            assert _weights_equal(ours, theirs), name
        elif isinstance(ours, np.ndarray):
            assert np.array_equal(ours, theirs), name
        elif hasattr(ours, "array"):  # an IdMap
            assert np.array_equal(ours.array, theirs.array), name
        else:
            assert ours == theirs, name


@pytest.fixture(scope="module")
def catalogue():
    """A larger catalogue (one customer's items are a small share of a fit's work), as
    binary histories and with repeat counts (ties then break by value, not only by index);
    each with the same histories without the forgotten customers."""
    shop = make_shop(1500, 400, random_state=11)
    counted = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    X = counted.to_csr()
    binary = sp.csr_array((np.ones(X.nnz, np.float32), X.indices, X.indptr), shape=X.shape)
    weights = (1.0 + np.arange(X.nnz) % 3).astype(np.float32)
    valued = sp.csr_array((weights, X.indices, X.indptr), shape=X.shape)
    ids = counted.user_map.array
    gone = ids[[3, 500, 1200]].tolist()
    stay = np.flatnonzero(~np.isin(ids, gone))
    out = {}
    for name, X in (("binary", binary), ("valued", valued)):
        out[name] = (
            Interactions.from_csr(X, user_ids=ids, item_ids=counted.item_map.array),
            gone,
            Interactions.from_csr(X[stay], user_ids=ids[stay], item_ids=counted.item_map.array),
        )
    return out


@pytest.mark.parametrize("name", list(UPDATED))
@pytest.mark.parametrize("data", ["binary", "valued"])
def test_models_are_updated_not_refit(catalogue, name, data, monkeypatch):
    """Popularity subtracts the forgotten users' counts; the item-item models compute only
    their items' co-occurrences again. Either equals a refit bit for bit (ties included:
    binary histories tie often)."""
    full, gone, reference = catalogue[data]
    model = UPDATED[name]().fit(full)
    refit = UPDATED[name]().fit(reference)

    def no_refit(self, data):
        raise AssertionError("forget_users refit the model")

    monkeypatch.setattr(type(model), "_fit", no_refit)
    model.forget_users(gone[:1])
    model.forget_users(gone[1:])  # twice: the second update starts from the first's lists
    monkeypatch.undo()
    _same_state(model, refit)
    users = reference.user_map.array
    np.testing.assert_array_equal(model.recommend_batch(users, 5).item_index,
                                  refit.recommend_batch(users, 5).item_index)  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [
        lambda: ItemKNN(k=8, weighting="bm25"),
        lambda: RP3beta(k=8, normalize=True),
        lambda: Popularity(measure="value"),
    ],
    ids=["bm25", "normalized", "popularity by value"],
)
def test_global_weightings_refit_and_equal_a_refit(parts, make):
    full, gone, reference, _, _ = parts
    model, refit = make().fit(full).forget_users(gone), make().fit(reference)
    _same_state(model, refit)


def test_forgetting_most_of_the_work_refits_and_equals_a_refit(parts):
    full, _, _, _, _ = parts
    gone = full.user_map.array[: full.n_users // 2]
    keep = full.user_map.array[full.n_users // 2 :]
    rest = Interactions.from_csr(full.to_csr()[full.n_users // 2 :], user_ids=keep,
                                 item_ids=full.item_map.array)  # fmt: skip
    for make in (lambda: ItemKNN(k=8), lambda: AssociationRuleRecommender(min_support=0.05)):
        # ItemKNN: the update would cost more than a refit; the rules: removing half the
        # baskets lowers the support threshold below itemsets never counted
        _same_state(make().fit(full).forget_users(gone), make().fit(rest))


def test_rules_of_orders_subtract_the_forgotten_orders(monkeypatch):
    """A model mined from orders takes the forgotten customers' orders and subtracts them:
    its state equals a refit on the other orders, without mining again."""
    shop = make_shop(1500, 300, random_state=5)
    lines = shop.order_lines[["order_id", "customer_id", "product_id"]]
    history = Interactions.from_frame(lines, user="customer_id", item="product_id")
    gone = history.user_map.array[[2, 40, 900]].tolist()
    theirs, kept = lines[lines["customer_id"].isin(gone)], lines[~lines["customer_id"].isin(gone)]
    orders = {"transaction": "order_id", "item": "product_id"}
    model = AssociationRuleRecommender(min_support=0.004).fit(history, baskets=lines, **orders)
    before = model.rule_metrics_.copy()
    with pytest.raises(DataValidationError, match="never saw"):
        odd = pd.DataFrame({"order_id": [1], "product_id": ["no such product"]})
        model.forget_users(gone, removed_baskets=odd, **orders)
    assert np.array_equal(model.rule_metrics_, before) and gone[0] in model.user_map_
    monkeypatch.setattr(AssociationRuleRecommender, "_fit", lambda self, data: 1 / 0)
    model.forget_users(gone, removed_baskets=theirs, **orders)
    monkeypatch.undo()
    kept_history = Interactions.from_frame(kept, user="customer_id", item="product_id")
    refit = AssociationRuleRecommender(min_support=0.004)
    refit.fit(kept_history, baskets=kept, **orders)
    # the refit's catalogue lacks the items only they bought: compare by item ids
    assert _by_ids(model) == _by_ids(refit) and len(model.rules_) > 50
    assert model.n_baskets_ == refit.n_baskets_ and model.min_count_ == refit.min_count_
    # removing most orders lowers the threshold: mining again needs the remaining orders
    many = lines["customer_id"].isin(history.user_map.array[:1000])
    model = AssociationRuleRecommender(min_support=0.004).fit(history, baskets=lines, **orders)
    with pytest.raises(NotSupportedError, match="baskets="):
        model.forget_users(history.user_map.array[:1000], removed_baskets=lines[many], **orders)
    model.forget_users(history.user_map.array[:1000], removed_baskets=lines[many],
                       baskets=lines[~many], **orders)  # fmt: skip
    assert model.n_baskets_ == lines.loc[~many, "order_id"].nunique()


def _by_ids(model):
    """The rules (ids, every metric bit for bit) and itemset counts of a rule model."""
    rules = {(a, c, tuple(m)) for a, c, *m in model.rules_.itertuples(index=False)}
    ids = model.item_map_.array
    matrix = model.itemsets_
    sets = {
        frozenset(ids[matrix.indices[matrix.indptr[k] : matrix.indptr[k + 1]]].tolist()): count
        for k, count in enumerate(model.itemset_counts_.tolist())
    }
    return rules, sets
