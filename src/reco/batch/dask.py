"""``recommend_all`` on a Dask cluster: ``map_partitions`` over a frame of user ids.

The model travels as its file (bytes, one task that every partition depends on, so each
worker receives it once) and is loaded once per worker process; each partition is scored
with :func:`reco.batch.recommend_all`'s own code, so the rows equal the single-process ones.
Needs ``reco[dask]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_n, check_option
from ..base import Recommender
from ..exceptions import DataValidationError
from ._ship import model_bytes, model_from_bytes
from .recommend import recommendation_rows

__all__ = ["recommend_all"]


def _score_partition(
    part: pd.DataFrame | pd.Series, data: bytes, n: int, options: dict[str, Any]
) -> pd.DataFrame:
    model = model_from_bytes(data)
    users = part.iloc[:, 0] if isinstance(part, pd.DataFrame) else part
    users = model.user_map_.coerce(users.to_numpy()) if len(users) else users.to_numpy()
    batch = model.recommend_batch(users, n, **options)
    return _typed(recommendation_rows(batch))


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Object id columns as pandas strings: Dask and Parquet need a declared type."""
    for column in ("user", "item"):
        if rows[column].dtype == object:
            rows[column] = rows[column].astype("string")
    return rows


def recommend_all(
    model: Recommender,
    users: Any,
    n: int = 10,
    *,
    out: str | None = None,
    exclude_seen: bool = True,
    exclude_items: Any = None,
    candidates: Any = None,
    unknown: str = "raise",
) -> Any:
    """Top-``n`` rows ``user, item, score, rank`` for the users in a Dask DataFrame (first
    column) or Series, as a lazy Dask DataFrame, or written with ``to_parquet(out)`` (a
    folder of part files) when ``out`` is given (returns ``out``)."""
    import dask
    import dask.dataframe as dd

    if not isinstance(model, Recommender):
        raise DataValidationError(
            f"model must be a fitted reco recommender; got {type(model).__name__}."
        )
    model._check_fitted()
    if not isinstance(users, (dd.DataFrame, dd.Series)):
        raise DataValidationError(
            "users must be a dask DataFrame whose first column holds the user ids (or a dask "
            f"Series); got {type(users).__name__}. For pandas data use "
            "reco.batch.recommend_all."
        )
    n = check_n(n)
    options = {
        "exclude_seen": check_bool(exclude_seen, "exclude_seen"),
        "exclude_items": None if exclude_items is None else np.asarray(exclude_items),
        "candidates": None if candidates is None else np.asarray(candidates),
        "unknown": check_option(unknown, "unknown", ("raise", "popular", "empty")),
    }
    meta = _typed(recommendation_rows(model.recommend_batch(model.user_map_.array[:0], n)))
    shipped = dask.delayed(model_bytes(model), pure=True)
    rows = users.map_partitions(_score_partition, shipped, n, options, meta=meta)
    if out is None:
        return rows
    rows.to_parquet(out, write_index=False)
    return out


def _score_table(
    table: pd.DataFrame,
    shipped: dict[str, bytes],
    options: dict[str, Any],
    part: pd.DataFrame | None = None,
    churn: tuple | None = None,
) -> pd.DataFrame:
    from .customers import customer_rows, partition_churn

    rfm, purchases, spend = (model_from_bytes(shipped[k]) for k in ("rfm", "purchases", "spend"))
    p_churn = None if churn is None else partition_churn(part, *churn)
    return customer_rows(table, rfm, purchases, spend, p_churn, **options)


def score_customers(
    transactions: Any,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str = "value",
    cutoff: Any = None,
    out: str | None = None,
    models: dict[str, Any] | None = None,
    churn_options: dict[str, Any] | None = None,
    horizon: int = 12,
    period: float = 30.0,
    discount_rate: float = 0.01,
) -> Any:
    """:func:`reco.batch.score_customers` over a Dask DataFrame of transactions.

    The transactions are shuffled so that each customer's rows share a partition; each
    partition's summary is computed on the cluster and kept there; missing models are fitted
    on the summaries (one row per customer, gathered on the client); the rows are scored on
    the cluster. With ``models["churn"]``, each partition also reports its customers' share
    of the statistics churn features compare with (one row per customer: mean gap and daily
    summary), which the client combines (the median gap, a BG/NBD fit) and sends back with
    the model. Rows equal the single-process ones (in partition order, not by customer).
    ``churn_options`` may name ``order`` and ``category`` columns. Returns a lazy Dask
    DataFrame, or writes ``to_parquet(out)`` and returns ``out``.
    """
    import dask
    import dask.dataframe as dd

    from .customers import (
        as_cutoff,
        churn_population,
        customer_rows,
        distributed_setup,
        fit_missing,
        latest,
        partition_population,
        partition_table,
    )

    if not isinstance(transactions, dd.DataFrame):
        raise DataValidationError(
            f"transactions must be a dask DataFrame; got {type(transactions).__name__}. For "
            "pandas data use reco.batch.score_customers."
        )
    models, churn_args, options = distributed_setup(
        transactions.columns,
        customer,
        time,
        value,
        models,
        churn_options,
        horizon,
        period,
        discount_rate,
    )
    if cutoff is not None:
        end = as_cutoff(cutoff)
    else:
        ends = [dask.delayed(latest)(p[time], time) for p in transactions.to_delayed()]
        found = [e for e in dask.compute(*ends) if not np.isnat(e)]
        if not found:
            raise DataValidationError("the transactions frame is empty; nothing to score.")
        end = pd.Timestamp(max(found))
    parts = transactions.shuffle(on=customer).to_delayed()
    churn = models.get("churn")
    if churn is not None:  # the rows are read twice: kept on the cluster
        parts = dask.persist(*parts)
    tables = dask.persist(
        *[dask.delayed(partition_table)(p, customer, time, value, end) for p in parts]
    )
    # in customer order, as the single-process summary: the fits see identical data
    table = pd.concat(dask.compute(*tables)).sort_index(kind="stable")
    if table.empty:
        raise DataValidationError(f"no transactions at or before {end}; nothing to score.")
    fitted = dict(zip(("rfm", "purchases", "spend"), fit_missing(table, models), strict=True))
    shipped = dask.delayed({k: model_bytes(m) for k, m in fitted.items()}, pure=True)
    meta = customer_rows(table.iloc[:0], *fitted.values(), None, **options)
    if churn is None:
        scored = [dask.delayed(_score_table)(t, shipped, options) for t in tables]
    else:
        shares = [
            dask.delayed(partition_population)(p, customer, time, value, churn_args, end)
            for p in parts
        ]
        population = churn_population(list(dask.compute(*shares)))
        # the classifier travels pickled inside this one job, like every Dask task
        # argument; reco's model files, which outlive a job, never hold pickle
        sent = dask.delayed(
            (churn, population, customer, time, value, churn_args, end), traverse=False
        )
        scored = [
            dask.delayed(_score_table)(t, shipped, options, p, sent)
            for t, p in zip(tables, parts, strict=True)
        ]
    rows = dd.from_delayed(scored, meta=meta)
    if out is None:
        return rows
    rows.to_parquet(out, write_index=False)
    return out
