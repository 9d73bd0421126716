r"""backtest_churn: rolling-origin evaluation of a churn model beside two rules a team uses.

At each cutoff :math:`c` the model is refitted on the log up to :math:`c` (so on cutoffs
whose label windows end by :math:`c`) and scores the customers active at :math:`c`; their
labels come from :math:`(c, c + h]`. Beside it, on the same customers:

* **recency rule**: "no purchase for :math:`k` days"; :math:`k` maximises Youden's
  :math:`J = TPR - FPR` on the model's training cutoffs only, and the rule's probability on
  each side of :math:`k` is the churn rate observed there on those cutoffs;
* **BTYD**: :math:`1 - P(\text{alive})` from BG/NBD fitted on the summary at :math:`c`.

Metrics per cutoff and method: ROC-AUC, PR-AUC (average precision), Brier score, and lift and
capture rate in the top decile, ties at the decile's edge shared in proportion (a score with
many ties, like the binary rule, is neither favoured nor penalised by the order of rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int
from ..exceptions import InvalidParameterError
from ._log import as_timestamp, check_cutoff
from .churn import features_at, labels_at, parse_inputs
from .churn_model import ChurnModel

__all__ = ["METHODS", "ChurnBacktest", "backtest_churn", "top_share"]

METHODS = ("model", "recency_rule", "btyd")


@dataclass
class ChurnBacktest:
    """What :func:`backtest_churn` measured.

    Attributes
    ----------
    metrics : DataFrame
        One row per (cutoff, method): ``n_customers``, ``churn_rate``, ``roc_auc``,
        ``pr_auc``, ``brier``, ``lift_top_decile``, ``capture_top_decile``.
    calibration : DataFrame
        Per (cutoff, method, bin): ``mean_predicted``, ``observed_rate``, ``n`` over ten
        equal-width probability bins.
    scores : DataFrame
        Long rows: ``cutoff``, ``customer``, ``churn`` (label) and one column per method.
    recency_days : dict
        The recency rule's threshold ``k`` chosen at each cutoff.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> churn = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    >>> result = backtest_churn(churn, shop.order_lines, cutoffs=["2024-10-01"], value="value")
    >>> {"roc_auc", "pr_auc", "brier"} <= set(result.metrics.columns)
    True
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    scores: pd.DataFrame
    recency_days: dict

    def plot_gains(self, cutoff: Any = None, *, ax: Any = None):
        """Cumulative gains: share of churners captured against share of customers
        contacted, best first, per method (the last cutoff by default)."""
        from .plots import plot_churn_gains

        return plot_churn_gains(self, cutoff=cutoff, ax=ax)

    def plot_calibration(self, cutoff: Any = None, *, ax: Any = None):
        """Observed churn rate against mean predicted probability per bin."""
        from .plots import plot_churn_calibration

        return plot_churn_calibration(self, cutoff=cutoff, ax=ax)


def backtest_churn(
    model: ChurnModel,
    transactions: pd.DataFrame,
    *,
    cutoffs: Sequence[Any],
    horizon: Any = None,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str | None = None,
    events: pd.DataFrame | None = None,
    order: str | None = None,
    category: str | None = None,
    event: str = "event",
    n_bins: int = 10,
) -> ChurnBacktest:
    """Evaluate ``model`` (refitted, never changed) at each cutoff beside the two rules.

    ``horizon`` defaults to the model's; when given it replaces the model's on the clones.

    Parameters
    ----------
    model : ChurnModel
        The model to evaluate (cloned and refitted at each cutoff).
    transactions : DataFrame
        One row per purchase (or order line).
    cutoffs : list of dates
        Where to score; each needs its whole horizon observed.
    horizon : duration, optional
        The label window (default the model's).
    customer, time, value, order, category : str
        Columns of ``transactions``.
    events : DataFrame, optional
        A browsing log, for the browsing features.
    event : str
        Its event-type column.
    n_bins : int
        Probability bins of the calibration table.

    Returns
    -------
    ChurnBacktest
        ``metrics`` (ROC-AUC, PR-AUC, Brier, lift per cutoff and method), the scores and the
        gains and calibration tables.

    Raises
    ------
    DataValidationError
        Missing columns, or a cutoff whose horizon runs past the data.
    InvalidParameterError
        No cutoffs, or a bad ``horizon`` or ``n_bins``.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> churn = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    >>> result = backtest_churn(churn, shop.order_lines, cutoffs=["2024-10-01"], value="value")
    >>> sorted(result.metrics["method"].unique())
    ['btyd', 'model', 'recency_rule']
    """
    from .._params import clone

    if not isinstance(model, ChurnModel):
        raise InvalidParameterError(
            f"model must be a reco.customers.ChurnModel; got {type(model).__name__}."
        )
    n_bins = check_int(n_bins, "n_bins", low=2, high=1000)
    if isinstance(cutoffs, (str, bytes)) or not isinstance(cutoffs, Sequence) or not cutoffs:
        raise InvalidParameterError(f"cutoffs must be a non-empty list of dates; got {cutoffs!r}.")
    template = clone(model) if horizon is None else clone(model).set_params(horizon=horizon)
    params = template._validated()
    log, browsing, _ = parse_inputs(
        transactions, customer, time, value, order, category, events, event, None
    )
    stamps = [as_timestamp(c, "each cutoff") for c in cutoffs]
    for stamp in stamps:
        check_cutoff(log, stamp)
    rows, bins, frames, thresholds = [], [], [], {}
    for stamp in stamps:
        labels = labels_at(log, stamp, params["horizon"], template.active_since)
        fitted = clone(template)._fit_log(log, stamp, browsing)
        # the model's own features at the cutoff hold the baselines' inputs too
        features = fitted.features(log, stamp, browsing)
        model_p = fitted._predict_features(features)
        customers = model_p.index.intersection(labels.index)
        y = labels.loc[customers].to_numpy()
        k, rule = _recency_rule(log, fitted, params, browsing)
        at = pd.Timestamp(stamp)
        thresholds[at] = k
        recency = features.loc[customers, "recency_days"].to_numpy()
        scored = {
            "model": model_p.loc[customers].to_numpy(),
            "recency_rule": np.where(recency > k, rule[1], rule[0]),
            "btyd": 1.0 - features.loc[customers, "btyd_p_alive"].to_numpy(),
        }
        for method, score in scored.items():
            rows.append({"cutoff": at, "method": method, **_metrics(y, score)})
            bins.append(_calibration_table(y, score, n_bins).assign(cutoff=at, method=method))
        frames.append(pd.DataFrame({"cutoff": at, "customer": customers, "churn": y, **scored}))
    calibration = pd.concat(bins, ignore_index=True)
    front = ["cutoff", "method"]
    calibration = calibration[front + [c for c in calibration.columns if c not in front]]
    return ChurnBacktest(
        metrics=pd.DataFrame(rows),
        calibration=calibration,
        scores=pd.concat(frames, ignore_index=True),
        recency_days=thresholds,
    )


