"""summary(): transactions -> frequency, recency, T and monetary value per customer (RFM input)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_utc_timestamp, check_bool, check_finite, check_frame
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["summary"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def _as_time(value: Any, name: str) -> pd.Timestamp:
    return as_utc_timestamp(value, name)


def _calendar_alias(freq: Any, merge_same_period: bool) -> bool:
    """True for a calendar period alias ("M", "Q", "Y", "W-SUN", ...), False for "D"/"W"."""
    if freq in _UNIT_DAYS:
        return False
    try:
        pd.Period("2024-01-01", freq=freq)
    except (ValueError, TypeError, AttributeError):
        raise InvalidParameterError(
            f"freq must be 'D' (days), 'W' (weeks of 7 days) or a pandas period alias such as "
            f"'M', 'Q' or 'Y'; got {freq!r}."
        ) from None
    if not merge_same_period:
        raise InvalidParameterError(
            f"merge_same_period=False needs freq='D' or 'W' (exact time); calendar periods "
            f"({freq!r}) always merge a period's purchases."
        )
    return True


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

    With ``freq="D"`` or ``"W"`` purchases are placed on calendar days and time is reported in
    days or weeks (= days / 7, fractional) from each customer's first purchase, as the BTYD
    literature does (Fader, Hardie & Lee 2005; CDNOW's 30.43 weeks are 213 days). Any other
    pandas period alias (``"M"``, ``"Q"``, ``"Y"``, ``"W-SUN"`` ...) places purchases in
    calendar periods and counts time in whole periods (a purchase on 31 January and one on
    1 February are one month apart):

    * ``frequency`` :math:`x`: repeat purchases, i.e. purchase periods after the first;
    * ``recency`` :math:`t_x`: periods from the first to the last purchase (0 if none repeat);
    * ``T``: periods from the first purchase to the end of observation;
    * ``monetary_value``: mean value of the repeat purchases (0 without repeats), each
      period's purchases summed first. The first purchase is left out, as Gamma-Gamma needs.

    With ``merge_same_period`` (default) purchases on the same day count once (the
    literature's convention, e.g. several CDNOW orders on one day). With ``False`` time is
    exact (fractional days): every distinct timestamp is a purchase (rows sharing one, such as
    an order's lines, are one purchase), so a repeat purchase always has recency > 0.

    With ``calibration_end`` the statistics describe the calibration period (to
    ``calibration_end``) and ``frequency_holdout``, ``monetary_value_holdout`` and
    ``duration_holdout`` describe ``(calibration_end, observation_end]``; customers whose
    first purchase is after ``calibration_end`` are left out.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase (or order line).
    customer, time : str
        Columns of customer ids and purchase times.
    value : str, optional
        The column of purchase values (adds ``monetary_value``).
    observation_end : date, optional
        End of observation (default: the last purchase).
    calibration_end : date, optional
        Split into a calibration and a holdout period.
    freq : str
        ``"D"``, ``"W"`` or any pandas period alias.
    merge_same_period : bool
        Purchases in the same period count once.

    Returns
    -------
    DataFrame indexed by customer id.

    Raises
    ------
    DataValidationError
        Missing columns, NaN ids or times, negative values, or purchases after
        ``observation_end``.
    InvalidParameterError
        An unknown ``freq``, or ``calibration_end`` not before ``observation_end``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-20", "2024-01-20",
    ...                                  "2024-03-01", "2024-02-02", "2024-01-10", "2024-03-25"]),
    ...     "value": [20.0, 35.0, 15.0, 50.0, 40.0, 12.0, 30.0, 25.0],
    ... })
    >>> summary(orders, value="value", observation_end="2024-03-31")
                 frequency  recency     T  monetary_value
    customer_id
    a                    2     75.0  86.0            25.0
    b                    1     41.0  71.0            40.0
    c                    0      0.0  58.0             0.0
    d                    1     75.0  81.0            25.0
    """
    check_frame(
        transactions,
        {"customer": customer, "time": time, "value": value},
        what="transactions frame",
    )
    merge_same_period = check_bool(merge_same_period, "merge_same_period")
    calendar = _calendar_alias(freq, merge_same_period)
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
    unit = 1.0 if calendar else _UNIT_DAYS[freq]
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
    if calendar:  # calendar periods (months, quarters, ...): whole periods
        frame["period"] = frame["time"].dt.to_period(freq).array.asi8
        end_period = pd.Period(end, freq).ordinal
    elif merge_same_period:  # calendar days
        frame["period"] = ((frame["time"] - origin) // step).astype(np.int64)
        end_period = int((end - origin) // step)
    else:  # exact time in days: distinct timestamps are distinct purchases
        frame["period"] = (frame["time"] - origin) / step
        end_period = (end - origin) / step
    cal_period = None
    if calibration_end is not None:
        cal = _as_time(calibration_end, "calibration_end")
        if not times.min() <= cal < end:
            raise InvalidParameterError(
                f"calibration_end must lie within the data, before observation_end ({end}); "
                f"got {cal}."
            )
        if calendar:
            cal_period = pd.Period(cal, freq).ordinal
        elif merge_same_period:
            cal_period = int((cal - origin) // step)
        else:
            cal_period = (cal - origin) / step

    # one purchase per (customer, period): a calendar day, or one timestamp (an order's lines)
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
