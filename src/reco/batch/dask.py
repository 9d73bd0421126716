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
