"""lifetime_value(): discounted expected revenue per customer, from a purchase and a spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from .btyd import BetaGeo, GammaGamma

__all__ = ["lifetime_value"]


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
