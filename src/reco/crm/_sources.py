"""Where the store's rows come from: a pandas frame or a CSV / Parquet file, read by DuckDB
through a temporary view, each named column checked before anything is written."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import DataValidationError

_READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
}


class Staged:
    """``source`` (a DataFrame, or a CSV / Parquet file, optionally gzip-compressed CSV)
    visible to SQL as the temporary view ``_source`` for as long as the ``with`` lasts;
    ``columns`` and ``types`` describe it."""

    def __init__(self, con: Any, source: Any, what: str) -> None:
        self.con, self.frame = con, None
        if isinstance(source, pd.DataFrame):
            if len(source) == 0:
                raise DataValidationError(
                    f"the {what} frame is empty (0 rows); it must hold at least one row."
                )
            self.frame = source
            self.query = None
        elif isinstance(source, (str, os.PathLike)):
            self.query = _file_query(Path(source), what)
        else:
            raise DataValidationError(
                f"{what} must be a pandas DataFrame or the path of a CSV or Parquet file; "
                f"got {type(source).__name__}."
            )

    def __enter__(self) -> Staged:
        if self.frame is not None:
            self.con.register("_source", self.frame)
        else:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW _source AS {self.query}")
        described = self.con.execute("DESCRIBE _source").fetchall()
        self.columns = [row[0] for row in described]
        self.types = {row[0]: str(row[1]) for row in described}
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.frame is not None:
            self.con.unregister("_source")
        else:
            self.con.execute("DROP VIEW IF EXISTS _source")


def _file_query(path: Path, what: str) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else path.suffix
    reader = _READERS.get(suffix.lower())
    if reader is None:
        raise DataValidationError(
            f"cannot read {what} from {str(path)!r}: expected a .csv, .csv.gz, .tsv or "
            ".parquet file, or a pandas DataFrame."
        )
    if not path.is_file():
        raise DataValidationError(f"{what} file {str(path)!r} does not exist.")
    literal = "'" + str(path).replace("'", "''") + "'"
    return f"SELECT * FROM {reader}({literal})"


def check_columns(staged: Staged, columns: dict[str, str | None], what: str) -> None:
    """Every named column is present (the closest match suggested otherwise)."""
    present = list(staged.columns)
    for param, column in columns.items():
        if column is None:
            continue
        if not isinstance(column, str):
            raise DataValidationError(
                f"{param} must be a column name (str); got {type(column).__name__}."
            )
        if column not in present:
            close = difflib.get_close_matches(column, present, n=1)
            hint = f" Did you mean {param}={close[0]!r}?" if close else ""
            raise DataValidationError(
                f"{param}={column!r} is not a column of the {what}; the columns present are "
                f"{present}.{hint}"
            )


def quoted(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'
