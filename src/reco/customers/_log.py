"""A purchase log parsed once: customers coded, rows sorted by (customer, time).

Churn labels, churn features and the backtest all look at the same log at several cutoffs;
parsing, id coding and sorting happen here once, and every cutoff is a row mask. Nothing in
this module reads a row after the cutoff it is asked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_utc_timestamp, check_finite, check_frame
from ..exceptions import DataValidationError, InvalidParameterError

_DAY = np.timedelta64(86_400_000_000, "us")


def as_datetimes(column: pd.Series, what: str) -> np.ndarray:
    """A time column as naive UTC ``datetime64[us]``; numbers, bools and NaT are refused.

    Time zones are converted to UTC (never compared in local wall time); microseconds keep
    dates from year 1 to 9999 without the nanosecond range's wrap after 2262.
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        example = column.iloc[0] if len(column) else None
        raise DataValidationError(
            f"{what} must hold dates or timestamps; got numbers of dtype {dtype} (first value "
            f"{example!r}). Numbers are ambiguous (days? seconds? yyyymmdd?): convert them "
            "first, e.g. pandas.to_datetime(col.astype(str), format='%Y%m%d') for yyyymmdd "
            "or pandas.to_datetime(col, unit='s') for Unix seconds."
        )
    if isinstance(dtype, pd.DatetimeTZDtype):
        times = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(dtype):
        times = column
    else:
        try:
            times = pd.to_datetime(column, errors="coerce", utc=True).dt.tz_localize(None)
        except (TypeError, ValueError, OverflowError) as error:
            raise DataValidationError(
                f"{what} could not be read as dates ({type(error).__name__}: {error}). "
                "Parse it with pandas.to_datetime(...) first."
            ) from None
    values = times.to_numpy()
    if values.dtype.kind != "M":  # pragma: no cover - pandas always returns datetime64 here
        raise DataValidationError(f"{what} must hold dates; got dtype {values.dtype}.")
    values = values.astype("datetime64[us]")
    missing = np.isnat(values)
    if missing.any():
        where = np.flatnonzero(missing)
        raise DataValidationError(
            f"{what} has {where.size} missing or unparseable value(s) (first at row(s) "
            f"{where[:5].tolist()}); drop or fix them before computing churn."
        )
    return values


def as_timestamp(value: Any, name: str) -> np.datetime64:
    """A single date as naive UTC ``datetime64[us]`` (see ``as_utc_timestamp``)."""
    return np.datetime64(as_utc_timestamp(value, name).to_datetime64(), "us")


