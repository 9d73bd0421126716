"""Plots of evaluation results (matplotlib, the ``plot`` extra). Each returns an Axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._plotting import axes
from ..base import RecBatch
from ..data import Interactions
from ..exceptions import InvalidParameterError
from .evaluate import EvaluationResult

__all__ = ["plot_comparison", "plot_metric_vs_k", "plot_popularity_bias"]


def plot_metric_vs_k(result: EvaluationResult, metric: str = "ndcg", *, ax: Any = None):
    """One line per model: ``metric`` at each evaluated k, with 95% intervals as bands.

    Parameters
    ----------
    result : EvaluationResult
        From :func:`evaluate` with several cut-offs.
    metric : str
        A metric of ``result``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        ``metric`` not in ``result``.

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
    >>> ax = plot_metric_vs_k(result, "ndcg")
    >>> ax.get_xlabel(), bool(ax.get_title())
    ('k', True)
    """
    ax = axes(ax)
    part = result.summary[result.summary["metric"] == metric]
    if part.empty:
        raise InvalidParameterError(
            f"metric {metric!r} was not evaluated; evaluated: "
            f"{sorted(result.summary['metric'].unique())}"
        )
    for model, rows in part.groupby("model", sort=False):
        rows = rows.sort_values("k")
        ax.plot(rows["k"], rows["mean"], marker="o", label=model)
        ax.fill_between(rows["k"], rows["ci_low"], rows["ci_high"], alpha=0.2)
    ax.set_xlabel("k")
    ax.set_ylabel(f"{metric}@k")
    ax.set_title(f"{metric} by cut-off, per model")
    ax.legend(fontsize="small")
    return ax


def plot_comparison(
    result: EvaluationResult, metric: str = "ndcg", k: int | None = None, *, ax: Any = None
):
    """Horizontal bars of ``metric@k`` per model with 95% interval whiskers, best on top.

    Parameters
    ----------
    result : EvaluationResult
        From :func:`evaluate`.
    metric : str
        A metric of ``result``.
    k : int, optional
        Its cut-off (default: the largest evaluated).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        ``metric`` or ``k`` not in ``result``.

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
    >>> ax = plot_comparison(result, metric="ndcg", k=10)
    >>> bool(ax.get_title())
    True
    """
    ax = axes(ax)
    k = int(result.summary["k"].min()) if k is None else k
    part = result.summary[(result.summary["metric"] == metric) & (result.summary["k"] == k)]
    if part.empty:
        raise InvalidParameterError(f"no results for {metric}@{k}.")
    part = part.sort_values("mean")
    error = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
    ax.barh(part["model"], part["mean"], xerr=np.nan_to_num(error), capsize=3)
    ax.set_xlabel(f"{metric}@{k} (mean, 95% interval)")
    ax.set_ylabel("model")
    ax.set_title(f"{metric}@{k} by model")
    return ax


def plot_popularity_bias(recs: RecBatch, train: Interactions, k: int = 10, *, ax: Any = None):
    """How often each item is recommended (top-k) against how popular it was in training.

    Points on a log-log scatter; a model with popularity bias puts its exposure on the right.

    Parameters
    ----------
    recs : RecBatch
        Ranked lists.
    train : Interactions
        The data the model was fitted on.
    k : int
        The cut-off.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    DataValidationError
        ``recs`` is not a RecBatch or ``train`` not an Interactions.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import Popularity
    >>> recs = Popularity().fit(X).recommend_batch(X.user_map.ids(range(50)), 10)
    >>> ax = plot_popularity_bias(recs, X)
    >>> bool(ax.get_xlabel() and ax.get_title())
    True
    """
    ax = axes(ax)
    from .metrics import _exposure, _train_popularity

    exposure, _ = _exposure(recs, k, None)
    popularity, _ = _train_popularity(recs, train)
    shown = exposure > 0
    ax.scatter(popularity[shown] + 1, exposure[shown], s=8, alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training users per item (+1)")
    ax.set_ylabel(f"times recommended in a top-{k}")
    ax.set_title("Exposure against training popularity")
    return ax
