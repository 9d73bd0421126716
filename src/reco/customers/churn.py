r"""Churn in a shop: labels at a cutoff, and features built only from what came before it.

Nobody cancels a shop account: a customer churns by not coming back. At a cutoff :math:`c`
and a horizon :math:`h`, a customer who bought in ``[active_since, c]`` is a churner when they
make no purchase in :math:`(c, c + h]`. Features describe each customer known at :math:`c`
from rows with time :math:`\le c` only, so appending any rows after the cutoff leaves the
feature table unchanged, byte for byte.
"""

from __future__ import annotations

import datetime
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_frame, check_int
from ..exceptions import ConvergenceWarning, DataValidationError, InvalidParameterError, RecoError
from ._log import PurchaseLog, as_datetimes, as_duration, as_timestamp, check_cutoff, days

__all__ = ["churn_features", "churn_labels"]

logger = logging.getLogger("reco.customers.churn")


def _since(value: Any, cutoff: np.datetime64) -> np.datetime64 | None:
    """``active_since`` as a date: a date itself, or a duration before the cutoff."""
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64, datetime.date)):
        return as_timestamp(value, "active_since")
    if isinstance(value, str):
        try:
            return cutoff - as_duration(value, "active_since")
        except InvalidParameterError:
            return as_timestamp(value, "active_since")
    return cutoff - as_duration(value, "active_since")


def churn_labels(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    cutoff: Any,
    horizon: Any,
    active_since: Any = None,
    observation_end: Any = None,
) -> pd.Series:
    """1 for each customer who bought in ``[active_since, cutoff]`` and not in
    ``(cutoff, cutoff + horizon]``, else 0.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase (or order line) with ``customer`` and ``time`` columns.
    cutoff : date
        The moment of prediction; rows at exactly ``cutoff`` count as before it.
    horizon : int, float, str or Timedelta
        Length of the label window: days (``180``) or a pandas offset (``"26W"``).
    active_since : date, days or offset, optional
        Label only customers who bought on or after this date (a duration is counted back
        from the cutoff: ``"365D"`` = active in the last year). Default: everyone who bought
        before the cutoff.
    observation_end : date, optional
        The end of the log (default: its last transaction). The label window must end by
        then, or customers would look churned for lack of data.

    Returns
    -------
    Series of int8 named ``churn``, indexed by customer id (sorted); customers first seen
    after the cutoff are not labelled.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
    ...                     "timestamp": pd.to_datetime(["2024-01-05", "2024-03-01",
    ...                                                  "2024-01-20", "2024-02-10",
    ...                                                  "2024-04-15"])})
    >>> churn_labels(log, cutoff="2024-02-15", horizon=60).to_dict()
    {1: 0, 2: 1, 3: 0}
    """
    log = PurchaseLog.from_frame(transactions, customer=customer, time=time)
    return labels_at(log, _cutoff(log, cutoff), horizon, active_since, observation_end)


def _cutoff(log: PurchaseLog, cutoff: Any) -> np.datetime64:
    stamp = as_timestamp(cutoff, "cutoff")
    check_cutoff(log, stamp)
    return stamp


def labels_at(
    log: PurchaseLog,
    cutoff: np.datetime64,
    horizon: Any,
    active_since: Any = None,
    observation_end: Any = None,
) -> pd.Series:
    """:func:`churn_labels` on a parsed log."""
    window = as_duration(horizon, "horizon")
    end = log.last_time if observation_end is None else as_timestamp(observation_end, "end")
    if cutoff + window > end:
        raise DataValidationError(
            f"the label window (cutoff {pd.Timestamp(cutoff)} + horizon "
            f"{pd.Timedelta(window)}) ends at {pd.Timestamp(cutoff + window)}, after the end "
            f"of the log ({pd.Timestamp(end)}); customers would look churned for lack of "
            "data. Move the cutoff earlier or shorten the horizon."
        )
    since = _since(active_since, cutoff)
    before = log.time <= cutoff
    if since is not None:
        before &= log.time >= since
    labelled = np.unique(log.code[before])
    if labelled.size == 0:
        raise DataValidationError(
            f"no customer bought before the cutoff {pd.Timestamp(cutoff)}"
            + (f" and on or after {pd.Timestamp(since)}" if since is not None else "")
            + "; pick a later cutoff or a longer active_since."
        )
    inside = (log.time > cutoff) & (log.time <= cutoff + window)
    returned = np.zeros(log.ids.size, dtype=bool)
    returned[log.code[inside]] = True
    return pd.Series(
        (~returned[labelled]).astype(np.int8),
        index=log.ids[labelled],
        name="churn",
    )


