"""Interactions: a user x item event log with time, value and event type, and its sparse matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import (
    as_utc_timestamp,
    check_bool,
    check_finite,
    check_frame,
    check_option,
    check_sparse,
    preview,
)
from ..exceptions import DataValidationError, InvalidParameterError
from ._kernels import POLICY_CODES, sort_and_merge
from .idmap import IdMap

__all__ = ["Interactions"]

Duplicates = Literal["sum", "max", "first", "last", "count", "keep", "raise"]
_DUPLICATES = ("sum", "max", "first", "last", "count", "keep", "raise")


class Interactions:
    """Who interacted with what, when, and how strongly: rows of (user, item, value, time).

    Rows are kept sorted by user, then item, then time. ``to_csr()`` gives the users x items
    matrix (float32, values of repeated pairs summed). Build it with :meth:`from_frame` or
    :meth:`from_csr`; every model, splitter and metric in reco accepts it.

    Attributes
    ----------
    user_map, item_map : IdMap
        External ids <-> row / column indices of the matrix.
    user_index, item_index : ndarray of int32
        Each row's user and item index.
    value : ndarray of float32
        Each row's weight (1.0 when no value or event weight was given).
    time : ndarray or None
        Each row's timestamp (datetime64[ns], int64 or float64) when built with ``time=``.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2"],
    ...                     "item_id": ["a", "b", "a", "a"],
    ...                     "event": ["view", "purchase", "view", "cart"]})
    >>> X = Interactions.from_frame(log, event="event",
    ...                             event_weights={"view": 1, "cart": 3, "purchase": 10})
    >>> X.to_csr().toarray()
    array([[ 1., 10.],
           [ 4.,  0.]], dtype=float32)
    """

    __slots__ = (
        "_matrix",
        "columns",
        "item_index",
        "item_map",
        "time",
        "user_index",
        "user_map",
        "value",
    )

    def __init__(
        self,
        user_index: np.ndarray,
        item_index: np.ndarray,
        value: np.ndarray,
        time: np.ndarray | None,
        user_map: IdMap,
        item_map: IdMap,
        *,
        columns: Mapping[str, str] | None = None,
        _sorted: bool = False,
    ) -> None:
        user_index = np.asarray(user_index, dtype=np.int32)
        item_index = np.asarray(item_index, dtype=np.int32)
        value = np.asarray(value, dtype=np.float32)
        n = user_index.size
        if item_index.size != n or value.size != n or (time is not None and len(time) != n):
            raise DataValidationError(
                "user_index, item_index, value and time must have the same length; got "
                f"{n}, {item_index.size}, {value.size}, {None if time is None else len(time)}."
            )
        if n and (user_index.min() < 0 or user_index.max() >= len(user_map)):
            raise DataValidationError("user_index holds values outside the user map.")
        if n and (item_index.min() < 0 or item_index.max() >= len(item_map)):
            raise DataValidationError("item_index holds values outside the item map.")
        if not _sorted and n:
            source, user_index, item_index, value, _ = _sort_merge(
                user_index, item_index, value, time, len(user_map), len(item_map), "keep"
            )
            time = None if time is None else time[source]
        self.user_index = user_index
        self.item_index = item_index
        self.value = value
        self.time = time
        self.user_map = user_map
        self.item_map = item_map
        self.columns = dict(
            columns or {"user": "user_id", "item": "item_id", "value": "value", "time": "time"}
        )
        self._matrix = None

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        user: str = "user_id",
        item: str = "item_id",
        time: str | None = None,
        value: str | None = None,
        event: str | None = None,
        event_weights: Mapping[Any, float] | None = None,
        duplicates: Duplicates = "sum",
        allow_negative: bool = False,
        user_map: IdMap | None = None,
        item_map: IdMap | None = None,
        drop_unknown: bool = False,
    ) -> Interactions:
        """Build from a long frame with one row per event.

        Parameters
        ----------
        frame : DataFrame
            The event log.
        user, item : str
            Columns holding the external user and item ids.
        time : str, optional
            Timestamp column (datetime, integer or float). Needed by temporal splitters and
            time-decayed models.
        value : str, optional
            Weight column (quantity, rating, revenue). Defaults to 1 per row.
        event, event_weights : str and mapping, optional
            Event-type column and the weight of each type, e.g.
            ``{"view": 1, "cart": 3, "purchase": 10}``: a browsing + purchase log becomes one
            confidence matrix. A row's weight is ``value * event_weights[event]``.
        duplicates : {"sum", "max", "first", "last", "count", "keep", "raise"}
            What repeated (user, item) rows become: one row whose value is the sum, the
            maximum, the first or last by time (by row order without time), or the number of
            rows; ``"keep"`` keeps every row (the matrix still sums them); ``"raise"`` refuses
            them. A merged row's time is the latest time of the pair (``"first"``: the earliest).
        allow_negative : bool
            Accept negative weights (explicit negative feedback). Off by default.
        user_map, item_map : IdMap, optional
            Reuse existing id maps (e.g. to build a test set in a model's index space). Ids
            outside them raise :class:`UnknownIdError` unless ``drop_unknown=True``.
        """
        check_option(duplicates, "duplicates", _DUPLICATES)
        allow_negative = check_bool(allow_negative, "allow_negative")
        drop_unknown = check_bool(drop_unknown, "drop_unknown")
        check_frame(
            frame,
            {"user": user, "item": item, "time": time, "value": value, "event": event},
        )
        if (event is None) != (event_weights is None):
            raise InvalidParameterError(
                "event and event_weights go together: pass both (event='event_type', "
                "event_weights={'view': 1, 'purchase': 10}) or neither; got "
                f"event={event!r}, event_weights={event_weights!r}."
            )
        for col, what in ((user, "user"), (item, "item")):
            if frame[col].isna().any():
                bad = np.flatnonzero(frame[col].isna().to_numpy())
                raise DataValidationError(
                    f"{what} column {col!r} has {bad.size} missing value(s), first at row(s) "
                    f"{preview(bad.tolist())}. Drop those rows (frame.dropna(subset=[{col!r}]))."
                )

        weights = _row_weights(frame, value, event, event_weights, allow_negative)
        times = _time_array(frame[time]) if time is not None else None

        keep = None
        for name, given in (("user_map", user_map), ("item_map", item_map)):
            if given is not None and not isinstance(given, IdMap):
                raise InvalidParameterError(
                    f"{name} must be an IdMap (e.g. the {name} of the training Interactions) "
                    f"or None; got {type(given).__name__} {given!r}."
                )
        u_index, u_map, u_unknown = _encode(frame[user], user_map, "user")
        i_index, i_map, i_unknown = _encode(frame[item], item_map, "item")
        if u_unknown is not None or i_unknown is not None:
            unknown = np.zeros(len(frame), dtype=bool)
            for mask, idmap, col in ((u_unknown, u_map, user), (i_unknown, i_map, item)):
                if mask is not None:
                    if not drop_unknown:
                        idmap._raise_unknown(frame[col].to_numpy()[mask])
                    unknown |= mask
            keep = ~unknown
        if keep is not None:
            u_index, i_index, weights = u_index[keep], i_index[keep], weights[keep]
            times = None if times is None else times[keep]

        columns = {"user": user, "item": item, "value": value or "value", "time": time or "time"}
        return cls._from_rows(u_index, i_index, weights, times, u_map, i_map, duplicates, columns)

    @classmethod
    def _from_rows(cls, u_index, i_index, weights, times, u_map, i_map, duplicates, columns):
        source, u_index, i_index, weights, repeats = _sort_merge(
            u_index, i_index, weights, times, len(u_map), len(i_map), duplicates
        )
        if duplicates == "raise" and repeats:
            same = (u_index[1:] == u_index[:-1]) & (i_index[1:] == i_index[:-1])
            dup = np.flatnonzero(same)[:5]
            pairs = list(
                zip(u_map.ids(u_index[dup]).tolist(), i_map.ids(i_index[dup]).tolist(), strict=True)
            )
            raise DataValidationError(
                f"duplicates='raise' but {repeats} row(s) repeat a (user, item) pair, e.g. "
                f"{preview(pairs)}. Pass duplicates='sum' (or 'max', 'last', 'count', 'keep') "
                "to merge them."
            )
        times = None if times is None else times[source]
        return cls(u_index, i_index, weights, times, u_map, i_map, columns=columns, _sorted=True)

    @classmethod
    def from_csr(
        cls,
        matrix: Any,
        *,
        user_ids: Any = None,
        item_ids: Any = None,
        allow_negative: bool = False,
    ) -> Interactions:
        """Build from a scipy sparse users x items matrix (no time).

        ``user_ids`` / ``item_ids`` name the rows and columns; by default they are 0..n-1.
        """
        csr = check_sparse(
            matrix, "matrix", allow_negative=check_bool(allow_negative, "allow_negative")
        )
        n_users, n_items = csr.shape
        u_map = (
            IdMap.range(n_users, name="user") if user_ids is None else IdMap(user_ids, name="user")
        )
        i_map = (
            IdMap.range(n_items, name="item") if item_ids is None else IdMap(item_ids, name="item")
        )
        for idmap, size, what in ((u_map, n_users, "user_ids"), (i_map, n_items, "item_ids")):
            if len(idmap) != size:
                raise DataValidationError(
                    f"{what} must have one id per {'row' if what == 'user_ids' else 'column'} "
                    f"of the matrix ({size}); got {len(idmap)}."
                )
        csr.eliminate_zeros()
        rows = np.repeat(np.arange(n_users, dtype=np.int32), np.diff(csr.indptr))
        out = cls(rows, csr.indices, csr.data, None, u_map, i_map, _sorted=True)
        return out

    # -- views -------------------------------------------------------------------------------
    def to_csr(self, *, copy: bool = False, format: str = "array") -> Any:
        """The users x items matrix (float32, sorted indices, repeated pairs summed).

        By default the matrix is built once and shared, so its arrays are read-only. Pass
        ``copy=True`` for a writable copy, and ``format="matrix"`` for a
        ``scipy.sparse.csr_matrix`` (what implicit, LightFM and older code expect), e.g.
        ``implicit.als.AlternatingLeastSquares().fit(X.to_csr(copy=True, format="matrix"))``.
        """
        check_option(format, "format", ("array", "matrix"))
        if self._matrix is None:
            self._matrix = _build_csr(self.user_index, self.item_index, self.value, self.shape)
        if not check_bool(copy, "copy") and format == "array":
            return self._matrix
        kind = sp.csr_matrix if format == "matrix" else sp.csr_array
        return kind(self._matrix, copy=True)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a long DataFrame with external ids, using the column names given."""
        data = {
            self.columns["user"]: self.user_map.ids(self.user_index),
            self.columns["item"]: self.item_map.ids(self.item_index),
            self.columns["value"]: self.value,
        }
        if self.time is not None:
            data[self.columns["time"]] = self.time
        return pd.DataFrame(data)

    def filter(
        self,
        *,
        users: Any = None,
        items: Any = None,
        start: Any = None,
        end: Any = None,
    ) -> Interactions:
        """Rows of the given users and items within the time window ``[start, end)``.

        The result keeps this object's id maps (so a model fit on it and the full data share
        their index space). Unknown ids in ``users`` / ``items`` are ignored.
        """
        keep = np.ones(len(self), dtype=bool)
        if users is not None:
            keep &= _index_mask(self.user_map, users, len(self.user_map))[self.user_index]
        if items is not None:
            keep &= _index_mask(self.item_map, items, len(self.item_map))[self.item_index]
        if start is not None or end is not None:
            if self.time is None:
                raise DataValidationError(
                    "filter(start=..., end=...) needs timestamps; this Interactions has none. "
                    "Build it with Interactions.from_frame(..., time='timestamp')."
                )
            if start is not None:
                keep &= self.time >= _as_time(start, self.time)
            if end is not None:
                keep &= self.time < _as_time(end, self.time)
        return self.subset(keep)

    def subset(self, keep: np.ndarray) -> Interactions:
        """Rows where the boolean mask ``keep`` is true, with the same id maps."""
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != (len(self),):
            raise DataValidationError(
                f"keep must be a boolean mask of length {len(self)}; got dtype {keep.dtype} and "
                f"shape {keep.shape}."
            )
        return Interactions(
            self.user_index[keep],
            self.item_index[keep],
            self.value[keep],
            None if self.time is None else self.time[keep],
            self.user_map,
            self.item_map,
            columns=self.columns,
            _sorted=True,
        )

    def describe(self) -> pd.Series:
        """Counts and density: users, items, rows, distinct pairs, density, per-user figures."""
        csr = self.to_csr()
        per_user = np.diff(csr.indptr)
        per_item = np.bincount(csr.indices, minlength=self.n_items)
        active_users = int((per_user > 0).sum())
        active_items = int((per_item > 0).sum())
        stats = {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_rows": len(self),
            "n_pairs": int(csr.nnz),
            "density": csr.nnz / max(1, self.n_users * self.n_items),
            "active_users": active_users,
            "active_items": active_items,
            "value_sum": float(self.value.sum(dtype=np.float64)),
            "pairs_per_user_mean": float(per_user.mean()) if per_user.size else 0.0,
            "pairs_per_user_median": float(np.median(per_user)) if per_user.size else 0.0,
            "pairs_per_item_mean": float(per_item.mean()) if per_item.size else 0.0,
            "pairs_per_item_max": int(per_item.max()) if per_item.size else 0,
        }
        if self.time is not None and len(self):
            as_time = pd.Timestamp if self.time.dtype.kind == "M" else (lambda v: v.item())
            stats["time_min"] = as_time(self.time.min())
            stats["time_max"] = as_time(self.time.max())
        return pd.Series(stats, name="interactions", dtype=object)

    # -- properties --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_map), len(self.item_map))

    @property
    def n_users(self) -> int:
        return len(self.user_map)

    @property
    def n_items(self) -> int:
        return len(self.item_map)

    @property
    def has_time(self) -> bool:
        return self.time is not None

    def __len__(self) -> int:
        return int(self.user_index.size)

    def __repr__(self) -> str:
        time = ", with time" if self.has_time else ""
        return f"Interactions({self.n_users} users x {self.n_items} items, {len(self)} rows{time})"


# -- helpers ------------------------------------------------------------------------------------


def _sort_merge(user_index, item_index, value, times, n_users, n_items, policy):
    """(source rows, users, items, values, repeats) sorted by (user, item, time), merged."""
    has_time = times is not None
    key = np.ascontiguousarray(_time_key(times)) if has_time else np.empty(0, dtype=np.int64)
    source, users, items, values, repeats = sort_and_merge(
        np.ascontiguousarray(user_index, dtype=np.int32),
        np.ascontiguousarray(item_index, dtype=np.int32),
        np.ascontiguousarray(value, dtype=np.float32),
        key,
        has_time,
        n_users,
        n_items,
        POLICY_CODES[policy],
    )
    if users.size < 0.9 * user_index.size:  # views into row-sized buffers: do not keep those
        users, items, values = users.copy(), items.copy(), values.copy()
    return source, users, items, values, repeats


def _time_key(times: np.ndarray) -> np.ndarray:
    if times.dtype.kind == "M":
        return times.view(np.int64)
    if times.dtype.kind in "iu":
        return times.astype(np.int64, copy=False)
    return times.astype(np.float64, copy=False)


def _encode(column: pd.Series, idmap: IdMap | None, what: str):
    """Column -> (int32 codes, IdMap, unknown-mask or None)."""
    if idmap is None:
        try:
            codes, uniques = pd.factorize(column, sort=False)
        except TypeError as error:
            raise DataValidationError(
                f"{what} ids in column {column.name!r} must be hashable (str, int, tuple); "
                f"got values such as {column.iloc[0]!r} ({error}). Convert them to str."
            ) from None
        return codes.astype(np.int32), IdMap._from_index(pd.Index(uniques), what), None
    codes = idmap.pandas_index.get_indexer(column.to_numpy())
    unknown = codes < 0
    return codes.astype(np.int32), idmap, (unknown if unknown.any() else None)


def _row_weights(frame, value, event, event_weights, allow_negative) -> np.ndarray:
    n = len(frame)
    if value is not None:
        column = frame[value]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise DataValidationError(
                f"value column {value!r} must be numeric; got dtype {column.dtype}. Convert "
                f"it with pandas.to_numeric(frame[{value!r}])."
            )
        weights = column.to_numpy(dtype=np.float64, na_value=np.nan)
        check_finite(weights, f"value column {value!r}", allow_negative=allow_negative)
    else:
        weights = np.ones(n, dtype=np.float64)
    if event is not None:
        if not isinstance(event_weights, Mapping) or not event_weights:
            raise InvalidParameterError(
                "event_weights must be a non-empty mapping of event type -> weight, such as "
                f"{{'view': 1, 'cart': 3, 'purchase': 10}}; got {event_weights!r}."
            )
        table = pd.Series(dict(event_weights), dtype=object)
        table_values = pd.to_numeric(table, errors="coerce").to_numpy(dtype=np.float64)
        check_finite(table_values, "event_weights values", allow_negative=allow_negative)
        codes, uniques = pd.factorize(frame[event], use_na_sentinel=True)
        missing = [u for u in uniques if u not in event_weights]
        if (codes < 0).any():
            missing.append(None)
        if missing:
            raise DataValidationError(
                f"event column {event!r} holds type(s) with no weight in event_weights: "
                f"{preview(missing)}; event_weights covers {preview(list(event_weights))}. Add "
                "a weight for each type, or filter those rows out first."
            )
        lookup = np.array([float(event_weights[u]) for u in uniques], dtype=np.float64)
        weights = weights * lookup[codes]
    with np.errstate(over="ignore"):
        out = weights.astype(np.float32)
    check_finite(out, "weights (as float32)", allow_negative=allow_negative)
    return out


def _time_array(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        if column.isna().any():
            raise DataValidationError(
                f"time column {column.name!r} has {int(column.isna().sum())} missing value(s); "
                "drop or fill them first."
            )
        # the column's own resolution: casting [us] or [s] data to [ns] wraps dates after 2262
        return column.to_numpy()
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        times = column.to_numpy()
        if times.dtype.kind == "f":
            check_finite(times, f"time column {column.name!r}")
        return times.astype(np.int64) if times.dtype.kind in "iu" else times.astype(np.float64)
    raise DataValidationError(
        f"time column {column.name!r} must be datetime or numeric; got dtype {column.dtype}. "
        f"Parse it first: frame[{column.name!r}] = pandas.to_datetime(frame[{column.name!r}])."
    )


def _as_time(bound: Any, times: np.ndarray):
    """A time bound in the unit of ``times``; time zones are converted to UTC (the data's
    zone), never dropped; a bound outside the unit's range becomes its end."""
    if times.dtype.kind == "M":
        stamp = as_utc_timestamp(bound, "a time bound for datetime data")
        unit = np.datetime_data(times.dtype)[0]
        try:
            return stamp.as_unit(unit).to_datetime64()
        except (OverflowError, ValueError):  # beyond what the data's unit can hold
            info = np.iinfo(np.int64)
            edge = info.max if stamp.year > 2000 else info.min + 1
            return np.array(edge, dtype=np.int64).view(times.dtype)
    if isinstance(bound, (int, float, np.integer, np.floating)) and not isinstance(bound, bool):
        return bound
    raise InvalidParameterError(
        f"time bounds must be numbers for numeric time data; got {bound!r}."
    )


def _index_mask(idmap: IdMap, ids: Any, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[idmap.index(ids, missing="skip")] = True
    return mask


def _build_csr(user_index, item_index, value, shape) -> sp.csr_array:
    n_users, n_items = shape
    counts = np.bincount(user_index, minlength=n_users)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, data = item_index, value
    # rows are sorted by (user, item): repeated pairs (duplicates="keep") are adjacent
    if indices.size > 1:
        repeat = (user_index[1:] == user_index[:-1]) & (item_index[1:] == item_index[:-1])
        if repeat.any():
            starts = np.flatnonzero(np.concatenate(([True], ~repeat)))
            data = np.add.reduceat(value, starts, dtype=np.float64).astype(np.float32)
            indices = item_index[starts]
            counts = np.bincount(user_index[starts], minlength=n_users)
            np.cumsum(counts, out=indptr[1:])
    index_dtype = np.int32 if indices.size < 2**31 else np.int64
    matrix = sp.csr_array(
        (data, indices.astype(np.int32, copy=False), indptr.astype(index_dtype)),
        shape=(n_users, n_items),
    )
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix
