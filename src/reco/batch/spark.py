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