def churn_features(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str | None = None,
    cutoff: Any,
    events: pd.DataFrame | None = None,
    windows: Sequence[int] = (30, 90, 365),
    order: str | None = None,
    category: str | None = None,
    event: str = "event",
    horizon: Any = 90,
    btyd: bool = True,
) -> pd.DataFrame:
    r"""One row of churn features per customer who bought on or before ``cutoff``.

    Only rows with time :math:`\le` ``cutoff`` are read. Times are in days before the cutoff;
    a window ``w`` covers :math:`(c - w, c]`.

    Columns (``value``, ``category`` and ``events`` add theirs when given):

    * ``recency_days`` (the current gap), ``tenure_days`` (since the first purchase),
      ``purchases`` (distinct purchases: orders, or timestamps without ``order``);
    * per window: ``purchases_{w}d`` and ``purchases_trend_{w}d`` =
      :math:`(a - b) / (a + b)` with :math:`a` the purchases in the window and :math:`b` in
      the one before it (0 when both are 0);
    * gaps between consecutive purchases: ``gap_mean_days``, ``gap_std_days``,
      ``gap_max_days`` (0 with one purchase) and ``gap_ratio`` = recency / typical gap, the
      typical gap being the customer's mean gap, or for one-time buyers the median mean gap
      of the repeat buyers at the cutoff;
    * ``lines_per_purchase``; with ``value``: ``spend``, ``spend_per_purchase``,
      ``spend_{w}d`` and ``spend_trend_{w}d``; with ``category``: ``categories`` (distinct);
    * with ``events`` (a browsing log with the same ``customer`` and ``time`` columns and an
      ``event`` type column): ``events_{type}_{w}d`` counts and ``days_since_visit`` (the
      tenure when the customer has no event before the cutoff);
    * with ``btyd``: ``btyd_p_alive`` and ``btyd_expected_purchases`` (in the next
      ``horizon``) from a BG/NBD model fitted on the daily summary at the cutoff.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase (or order line).
    customer, time, value, order, category : str
        Columns of ``transactions``.
    cutoff : date
        Describe each customer as of this moment.
    events : DataFrame, optional
        A browsing log.
    windows : tuple of int
        Window lengths in days.
    event : str
        The event-type column of ``events``.
    horizon : duration
        The BTYD features' horizon.
    btyd : bool
        Add the BG/NBD features.

    Returns
    -------
    DataFrame of float64 indexed by customer id (sorted).

    Raises
    ------
    DataValidationError
        Missing columns, NaN ids or times, or no purchase by the cutoff.
    InvalidParameterError
        Bad windows or horizon.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> features = churn_features(shop.order_lines, value="value", cutoff="2024-10-01")
    >>> {"recency_days", "purchases_90d", "gap_ratio"} <= set(features.columns)
    True
    """
    windows = _check_windows(windows)
    btyd = check_bool(btyd, "btyd")
    log, browsing, stamp = parse_inputs(
        transactions, customer, time, value, order, category, events, event, cutoff, required=True
    )
    return features_at(log, stamp, windows, browsing, as_duration(horizon, "horizon"), btyd)


def parse_inputs(
    transactions, customer, time, value, order, category, events, event, cutoff, required=False
):
    """(parsed log, parsed browsing or None, cutoff) for a call on a transaction log; the
    cutoff defaults to the last transaction unless ``required``."""
    log = PurchaseLog.from_frame(
        transactions, customer=customer, time=time, value=value, order=order, category=category
    )
    browsing = None if events is None else _parse_events(events, customer, time, event)
    if cutoff is None and not required:
        return log, browsing, log.last_time
    return log, browsing, _cutoff(log, cutoff)


