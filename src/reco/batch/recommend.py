"""``recommend_all``: top-n lists for every user, chunk by chunk, streamed to a file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_ids, check_int, check_n, check_option
from ..base import Recommender
from ..exceptions import DataValidationError
from ._write import stream_chunks, table_format

__all__ = ["recommend_all", "recommendation_rows"]


def recommendation_rows(batch: Any) -> pd.DataFrame:
    """A ``RecBatch`` as long rows ``user, item, score, rank`` (rank 1 = best), in list
    order; empty lists give no rows.

    Parameters
    ----------
    batch : RecBatch
        From ``recommend_batch``.

    Returns
    -------
    DataFrame

    Raises
    ------
    InvalidParameterError
        ``batch`` is not a RecBatch.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> from reco.models import Popularity
    >>> batch = Popularity().fit(X).recommend_batch(X.user_map.ids([0, 1]), 3)
    >>> recommendation_rows(batch).columns.tolist()
    ['user', 'item', 'score', 'rank']
    """
    n = batch.item_index.shape[1]
    lengths = np.asarray(batch.lengths, dtype=np.int64)
    keep = np.arange(n)[None, :] < lengths[:, None]
    positions = batch.item_index[keep]
    return pd.DataFrame(
        {
            "user": np.repeat(np.asarray(batch.users), lengths),
            "item": batch.item_map.ids(positions),
            "score": batch.scores[keep].astype(np.float32),
            "rank": np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), keep.shape)[keep],
        }
    )


@contextlib.contextmanager
def _threads(model: Recommender, n_threads: int | None):
    """Use ``n_threads`` for this job when given (the model's own setting is restored)."""
    if n_threads is None or not hasattr(model, "n_threads"):
        yield
        return
    previous = model.n_threads
    model.n_threads = n_threads
    try:
        yield
    finally:
        model.n_threads = previous


def recommend_all(
    model: Recommender,
    users: Any = None,
    n: int = 10,
    *,
    out: str | os.PathLike,
    exclude_seen: bool = True,
    exclude_items: Any = None,
    candidates: Any = None,
    unknown: str = "raise",
    chunk_size: int = 20_000,
    n_threads: int | None = None,
    show_progress: bool = True,
) -> Path:
    """Write ``user, item, score, rank`` rows for every user (or ``users``) to ``out``.

    ``out`` ends in ``.parquet`` (streamed row group by row group; needs pyarrow) or ``.csv``.
    Users are scored ``chunk_size`` at a time, so memory is bounded by the chunk, not by the
    number of users; each chunk equals ``model.recommend_batch(chunk, n, ...)``. The file is
    written to a temporary name in the same folder and renamed when complete: a job killed
    at any moment leaves the old file or the new complete one. Users are checked before
    anything is written (``unknown="raise"`` refuses unknown ids up front).

    Returns the path written.

    Parameters
    ----------
    model : Recommender
        A fitted model.
    users : array-like, optional
        The user ids to score (default: every user the model knows).
    n : int
        List length.
    out : str or Path
        ``.parquet`` or ``.csv``.
    exclude_seen, exclude_items, candidates, unknown
        As in :meth:`~reco.base.Recommender.recommend_batch`.
    chunk_size : int
        Users scored at a time.
    n_threads : int, optional
        Threads of the scoring kernels.
    show_progress : bool
        A progress bar.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidParameterError
        A bad ``out`` suffix, ``n`` or ``chunk_size``.
    UnknownIdError
        Unknown users with ``unknown="raise"``.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> import pandas as pd
    >>> from reco.models import Popularity
    >>> path = recommend_all(Popularity().fit(X), n=3, out="recs.csv", show_progress=False)
    >>> rows = pd.read_csv(path)
    >>> len(rows) == 3 * X.n_users
    True
    """
    if not isinstance(model, Recommender):
        raise DataValidationError(
            f"model must be a fitted reco recommender; got {type(model).__name__}."
        )
    model._check_fitted()
    table_format(out)  # before any work: a bad path fails fast
    n = check_n(n)
    exclude_seen = check_bool(exclude_seen, "exclude_seen")
    check_option(unknown, "unknown", ("raise", "popular", "empty"))
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    if n_threads is not None:
        n_threads = check_int(n_threads, "n_threads", low=1)
    show_progress = check_bool(show_progress, "show_progress")
    if users is None:
        users = model.user_map_.array
    else:
        users = check_ids(users, "users")
        if unknown == "raise":
            model.user_map_.index(users)  # raises UnknownIdError naming the unknown ids

    def rows_of(chunk: np.ndarray) -> pd.DataFrame:
        batch = model.recommend_batch(
            chunk,
            n,
            exclude_seen=exclude_seen,
            exclude_items=exclude_items,
            candidates=candidates,
            unknown=unknown,
        )
        return recommendation_rows(batch)

    with _threads(model, n_threads):
        return stream_chunks(
            out, rows_of(users[:0]), users, chunk_size, rows_of, unit="users",
            show_progress=show_progress,
        )  # fmt: skip
