"""Where the store's rows come from: a pandas frame or a CSV / Parquet file, read by DuckDB
through a temporary view, each named column checked before anything is written."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_int
from ..exceptions import DataValidationError, InvalidParameterError

_READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
}


@dataclass(frozen=True)
class SqlQuery:
    """Rows of an existing SQL database: a SQLAlchemy ``url``
    (``postgresql+psycopg://user@host/db``) and the ``query`` that selects them. Build it
    with :func:`reco.crm.sql_source`; the store reads it in chunks of ``chunk_size`` rows."""

    url: str
    query: str
    chunk_size: int = 100_000


def sql_source(url: str, query: str, *, chunk_size: int = 100_000) -> SqlQuery:
    """A source for ``CustomerStore.add_*`` that reads ``query`` from the database at
    ``url`` (SQLAlchemy, the ``sql`` extra: ``pip install 'reco[sql]'``), e.g.
    ``sql_source("postgresql+psycopg://shop@db/shop", "SELECT * FROM order_lines")``.

    Parameters
    ----------
    url : str
        A SQLAlchemy database URL.
    query : str
        The SELECT whose rows to add.
    chunk_size : int
        Rows fetched at a time.

    Returns
    -------
    SqlQuery
        A source to pass to ``add_orders``, ``add_events``, ``add_contacts`` or
        ``add_customers``.

    Raises
    ------
    InvalidParameterError
        Not a database URL, an empty query or a bad ``chunk_size``.

    Examples
    --------
    >>> import sqlite3
    >>> import pandas as pd
    >>> from reco.crm import CustomerStore
    >>> with sqlite3.connect("shop.db") as con:
    ...     lines = pd.DataFrame({"customer": [1, 1, 2], "sku": ["tea", "cups", "tea"],
    ...                           "ts": ["2024-01-02", "2024-01-02", "2024-02-01"]})
    ...     _ = lines.to_sql("lines", con)
    >>> store = CustomerStore()
    >>> store.add_orders(sql_source("sqlite:///shop.db", "SELECT * FROM lines"),
    ...                  customer="customer", item="sku", time="ts")
    >>> int(store.sql("SELECT count(*) AS n FROM orders")["n"][0])
    3
    """
    if not isinstance(url, str) or "://" not in url:
        raise InvalidParameterError(
            f"url must be a SQLAlchemy database URL such as "
            f"'postgresql+psycopg://user@host/db'; got {url!r}."
        )
    if not isinstance(query, str) or not query.strip():
        raise InvalidParameterError("query must be the SQL text that selects the rows.")
    return SqlQuery(url, query, check_int(chunk_size, "chunk_size", low=1))


class Staged:
    """``source`` (a DataFrame, or a CSV / Parquet file, optionally gzip-compressed CSV)
    visible to SQL as the temporary view ``_source`` for as long as the ``with`` lasts;
    ``columns`` and ``types`` describe it."""

    def __init__(self, con: Any, source: Any, what: str) -> None:
        self.con, self.frame, self.what = con, None, what
        self.sql = source if isinstance(source, SqlQuery) else None
        if self.sql is not None:
            self.query = None
        elif isinstance(source, pd.DataFrame):
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
                f"{what} must be a pandas DataFrame, the path of a CSV or Parquet file, or a "
                "reco.crm.sql_source(url, query); "
                f"got {type(source).__name__}."
            )

    def __enter__(self) -> Staged:
        if self.sql is not None:
            _read_sql(self.con, self.sql, self.what)
        elif self.frame is not None:
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
        if self.sql is not None:
            self.con.execute("DROP TABLE IF EXISTS _sql_rows")


def _read_sql(con: Any, source: SqlQuery, what: str) -> None:
    """The query's rows into the temporary table ``_sql_rows`` (chunk by chunk: memory stays
    bounded), seen through the view ``_source``."""
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError("reading from SQL needs SQLAlchemy: pip install 'reco[sql]'") from None
    try:
        engine = sqlalchemy.create_engine(source.url)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ImportError) as error:
        raise DataValidationError(f"cannot use database URL for the {what}: {error}") from None
    rows = 0
    try:
        with engine.connect() as connection:
            chunks = pd.read_sql_query(
                sqlalchemy.text(source.query), connection, chunksize=source.chunk_size
            )
            for chunk in chunks:
                con.register("_sql_chunk", chunk)
                if rows == 0:
                    con.execute(
                        "CREATE OR REPLACE TEMP TABLE _sql_rows AS SELECT * FROM _sql_chunk"
                    )
                else:
                    con.execute("INSERT INTO _sql_rows SELECT * FROM _sql_chunk")
                con.unregister("_sql_chunk")
                rows += len(chunk)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
        raise DataValidationError(
            f"reading the {what} from the database failed: {error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    if rows == 0:
        raise DataValidationError(f"the {what} query returned no rows.")
    con.execute("CREATE OR REPLACE TEMP VIEW _source AS SELECT * FROM _sql_rows")


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