def _check_windows(windows: Any) -> tuple[int, ...]:
    if isinstance(windows, (str, bytes)) or not isinstance(windows, Sequence) or not windows:
        raise InvalidParameterError(
            f"windows must be a non-empty sequence of day counts such as (30, 90, 365); got "
            f"{windows!r}."
        )
    out = tuple(check_int(w, "each window", low=1, high=36_500) for w in windows)
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"windows must not repeat a length; got {windows!r}.")
    return tuple(sorted(out))


def _parse_events(events: Any, customer: str, time: str, event: str) -> dict:
    check_frame(events, {"customer": customer, "time": time, "event": event}, what="events frame")
    if events[customer].isna().any() or events[event].isna().any():
        raise DataValidationError(
            f"the events frame has missing values in {customer!r} or {event!r}; drop them."
        )
    return {
        "customer": events[customer].to_numpy(),
        "time": as_datetimes(events[time], f"events time column {time!r}"),
        "type": events[event].astype(str).to_numpy(),
    }


@dataclass(frozen=True)
class Population:
    """What churn features compare each customer with: statistics of every customer known at
    the cutoff. A cluster computes them once from all partitions (:func:`population_parts`
    per partition, :func:`population_of` on the gathered rows) and scores each partition
    with them, so its features equal the single-process ones exactly."""

    typical_gap: float  # median mean gap of the repeat buyers (days)
    btyd: Any  # BetaGeo fitted on the daily summary, or None when it could not be fitted


@dataclass(frozen=True)
class _Purchases:
    """The purchases of a log up to a cutoff, coded per customer (the rows in log order)."""

    keep: np.ndarray  # rows at or before the cutoff
    known: np.ndarray  # customer codes present, ascending
    code: np.ndarray  # per kept row: position in ``known``
    starts: np.ndarray  # kept rows that start a purchase
    p_code: np.ndarray  # per purchase: position in ``known``
    p_age: np.ndarray  # per purchase: days before the cutoff
    c_first: np.ndarray  # per customer: index of the first purchase
    c_last: np.ndarray
    purchases: np.ndarray  # per customer (float64)

    @classmethod
    def at(cls, log: PurchaseLog, cutoff: np.datetime64) -> _Purchases:
        keep = log.time <= cutoff
        code_all = log.code[keep]  # sorted: the log is ordered by customer
        changes = np.ones(code_all.size, dtype=bool)
        changes[1:] = code_all[1:] != code_all[:-1]
        code = np.cumsum(changes) - 1
        n = int(changes.sum())
        starts = np.flatnonzero(log.purchase[keep])
        p_code = code[starts]
        c_first = np.searchsorted(p_code, np.arange(n))  # first purchase of each customer
        return cls(
            keep=keep,
            known=code_all[changes],
            code=code,
            starts=starts,
            p_code=p_code,
            p_age=days(cutoff - log.time[keep])[starts],  # days before the cutoff, >= 0
            c_first=c_first,
            c_last=np.append(c_first[1:], p_code.size) - 1,
            purchases=np.bincount(p_code, minlength=n).astype(np.float64),
        )

    @property
    def n(self) -> int:
        return self.known.size

    def mean_gaps(self) -> np.ndarray:
        """Each customer's mean days between purchases (NaN for one-time buyers)."""
        recency, tenure = self.p_age[self.c_last], self.p_age[self.c_first]
        repeat = self.purchases > 1
        return np.divide(
            tenure - recency, self.purchases - 1, out=np.full(self.n, np.nan), where=repeat
        )


def population_parts(log: PurchaseLog, cutoff: np.datetime64) -> pd.DataFrame:
    """Per customer known at ``cutoff``: ``gap_mean_days`` (NaN for one-time buyers) and
    the daily summary ``frequency``, ``recency``, ``T`` that :class:`Population` is made of."""
    bought = _Purchases.at(log, cutoff)
    frequency, recency, T = _daily_summary(log.time[bought.keep], bought, cutoff)
    return pd.DataFrame(
        {"gap_mean_days": bought.mean_gaps(), "frequency": frequency, "recency": recency, "T": T},
        index=log.ids[bought.known],
    )


