"""Input checks shared by every public function.

Each check raises the matching class from :mod:`reco.exceptions` with a message of the form
``"<what> must be <rule>; got <value!r>. <fix>"``, before any work starts, so bad input never
half-writes a file or changes a fitted model.
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .exceptions import DataConversionWarning, DataValidationError, InvalidParameterError

__all__ = [
    "as_utc_timestamp",
    "check_bool",
    "check_finite",
    "check_frame",
    "check_ids",
    "check_int",
    "check_n",
    "check_number",
    "check_option",
    "check_random_state",
    "check_sparse",
    "preview",
]


def preview(values: Iterable[Any], limit: int = 5) -> str:
    """The first ``limit`` values as a short string, with the total when more exist."""
    values = list(values)
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    more = f", ... ({len(values)} in all)" if len(values) > limit else ""
    return f"[{shown}{more}]"


def as_written(value: Any) -> float:
    """A real number as a Python float, as the caller wrote it: a float32 ``0.4`` is 0.4, not
    0.4000000059604645 (its shortest decimal form is read back)."""
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return float(np.format_float_positional(value, unique=True, trim="0"))
    return float(value)


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars, so messages read ``3`` rather than ``np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value


def as_utc_timestamp(value: Any, name: str) -> pd.Timestamp:
    """One date (str, Timestamp, datetime, datetime64) as a naive UTC ``pandas.Timestamp``.

    Numbers are refused (days? seconds? yyyymmdd?); a zone-aware date is converted to UTC,
    never stripped of its zone, so it compares correctly with data stored in UTC.
    """
    rule = f"{name} must be a date such as '2024-06-30' or a pandas Timestamp"
    if isinstance(value, (bool, np.bool_, int, float, np.number)):
        raise InvalidParameterError(f"{rule}; got {_plain(value)!r}.")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidParameterError(f"{rule}; got {value!r} ({error}).") from None
    if pd.isna(stamp):
        raise InvalidParameterError(f"{rule}; got {value!r}.")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def check_bool(value: Any, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidParameterError(f"{name} must be True or False; got {_plain(value)!r}.")


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    hint: str = "",
) -> int:
    """An integer (not a bool, not a float) within ``[low, high]``."""
    if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
        return value  # the common case, without the abstract-class check
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(
            f"{name} must be an integer; got {_plain(value)!r} of type "
            f"{type(value).__name__}.{' ' + hint if hint else ''}"
        )
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        rule = _range_text(low, high, closed=True)
        raise InvalidParameterError(
            f"{name} must be an integer {rule}; got {value}.{' ' + hint if hint else ''}"
        )
    return value


def check_n(n: Any) -> int:
    """The length of a recommendation list: a positive integer."""
    return check_int(n, "n", low=1, hint="Pass the list length, such as n=10.")


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    hint: str = "",
) -> float | None:
    """A finite real number within the given (open or closed) bounds."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"{name} must be a number; got {_plain(value)!r} of type {type(value).__name__}."
            f"{' ' + hint if hint else ''}"
        )
    value = as_written(value)
    bad = not np.isfinite(value)
    bad |= low is not None and (value <= low if low_open else value < low)
    bad |= high is not None and (value >= high if high_open else value > high)
    if bad:
        rule = _range_text(low, high, closed=False, low_open=low_open, high_open=high_open)
        raise InvalidParameterError(
            f"{name} must be a finite number{' ' + rule if rule else ''}; got {value!r}."
            f"{' ' + hint if hint else ''}"
        )
    return value


def _range_text(low, high, *, closed, low_open=False, high_open=False) -> str:
    if closed:
        low_open = high_open = False
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def check_option(value: Any, name: str, options: Sequence[Any]) -> Any:
    """One of a fixed set of values (compared with ``==``, types kept)."""
    for option in options:
        if type(value) is type(option) and value == option:
            return value
    allowed = ", ".join(repr(o) for o in options)
    raise InvalidParameterError(f"{name} must be one of {allowed}; got {_plain(value)!r}.")


def check_random_state(random_state: Any) -> np.random.Generator:
    """SPEC 7 seed input (None, int, SeedSequence, Generator) to a ``numpy.random.Generator``.

    An int or SeedSequence gives the same stream every time; a Generator is used as is;
    None draws fresh entropy from the OS (never NumPy's global state).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InvalidParameterError(
                f"random_state must be a non-negative integer, a numpy Generator or None; "
                f"got {int(random_state)}."
            )
        return np.random.default_rng(int(random_state))
    raise InvalidParameterError(
        "random_state must be None, a non-negative integer, a numpy SeedSequence or a numpy "
        f"Generator; got {random_state!r} of type {type(random_state).__name__}."
    )


def check_frame(frame: Any, columns: dict[str, str | None], *, what: str = "frame") -> None:
    """A non-empty DataFrame holding every named column.

    ``columns`` maps the parameter name to the column it names (None = not used); a missing
    column is reported with the columns present and the closest match.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"{what} must be a pandas DataFrame; got {type(frame).__name__}. "
            "Build one with pandas.DataFrame(...) or read it with pandas.read_csv(...)."
        )
    present = [str(c) for c in frame.columns]
    for param, column in columns.items():
        if column is None:
            continue
        if column not in frame.columns:
            close = difflib.get_close_matches(str(column), present, n=1)
            hint = f" Did you mean {param}={close[0]!r}?" if close else ""
            raise DataValidationError(
                f"{param}={column!r} is not a column of the {what}; the columns present are "
                f"{present}.{hint}"
            )
    if len(frame) == 0:
        raise DataValidationError(
            f"the {what} is empty (0 rows); it must hold at least one row. "
            "Check the filter or file that produced it."
        )