def _recency_rule(log, fitted, params, browsing) -> tuple[float, tuple[float, float]]:
    """Threshold k (days) with the largest Youden J on the training cutoffs, and the churn
    rates at or below / above it there."""
    recency, labels = [], []
    end = max(fitted.training_cutoffs_) + pd.Timedelta(params["horizon"])
    for cutoff in fitted.training_cutoffs_:
        at = as_timestamp(cutoff, "cutoff")
        y = labels_at(log, at, params["horizon"], fitted.active_since, observation_end=end)
        X = features_at(log, at, (1,), None, params["horizon"], False)
        recency.append(X.loc[y.index, "recency_days"].to_numpy())
        labels.append(y.to_numpy())
    r, y = np.concatenate(recency), np.concatenate(labels)
    order = np.argsort(-r, kind="stable")
    r, y = r[order], y[order]
    positives, negatives = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
    tp, fp = np.cumsum(y), np.cumsum(1 - y)
    last = np.append(r[1:] != r[:-1], True)  # cut between distinct values only
    j = np.where(last, tp / positives - fp / negatives, -np.inf)
    best = int(np.argmax(j))
    k = float(r[best + 1]) if best + 1 < r.size else float(r[best]) - 1.0
    above = r > k
    rate = (
        float(y[~above].mean()) if (~above).any() else 0.0,
        float(y[above].mean()) if above.any() else 1.0,
    )
    return k, rate


def top_share(y: np.ndarray, score: np.ndarray, share: float = 0.1) -> tuple[float, float]:
    """(lift, capture rate) in the top ``share`` of customers by score, ties shared.

    Rows tied with the row at the edge enter in proportion, as their expected share under a
    random order of ties.
    """
    n = y.size
    size = share * n
    order = np.argsort(-score, kind="stable")
    s, labels = score[order], y[order]
    edge = s[min(int(np.ceil(size)) - 1, n - 1)]
    above = s > edge
    tied = s == edge
    room = size - above.sum()
    caught = labels[above].sum() + labels[tied].sum() * room / max(int(tied.sum()), 1)
    base = y.mean()
    captured = caught / max(y.sum(), 1)
    return float((caught / size) / base) if base > 0 else float("nan"), float(captured)


def _metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    lift, capture = top_share(y, score, 0.1)
    return {
        "n_customers": int(y.size),
        "churn_rate": float(y.mean()),
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "brier": float(np.mean((score - y) ** 2)),
        "lift_top_decile": lift,
        "capture_top_decile": capture,
    }


def _calibration_table(y: np.ndarray, score: np.ndarray, n_bins: int) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    filled = count > 0
    mean_p = np.bincount(which, score, n_bins)[filled] / count[filled]
    observed = np.bincount(which, y, n_bins)[filled] / count[filled]
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(filled),
            "lower": edges[:-1][filled],
            "upper": edges[1:][filled],
            "mean_predicted": mean_p,
            "observed_rate": observed,
            "n": count[filled],
        }
    )
