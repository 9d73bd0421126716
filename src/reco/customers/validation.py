"""Calibration / holdout checks of purchase models, and cumulative tracking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_frame, check_int, check_option
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["HoldoutCheck", "evaluate_holdout", "tracking"]


@dataclass
class HoldoutCheck:
    """Predicted against actual holdout purchases.

    Attributes
    ----------
    by_frequency : DataFrame
        Per calibration frequency (capped at ``max_frequency``, the last row holds "or more"):
        ``n_customers``, ``predicted`` and ``actual`` mean holdout purchases.
    per_customer : DataFrame
        ``predicted`` and ``actual`` per customer.
    errors : dict
        ``mae`` and ``rmse`` per customer, ``total_predicted``, ``total_actual`` and
        ``total_error`` (relative error of the total).

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, calibration_end="2024-09-30")
    >>> model = BetaGeo().fit(table)
    >>> check = evaluate_holdout(model, table)
    >>> list(check.by_frequency.columns)
    ['n_customers', 'predicted', 'actual']
    """

    by_frequency: pd.DataFrame
    per_customer: pd.DataFrame
    errors: dict


def evaluate_holdout(model: Any, summary: pd.DataFrame, *, max_frequency: int = 7) -> HoldoutCheck:
    """Compare a fitted purchase model's conditional expectations with the holdout period.

    ``summary`` comes from :func:`reco.customers.summary` with ``calibration_end``: each
    customer's calibration statistics predict ``frequency_holdout`` over ``duration_holdout``.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD
        A fitted purchase model.
    summary : DataFrame
        From :func:`summary` with ``calibration_end``.
    max_frequency : int
        Calibration frequencies at or above it are grouped.

    Returns
    -------
    HoldoutCheck
        ``per_customer`` predictions, ``by_frequency`` actual against predicted, and ``errors``.

    Raises
    ------
    DataValidationError
        ``summary`` without the holdout columns.
    NotFittedError
        ``model`` is not fitted.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, calibration_end="2024-09-30")
    >>> model = BetaGeo().fit(table)
    >>> check = evaluate_holdout(model, table)
    >>> sorted(check.errors)[:3]
    ['mae', 'rmse', 'total_actual']
    >>> int(check.by_frequency["n_customers"].sum()) == len(table)
    True
    """
    check_frame(
        summary,
        {
            "a": "frequency",
            "b": "recency",
            "c": "T",
            "d": "frequency_holdout",
            "e": "duration_holdout",
        },
        what="summary (with calibration_end)",
    )
    max_frequency = check_int(max_frequency, "max_frequency", low=1)
    if not hasattr(model, "conditional_expected_purchases"):
        raise InvalidParameterError("model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD.")
    predicted = model.conditional_expected_purchases(
        summary["duration_holdout"].to_numpy(np.float64),
        frequency=summary["frequency"],
        recency=summary["recency"],
        T=summary["T"],
    )
    actual = summary["frequency_holdout"].to_numpy(np.float64)
    per_customer = pd.DataFrame({"predicted": predicted, "actual": actual}, index=summary.index)
    bucket = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    grouped = per_customer.groupby(bucket)
    by_frequency = pd.DataFrame(
        {
            "n_customers": grouped.size(),
            "predicted": grouped["predicted"].mean(),
            "actual": grouped["actual"].mean(),
        }
    )
    by_frequency.index.name = "frequency"
    errors = {
        "mae": float(np.abs(predicted - actual).mean()),
        "rmse": float(np.sqrt(((predicted - actual) ** 2).mean())),
        "total_predicted": float(predicted.sum()),
        "total_actual": float(actual.sum()),
        "total_error": float(predicted.sum() / actual.sum() - 1) if actual.sum() else np.nan,
    }
    return HoldoutCheck(by_frequency, per_customer, errors)


def tracking(
    model: Any,
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    freq: str = "D",
    observation_end: Any = None,
) -> pd.DataFrame:
    """Cumulative repeat purchases of the cohort, actual and expected, day by day.

    Each row is the end of its day. Expected: :math:`\\sum_i E[X(t - t_{0,i})]` over
    customers first seen on day :math:`t_{0,i}`, with :math:`t` the end of the row's day, so a
    customer born on day 0 has had one full day by the end of day 0 (the convention of R's
    BTYD ``bgnbd.ExpectedCumulativeTransactions`` and of lifetimes). Times are in the units the
    model was fit in (``freq``). Actual: repeat purchases counted as :func:`summary` counts
    them (one per customer and day), through the end of the row's day.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD
        A fitted purchase model.
    transactions : DataFrame
        The purchases of the cohort.
    customer, time : str
        Columns.
    freq : str
        The time unit the model was fitted in (``"D"``, ``"W"``).
    observation_end : date, optional
        Last day (default the last purchase).

    Returns
    -------
    DataFrame
        Indexed by day: ``actual`` and ``expected`` cumulative repeat purchases.

    Raises
    ------
    NotFittedError
        ``model`` is not fitted.
    DataValidationError
        Missing columns or NaN times.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, calibration_end="2024-09-30")
    >>> curves = tracking(BetaGeo().fit(table), shop.order_lines, freq="W")
    >>> list(curves.columns), bool(curves["actual"].is_monotonic_increasing)
    (['actual', 'expected'], True)
    """
    check_frame(transactions, {"customer": customer, "time": time}, what="transactions frame")
    check_option(freq, "freq", ("D", "W"))
    unit = 1.0 if freq == "D" else 7.0
    times = pd.to_datetime(transactions[time]).dt.floor("D")
    frame = pd.DataFrame({"customer": transactions[customer].to_numpy(), "day": times})
    frame = frame.drop_duplicates()
    start = frame["day"].min()
    end = frame["day"].max() if observation_end is None else pd.Timestamp(observation_end)
    if end < start:
        raise DataValidationError("observation_end is before the first transaction.")
    first = frame.groupby("customer")["day"].transform("min")
    repeat_days = ((frame.loc[frame["day"] > first, "day"] - start).dt.days).to_numpy()
    n_days = int((end - start).days) + 1
    actual = np.cumsum(np.bincount(repeat_days, minlength=n_days)[:n_days])
    births = np.bincount(
        (frame.groupby("customer")["day"].min() - start).dt.days.to_numpy(), minlength=n_days
    )[:n_days]
    # curve[j] = E[X(j + 1)]: at the end of day d a customer born on day b has had d - b + 1
    curve = model.expected_purchases(np.arange(1, n_days + 1) / unit)
    expected = np.convolve(births, curve)[:n_days]
    return pd.DataFrame(
        {"actual": actual, "expected": expected},
        index=pd.date_range(start, periods=n_days, freq="D", name="date"),
    )
