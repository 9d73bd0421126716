import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import scipy.stats

from reco.data import Interactions
from reco.datasets import make_shop
from reco.eval import (
    compare,
    evaluate,
    plot_comparison,
    plot_metric_vs_k,
    plot_popularity_bias,
    random_holdout,
    search,
    user_split,
)
from reco.eval import metrics as m
from reco.eval.evaluate import _holm
from reco.exceptions import DataValidationError, InvalidParameterError
from reco.models import Popularity


@pytest.fixture(scope="module")
def data():
    shop = make_shop(600, 80, random_state=3)
    return Interactions.from_frame(
        shop.order_lines, user="customer_id", item="product_id", time="timestamp"
    )


def test_evaluate_matches_the_metric_functions(data):
    split = random_holdout(data, 0.3, random_state=0)
    result = evaluate(
        {"pop": Popularity()}, split, metrics=["ndcg", "recall", "coverage"], k=(5, 10)
    )
    recs = result.recs["pop"]
    judged = m.judge(recs, split.test, 10)
    has = judged.n_relevant > 0
    row = result.summary.query("metric == 'ndcg' and k == 5").iloc[0]
    expected = m.ACCURACY["ndcg"](judged, 5)
    assert row["mean"] == pytest.approx(np.nanmean(expected[has]))
    assert row["n_users"] == has.sum()
    values = result.per_user.query("metric == 'ndcg' and k == 5")["value"]
    low, high = scipy.stats.t.interval(
        0.95, len(values) - 1, loc=values.mean(), scale=scipy.stats.sem(values)
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert set(result.timings.columns) >= {"fit_s", "recommend_s", "users_per_s"}
    assert result.table(10).loc["pop", "coverage"] > 0


def test_evaluate_refuses_models_fit_elsewhere(data):
    split = random_holdout(data, 0.3, random_state=0)
    leaky = Popularity().fit(data)
    with pytest.raises(DataValidationError, match="not on this split's training"):
        evaluate([leaky], split)
    fitted = Popularity().fit(split.train)
    result = evaluate([fitted], split, metrics=["recall"], k=5)
    assert np.isnan(result.timings["fit_s"].iloc[0])  # fitted elsewhere: not measured


def test_evaluate_never_changes_the_models_it_is_given(data):
    split = random_holdout(data, 0.3, random_state=0)
    model = Popularity()
    first = evaluate([model], split, metrics=["recall"], k=5)
    assert not hasattr(model, "scores_")  # a clone was fitted
    second = evaluate([model], split, metrics=["recall"], k=5)
    assert second.timings["fit_s"].iloc[0] > 0 and first.timings["fit_s"].iloc[0] > 0


def test_lists_made_elsewhere_must_cover_the_test_users(data):
    split = random_holdout(data, 0.3, random_state=0)
    full = Popularity().fit(split.train).recommend_batch(split.test_users, 10, unknown="popular")
    half = (
        Popularity().fit(split.train).recommend_batch(split.test_users[::2], 10, unknown="popular")
    )
    with pytest.raises(DataValidationError, match="missing_users='empty'"):
        evaluate({"half": half}, split, metrics=["ndcg"], k=10)
    scored = {
        option: evaluate({"half": half}, split, metrics=["ndcg"], k=10, missing_users=option)
        for option in ("empty", "drop")
    }
    everyone = evaluate({"full": full}, split, metrics=["ndcg"], k=10)
    n_all = everyone.summary["n_users"].iloc[0]
    assert scored["empty"].summary["n_users"].iloc[0] == n_all
    assert scored["drop"].summary["n_users"].iloc[0] < n_all
    assert scored["empty"].summary["mean"].iloc[0] < everyone.summary["mean"].iloc[0]


def test_strong_generalisation_uses_fold_in(data):
    split = user_split(data, 50, random_state=0)
    result = evaluate([Popularity()], split, metrics=["recall_liang"], k=(10,))
    recs = result.recs["Popularity()"]
    assert set(recs.users.tolist()) == set(split.test_users.tolist())
    fold = split.fold_in.to_frame()
    shown = recs.to_frame().merge(
        fold, left_on=["user", "item"], right_on=["customer_id", "product_id"]
    )
    assert shown.empty  # fold-in items are excluded from each list


def test_compare_and_holm(data):
    split = random_holdout(data, 0.3, random_state=0)
    result = evaluate(
        {"pop": Popularity(), "recent": Popularity(half_life="7D")},
        split,
        metrics=["ndcg", "recall"],
        k=(10,),
    )
    table = compare(result, baseline="pop", n_bootstrap=500)
    assert len(table) == 2 and set(table["metric"]) == {"ndcg", "recall"}
    per_user = result.per_user
    a = per_user.query("model == 'recent' and metric == 'ndcg'")["value"].to_numpy()
    b = per_user.query("model == 'pop' and metric == 'ndcg'")["value"].to_numpy()
    row = table.query("metric == 'ndcg'").iloc[0]
    assert row["p_ttest"] == pytest.approx(scipy.stats.ttest_rel(a, b).pvalue)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    assert (table["p_holm"] >= table["p_ttest"]).all()
    assert _holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])
    # bootstrap p-value (k + 1) / (B + 1): a model against itself differs in no resample
    same = compare(result, baseline="pop", n_bootstrap=500)
    assert same.query("model == 'pop'").empty
    twin = evaluate({"a": Popularity(), "b": Popularity()}, split, metrics=["ndcg"], k=(10,))
    row = compare(twin, baseline="a", n_bootstrap=499).iloc[0]
    assert row["diff"] == 0 and row["p_bootstrap"] == pytest.approx(1.0)  # k = B
    with pytest.raises(InvalidParameterError, match="baseline"):
        compare(result, baseline="nope")


