"""evaluate(): fit, recommend and score several models on one split; compare(): paired tests."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_number, check_option, check_random_state
from ..base import RecBatch, Recommender
from ..exceptions import DataValidationError, InvalidParameterError
from . import metrics as m
from .splitters import Split

__all__ = ["EvaluationResult", "compare", "evaluate"]

DEFAULT_METRICS = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
# metrics that need more than the test truth
BEYOND = ("coverage", "gini", "novelty", "arp", "diversity", "personalisation")


@dataclass
class EvaluationResult:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    summary : DataFrame
        One row per (model, metric, k): ``mean``, ``ci_low``, ``ci_high`` (95% t-interval over
        users; NaN for catalog-level metrics), ``n_users``.
    per_user : DataFrame
        Long: ``model, metric, k, user, value`` for per-user metrics.
    timings : DataFrame
        Per model: ``fit_s``, ``recommend_s``, ``users``, ``users_per_s``.
    recs : dict
        Each model's RecBatch (at the largest k), for plots and further analysis.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import EASE, Popularity
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> result = evaluate({"popular": Popularity(), "ease": EASE(regularization=50.0)}, split,
    ...                   metrics=["ndcg", "recall"], k=(5, 10))
    >>> list(result.summary.columns)
    ['model', 'metric', 'k', 'mean', 'ci_low', 'ci_high', 'n_users']
    >>> sorted(result.per_user["model"].unique())
    ['ease', 'popular']
    """

    summary: pd.DataFrame
    per_user: pd.DataFrame
    timings: pd.DataFrame
    recs: dict[str, RecBatch] = field(repr=False, default_factory=dict)
    split: Split | None = field(repr=False, default=None)

    def table(self, k: int | None = None) -> pd.DataFrame:
        """Means as a model x metric table (at one k, default the smallest)."""
        k = int(self.summary["k"].min()) if k is None else k
        part = self.summary[self.summary["k"] == k]
        return part.pivot(index="model", columns="metric", values="mean")

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.summary.to_html(index=False, float_format=lambda v: f"{v:.4f}")


def _names(models: Any) -> dict[str, Recommender]:
    if isinstance(models, Recommender):
        models = [models]
    if isinstance(models, Mapping):
        named = dict(models)
    elif isinstance(models, Iterable):
        named = {}
        for model in models:
            base = repr(model)
            name, suffix = base, 2
            while name in named:
                name, suffix = f"{base} #{suffix}", suffix + 1
            named[name] = model
    else:
        raise InvalidParameterError(
            f"models must be a dict of name -> recommender or a list; got {type(models).__name__}."
        )
    if not named:
        raise InvalidParameterError("models is empty; pass at least one recommender.")
    for name, model in named.items():
        if not isinstance(model, (Recommender, RecBatch)):
            raise InvalidParameterError(
                f"models[{name!r}] must be a reco Recommender (or a RecBatch of lists made "
                f"elsewhere); got {type(model).__name__}."
            )
    return named


def _fit_if_needed(model: Recommender, split: Split) -> tuple[Recommender, float]:
    """A fitted copy: an unfitted model is cloned and the clone fitted (the caller's model is
    never changed, so a second evaluate fits again); a fitted one is checked and used."""
    if model.__sklearn_is_fitted__():
        history = model.history_
        expected = split.train.to_csr()
        if history.shape != expected.shape or history.nnz != expected.nnz:
            raise DataValidationError(
                f"{type(model).__name__} is already fitted, but not on this split's training "
                f"data (its history is {history.shape} with {history.nnz} pairs, the split's "
                f"train is {expected.shape} with {expected.nnz}). Evaluating it would leak or "
                "mismatch; pass an unfitted model (clone(model)) and evaluate fits it."
            )
        return model, float("nan")  # fitted elsewhere: no fit time to report
    from .._params import clone

    model = clone(model)
    started = time.perf_counter()
    model.fit(split.train)
    return model, time.perf_counter() - started


