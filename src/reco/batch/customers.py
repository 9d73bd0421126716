"""``score_customers``: one row of value and risk per customer, streamed to a file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_int, check_number
from ..customers.scores import customer_rows, fit_missing
from ..exceptions import DataValidationError, InvalidParameterError, NotSupportedError
from ._write import stream_chunks, table_format

__all__ = ["score_customers"]

_MODEL_KEYS = ("rfm", "purchases", "spend", "churn")


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

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase (or order line).
    customer, time, value : str
        Its columns.
    cutoff : date, optional
        Score as of this moment.
    out : str or Path
        ``.parquet`` or ``.csv``.
    models : dict, optional
        Fitted ``"rfm"``, ``"purchases"``, ``"spend"`` and ``"churn"`` models.
    churn_options : dict, optional
        Keyword arguments of the churn model's ``predict_proba``.
    horizon, period, discount_rate
        As in :func:`~reco.customers.lifetime_value`.
    chunk_size : int
        Customers written at a time.
    show_progress : bool
        A progress bar.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataValidationError
        Missing columns or bad rows in ``transactions``.
    InvalidParameterError
        A bad ``out`` suffix, model or option.

    Examples
    --------
    >>> import pandas as pd
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> path = score_customers(shop.order_lines, out="customers.csv", show_progress=False)
    >>> rows = pd.read_csv(path)
    >>> {"customer", "segment", "clv", "p_churn"} <= set(rows.columns)
    True
    """
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
    cutoff = None if cutoff is None else as_cutoff(cutoff)
    table = customer_table(transactions, customer, time, value, cutoff)
    rfm, purchases, spend = fit_missing(table, models)
    churn = models.get("churn")
    p_churn = None
    if churn is not None:
        options = churn_options or {}
        rows = in_fixed_order(transactions, [customer, time, *churn_columns(options), value])
        p_churn = churn.predict_proba(
            rows, customer=customer, time=time, value=value, cutoff=cutoff, **options
        )

    def rows_of(chunk: pd.DataFrame) -> pd.DataFrame:
        return customer_rows(chunk, rfm, purchases, spend, p_churn, horizon, period, discount_rate)

    return stream_chunks(
        out,
        rows_of(table.iloc[:0]),
        table,
        chunk_size,
        rows_of,
        unit="customers",
        show_progress=show_progress,
    )


def as_cutoff(cutoff: Any) -> pd.Timestamp:
    """A cutoff date as a naive UTC Timestamp (the log parser's convention)."""
    from ..customers._log import as_timestamp

    return pd.Timestamp(as_timestamp(cutoff, "cutoff"))


def customer_table(
    transactions: pd.DataFrame, customer: str, time: str, value: str, end: pd.Timestamp | None
) -> pd.DataFrame:
    """The :func:`reco.customers.summary` of the rows up to ``end`` (observation end ``end``;
    the latest purchase when None). Rows of one customer must all be in ``transactions``."""
    from ..customers import summary
    from ..customers._log import as_datetimes

    if not isinstance(transactions, pd.DataFrame):
        raise DataValidationError(
            f"transactions must be a pandas DataFrame; got {type(transactions).__name__}."
        )
    data = transactions
    if end is not None:
        if time not in data.columns:
            raise DataValidationError(
                f"transactions lack the time column {time!r}; columns present: "
                f"{list(data.columns)}."
            )
        data = data[as_datetimes(data[time], time) <= end.to_datetime64()]
    data = in_fixed_order(data, [customer, time, value])
    return summary(data, customer=customer, time=time, value=value, observation_end=end)


def in_fixed_order(frame: pd.DataFrame, columns: list[str | None]) -> pd.DataFrame:
    """The rows sorted by ``columns`` (those present): sums come out the same, bit for bit,
    whatever order the rows arrived in (a shuffled file, a cluster's partitions)."""
    keys = list(dict.fromkeys(c for c in columns if c is not None and c in frame.columns))
    with contextlib.suppress(TypeError):  # unorderable mixed types: the readers report them
        frame = frame.sort_values(keys, kind="stable")
    return frame


def churn_columns(options: dict[str, Any]) -> list[str]:
    """The transaction columns a churn model reads besides customer, time and value."""
    return [options[k] for k in ("order", "category") if isinstance(options.get(k), str)]