def test_search_never_sees_the_test_part(data, monkeypatch):
    split = random_holdout(data, 0.3, random_state=0)
    test_pairs = set(
        zip(
            split.test.user_index.tolist(),
            split.test.item_index.tolist(),
            split.test.time.tolist(),
            strict=True,
        )
    )
    seen_sizes = []
    original = Popularity.fit

    def spy(self, X, y=None):
        rows = set(zip(X.user_index.tolist(), X.item_index.tolist(), X.time.tolist(), strict=True))
        seen_sizes.append(len(X))
        assert not rows & test_pairs, "a test row reached fit"
        return original(self, X, y)

    monkeypatch.setattr(Popularity, "fit", spy)
    result = search(
        Popularity(),
        {"half_life": ["3D", "30D", "300D"]},
        split,
        metric="ndcg",
        method="grid",
        n_iter=None,
    )
    assert len(result.trace) == 3 and result.best_params["half_life"] in ("3D", "30D", "300D")
    assert result.best_score == result.trace["score"].max()
    assert seen_sizes[-1] == len(split.train)  # the refit uses the whole training part
    assert max(seen_sizes[:-1]) < len(split.train)
    random = search(
        Popularity(), {"half_life": scipy.stats.uniform(1, 100)}, split, n_iter=3, random_state=0
    )
    assert len(random.trace) == 3


def test_search_errors(data):
    split = random_holdout(data, 0.3, random_state=0)
    with pytest.raises(InvalidParameterError, match="does not have"):
        search(Popularity(), {"alpha": [1]}, split)
    with pytest.raises(InvalidParameterError, match="metric"):
        search(Popularity(), {"half_life": [1]}, split, metric="auc")


def test_evaluate_errors(data):
    split = random_holdout(data, 0.3, random_state=0)
    with pytest.raises(InvalidParameterError, match="unknown metric"):
        evaluate([Popularity()], split, metrics=["auc"])
    with pytest.raises(InvalidParameterError, match="item_categories"):
        evaluate([Popularity()], split, metrics=["diversity"])
    with pytest.raises(DataValidationError, match="Split"):
        evaluate([Popularity()], data)


def test_plots_return_axes(data):
    split = random_holdout(data, 0.3, random_state=0)
    result = evaluate(
        {"pop": Popularity(), "recent": Popularity(half_life="7D")},
        split,
        metrics=["ndcg"],
        k=(5, 10),
    )
    for ax in (
        plot_metric_vs_k(result, "ndcg"),
        plot_comparison(result, "ndcg", 10),
        plot_popularity_bias(result.recs["pop"], split.train, 10),
    ):
        assert isinstance(ax, matplotlib.axes.Axes)
        assert ax.get_xlabel()
    with pytest.raises(InvalidParameterError):
        plot_metric_vs_k(result, "recall")


def test_paired_t_matches_scipy():
    from scipy import stats

    from reco.eval.evaluate import _one_sample_t

    rng = np.random.default_rng(0)
    for n in (2, 3, 30, 2000):
        diff = rng.normal(0.05, 1.0, n)
        t, p = _one_sample_t(diff)
        expected = stats.ttest_1samp(diff, 0.0)
        assert t == pytest.approx(float(expected.statistic), rel=1e-12)
        assert p == pytest.approx(float(expected.pvalue), rel=1e-9)