def _one_sample_t(diff: np.ndarray) -> tuple[float, float]:
    """Two-sided one-sample t-test of mean 0: ``t = mean / (sd / sqrt(n))``, ``p = 2 P(T <
    -|t|)`` with n - 1 degrees of freedom (as ``scipy.stats.ttest_1samp``)."""
    from scipy.special import stdtr

    n = diff.size
    t = float(diff.mean() / (diff.std(ddof=1) / np.sqrt(n)))
    return t, float(2.0 * stdtr(n - 1, -abs(t)))


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    from scipy.special import stdtrit  # Student's t quantile (scipy.stats is slow to import)

    half = stdtrit(n - 1, 0.975) * values.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _covering(recs: RecBatch, split: Split, name: str, missing_users: str) -> RecBatch:
    """A RecBatch made elsewhere must cover the split's test users (or say what to do)."""
    test_users = pd.Index(split.test_users)
    missing = test_users.difference(pd.Index(recs.users))
    if missing.size == 0 or missing_users == "drop":
        return recs
    if missing_users == "raise":
        raise DataValidationError(
            f"the lists of {name!r} cover {test_users.size - missing.size} of the split's "
            f"{test_users.size} test users; {missing.size} are missing, e.g. "
            f"{missing[:5].tolist()}. Scoring only the covered users would flatter the model. "
            "Recommend for every split.test_users, or pass missing_users='empty' (they score "
            "0) or 'drop' (score the covered users only)."
        )
    empty = RecBatch(
        missing.to_numpy(dtype=object),
        np.full((missing.size, recs.n), -1, np.int32),
        np.full((missing.size, recs.n), -np.inf, np.float32),
        np.zeros(missing.size, np.int32),
        recs.item_map,
    )
    return RecBatch(
        np.concatenate([np.asarray(recs.users, dtype=object), empty.users]),
        np.concatenate([recs.item_index, empty.item_index]),
        np.concatenate([recs.scores, empty.scores]),
        np.concatenate([recs.lengths, empty.lengths]),
        recs.item_map,
    )


def recommend_for_split(model: Recommender, split: Split, n: int) -> RecBatch:
    """Lists for the split's test users (fold-in histories for strong generalisation)."""
    if split.fold_in is not None:
        return model.recommend_for_baskets(split.fold_in, n, unknown="skip")
    return model.recommend_batch(split.test_users, n, exclude_seen=True, unknown="popular")


