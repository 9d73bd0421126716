r"""Exports of the store's tables, optionally pseudonymised.

With a key, every customer id becomes :math:`\mathrm{HMAC\text{-}SHA256}(key, id)` in hex:
the same customer gets the same pseudonym in every table and every export made with that
key (so the tables still join), and without the key nobody can map a pseudonym back to the
customer or test a guessed id. Each file is written under a temporary name and renamed
when complete.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import _temporary_prefix, fsync_folder, remove_stale_temporaries
from ..exceptions import DataValidationError, InvalidParameterError
from ._sources import quoted

FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}


def pseudonyms(ids: pd.Series, key: bytes) -> pd.DataFrame:
    """``customer_id`` -> ``pseudonym`` (hex HMAC-SHA256 of the id's text under ``key``)."""
    unique = pd.unique(ids)
    digests = [hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest() for v in unique]
    return pd.DataFrame({"customer_id": unique, "pseudonym": digests})


def as_key(pseudonymise: Any) -> bytes | None:
    if pseudonymise is None:
        return None
    if isinstance(pseudonymise, str):
        pseudonymise = pseudonymise.encode()
    if not isinstance(pseudonymise, bytes) or len(pseudonymise) < 16:
        raise InvalidParameterError(
            "pseudonymise must be a secret key of at least 16 bytes (bytes or str), e.g. "
            "secrets.token_bytes(32); keep it apart from the export."
        )
    return pseudonymise


def export_tables(
    store: Any, folder: Any, tables: Any, pseudonymise: Any, file_format: str
) -> dict[str, Path]:
    """Write each table to ``folder/<table>.<format>``; returns the paths by table."""
    if file_format not in FORMATS:
        raise InvalidParameterError(f"format must be 'parquet' or 'csv'; got {file_format!r}.")
    if not isinstance(folder, (str, os.PathLike)):
        raise InvalidParameterError(f"folder must be a path; got {type(folder).__name__}.")
    folder = Path(folder)
    chosen, key = _chosen(store, tables), as_key(pseudonymise)
    folder.mkdir(parents=True, exist_ok=True)
    with _pseudonymised(store, chosen, key):
        return {
            table: _copy(store._con, _query(store, table, key),
                         folder / f"{table}.{file_format}", file_format)
            for table in chosen
        }  # fmt: skip


def export_to_sql(store: Any, url: str, tables: Any, pseudonymise: Any, if_exists: str) -> list:
    """Write each table into the database at ``url`` (SQLAlchemy), in chunks; returns the
    tables written."""
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError("writing to SQL needs SQLAlchemy: pip install 'reco[sql]'") from None
    if if_exists not in ("fail", "replace", "append"):
        raise InvalidParameterError(
            f"if_exists must be 'fail', 'replace' or 'append'; got {if_exists!r}."
        )
    chosen, key = _chosen(store, tables), as_key(pseudonymise)
    engine = sqlalchemy.create_engine(url)
    try:
        with _pseudonymised(store, chosen, key), engine.begin() as connection:
            for table in chosen:  # one transaction: all tables or none
                cursor = store._con.execute(_query(store, table, key))
                chunk, mode = cursor.fetch_df_chunk(64), if_exists
                while True:  # the first chunk creates the table, even when it is empty
                    chunk.to_sql(table, connection, if_exists=mode, index=False)
                    chunk, mode = cursor.fetch_df_chunk(64), "append"
                    if chunk.empty:
                        break
    except (ValueError, sqlalchemy.exc.SQLAlchemyError) as error:
        raise DataValidationError(
            f"writing to the database failed ({error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}); nothing was written."
        ) from None
    finally:
        engine.dispose()
    return chosen


def _chosen(store: Any, tables: Any) -> list[str]:
    present = store.tables()
    chosen = present if tables is None else [tables] if isinstance(tables, str) else list(tables)
    missing = [t for t in chosen if t not in present]
    if missing:
        raise DataValidationError(f"the store has no table(s) {missing}; it has {present}.")
    return chosen


class _pseudonymised:
    """The pseudonym table ``_pseudonyms`` registered for the ``with`` (nothing without a
    key)."""

    def __init__(self, store: Any, tables: list[str], key: bytes | None) -> None:
        self.store, self.tables, self.key = store, tables, key

    def __enter__(self) -> None:
        if self.key is None:
            return
        ids = pd.concat(
            [self.store.sql(f"SELECT DISTINCT customer_id FROM {t}")["customer_id"]
             for t in self.tables]
        )  # fmt: skip
        self.store._con.register("_pseudonyms", pseudonyms(ids, self.key))

    def __exit__(self, *exc: Any) -> None:
        if self.key is not None:
            self.store._con.unregister("_pseudonyms")


def _query(store: Any, table: str, key: bytes | None) -> str:
    if key is None:
        return f"SELECT * FROM {table}"
    columns = [c for c in store._table_columns(table) if c != "customer_id"]
    kept = "".join(f", t.{quoted(c)}" for c in columns)
    return (
        f"SELECT p.pseudonym AS customer_id{kept} FROM {table} t "
        "JOIN _pseudonyms p ON p.customer_id = t.customer_id"
    )


def _copy(con: Any, query: str, path: Path, file_format: str) -> Path:
    remove_stale_temporaries(path)
    temporary = path.with_name(_temporary_prefix(path) + "export.tmp")
    literal = "'" + str(temporary).replace("'", "''") + "'"
    try:
        con.execute(f"COPY ({query}) TO {literal} {FORMATS[file_format]}")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path