def as_duration(value: Any, name: str) -> np.timedelta64:
    """A positive duration: a number of days, a pandas offset string ("180D") or Timedelta."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a number of days or '180D'; got {value!r}.")
    try:
        if isinstance(value, (np.timedelta64, pd.Timedelta)):
            delta = pd.Timedelta(value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            if not np.isfinite(value):
                raise ValueError("not finite")
            delta = pd.Timedelta(days=float(value))
        else:
            delta = pd.Timedelta(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidParameterError(
            f"{name} must be a number of days (90) or a pandas offset such as '90D' or "
            f"'26W'; got {value!r} ({error})."
        ) from None
    if pd.isna(delta) or delta <= pd.Timedelta(0):
        raise InvalidParameterError(
            f"{name} must be a positive duration; got {value!r}. Pass for example 90 or '90D'."
        )
    return np.timedelta64(delta.to_timedelta64(), "us")


def days(delta: np.ndarray | np.timedelta64) -> np.ndarray:
    """Durations as float days."""
    return np.asarray(delta / _DAY, dtype=np.float64)


@dataclass
class PurchaseLog:
    """Rows of a transaction log sorted by (customer code, time); codes follow sorted ids.

    ``purchase`` marks each row that starts a new purchase (a new customer, time or order):
    the lines of one order, or of one timestamp when no order column is given, are one
    purchase.
    """

    ids: pd.Index  # customer ids, sorted; code k <-> ids[k]
    code: np.ndarray  # int64 per row
    time: np.ndarray  # datetime64[us] per row
    value: np.ndarray | None  # float64 per row
    category: np.ndarray | None  # int64 code per row
    purchase: np.ndarray  # bool per row: first row of a purchase
    names: dict[str, str | None]

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        customer: str,
        time: str,
        value: str | None = None,
        order: str | None = None,
        category: str | None = None,
        what: str = "transactions frame",
    ) -> PurchaseLog:
        names = {"customer": customer, "time": time, "value": value, "order": order}
        names["category"] = category
        check_frame(frame, names, what=what)
        ids = frame[customer]
        if ids.isna().any():
            raise DataValidationError(
                f"customer column {customer!r} has {int(ids.isna().sum())} missing value(s); "
                "drop those rows first."
            )
        try:
            code, uniques = pd.factorize(ids, sort=True)
        except TypeError as error:
            raise DataValidationError(
                f"customer column {customer!r} holds values that cannot be ids (unhashable or "
                f"not comparable: {error}). Use strings or integers."
            ) from None
        stamps = as_datetimes(frame[time], f"time column {time!r}")
        amounts = None
        if value is not None:
            amounts = pd.to_numeric(frame[value], errors="coerce").to_numpy(np.float64)
            if np.isnan(amounts).any() and not frame[value].isna().any():
                raise DataValidationError(
                    f"value column {value!r} must be numeric; got dtype {frame[value].dtype}. "
                    "Convert it with pandas.to_numeric(...) first."
                )
            check_finite(amounts, f"value column {value!r}")
        orders = None
        if order is not None:
            orders = pd.factorize(frame[order], sort=False, use_na_sentinel=False)[0]
        cats = None
        if category is not None:
            cats = pd.factorize(frame[category], sort=False, use_na_sentinel=False)[0]
        code = code.astype(np.int64)
        rows = _sort_rows(code, stamps)
        code, stamps = code[rows], stamps[rows]
        starts = np.ones(code.size, dtype=bool)
        starts[1:] = (code[1:] != code[:-1]) | (stamps[1:] != stamps[:-1])
        if orders is not None:
            orders = orders[rows]
            starts[1:] |= orders[1:] != orders[:-1]
        return cls(
            ids=pd.Index(uniques, name=customer),
            code=code,
            time=stamps,
            value=None if amounts is None else amounts[rows],
            category=None if cats is None else cats[rows].astype(np.int64),
            purchase=starts,
            names=names,
        )

    @property
    def first_time(self) -> np.datetime64:
        return self.time.min()

    @property
    def last_time(self) -> np.datetime64:
        return self.time.max()


def _sort_rows(code: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """Stable order by (code, time): one int64 key when it fits, else a lexsort."""
    ticks = stamps.view(np.int64)
    low = int(ticks.min())
    span = int(ticks.max()) - low + 1
    n_codes = int(code.max()) + 1 if code.size else 1
    if n_codes * span < 2**62:
        return np.argsort(code * span + (ticks - low), kind="stable")
    return np.lexsort((ticks, code))


def check_cutoff(log: PurchaseLog, cutoff: np.datetime64, name: str = "cutoff") -> None:
    """Someone bought on or before the cutoff.

    A cutoff after the last transaction is allowed: scoring "as of today" when nobody has
    bought yet today is the nightly job's normal case (labels still need their whole window
    inside the log).
    """
    if cutoff < log.first_time:
        raise DataValidationError(
            f"{name} {pd.Timestamp(cutoff)} lies before the log's first transaction "
            f"({pd.Timestamp(log.first_time)}), so no customer is known at it; the log runs "
            f"from {pd.Timestamp(log.first_time)} to {pd.Timestamp(log.last_time)}. Pick a "
            "cutoff inside that range."
        )
