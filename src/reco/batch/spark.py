"""``recommend_all`` on Spark: ``mapInPandas`` over a DataFrame of user ids.

The model file is broadcast once and loaded once per executor Python process (cached by its
SHA-256); each batch of rows is scored with :func:`reco.batch.recommend_all`'s own code, so the
rows equal the single-process ones. Needs ``reco[spark]`` (and Java 17 for Spark itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_n, check_option
from ..base import Recommender
from ..exceptions import DataValidationError
from ._ship import model_bytes, model_from_bytes
from .recommend import recommendation_rows

__all__ = ["recommend_all"]


def _spark_type(id_map: Any) -> str:
    kind = id_map.array.dtype.kind
    if kind == "i":
        return "long"
    if kind == "u":
        raise DataValidationError(
            "Spark has no unsigned 64-bit type for these ids; map them to strings first."
        )
    return "string"


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
    """Top-``n`` rows ``user, item, score, rank`` for the users in the first column of a Spark
    DataFrame, as a lazy Spark DataFrame, or written as Parquet to ``out`` (returns ``out``)."""
    from pyspark.sql import DataFrame

    if not isinstance(model, Recommender):
        raise DataValidationError(
            f"model must be a fitted reco recommender; got {type(model).__name__}."
        )
    model._check_fitted()
    if not isinstance(users, DataFrame):
        raise DataValidationError(
            "users must be a Spark DataFrame whose first column holds the user ids; got "
            f"{type(users).__name__}. For pandas data use reco.batch.recommend_all."
        )
    n = check_n(n)
    options = {
        "exclude_seen": check_bool(exclude_seen, "exclude_seen"),
        "exclude_items": None if exclude_items is None else np.asarray(exclude_items).tolist(),
        "candidates": None if candidates is None else np.asarray(candidates).tolist(),
        "unknown": check_option(unknown, "unknown", ("raise", "popular", "empty")),
    }
    schema = (
        f"user {_spark_type(model.user_map_)}, item {_spark_type(model.item_map_)}, "
        "score float, rank int"
    )
    shipped = users.sparkSession.sparkContext.broadcast(model_bytes(model))
    first = users.columns[0]

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        fitted = model_from_bytes(shipped.value)
        for part in batches:
            ids = part[first].to_numpy()
            ids = fitted.user_map_.coerce(ids) if len(ids) else ids
            yield recommendation_rows(fitted.recommend_batch(ids, n, **options))

    rows = users.select(first).mapInPandas(score, schema=schema)
    if out is None:
        return rows
    rows.write.mode("overwrite").parquet(out)
    return out


_SUMMARY = "frequency long, recency double, T double, monetary_value double"
_ROWS = (
    "frequency long, recency double, T double, monetary_value double, R long, F long, M long, "
    "segment string, expected_purchases double, probability_alive double, "
    "expected_spend double, clv double, p_churn double"
)


def _column_type(frame: Any, column: str) -> str:
    from pyspark.sql.types import IntegerType, LongType, ShortType

    kind = frame.schema[column].dataType
    return "long" if isinstance(kind, (LongType, IntegerType, ShortType)) else "string"


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
    """:func:`reco.batch.score_customers` over a Spark DataFrame of transactions.

    The transactions are repartitioned by customer; each partition's summary is computed by
    ``mapInPandas`` and cached; missing models are fitted on the summaries (one row per
    customer, collected to the driver) and broadcast as their files; the rows are scored by
    a second ``mapInPandas``. With ``models["churn"]`` the partitions also report their
    customers' share of the churn population (see :func:`reco.batch.dask.score_customers`),
    combined on the driver and broadcast with the model, and the second pass reads the
    partitioned transactions (cached) to build each customer's churn features. Rows equal the
    single-process ones. ``churn_options`` may name ``order`` and ``category`` columns.
    Returns a lazy Spark DataFrame, or writes Parquet to ``out`` and returns ``out``.
    """
    from pyspark.sql import DataFrame

    from .customers import (
        as_cutoff,
        churn_columns,
        customer_rows,
        distributed_setup,
        fit_missing,
        latest,
        partition_churn,
        partition_table,
    )

    if not isinstance(transactions, DataFrame):
        raise DataValidationError(
            f"transactions must be a Spark DataFrame; got {type(transactions).__name__}. For "
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

        def latest_of(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for part in batches:
                stamp = latest(part[time], time)
                if not np.isnat(stamp):
                    yield pd.DataFrame({"latest": [int(stamp.astype("datetime64[us]").view("i8"))]})

        found = transactions.select(time).mapInPandas(latest_of, "latest long").toPandas()
        if found.empty:
            raise DataValidationError("the transactions frame is empty; nothing to score.")
        end = pd.Timestamp(int(found["latest"].max()), unit="us")
    id_type = _column_type(transactions, customer)
    columns = [customer, time, value, *churn_columns(churn_args)]

    def summarize(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        table = partition_table(_whole(batches, columns), customer, time, value, end)
        yield table.rename_axis("customer").reset_index()

    grouped = transactions.select(*columns).repartition(
        transactions.rdd.getNumPartitions(), customer
    )
    churn = models.get("churn")
    if churn is not None:  # read twice: summaries and population, then the scoring pass
        grouped = grouped.cache()
    summaries = grouped.mapInPandas(summarize, f"customer {id_type}, {_SUMMARY}").cache()
    table = summaries.toPandas().set_index("customer").sort_index(kind="stable")
    if table.empty:
        raise DataValidationError(f"no transactions at or before {end}; nothing to score.")
    table.index.name = customer
    fitted = fit_missing(table, models)
    context = transactions.sparkSession.sparkContext
    shipped = context.broadcast([model_bytes(m) for m in fitted])
    if churn is None:

        def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            rfm, purchases, spend = (model_from_bytes(b) for b in shipped.value)
            for part in batches:
                chunk = part.set_index("customer")
                rows = customer_rows(chunk, rfm, purchases, spend, None, **options)
                yield rows.astype({"R": "int64", "F": "int64", "M": "int64"})

        rows = summaries.mapInPandas(score, f"customer {id_type}, {_ROWS}")
    else:
        population = _churn_population(grouped, customer, time, value, churn_args, end)
        # pickled by Spark inside this one job; reco's model files never hold pickle
        sent = context.broadcast((churn, population, customer, time, value, churn_args, end))

        def score_with_churn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            rfm, purchases, spend = (model_from_bytes(b) for b in shipped.value)
            part = _whole(batches, columns)
            table = partition_table(part, customer, time, value, end)
            p_churn = partition_churn(part, *sent.value)
            rows = customer_rows(table, rfm, purchases, spend, p_churn, **options)
            yield rows.astype({"R": "int64", "F": "int64", "M": "int64"})

        rows = grouped.mapInPandas(score_with_churn, f"customer {id_type}, {_ROWS}")
    if out is None:
        return rows
    rows.write.mode("overwrite").parquet(out)
    return out


def _whole(batches: Iterator[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """One partition's batches as one frame (a partition holds whole customers)."""
    parts = list(batches)
    return pd.concat(parts) if parts else pd.DataFrame(columns=columns)


def _churn_population(grouped, customer, time, value, churn_args, end) -> Any:
    """The churn population of every partition of ``grouped``, combined on the driver."""
    from .customers import churn_population, partition_population

    columns = list(grouped.columns)  # the frame itself stays on the driver

    def shares(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        part = _whole(batches, columns)
        share = partition_population(part, customer, time, value, churn_args, end)
        yield share.rename_axis("customer").reset_index()

    id_type = _column_type(grouped, customer)
    schema = f"customer {id_type}, gap_mean_days double, frequency double, recency double, T double"
    gathered = grouped.mapInPandas(shares, schema).toPandas().set_index("customer")
    return churn_population([gathered])
