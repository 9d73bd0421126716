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
    key = as_key(pseudonymise)
    present = store.tables()
    chosen = present if tables is None else [tables] if isinstance(tables, str) else list(tables)
    missing = [t for t in chosen if t not in present]
    if missing:
        raise DataValidationError(f"the store has no table(s) {missing}; it has {present}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    con = store._con
    if key is not None:
        ids = pd.concat(
            [store.sql(f"SELECT DISTINCT customer_id FROM {t}")["customer_id"] for t in chosen]
        )
        con.register("_pseudonyms", pseudonyms(ids, key))
    written = {}
    try:
        for table in chosen:
            query = f"SELECT * FROM {table}"
            if key is not None:
                columns = [c for c in store._table_columns(table) if c != "customer_id"]
                kept = "".join(f", t.{quoted(c)}" for c in columns)
                query = (
                    f"SELECT p.pseudonym AS customer_id{kept} FROM {table} t "
                    "JOIN _pseudonyms p ON p.customer_id = t.customer_id"
                )
            written[table] = _copy(con, query, folder / f"{table}.{file_format}", file_format)
    finally:
        if key is not None:
            con.unregister("_pseudonyms")
    return written


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
