"""lifetime_value(): discounted expected revenue per customer, from a purchase and a spend model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from .btyd import BetaGeo, BetaGeoBetaBinom, GammaGamma, ParetoNBD

__all__ = ["lifetime_value", "value_at_risk"]


_MAX_HORIZON = 1200  # discounting periods (a century of months)


def lifetime_value(
    purchases: BetaGeo | ParetoNBD | BetaGeoBetaBinom,
    spend: GammaGamma | pd.Series,
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
    period (30 for months on daily data, 4.35 on weekly data; for BG/BB, a whole number of
    transaction opportunities), :math:`d` the discount rate per period, and :math:`E[Z]` the
    expected spend per purchase.

    Parameters
    ----------
    purchases : fitted BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom
        The continuous models read ``frequency``, ``recency`` and ``T`` from ``summary``;
        BG/BB reads ``frequency``, ``recency`` and ``n_periods``.
    spend : fitted GammaGamma, or a Series
        A Gamma-Gamma model (reads ``monetary_value`` from ``summary``), or the expected spend
        per purchase of every customer directly, indexed like ``summary``.
    horizon : int in [1, 1200]
        Discounting periods.

    Returns
    -------
    DataFrame indexed like ``summary``: ``expected_purchases`` (over the horizon),
    ``expected_spend``, ``probability_alive``, ``clv`` and ``rank`` (1 = most valuable), sorted
    by ``clv`` descending.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, value="value")
    >>> purchases, spend = BetaGeo().fit(table), GammaGamma().fit(table)
    >>> clv = lifetime_value(purchases, spend, table, horizon=12, period=30, discount_rate=0.01)
    >>> list(clv.columns)
    ['expected_purchases', 'expected_spend', 'probability_alive', 'clv', 'rank']
    >>> bool((clv["clv"] >= 0).all())
    True
    """
    if not isinstance(purchases, (BetaGeo, ParetoNBD, BetaGeoBetaBinom)):
        raise InvalidParameterError(
            "purchases must be a fitted BetaGeo, ModifiedBetaGeo, ParetoNBD or "
            f"BetaGeoBetaBinom; got {type(purchases).__name__}."
        )
    purchases._check_fitted()
    discrete = isinstance(purchases, BetaGeoBetaBinom)
    last = "n_periods" if discrete else "T"
    needed = ["frequency", "recency", last]
    if not isinstance(summary, pd.DataFrame) or not set(needed) <= set(summary.columns):
        raise DataValidationError(
            f"summary must be a DataFrame with columns {needed} (reco.customers.summary); got "
            f"{list(summary.columns) if isinstance(summary, pd.DataFrame) else type(summary)}."
        )
    horizon = check_int(horizon, "horizon", low=1, high=_MAX_HORIZON)
    if discrete:
        period = check_int(period, "period", low=1, hint="BG/BB counts whole opportunities.")
    else:
        period = check_number(period, "period", low=0, low_open=True)
    discount_rate = check_number(discount_rate, "discount_rate", low=0)
    history = {
        "frequency": summary["frequency"].to_numpy(np.float64),
        "recency": summary["recency"].to_numpy(np.float64),
        last: summary[last].to_numpy(np.float64),
    }
    spend_per_purchase = _spend_per_purchase(spend, summary)
    value = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for k in range(1, horizon + 1):
        current = purchases.conditional_expected_purchases(k * period, **history)
        # expected purchases never fall as the window grows; rounding must not make them
        current = np.maximum(current, previous)
        value += spend_per_purchase * (current - previous) / (1 + discount_rate) ** k
        previous = current
    out = pd.DataFrame(
        {
            "expected_purchases": previous,
            "expected_spend": spend_per_purchase,
            "probability_alive": purchases.probability_alive(**history),
            "clv": value,
        },
        index=summary.index,
    )
    out = out.sort_values("clv", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def _spend_per_purchase(spend: Any, summary: pd.DataFrame) -> np.ndarray:
    if isinstance(spend, GammaGamma):
        if "monetary_value" not in summary.columns:
            raise DataValidationError(
                "summary needs a monetary_value column for a GammaGamma spend model "
                "(reco.customers.summary(..., value=...)), or pass spend as a Series."
            )
        return spend.conditional_expected_spend(
            frequency=summary["frequency"].to_numpy(np.float64),
            monetary_value=summary["monetary_value"].to_numpy(np.float64),
        )
    if isinstance(spend, pd.Series):
        missing = summary.index.difference(spend.index)
        if missing.size:
            raise DataValidationError(
                f"spend has no value for {missing.size} customer(s) of summary, e.g. "
                f"{missing[:5].tolist()}; give one expected spend per customer."
            )
        values = pd.to_numeric(spend.loc[summary.index], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(values).all() or (values < 0).any():
            raise DataValidationError("spend must hold finite, non-negative amounts.")
        return values
    raise InvalidParameterError(
        "spend must be a fitted GammaGamma or a Series of expected spend per purchase indexed "
        f"by customer; got {type(spend).__name__}."
    )


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

    Examples
    --------
    >>> import pandas as pd
    >>> churn = pd.Series({"a": 0.9, "b": 0.2, "c": 0.5})
    >>> clv = pd.Series({"a": 100.0, "b": 400.0, "c": 300.0})
    >>> value_at_risk(churn, clv)["value_at_risk"]
    c    150.0
    a     90.0
    b     80.0
    Name: value_at_risk, dtype: float64
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
