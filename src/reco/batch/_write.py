"""Streaming table files: Parquet (row group by row group) or CSV, written atomically."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_file
from ..exceptions import InvalidParameterError, NotSupportedError

__all__ = ["TableWriter", "row_count", "stream_chunks", "table_format"]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def table_format(path: Any, name: str = "out") -> tuple[Path, str]:
    """``(path, "parquet" | "csv")`` from the file suffix, or a clear error."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidParameterError(
            f"{name} must be a file path ending in .parquet or .csv; got {path!r}."
        )
    path = Path(path)
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidParameterError(
            f"{name} must end in .parquet or .csv (the suffix chooses the format); got "
            f"{str(path)!r}."
        )
    if path.is_dir():
        raise InvalidParameterError(f"{name} {str(path)!r} is a folder; pass a file path.")
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise InvalidParameterError(
            f"{name}: folder {str(path.parent)!r} does not exist; create it first."
        )
    if kind == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise NotSupportedError(
                "writing Parquet needs pyarrow: pip install 'reco[parquet]', or write .csv."
            ) from None
    return path, kind


def row_count(path: Any) -> int:
    """Rows of a table file this module wrote, without building a frame: Parquet's footer,
    or the CSV records after the header."""
    path, kind = table_format(path, "path")
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    import csv

    with open(path, newline="", encoding="utf-8") as handle:  # quoted newlines stay in a row
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


class TableWriter(contextlib.AbstractContextManager):
    """Write frames with the same columns to one file, replacing ``path`` only when complete.

    ``empty`` (a frame with the final columns and dtypes, no rows) defines the file when no
    rows are written.
    """

    def __init__(self, path: Any, empty: pd.DataFrame, *, name: str = "out") -> None:
        self.path, self.kind = table_format(path, name)
        self._empty = empty
        self._context = atomic_file(self.path)
        self._handle = None
        self._parquet = None
        self._header = True
        self.rows = 0

    def __enter__(self) -> TableWriter:
        self._handle = self._context.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._handle, table.schema)
            self._parquet.write_table(table)
        else:
            text = frame.to_csv(index=False, header=self._header, lineterminator="\n")
            self._handle.write(text.encode("utf-8"))
            self._header = False
        self.rows += len(frame)

    def __exit__(self, kind, value, traceback) -> bool | None:
        try:
            if kind is None:
                if self.rows == 0:
                    self.write(self._empty)
                if self._parquet is not None:
                    self._parquet.close()
        except BaseException as error:
            self._context.__exit__(type(error), error, error.__traceback__)
            raise
        return self._context.__exit__(kind, value, traceback)


def stream_chunks(
    out: Any,
    empty: pd.DataFrame,
    items: Any,
    chunk_size: int,
    rows_of,
    *,
    unit: str,
    show_progress: bool,
) -> Path:
    """Write ``rows_of(items[a:b])`` for consecutive chunks of ``items`` to ``out`` (one
    atomic file, a progress bar); ``empty`` defines the file when there are no items."""
    from tqdm.auto import tqdm

    with (
        TableWriter(out, empty) as writer,
        tqdm(total=len(items), unit=unit, disable=not show_progress, desc=unit) as bar,
    ):
        for start in range(0, len(items), chunk_size):
            chunk = items[start : start + chunk_size]
            writer.write(rows_of(chunk))
            bar.update(len(chunk))
    return writer.path
