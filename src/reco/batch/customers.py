"""``score_customers``: one row of value and risk per customer, streamed to a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from ._write import TableWriter, table_format

__all__ = ["score_customers"]

_MODEL_KEYS = ("rfm", "purchases", "spend", "churn")
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


def _models(models: Any) -> dict[str, Any]:
    if models is None:
        return {}
    if not isinstance(models, dict):
        raise InvalidParameterError(
            f"models must be a dict with some of the keys {list(_MODEL_KEYS)}; got "
            f"{type(models).__name__}."
        )
    extra = sorted(set(models) - set(_MODEL_KEYS))
    if extra:
        raise InvalidParameterError(
            f"models has unknown key(s) {extra}; expected some of {list(_MODEL_KEYS)}."
        )
    return dict(models)


def score_customers(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str = "value",
    cutoff: Any = None,
    out: str | os.PathLike,
    models: dict[str, Any] | None = None,
    churn_options: dict[str, Any] | None = None,
    horizon: int = 12,
    period: float = 30.0,
    discount_rate: float = 0.01,
    chunk_size: int = 100_000,
    show_progress: bool = True,
) -> Path:
    """Write one row per customer: RFM, BTYD predictions, CLV and P(churn), to ``out``.

    Columns: ``customer``, ``frequency``, ``recency``, ``T``, ``monetary_value`` (the
    :func:`reco.customers.summary` at ``cutoff``, in days), ``R``, ``F``, ``M``, ``segment``
    (:class:`~reco.customers.RFMScorer`), ``expected_purchases`` over ``horizon`` periods of
    ``period`` days, ``probability_alive``, ``expected_spend``, ``clv``
    (:func:`~reco.customers.lifetime_value`), and ``p_churn`` (NaN unless
    ``models["churn"]`` is a fitted :class:`~reco.customers.ChurnModel`, called with
    ``churn_options`` such as ``events`` and ``order``).

    ``models`` may hold fitted ``"rfm"``, ``"purchases"`` (any BTYD purchase model),
    ``"spend"`` (GammaGamma) and ``"churn"`` models; the first three are fitted on the
    summary when absent. Only transactions up to ``cutoff`` are read (default: all). Rows are
    scored and written ``chunk_size`` customers at a time; the file is written atomically
    (``.parquet`` or ``.csv``).
    """
    from ..customers import BetaGeo, GammaGamma, RFMScorer, summary

    table_format(out)  # before any work: a bad path fails fast
    models = _models(models)
    horizon = check_int(horizon, "horizon", low=1, high=1200)
    period = check_number(period, "period", low=0, low_open=True)
    discount_rate = check_number(discount_rate, "discount_rate", low=0)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    show_progress = check_bool(show_progress, "show_progress")
    if churn_options is not None and not isinstance(churn_options, dict):
        raise InvalidParameterError(
            f"churn_options must be a dict of ChurnModel.predict_proba arguments; got "
            f"{type(churn_options).__name__}."
        )
    if not isinstance(transactions, pd.DataFrame):
        raise DataValidationError(
            f"transactions must be a pandas DataFrame; got {type(transactions).__name__}."
        )
    data = transactions
    if cutoff is not None:
        missing = [c for c in (time,) if c not in data.columns]
        if missing:
            raise DataValidationError(
                f"transactions lack the time column {time!r}; columns present: "
                f"{list(data.columns)}."
            )
        from ..customers._log import as_datetimes, as_timestamp

        at = as_timestamp(cutoff, "cutoff")
        data = data[as_datetimes(data[time], time) <= at]
        cutoff = pd.Timestamp(at)
    table = summary(data, customer=customer, time=time, value=value, observation_end=cutoff)
    rfm = models.get("rfm") or RFMScorer().fit(table)
    purchases = models.get("purchases") or BetaGeo().fit(table)
    spend = models.get("spend") or GammaGamma().fit(table)
    churn = models.get("churn")
    p_churn = None
    if churn is not None:
        p_churn = churn.predict_proba(
            transactions,
            customer=customer,
            time=time,
            value=value,
            cutoff=cutoff,
            **(churn_options or {}),
        )
    empty = _rows(table.iloc[:0], rfm, purchases, spend, p_churn, horizon, period, discount_rate)
    from tqdm.auto import tqdm

    with (
        TableWriter(out, empty) as writer,
        tqdm(total=len(table), unit="customers", disable=not show_progress, desc="score") as bar,
    ):
        for start in range(0, len(table), chunk_size):
            chunk = table.iloc[start : start + chunk_size]
            writer.write(
                _rows(chunk, rfm, purchases, spend, p_churn, horizon, period, discount_rate)
            )
            bar.update(len(chunk))
    return writer.path


def _rows(chunk, rfm, purchases, spend, p_churn, horizon, period, discount_rate) -> pd.DataFrame:
    from ..customers import lifetime_value

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
            "segment": scores["segment"].astype(str).to_numpy(),
            "expected_purchases": value["expected_purchases"].to_numpy(np.float64),
            "probability_alive": value["probability_alive"].to_numpy(np.float64),
            "expected_spend": value["expected_spend"].to_numpy(np.float64),
            "clv": value["clv"].to_numpy(np.float64),
            "p_churn": churn,
        }
    )
    return frame[list(COLUMNS)]