def check_finite(values: np.ndarray, name: str, *, allow_negative: bool = True) -> None:
    """No NaN or infinite entries (and, unless allowed, no negative ones)."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise DataValidationError(
            f"{name} must be numeric; got dtype {values.dtype}. Convert it with "
            "pandas.to_numeric(...) first."
        )
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise DataValidationError(
                f"{name} must be finite; found {bad.size} NaN or infinite value(s), first at "
                f"position(s) {preview(bad.tolist())}: {preview(values[bad[:5]].tolist())}. "
                "Drop or fill them (DataFrame.dropna / fillna) before building the data."
            )
    if not allow_negative and values.size and values.min() < 0:
        bad = np.flatnonzero(values < 0)
        raise DataValidationError(
            f"{name} must be non-negative (interaction weights cannot be negative); found "
            f"{bad.size} negative value(s), first at position(s) {preview(bad.tolist())}: "
            f"{preview(values[bad[:5]].tolist())}. Drop them, clip them, or pass "
            "allow_negative=True if negative feedback is intended."
        )


def check_ids(ids: Any, name: str) -> np.ndarray:
    """A 1-D array of external ids from a list, array, Index or Series (a scalar is refused)."""
    if isinstance(ids, (list, tuple)):
        array = _list_ids(ids)
    elif isinstance(ids, (pd.Series, pd.Index)):
        array = ids.to_numpy()
    elif isinstance(ids, (str, bytes)) or np.ndim(ids) == 0:
        raise InvalidParameterError(
            f"{name} must be a list or array of ids; got the single value {_plain(ids)!r}. "
            f"Wrap it in a list: [{_plain(ids)!r}]."
        )
    else:
        array = np.asarray(ids)
        if array.dtype.kind in "US":
            # str ids as Python objects (numpy's fixed-width str drops trailing NULs and hashes
            # slowly)
            array = array.astype(object)
    if array.ndim != 1:
        raise InvalidParameterError(
            f"{name} must be one-dimensional; got an array of shape {array.shape}."
        )
    _check_id_values(array, name)
    return array


def _list_ids(ids: list | tuple) -> np.ndarray:
    """A list's ids as one array: numbers as numbers; str, tuples and mixed kinds as Python
    objects, one id per element (a list of tuples is a list of tuple ids, not a 2-D array)."""
    if ids and not isinstance(ids[0], str):
        try:
            array = np.asarray(ids)
        except ValueError:  # ragged: tuples of several lengths, tuples mixed with scalars
            array = None
        if array is not None and array.ndim == 1 and array.dtype.kind not in "USO":
            return array
    return np.fromiter(ids, dtype=object, count=len(ids)) if ids else np.asarray(ids)


def _check_few_ids(values: list, name: str) -> None:
    """:func:`_check_id_values` for a handful of Python values."""
    for value in values:
        if isinstance(value, (str, bytes, float, bool, np.bool_, np.floating)):
            continue
        if isinstance(value, (int, np.integer)):
            if not -(2**63) <= int(value) < 2**64:
                raise InvalidParameterError(
                    f"{name} must fit in 64 bits; got {value}. Store such ids as str."
                )
            continue
        if isinstance(value, (complex, np.complexfloating)):
            raise InvalidParameterError(
                f"{name} must be str or int ids; got complex numbers. Convert them to str."
            )
        try:
            hash(value)
        except TypeError:
            raise InvalidParameterError(
                f"{name} must be hashable (str, int, tuple ...); got {type(value).__name__} "
                f"values such as {value!r}."
            ) from None


def _check_id_values(array: np.ndarray, name: str) -> None:
    """Ids are hashable, not complex, and integers fit in 64 bits."""
    kind = array.dtype.kind
    if kind == "c":
        raise InvalidParameterError(
            f"{name} must be str or int ids; got complex numbers such as {array[:3].tolist()} "
            "(a complex id would lose its imaginary part). Convert them to str."
        )
    if kind != "O" or array.size == 0:
        return
    if array.size <= 4:  # serving: one user or a short cart, checked without pandas
        _check_few_ids(array.tolist(), name)
        return
    inferred = pd.api.types.infer_dtype(array, skipna=True)
    if inferred in ("string", "bytes", "floating", "boolean", "empty"):
        return
    if inferred == "complex":
        raise InvalidParameterError(
            f"{name} must be str or int ids; got complex numbers. Convert them to str."
        )
    if inferred == "integer":
        low, high = min(array), max(array)
        if low < -(2**63) or high >= 2**64:
            raise InvalidParameterError(
                f"{name} must fit in 64 bits; got integers from {low} to {high}. Store such "
                "ids as str."
            )
        return
    for value in array:  # mixed types: each must be hashable
        try:
            hash(value)
        except TypeError:
            raise InvalidParameterError(
                f"{name} must be hashable (str, int, tuple ...); got {type(value).__name__} "
                f"{value!r}. Convert such ids to str or tuple first."
            ) from None


def check_sparse(
    matrix: Any,
    name: str = "X",
    *,
    allow_negative: bool = False,
) -> sp.csr_array:
    """A scipy sparse users x items matrix as canonical float32 CSR with sorted indices.

    Dense arrays are refused (reco never densifies a users x items matrix). Converting a large
    matrix (over a million entries) from another sparse format or dtype warns with
    :class:`DataConversionWarning`, since the copy costs time and memory.
    """
    if isinstance(matrix, np.ndarray) or (
        hasattr(matrix, "__array__") and not sp.issparse(matrix) and np.ndim(matrix) == 2
    ):
        raise DataValidationError(
            f"{name} must be a scipy sparse matrix (users x items); got a dense "
            f"{type(matrix).__name__} of shape {np.shape(matrix)}. reco never stores dense "
            "interaction matrices: pass scipy.sparse.csr_array(X) or build an Interactions "
            "with Interactions.from_frame(...)."
        )
    if not sp.issparse(matrix):
        raise DataValidationError(
            f"{name} must be an Interactions, a scipy sparse matrix or a DataFrame; got "
            f"{type(matrix).__name__}."
        )
    if matrix.ndim != 2:
        raise DataValidationError(f"{name} must be two-dimensional; got shape {matrix.shape}.")
    converted = []
    if matrix.format != "csr":
        converted.append(f"format {matrix.format} -> csr")
    if matrix.dtype != np.float32:
        if matrix.dtype.kind not in "biuf":
            raise DataValidationError(f"{name} must be numeric; got dtype {matrix.dtype}.")
        if matrix.dtype.kind != "b":
            converted.append(f"dtype {matrix.dtype} -> float32")
    csr = sp.csr_array(matrix, dtype=np.float32, copy=True)  # never alias the caller's arrays
    if converted and matrix.nnz > 1_000_000:
        warnings.warn(
            f"{name} was converted ({', '.join(converted)}); pass a float32 csr_array to skip "
            "this copy.",
            DataConversionWarning,
            stacklevel=3,
        )
    check_finite(csr.data, f"{name} values", allow_negative=allow_negative)
    csr.sum_duplicates()  # also sorts indices
    csr.indices = csr.indices.astype(np.int32, copy=False)
    csr.indptr = csr.indptr.astype(np.int32 if csr.nnz < 2**31 else np.int64, copy=False)
    return csr