def evaluate(
    models: Any,
    split: Split,
    metrics: Sequence[str] = DEFAULT_METRICS,
    k: int | Sequence[int] = (10, 20),
    *,
    item_categories: Any = None,
    missing_users: str = "raise",
) -> EvaluationResult:
    """Fit (unless fitted), recommend with seen items excluded, and measure every model.

    Parameters
    ----------
    models : dict of name -> Recommender, a list, or one Recommender
        Unfitted models are fit on ``split.train``; a fitted one must have been fit on it. A
        value may also be a :class:`RecBatch` made elsewhere (e.g. by another library) for the
        split's test users, with lists at least as long as the largest k; it is scored as is.
    split : Split
        From a reco splitter. With a fold-in part (``user_split``) the test users' fold-in
        items are their history (``recommend_for_baskets``).
    metrics : sequence of str
        Accuracy: ``precision``, ``recall``, ``recall_liang``, ``ndcg``, ``ndcg_graded``,
        ``map``, ``mrr``, ``hit_rate``. Beyond accuracy: ``coverage``, ``gini`` (catalog
        level), ``novelty``, ``arp``, ``diversity`` (needs ``item_categories``),
        ``personalisation`` (catalog level).
    k : int or sequence of int
        Cut-offs; lists are made once at the largest.
    item_categories : Series or array, optional
        Item id -> category, for ``diversity``.
    missing_users : {"raise", "empty", "drop"}
        For a RecBatch made elsewhere that lacks some test users: refuse (default), score
        them as empty lists (0 on every accuracy metric), or score the covered users only.

    Models are never changed: an unfitted model is cloned and the clone is fitted (its fit
    time is reported); a fitted one is used as is (``fit_s`` is NaN).

    Returns
    -------
    EvaluationResult
        ``summary`` (mean, 95% interval and users per model and metric), ``per_user`` values,
        and fit and scoring times.

    Raises
    ------
    InvalidParameterError
        An unknown metric, a bad ``k``, or ``diversity`` without ``item_categories``.
    DataValidationError
        A RecBatch that misses test users under ``missing_users="raise"``, or a model fitted
        on other data.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import EASE, Popularity
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> result = evaluate({"popular": Popularity(), "ease": EASE(regularization=50.0)}, split,
    ...                   metrics=["ndcg", "recall"], k=(5, 10))
    >>> means = result.summary.set_index(["model", "metric", "k"])["mean"]
    >>> bool(means["ease", "ndcg", 10] > means["popular", "ndcg", 10])
    True
    """
    named = _names(models)
    if not isinstance(split, Split):
        raise DataValidationError(f"split must be a reco Split; got {type(split).__name__}.")
    cutoffs = sorted(
        {
            check_int(c, "k", low=1, high=10_000, hint="A cut-off is a list length, e.g. 10.")
            for c in ([k] if np.ndim(k) == 0 else k)
        }
    )
    if not cutoffs:
        raise InvalidParameterError("k must name at least one cut-off, such as k=(10, 20).")
    unknown = [name for name in metrics if name not in m.ACCURACY and name not in BEYOND]
    if unknown or isinstance(metrics, str):
        raise InvalidParameterError(
            f"unknown metric(s) {unknown or [metrics]}; choose from "
            f"{sorted(m.ACCURACY) + list(BEYOND)} (as a list)."
        )
    check_option(missing_users, "missing_users", ("raise", "empty", "drop"))
    if "diversity" in metrics and item_categories is None:
        raise InvalidParameterError("metric 'diversity' needs item_categories=.")
    n = cutoffs[-1]
    summary_rows, per_user_frames, timing_rows, all_recs = [], [], [], {}
    for name, model in named.items():
        if isinstance(model, RecBatch):
            recs, fit_s, recommend_s = _covering(model, split, name, missing_users), np.nan, np.nan
        else:
            model, fit_s = _fit_if_needed(model, split)
            started = time.perf_counter()
            recs = recommend_for_split(model, split, n)
            recommend_s = time.perf_counter() - started
        all_recs[name] = recs
        timing_rows.append(
            {
                "model": name,
                "fit_s": fit_s,
                "recommend_s": recommend_s,
                "users": len(recs),
                "users_per_s": len(recs) / recommend_s if recommend_s else np.nan,
            }
        )
        judged = m.judge(recs, split.test, n)
        has_truth = judged.n_relevant > 0
        for metric in metrics:
            for cutoff in cutoffs:
                if metric in m.ACCURACY:
                    values = m.ACCURACY[metric](judged, cutoff)[has_truth]
                    users = recs.users[has_truth]
                elif metric in ("coverage", "gini", "personalisation"):
                    func = {
                        "coverage": m.catalog_coverage,
                        "gini": m.gini_index,
                        "personalisation": m.personalisation,
                    }[metric]
                    value = func(recs, cutoff)
                    summary_rows.append(
                        {
                            "model": name,
                            "metric": metric,
                            "k": cutoff,
                            "mean": value,
                            "ci_low": np.nan,
                            "ci_high": np.nan,
                            "n_users": len(recs),
                        }
                    )
                    continue
                else:
                    if metric == "novelty":
                        values = m.novelty(recs, split.train, cutoff)
                    elif metric == "arp":
                        values = m.average_popularity(recs, split.train, cutoff)
                    else:
                        values = m.intra_list_diversity(recs, cutoff, categories=item_categories)
                    keep = ~np.isnan(values)
                    values, users = values[keep], recs.users[keep]
                mean, low, high = _interval(values)
                summary_rows.append(
                    {
                        "model": name,
                        "metric": metric,
                        "k": cutoff,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n_users": int(values.size),
                    }
                )
                per_user_frames.append(
                    pd.DataFrame(
                        {
                            "model": name,
                            "metric": metric,
                            "k": cutoff,
                            "user": users,
                            "value": values,
                        }
                    )
                )
    per_user = (
        pd.concat(per_user_frames, ignore_index=True)
        if per_user_frames
        else pd.DataFrame(columns=["model", "metric", "k", "user", "value"])
    )
    return EvaluationResult(
        pd.DataFrame(summary_rows), per_user, pd.DataFrame(timing_rows), all_recs, split
    )