def population_of(parts: pd.DataFrame, btyd: bool = True) -> Population:
    """The :class:`Population` of the rows of :func:`population_parts`, in customer order."""
    gaps = parts["gap_mean_days"].to_numpy(np.float64)
    repeat = ~np.isnan(gaps)
    typical = float(np.median(gaps[repeat])) if repeat.any() else 0.0
    model = None
    if btyd:
        model = _fit_btyd(*(parts[c].to_numpy(np.float64) for c in ("frequency", "recency", "T")))
    return Population(typical_gap=typical, btyd=model)


def features_at(
    log: PurchaseLog,
    cutoff: np.datetime64,
    windows: tuple[int, ...],
    browsing: dict | None,
    horizon: np.timedelta64,
    btyd: bool,
    population: Population | None = None,
) -> pd.DataFrame:
    """:func:`churn_features` on a parsed log (``browsing`` from ``_parse_events``); the
    population statistics come from the log itself unless given."""
    bought = _Purchases.at(log, cutoff)
    if population is None:
        population = population_of(population_parts(log, cutoff), btyd)
    n, p_code, p_age = bought.n, bought.p_code, bought.p_age
    keep, code, starts = bought.keep, bought.code, bought.starts
    p_lines = np.diff(np.append(starts, code.size)).astype(np.float64)

    columns: dict[str, np.ndarray] = {}
    purchases = bought.purchases
    recency, tenure = p_age[bought.c_last], p_age[bought.c_first]
    columns["recency_days"] = recency
    columns["tenure_days"] = tenure
    columns["purchases"] = purchases
    _window_counts(columns, "purchases", p_code, p_age, None, windows, n)

    columns.update(_gap_features(bought, recency, tenure, population.typical_gap))
    columns["lines_per_purchase"] = np.bincount(p_code, p_lines, n) / purchases
    if log.value is not None:
        p_spend = np.add.reduceat(log.value[keep], starts) if starts.size else np.zeros(0)
        spend = np.bincount(p_code, p_spend, n)
        columns["spend"] = spend
        columns["spend_per_purchase"] = spend / purchases
        _window_counts(columns, "spend", p_code, p_age, p_spend, windows, n)
    if log.category is not None:
        pairs = np.unique(code * (int(log.category.max()) + 1) + log.category[keep])
        columns["categories"] = np.bincount(
            pairs // (int(log.category.max()) + 1), minlength=n
        ).astype(np.float64)
    if browsing is not None:
        columns.update(_browsing_features(browsing, log.ids[bought.known], cutoff, windows, tenure))
    if btyd:
        summary = _daily_summary(log.time[keep], bought, cutoff)
        columns.update(_btyd_features(population.btyd, *summary, horizon))
    frame = pd.DataFrame(columns, index=log.ids[bought.known])
    return frame.astype(np.float64)


def _window_counts(columns, name, p_code, p_age, weights, windows, n) -> None:
    """``{name}_{w}d`` (sum in the window) and ``{name}_trend_{w}d`` for every window."""
    for w in windows:
        inside = p_age < w
        before = (p_age >= w) & (p_age < 2 * w)
        a = np.bincount(p_code, inside if weights is None else inside * weights, n)
        b = np.bincount(p_code, before if weights is None else before * weights, n)
        columns[f"{name}_{w}d"] = a
        total = np.abs(a) + np.abs(b)
        columns[f"{name}_trend_{w}d"] = np.divide(a - b, total, out=np.zeros(n), where=total > 0)


