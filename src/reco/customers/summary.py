"""summary(): transactions -> frequency, recency, T and monetary value per customer (RFM input)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_finite, check_frame, check_option
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["summary"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def _as_time(value: Any, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise InvalidParameterError(f"{name} must be a date; got {value!r}.") from error
    if pd.isna(stamp):
        raise InvalidParameterError(f"{name} must be a date; got {value!r}.")
    # the data are compared in UTC, so a zone-aware bound is converted, not stripped
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def summary(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str | None = None,
    observation_end: Any = None,
    calibration_end: Any = None,
    freq: str = "D",
    merge_same_period: bool = True,
) -> pd.DataFrame:
    r"""Per-customer frequency, recency, T (and monetary value) for the BTYD models.

    Purchases are placed on calendar days; time is reported in units of ``freq`` (``"D"``
    days, ``"W"`` weeks = days / 7, fractional) from each customer's first purchase, as the
    BTYD literature does (Fader, Hardie & Lee 2005; CDNOW's 30.43 weeks are 213 days):

    * ``frequency`` :math:`x`: repeat purchases, i.e. purchase periods after the first;
    * ``recency`` :math:`t_x`: periods from the first to the last purchase (0 if none repeat);
    * ``T``: periods from the first purchase to the end of observation;
    * ``monetary_value``: mean value of the repeat purchases (0 without repeats), each
      period's purchases summed first. The first purchase is left out, as Gamma-Gamma needs.

    With ``merge_same_period`` (default) purchases on the same day count once (the
    literature's convention, e.g. several CDNOW orders on one day); ``False`` counts each row.

    With ``calibration_end`` the statistics describe the calibration period (to
    ``calibration_end``) and ``frequency_holdout``, ``monetary_value_holdout`` and
    ``duration_holdout`` describe ``(calibration_end, observation_end]``; customers whose
    first purchase is after ``calibration_end`` are left out.

    Returns
    -------
    DataFrame indexed by customer id.
    """
    check_frame(
        transactions,
        {"customer": customer, "time": time, "value": value},
        what="transactions frame",
    )
    check_option(freq, "freq", tuple(_UNIT_DAYS))
    merge_same_period = check_bool(merge_same_period, "merge_same_period")
    if transactions[customer].isna().any():
        raise DataValidationError(f"customer column {customer!r} has missing values.")
    column = transactions[time]
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise DataValidationError(
            f"time column {time!r} must hold dates; got numbers of dtype {column.dtype} (first "
            f"value {column.iloc[0].item()!r}). Numbers are ambiguous (yyyymmdd? Unix seconds?): "
            f"convert first, e.g. pandas.to_datetime(frame[{time!r}].astype(str), "
            f"format='%Y%m%d') or pandas.to_datetime(frame[{time!r}], unit='s')."
        )
    times = pd.to_datetime(column, errors="coerce")
    if times.isna().any():
        raise DataValidationError(
            f"time column {time!r} has {int(times.isna().sum())} missing or unparseable "
            "value(s); fix or drop them."
        )
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    step = pd.Timedelta("1D")
    unit = _UNIT_DAYS[freq]
    last_seen = times.max()
    end = last_seen if observation_end is None else _as_time(observation_end, "observation_end")
    if (times > end).any():
        raise DataValidationError(
            f"{int((times > end).sum())} transaction(s) fall after observation_end={end}; "
            "filter them out or move observation_end."
        )
    frame = pd.DataFrame({"customer": transactions[customer].to_numpy(), "time": times})
    if value is not None:
        amounts = transactions[value].to_numpy(dtype=np.float64, na_value=np.nan)
        check_finite(amounts, f"value column {value!r}", allow_negative=True)
        frame["value"] = amounts
    else:
        frame["value"] = 0.0
    origin = times.min().floor("D")
    frame["period"] = ((frame["time"] - origin) // step).astype(np.int64)
    end_period = int((end - origin) // step)
    cal_period = None
    if calibration_end is not None:
        cal = _as_time(calibration_end, "calibration_end")
        if not times.min() <= cal < end:
            raise InvalidParameterError(
                f"calibration_end must lie within the data, before observation_end ({end}); "
                f"got {cal}."
            )
        cal_period = int((cal - origin) // step)

    if merge_same_period:
        frame = (
            frame.groupby(["customer", "period"], sort=False, observed=True)["value"]
            .sum()
            .reset_index()
        )
    frame = frame.sort_values(["customer", "period"], kind="stable")
    first = frame.groupby("customer", sort=False)["period"].transform("min")
    frame = frame.assign(first=first)
    calibration = frame if cal_period is None else frame[frame["period"] <= cal_period]
    calibration = calibration[
        calibration["first"] <= (end_period if cal_period is None else cal_period)
    ]
    grouped = calibration.groupby("customer", sort=False)
    out = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (grouped["period"].max() - grouped["first"].first()) / unit,
            "T": ((end_period if cal_period is None else cal_period) - grouped["first"].first())
            / unit,
        }
    )
    repeat = calibration[calibration["period"] > calibration["first"]]
    totals = repeat.groupby("customer", sort=False)["value"].agg(["sum", "size"])
    if value is not None:
        money = (totals["sum"] / totals["size"]).reindex(out.index, fill_value=0.0)
        out["monetary_value"] = money.fillna(0.0)
    if cal_period is not None:
        holdout = frame[(frame["period"] > cal_period) & frame["customer"].isin(out.index)]
        held = holdout.groupby("customer", sort=False)["value"].agg(["sum", "size"])
        out["frequency_holdout"] = held["size"].reindex(out.index, fill_value=0)
        if value is not None:
            out["monetary_value_holdout"] = (held["sum"] / held["size"]).reindex(
                out.index, fill_value=0.0
            )
        out["duration_holdout"] = (end_period - cal_period) / unit
    out.index.name = customer
    out = out.astype({"frequency": np.int64, "recency": np.float64, "T": np.float64})
    return out.sort_index()