def churn_arguments(churn_options: Any) -> dict[str, Any]:
    """The ``churn_options`` a cluster run can honour: columns of the transactions only."""
    if churn_options is None:
        return {}
    if not isinstance(churn_options, dict):
        raise InvalidParameterError(
            f"churn_options must be a dict with 'order' and/or 'category' column names; got "
            f"{type(churn_options).__name__}."
        )
    extra = sorted(set(churn_options) - {"order", "category"})
    if extra:
        raise NotSupportedError(
            f"churn_options {extra} are not supported on a cluster: only 'order' and "
            "'category' (columns of the transactions). Browsing events ('events') are read "
            "by reco.batch.score_customers on one machine."
        )
    return dict(churn_options)


def partition_log(part: pd.DataFrame, customer, time, value, churn_args) -> Any:
    """The purchase log of one partition holding whole customers (None when empty)."""
    from ..customers._log import PurchaseLog

    if len(part) == 0:
        return None
    rows = in_fixed_order(part, [customer, time, *churn_columns(churn_args), value])
    return PurchaseLog.from_frame(
        rows,
        customer=customer,
        time=time,
        value=value,
        order=churn_args.get("order"),
        category=churn_args.get("category"),
    )


def partition_population(part, customer, time, value, churn_args, end) -> pd.DataFrame:
    """This partition's share of the churn :class:`~reco.customers.churn.Population`."""
    from ..customers.churn import population_parts

    log = partition_log(part, customer, time, value, churn_args)
    if log is None:
        return pd.DataFrame(
            {c: np.zeros(0) for c in ("gap_mean_days", "frequency", "recency", "T")},
            index=pd.Index([], name=customer),
        )
    return population_parts(log, _instant(end))


def churn_population(parts: list[pd.DataFrame]) -> Any:
    """The churn population of all partitions, in customer order as on one machine."""
    from ..customers.churn import population_of

    return population_of(pd.concat(parts).sort_index(kind="stable"))


def partition_churn(part, churn, population, customer, time, value, churn_args, end):
    """P(churn) of one partition's customers with the population's statistics."""
    log = partition_log(part, customer, time, value, churn_args)
    if log is None:
        return pd.Series(np.zeros(0), index=pd.Index([], name=customer), name="p_churn")
    return churn._predict_log(log, _instant(end), None, population)


def _instant(end: pd.Timestamp) -> np.datetime64:
    return end.to_datetime64().astype("datetime64[us]")


def empty_table(index_name: str) -> pd.DataFrame:
    """A summary with no customers (what :func:`customer_table` gives for no rows)."""
    return pd.DataFrame(
        {
            "frequency": np.zeros(0, np.int64),
            "recency": np.zeros(0),
            "T": np.zeros(0),
            "monetary_value": np.zeros(0),
        },
        index=pd.Index([], name=index_name),
    )


def partition_table(
    part: pd.DataFrame, customer: str, time: str, value: str, end: pd.Timestamp
) -> pd.DataFrame:
    """:func:`customer_table` of one partition holding whole customers (none: empty)."""
    if len(part) == 0:
        return empty_table(customer)
    return customer_table(part, customer, time, value, end)


def latest(times: pd.Series, time: str) -> np.datetime64:
    """The latest time of a column (the log parser's UTC convention; NaT when empty)."""
    from ..customers._log import as_datetimes

    values = as_datetimes(times, time)
    return values.max() if values.size else np.datetime64("NaT", "us")


def distributed_setup(
    columns: Any,
    customer: str,
    time: str,
    value: str,
    models: Any,
    churn_options: Any,
    horizon: int,
    period: float,
    discount_rate: float,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The checked models, churn options and scoring options of a cluster run of
    ``score_customers``."""
    churn_args = churn_arguments(churn_options)
    missing = [
        c for c in (customer, time, value, *churn_columns(churn_args)) if c not in list(columns)
    ]
    if missing:
        raise DataValidationError(
            f"transactions lack column(s) {missing}; columns present: {list(columns)}."
        )
    options = {
        "horizon": check_int(horizon, "horizon", low=1, high=1200),
        "period": check_number(period, "period", low=0, low_open=True),
        "discount_rate": check_number(discount_rate, "discount_rate", low=0),
    }
    return _check_distributed_models(models), churn_args, options


def _check_distributed_models(models: Any) -> dict[str, Any]:
    from ..customers import ChurnModel

    models = _models(models)
    churn = models.get("churn")
    if churn is not None:
        if not isinstance(churn, ChurnModel):
            raise InvalidParameterError(
                f"models['churn'] must be a fitted reco.customers.ChurnModel; got "
                f"{type(churn).__name__}."
            )
        churn._check_fitted()
        if not churn.training_cutoffs_:
            raise NotSupportedError(
                "models['churn'] was fitted with fit_table, so it cannot build its features "
                "from transactions; fit it with ChurnModel.fit on a transaction log."
            )
    return models