def _gap_features(bought: _Purchases, recency, tenure, typical: float) -> dict:
    p_code, p_age, c_first, n = bought.p_code, bought.p_age, bought.c_first, bought.n
    gaps = np.zeros(p_age.size)
    gaps[1:] = p_age[:-1] - p_age[1:]
    gaps[c_first] = 0.0  # a customer's first purchase has no gap before it
    repeat = bought.purchases > 1
    mean = np.where(repeat, bought.mean_gaps(), 0.0)
    deviation = gaps - mean[p_code]
    deviation[c_first] = 0.0
    variance = np.divide(
        np.bincount(p_code, deviation**2, n), bought.purchases - 1, out=np.zeros(n), where=repeat
    )
    largest = np.maximum.reduceat(gaps, c_first) if gaps.size else np.zeros(0)
    reference = np.where(repeat, mean, typical)
    ratio = np.divide(recency, reference, out=np.zeros(n), where=reference > 0)
    return {
        "gap_mean_days": mean,
        "gap_std_days": np.sqrt(variance),
        "gap_max_days": largest,
        "gap_ratio": ratio,
    }


def _browsing_features(browsing, customers, cutoff, windows, tenure) -> dict:
    keep = browsing["time"] <= cutoff
    position = pd.Index(customers).get_indexer(browsing["customer"][keep])
    known = position >= 0
    position = position[known]
    age = days(cutoff - browsing["time"][keep][known])
    kinds, kind = np.unique(browsing["type"][keep][known], return_inverse=True)
    n, out = customers.size, {}
    for w in windows:
        counts = np.bincount(position * len(kinds) + kind, age < w, n * len(kinds))
        for k, name in enumerate(kinds):
            out[f"events_{name}_{w}d"] = counts[k :: len(kinds)]
    since = np.full(n, np.inf)
    np.minimum.at(since, position, age)
    out["days_since_visit"] = np.where(np.isfinite(since), since, tenure)
    return out


def _daily_summary(
    times: np.ndarray, bought: _Purchases, cutoff: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) per customer on calendar days (purchases on one day merged)."""
    day = times[bought.starts].astype("datetime64[D]").view(np.int64)
    new_day = np.ones(day.size, dtype=bool)
    new_day[1:] = day[1:] != day[:-1]
    new_day[bought.c_first] = True
    if not day.size:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    frequency = np.add.reduceat(new_day, bought.c_first) - 1.0
    recency = (day[bought.c_last] - day[bought.c_first]).astype(np.float64)
    T = (cutoff.astype("datetime64[D]").view(np.int64) - day[bought.c_first]).astype(np.float64)
    return frequency, recency, T


def _fit_btyd(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> Any:
    """BG/NBD fitted on a daily summary; None (with a warning) when it cannot be."""
    from .btyd import BetaGeo

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # judged by the outputs below
            model = BetaGeo().fit(frequency=frequency, recency=recency, T=T)
            if not np.isfinite(model.probability_alive()).all():
                raise FloatingPointError("non-finite predictions")
    except (RecoError, FloatingPointError, ValueError) as error:
        warnings.warn(
            f"BG/NBD could not be fitted at this cutoff ({type(error).__name__}: {error}); "
            "btyd_p_alive and btyd_expected_purchases are NaN. Pass btyd=False to leave them "
            "out.",
            ConvergenceWarning,
            stacklevel=5,
        )
        return None
    return model


def _btyd_features(model, frequency, recency, T, horizon) -> dict:
    """BG/NBD P(alive) and expected purchases in the next ``horizon`` for each customer."""
    n = frequency.size
    nothing = {"btyd_p_alive": np.full(n, np.nan), "btyd_expected_purchases": np.full(n, np.nan)}
    if model is None:
        return nothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alive = model.probability_alive(frequency=frequency, recency=recency, T=T)
        expected = model.conditional_expected_purchases(
            float(days(horizon)), frequency=frequency, recency=recency, T=T
        )
    if not (np.isfinite(alive).all() and np.isfinite(expected).all()):
        warnings.warn(
            "BG/NBD gave non-finite predictions at this cutoff; btyd_p_alive and "
            "btyd_expected_purchases are NaN. Pass btyd=False to leave them out.",
            ConvergenceWarning,
            stacklevel=4,
        )
        return nothing
    return {"btyd_p_alive": alive, "btyd_expected_purchases": expected}
