"""Reading and writing the command line's files, and parsing its small option languages."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..batch._write import TableWriter
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = [
    "first_column",
    "need_columns",
    "parse_params",
    "parse_time",
    "parse_weights",
    "read_table",
    "write_table",
]


def read_table(path: str, what: str = "input") -> pd.DataFrame:
    """A CSV or Parquet file (by suffix) as a DataFrame."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InvalidParameterError(
            f"{what} file {path!r} must end in .csv or .parquet (the suffix chooses the format)."
        )
    if not file.is_file():
        raise DataValidationError(f"{what} file {path!r} does not exist.")
    try:
        return pd.read_csv(file) if suffix == ".csv" else pd.read_parquet(file)
    except ImportError:
        raise DataValidationError(
            "reading Parquet needs pyarrow: pip install 'reco[parquet]', or pass a .csv file."
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DataValidationError(f"cannot read {what} file {path!r}: {error}") from None


def need_columns(frame: pd.DataFrame, path: str, **columns: str | None) -> None:
    """Every named column present; a missing one is reported with the columns present and
    the closest match."""
    for option, name in columns.items():
        if name is None or name in frame.columns:
            continue
        close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise DataValidationError(
            f"{path!r} has no column {name!r} (--{option.replace('_', '-')}); columns present: "
            f"{[str(c) for c in frame.columns]}{hint}"
        )


def parse_time(frame: pd.DataFrame, column: str | None, path: str) -> pd.DataFrame:
    """The time column as datetimes when a text file stored it as text (ISO dates)."""
    if column is None or column not in frame.columns:
        return frame
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return frame
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise DataValidationError(
            f"{path!r}: column {column!r} (--time) must hold dates such as 2024-06-30 or "
            f"2024-06-30T12:00:00; {int(bad.sum()):,} value(s) are not, such as "
            f"{values[bad].iloc[0]!r}."
        )
    return frame.assign(**{column: parsed})


def first_column(path: str, what: str) -> np.ndarray:
    """The values of a file's first column (a users, items or candidates list)."""
    frame = read_table(path, what)
    if frame.shape[1] == 0:
        raise DataValidationError(f"{what} file {path!r} has no columns.")
    values = frame.iloc[:, 0]
    if values.isna().any():
        raise DataValidationError(
            f"{what} file {path!r}: the first column has {int(values.isna().sum())} empty "
            "value(s); remove them."
        )
    return values.to_numpy()


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["k=50", "half_life='14D'"]`` -> ``{"k": 50, "half_life": "14D"}``."""
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InvalidParameterError(f"--param takes name=value, such as k=50; got {item!r}.")
        out[name.strip()] = _value(text.strip())
    return out


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"view=1,purchase=10"`` -> ``{"view": 1.0, "purchase": 10.0}``."""
    if text is None:
        return None
    out = {}
    for part in text.split(","):
        name, sep, number = part.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise InvalidParameterError(
                f"--weights takes event=weight pairs, such as view=1,purchase=10; got {text!r}."
            )
    return out


def write_table(frame: pd.DataFrame, out: str) -> Path:
    """Write ``frame`` to a .csv or .parquet file atomically; returns the path."""
    with TableWriter(out, frame.iloc[:0]) as writer:
        if len(frame):
            writer.write(frame)
    return writer.path
