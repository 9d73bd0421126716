"""One row of value and risk per customer from a summary table: RFM cells and segment, BTYD
predictions, CLV and P(churn). Shared by ``reco.batch.score_customers`` and the customer
store (``reco.crm``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "customer_rows", "fit_missing"]

COLUMNS = (
    "customer",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "R",
    "F",
    "M",
    "segment",
    "expected_purchases",
    "probability_alive",
    "expected_spend",
    "clv",
    "p_churn",
)


def fit_missing(table: pd.DataFrame, models: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The RFM scorer, purchase model and spend model: given ones, the others fitted on
    ``table``."""
    from . import BetaGeo, GammaGamma, RFMScorer

    rfm = models.get("rfm") or RFMScorer().fit(table)
    purchases = models.get("purchases") or BetaGeo().fit(table)
    spend = models.get("spend") or GammaGamma().fit(table)
    return rfm, purchases, spend


def customer_rows(
    chunk, rfm, purchases, spend, p_churn, horizon, period, discount_rate
) -> pd.DataFrame:
    from . import lifetime_value

    scores = rfm.transform(chunk)
    if len(chunk):
        value = lifetime_value(
            purchases, spend, chunk, horizon=horizon, period=period, discount_rate=discount_rate
        ).reindex(chunk.index)
    else:
        value = pd.DataFrame(
            {
                k: np.zeros(0)
                for k in ("expected_purchases", "probability_alive", "expected_spend", "clv")
            }
        )
    churn = (
        np.full(len(chunk), np.nan)
        if p_churn is None
        else p_churn.reindex(chunk.index).to_numpy(np.float64)
    )
    frame = pd.DataFrame(
        {
            "customer": chunk.index.to_numpy(),
            "frequency": chunk["frequency"].to_numpy(),
            "recency": chunk["recency"].to_numpy(np.float64),
            "T": chunk["T"].to_numpy(np.float64),
            "monetary_value": chunk["monetary_value"].to_numpy(np.float64),
            "R": scores["R"].to_numpy(),
            "F": scores["F"].to_numpy(),
            "M": scores["M"].to_numpy(),
            "segment": scores["segment"].astype(str).array,
            "expected_purchases": value["expected_purchases"].to_numpy(np.float64),
            "probability_alive": value["probability_alive"].to_numpy(np.float64),
            "expected_spend": value["expected_spend"].to_numpy(np.float64),
            "clv": value["clv"].to_numpy(np.float64),
            "p_churn": churn,
        }
    )
    return frame[list(COLUMNS)]
