"""Sequential patterns (PrefixSpan) over sessions, and sequential rules.

A *sequence pattern* is an ordered tuple of items ``(a, b, c)``; a session *contains* it when
the items occur in that order (not necessarily adjacent), optionally with at most ``max_gap``
between consecutive matched events and ``max_span`` between the first and last. Support
counts sessions, each at most once. Patterns are grown depth first from their prefixes
(Pei et al. 2001, PrefixSpan) by a compiled kernel (:mod:`reco.mining._prefixspan`), the
projected database held as embeddings (position of the last matched event, time of the first).

Without time constraints only the earliest embedding per session matters (every later
occurrence is reachable from it); with ``max_gap`` / ``max_span`` all embeddings are kept,
since a later one may leave room that an earlier one does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_frame, check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from . import _prefixspan
from .itemsets import min_count

__all__ = [
    "FrequentSequences",
    "SequentialRules",
    "frequent_sequences",
    "sequential_rules",
]


@dataclass
class FrequentSequences:
    """Frequent sequence patterns.

    Attributes
    ----------
    frame : DataFrame
        ``sequence`` (tuple of items, in order), ``support`` (fraction of sessions), ``count``,
        ``length``; sorted by count descending, then length.
    n_sequences : int
        Number of sessions.
    min_count : int

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "session_id": [1, 1, 1, 2, 2, 3, 3],
    ...     "item_id": ["shoes", "socks", "polish", "shoes", "socks", "shoes", "laces"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:09",
    ...                                  "2024-01-02 09:00", "2024-01-02 09:30",
    ...                                  "2024-01-03 12:00", "2024-01-03 12:01"]),
    ... })
    >>> patterns = frequent_sequences(events, min_support=2, max_gap="10min")
    >>> len(patterns), patterns.n_sequences   # session 2's socks came 30 minutes later
    (2, 3)
    """

    frame: pd.DataFrame
    n_sequences: int
    min_count: int
    _counts: dict = field(repr=False, default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def _duration(value: Any, name: str, unit: str | None) -> float | None:
    """A time limit in the units of the time key (``unit`` of datetime data, else numbers)."""
    if value is None:
        return None
    if unit is not None:
        try:
            delta = pd.Timedelta(value)
        except (ValueError, TypeError):
            delta = None
        if delta is None or pd.isna(delta) or delta < pd.Timedelta(0):
            raise InvalidParameterError(
                f"{name} must be a non-negative duration such as '30min' or "
                f"pandas.Timedelta(hours=1) for datetime data; got {value!r}."
            )
        return float(delta.to_timedelta64() / np.timedelta64(1, unit))
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not np.isfinite(value)
        or value < 0
    ):
        raise InvalidParameterError(
            f"{name} must be a finite non-negative number (in the units of the time column); "
            f"got {value!r}."
        )
    return float(value)


def _time_key(column: pd.Series, name: str) -> tuple[np.ndarray, str | None]:
    """Event times as float64 in their own unit (datetime data, zones in UTC) or numbers."""
    if pd.api.types.is_bool_dtype(column):
        raise DataValidationError(
            f"time column {name!r} holds booleans; it must hold timestamps or numbers."
        )
    if pd.api.types.is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        values = column.to_numpy()
        if np.isnat(values).any():
            raise DataValidationError(f"time column {name!r} has missing values; drop them.")
        unit = np.datetime_data(values.dtype)[0]
        return values.view(np.int64).astype(np.float64), unit
    if not pd.api.types.is_numeric_dtype(column):
        raise DataValidationError(
            f"time column {name!r} must hold timestamps or numbers; got dtype {column.dtype}. "
            "Parse it with pandas.to_datetime first."
        )
    values = column.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataValidationError(
            f"time column {name!r} has NaN or infinite values; drop or fill them."
        )
    return values, None


def frequent_sequences(
    events: pd.DataFrame,
    min_support: float | int,
    *,
    session: str = "session_id",
    item: str = "item_id",
    time: str | None = "timestamp",
    event: str | None = None,
    max_gap: Any = None,
    max_span: Any = None,
    max_len: int | None = None,
) -> FrequentSequences:
    """Sequences of items that occur, in order, in at least ``min_support`` of the sessions.

    Parameters
    ----------
    events : DataFrame
        One row per event.
    min_support : float in (0, 1] or int >= 1
        Share of sessions (``count >= ceil(min_support * n_sessions)``) or a count.
    session, item, time : str
        Columns. Events of a session are ordered by ``time`` (ties: row order); with
        ``time=None`` by row order only (and no time constraints).
    event : str, optional
        Event-type column: items become ``(event, item)`` pairs, so patterns read
        "viewed A, then carted B, then bought C".
    max_gap, max_span : duration or number, optional
        Largest time between consecutive matched events, and between the first and last.
    max_len : int, optional
        Longest pattern.

    Returns
    -------
    FrequentSequences
        ``frame`` with ``sequence`` (a tuple of items, or of (event, item) pairs), ``count`` and
        ``support``.

    Raises
    ------
    DataValidationError
        Missing columns, NaN ids or times.
    InvalidParameterError
        A bad ``min_support``, ``max_gap``, ``max_span`` or ``max_len``.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "session_id": [1, 1, 1, 2, 2, 3, 3],
    ...     "item_id": ["shoes", "socks", "polish", "shoes", "socks", "shoes", "laces"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:09",
    ...                                  "2024-01-02 09:00", "2024-01-02 09:30",
    ...                                  "2024-01-03 12:00", "2024-01-03 12:01"]),
    ... })
    >>> patterns = frequent_sequences(events, min_support=2)
    >>> patterns.frame[["sequence", "count"]]
               sequence  count
    0          (shoes,)      3
    1          (socks,)      2
    2  (shoes, socks)      2
    """
    check_frame(
        events,
        {"session": session, "item": item, "time": time, "event": event},
        what="events frame",
    )
    if time is None and (max_gap is not None or max_span is not None):
        raise InvalidParameterError("max_gap and max_span need a time column (time=...).")
    max_len = None if max_len is None else check_int(max_len, "max_len", low=1)
    for column in [c for c in (session, item, event) if c is not None]:
        if events[column].isna().any():
            raise DataValidationError(
                f"column {column!r} has {int(events[column].isna().sum())} missing value(s); "
                "drop those rows first."
            )
    frame = events
    order_keys = [session] + ([time] if time is not None else [])
    frame = frame.assign(_row=np.arange(len(frame))).sort_values(
        order_keys + ["_row"], kind="stable"
    )
    if event is not None:
        tokens = pd.Series(
            list(zip(frame[event].to_numpy(), frame[item].to_numpy(), strict=True)),
            index=frame.index,
            dtype=object,
        )
    else:
        tokens = frame[item]
    codes, uniques = pd.factorize(tokens, sort=False)
    items = codes.astype(np.int64)
    session_codes = pd.factorize(frame[session], sort=False)[0]
    starts = np.flatnonzero(np.r_[True, session_codes[1:] != session_codes[:-1]])
    n_sessions = starts.size
    session_of = np.repeat(np.arange(n_sessions), np.diff(np.r_[starts, len(frame)]))
    session_end = np.r_[starts[1:], len(frame)][session_of]  # end of each position's session
    if time is None:
        times, unit = np.arange(len(frame), dtype=np.float64), None
    else:
        times, unit = _time_key(frame[time], time)
    gap = _duration(max_gap, "max_gap", unit)
    span = _duration(max_span, "max_span", unit)
    threshold = min_count(min_support, n_sessions)
    session_length = np.diff(np.r_[starts, len(frame)])
    longest = int(session_length.max()) if session_length.size else 1
    flat, offsets, supports = _prefixspan.prefixspan(
        items,
        session_of.astype(np.int64),
        session_end.astype(np.int64),
        np.ascontiguousarray(times, dtype=np.float64),
        starts.astype(np.int64),
        (starts + session_length).astype(np.int64),
        len(uniques),
        threshold,
        longest if max_len is None else min(max_len, longest),
        -1.0 if gap is None else gap,
        -1.0 if span is None else span,
    )
    flat_list, bounds = flat.tolist(), offsets.tolist()
    counts = {
        tuple(flat_list[a:b]): count
        for a, b, count in zip(bounds[:-1], bounds[1:], supports.tolist(), strict=True)
    }

    label = np.asarray(uniques, dtype=object).tolist().__getitem__
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
    named = {tuple(map(label, p)): c for p, c in rows}  # same order as the rows
    result = pd.DataFrame(
        {
            "sequence": pd.Series(list(named), dtype=object),
            "support": [c / n_sessions for _, c in rows],
            "count": [c for _, c in rows],
            "length": [len(p) for p, _ in rows],
        }
    )
    return FrequentSequences(result, n_sessions, threshold, named)


@dataclass
class SequentialRules:
    """Rules found by :func:`sequential_rules`, shaped like
    :class:`~reco.mining.AssociationRules`.

    Attributes
    ----------
    frame : DataFrame
        ``antecedent`` (the ordered prefix), ``consequent`` (what follows), ``support``,
        ``antecedent_support``, ``confidence`` and ``lift``; sorted by confidence, then
        support (descending).
    n_sequences : int
        Number of sessions the patterns were mined from.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "session_id": [1, 1, 1, 2, 2, 3, 3],
    ...     "item_id": ["shoes", "socks", "polish", "shoes", "socks", "shoes", "laces"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:09",
    ...                                  "2024-01-02 09:00", "2024-01-02 09:30",
    ...                                  "2024-01-03 12:00", "2024-01-03 12:01"]),
    ... })
    >>> rules = sequential_rules(frequent_sequences(events, min_support=2))
    >>> len(rules), rules.n_sequences
    (1, 3)
    """

    frame: pd.DataFrame
    n_sequences: int

    def __len__(self) -> int:
        return len(self.frame)


def sequential_rules(sequences: FrequentSequences, min_confidence: float = 0.5) -> SequentialRules:
    r"""Rules "this ordered prefix, then these items": :math:`S_{1..k} \Rightarrow S_{k+1..L}`.

    For every frequent sequence S and split point k: ``support`` = s(S),
    ``antecedent_support`` = s(prefix), ``confidence`` = count(S) / count(prefix), and
    ``lift`` = confidence / s(suffix as a sequence). Prefixes of a frequent sequence are
    frequent, so every count is known.

    Parameters
    ----------
    sequences : FrequentSequences
        From :func:`frequent_sequences`.
    min_confidence : float
        Least confidence, in [0, 1].

    Returns
    -------
    SequentialRules
        ``frame`` with ``antecedent``, ``consequent``, ``support``, ``antecedent_support``,
        ``confidence`` and ``lift``, most confident first.

    Raises
    ------
    InvalidParameterError
        ``sequences`` is not a FrequentSequences, or ``min_confidence`` outside [0, 1].

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "session_id": [1, 1, 1, 2, 2, 3, 3],
    ...     "item_id": ["shoes", "socks", "polish", "shoes", "socks", "shoes", "laces"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:09",
    ...                                  "2024-01-02 09:00", "2024-01-02 09:30",
    ...                                  "2024-01-03 12:00", "2024-01-03 12:01"]),
    ... })
    >>> rules = sequential_rules(frequent_sequences(events, min_support=2), min_confidence=0.5)
    >>> rules.frame[["antecedent", "consequent", "confidence"]].round(3)
      antecedent consequent  confidence
    0   (shoes,)   (socks,)       0.667
    """
    if not isinstance(sequences, FrequentSequences):
        raise DataValidationError(
            "sequences must come from reco.mining.frequent_sequences(...); got "
            f"{type(sequences).__name__}."
        )
    min_confidence = check_number(min_confidence, "min_confidence", low=0, high=1)
    counts, n = sequences._counts, sequences.n_sequences
    rows = []
    for pattern, count in counts.items():
        for k in range(1, len(pattern)):
            prefix, suffix = pattern[:k], pattern[k:]
            confidence = count / counts[prefix]
            if confidence < min_confidence:
                continue
            suffix_count = counts.get(suffix)
            rows.append(
                {
                    "antecedent": prefix,
                    "consequent": suffix,
                    "support": count / n,
                    "antecedent_support": counts[prefix] / n,
                    "confidence": confidence,
                    "lift": confidence / (suffix_count / n) if suffix_count else np.nan,
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["antecedent", "consequent", "support", "antecedent_support", "confidence", "lift"],
    )
    frame = frame.sort_values(["confidence", "support"], ascending=False, kind="stable")
    return SequentialRules(frame.reset_index(drop=True), n)
