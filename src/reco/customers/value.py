"""lifetime_value(): discounted expected revenue per customer, from a purchase and a spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from .btyd import BetaGeo, GammaGamma

__all__ = ["lifetime_value", "value_at_risk"]


def lifetime_value(
    purchases: BetaGeo,
    spend: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon: int = 12,
    period: float = 30.0,
    discount_rate: float = 0.01,
) -> pd.DataFrame:
    r"""Customer lifetime value over ``horizon`` discounting periods, ranked.

    .. math::

        \mathrm{CLV} = \sum_{k=1}^{H} \frac{E[Z]\,\big(E[Y(kP)] - E[Y((k-1)P)]\big)}
        {(1 + d)^k}

    where :math:`E[Y(t)]` is the purchase model's conditional expected purchases in the next
    t time units (the units of ``summary``), :math:`P` = ``period`` time units per discounting
    period (30 for months on daily data, 4.35 on weekly data), :math:`d` the discount rate per
    period, and :math:`E[Z]` the spend model's conditional expected spend per purchase.

    Returns
    -------
    DataFrame indexed like ``summary``: ``expected_purchases`` (over the horizon),
    ``expected_spend``, ``probability_alive``, ``clv`` and ``rank`` (1 = most valuable), sorted
    by ``clv`` descending.
    """
    if not isinstance(purchases, BetaGeo) or not isinstance(spend, GammaGamma):
        raise InvalidParameterError(
            "lifetime_value needs a fitted BetaGeo (purchases) and a fitted GammaGamma (spend)."
        )
    if not isinstance(summary, pd.DataFrame) or not {
        "frequency",
        "recency",
        "T",
        "monetary_value",
    } <= set(summary.columns):
        raise DataValidationError(
            "summary must have frequency, recency, T and monetary_value columns "
            "(reco.customers.summary(..., value=...))."
        )
    horizon = check_int(horizon, "horizon", low=1)
    period = check_number(period, "period", low=0, low_open=True)
    discount_rate = check_number(discount_rate, "discount_rate", low=0)
    x, t_x, T = (summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    spend_per_purchase = spend.conditional_expected_spend(
        frequency=x, monetary_value=summary["monetary_value"].to_numpy(np.float64)
    )
    value = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for k in range(1, horizon + 1):
        current = purchases.conditional_expected_purchases(
            k * period, frequency=x, recency=t_x, T=T
        )
        value += spend_per_purchase * (current - previous) / (1 + discount_rate) ** k
        previous = current
    out = pd.DataFrame(
        {
            "expected_purchases": previous,
            "expected_spend": spend_per_purchase,
            "probability_alive": purchases.probability_alive(frequency=x, recency=t_x, T=T),
            "clv": value,
        },
        index=summary.index,
    )
    out = out.sort_values("clv", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def value_at_risk(churn: pd.Series, clv: pd.Series | pd.DataFrame) -> pd.DataFrame:
    r"""Customers ranked by value at risk :math:`= P(\text{churn}) \times \text{CLV}`.

    Parameters
    ----------
    churn : Series
        P(churn) per customer id (e.g. :meth:`ChurnModel.predict_proba`), in [0, 1].
    clv : Series or DataFrame
        Lifetime value per customer id; a :func:`lifetime_value` frame is read from its
        ``clv`` column. Every customer of ``churn`` must have a value.

    Returns
    -------
    DataFrame indexed by customer: ``p_churn``, ``clv``, ``value_at_risk`` and ``rank``
    (1 = most value at risk), sorted by value at risk.
    """
    if isinstance(clv, pd.DataFrame):
        if "clv" not in clv.columns:
            raise DataValidationError(
                f"clv frame must have a 'clv' column (from lifetime_value); columns present: "
                f"{list(clv.columns)}."
            )
        clv = clv["clv"]
    for name, series in (("churn", churn), ("clv", clv)):
        if not isinstance(series, pd.Series):
            raise DataValidationError(
                f"{name} must be a pandas Series indexed by customer id; got "
                f"{type(series).__name__}."
            )
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise DataValidationError(f"{name} must be numeric; got dtype {series.dtype}.")
        if series.isna().any() or not np.isfinite(series.to_numpy(np.float64)).all():
            raise DataValidationError(f"{name} has NaN or infinite values; drop or fill them.")
        if not series.index.is_unique:
            raise DataValidationError(f"{name} has repeated customer ids; one value each.")
    if ((churn < 0) | (churn > 1)).any():
        raise DataValidationError(
            f"churn must hold probabilities in [0, 1]; got values from {churn.min()} to "
            f"{churn.max()}."
        )
    missing = churn.index.difference(clv.index)
    if missing.size:
        raise DataValidationError(
            f"{missing.size} customer(s) of churn have no lifetime value, e.g. "
            f"{missing[:5].tolist()}; compute CLV for the same customers or pass "
            "churn.loc[churn.index.intersection(clv.index)]."
        )
    value = clv.loc[churn.index].to_numpy(np.float64)
    out = pd.DataFrame({"p_churn": churn.to_numpy(np.float64), "clv": value}, index=churn.index)
    out["value_at_risk"] = out["p_churn"] * out["clv"]
    out = out.sort_values("value_at_risk", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out