def _holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone)."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p)
    m_tests = p.size
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m_tests - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def compare(
    result: EvaluationResult,
    baseline: str,
    *,
    metrics: Sequence[str] | None = None,
    n_bootstrap: int = 2000,
    alpha: float = 0.05,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Paired tests of every model against ``baseline``, user by user.

    For each (model, metric, k): the mean difference, a paired t-test, a paired bootstrap
    (``n_bootstrap`` resamples of users: 95% percentile interval of the difference and a
    two-sided p-value :math:`(k + 1)/(B + 1)` with :math:`k` of the :math:`B` centred resamples
    at least as far from 0 as the observed difference), and Holm-adjusted p-values over all
    rows of the table (family-wise error ``alpha``). Only per-user metrics can be compared.

    Parameters
    ----------
    result : EvaluationResult
        From :func:`evaluate`, with the per-user values of every model.
    baseline : str
        The model every other is compared with.
    metrics : list of str, optional
        Metric names as in ``result.summary`` (``"ndcg@10"``); default all per-user metrics.
    n_bootstrap : int
        Bootstrap resamples of the users.
    alpha : float
        Family-wise error rate of the Holm correction.
    random_state : int or Generator
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per (model, metric): ``baseline``, the mean difference, the t-test and bootstrap
        p-values and interval, the Holm-adjusted p-value and ``significant``.

    Raises
    ------
    InvalidParameterError
        ``baseline`` is not a model of ``result``, or a metric is unknown or not per-user.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import EASE, Popularity
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> result = evaluate({"popular": Popularity(), "ease": EASE(regularization=50.0)}, split,
    ...                   metrics=["ndcg", "recall"], k=(5, 10))
    >>> table = compare(result, baseline="popular")
    >>> len(table) == 4     # ease against popular: 2 metrics x 2 cut-offs
    True
    """
    if not isinstance(result, EvaluationResult):
        raise DataValidationError(f"result must come from evaluate(); got {type(result).__name__}")
    models = result.per_user["model"].unique().tolist()
    if baseline not in models:
        raise InvalidParameterError(f"baseline must be one of {models}; got {baseline!r}.")
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=100)
    alpha = check_number(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    rng = check_random_state(random_state)
    frame = result.per_user
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    rows = []
    base = frame[frame["model"] == baseline]
    for (model, metric, cutoff), part in frame[frame["model"] != baseline].groupby(
        ["model", "metric", "k"], sort=False
    ):
        ref = base[(base["metric"] == metric) & (base["k"] == cutoff)]
        paired = part.merge(ref, on="user", suffixes=("", "_base"))
        diff = (paired["value"] - paired["value_base"]).to_numpy(np.float64)
        n = diff.size
        if n < 2:
            continue
        if np.all(diff == diff[0]):
            t_stat, p_t = (0.0, 1.0) if diff[0] == 0 else (np.inf * np.sign(diff[0]), 0.0)
        else:
            t_stat, p_t = _one_sample_t(diff)
        means = np.empty(n_bootstrap)
        for start in range(0, n_bootstrap, 64):
            count = min(64, n_bootstrap - start)
            picks = rng.integers(0, n, size=(count, n))
            means[start : start + count] = diff[picks].mean(axis=1)
        observed = diff.mean()
        centred = means - observed
        # (k + 1) / (B + 1), k resamples at least as extreme (Davison & Hinkley 1997, eq. 4.11)
        extreme = int((np.abs(centred) >= abs(observed)).sum())
        p_boot = (extreme + 1) / (n_bootstrap + 1)
        base_mean = float(paired["value_base"].mean())
        rows.append(
            {
                "model": model,
                "baseline": baseline,
                "metric": metric,
                "k": cutoff,
                "n_users": n,
                "mean": float(paired["value"].mean()),
                "baseline_mean": base_mean,
                "diff": float(observed),
                "rel_diff": float(observed / base_mean) if base_mean else np.nan,
                "ci_low": float(np.quantile(means, 0.025)),
                "ci_high": float(np.quantile(means, 0.975)),
                "t_stat": float(t_stat),
                "p_ttest": float(p_t),
                "p_bootstrap": p_boot,
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        table["p_holm"] = _holm(table["p_ttest"].to_numpy())
        table["significant"] = table["p_holm"] < alpha
    return table
