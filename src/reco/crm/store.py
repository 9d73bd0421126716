"""CustomerStore: one customer's whole history in one place, kept in DuckDB.

Orders, browsing events, contacts, attributes and consent go in through ``add_*`` (a frame or
a CSV / Parquet file, the shop's own column names mapped as in
:meth:`reco.Interactions.from_frame`); every batch is checked before anything is written and
written in one transaction, so a bad batch leaves the store as it was. ``path=None`` keeps the
store in memory; a path keeps it in a DuckDB file that :meth:`CustomerStore.open` reopens.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_ids, check_int, check_number
from ..base import Recommender
from ..customers._log import as_timestamp
from ..exceptions import DataValidationError, InvalidParameterError, UnknownIdError
from . import _fitting, _tables
from ._sources import Staged, check_columns, quoted
from ._tables import COLUMNS, REQUIRED, Column
from .cube import members, run_cube
from .export import export_tables, export_to_sql
from .profile import CustomerProfile, build_profile
from .target import target_list

__all__ = ["CustomerStore"]

_FUTURE_SLACK = "INTERVAL 1 DAY"  # clocks differ; a day later than now is an error


class CustomerStore:
    """The customer store (see the module docstring).

    Parameters
    ----------
    path : str, path or None
        A DuckDB file (created if absent) or None for a store in memory.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(50, 20, random_state=0, contacts=True)
    >>> store = CustomerStore()
    >>> store.add_orders(shop.order_lines, customer="customer_id", item="product_id",
    ...                  time="timestamp", value="value", order="order_id")
    >>> store.count("orders") == len(shop.order_lines)
    True
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        import duckdb

        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise InvalidParameterError(
                f"path must be a file path or None (in memory); got {type(path).__name__}."
            )
        self.path = None if path is None else Path(path)
        self._con = duckdb.connect(":memory:" if path is None else str(path))
        self._con.execute("SET TimeZone = 'UTC'")
        self._tables: list[str] | None = None
        self._cache: dict[str, Any] = {}
        self._models: dict[str, Any] | None = None
        self._pool: Any = None  # threads reading a profile's tables side by side
        self._local = threading.local()
        self._cursors: list[Any] = []
        self._cursors_lock = threading.Lock()
        self._create_tables()

    @classmethod
    def open(cls, path: str | os.PathLike) -> CustomerStore:
        """Reopen a store saved at ``path`` (an error if there is none)."""
        if not Path(path).is_file():
            raise DataValidationError(
                f"no customer store at {str(path)!r}; create one with CustomerStore(path)."
            )
        store = cls(path)
        version = store._meta("format_version")
        if version != _tables.FORMAT_VERSION:
            store.close()
            raise DataValidationError(
                f"{str(path)!r} is not a reco customer store of format "
                f"{_tables.FORMAT_VERSION} (found {version!r})."
            )
        return store

    def close(self) -> None:
        """Close the database (a file store is complete on disk after every add)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        self._con.close()

    def __enter__(self) -> CustomerStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "in memory" if self.path is None else str(self.path)
        counts = ", ".join(f"{t} {self.count(t):,}" for t in ("customers", "orders", "events",
                                                                "contacts"))  # fmt: skip
        return f"CustomerStore({where}: {counts})"

    # -- schema ------------------------------------------------------------------------------
    def _create_tables(self) -> None:
        con = self._con
        con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(
            "CREATE TABLE IF NOT EXISTS audit_log "
            "(logged_at TIMESTAMP, action VARCHAR, detail VARCHAR)"
        )
        if self._meta("format_version") is None:
            self._set_meta("format_version", _tables.FORMAT_VERSION)
            self._set_meta("created_at", str(pd.Timestamp.now("UTC")))

    def _set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
        self._cache[("meta", key)] = (value,)

    def _meta(self, key: str) -> str | None:
        cached = self._cache.get(("meta", key))
        if cached is None:
            rows = self._con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
            cached = self._cache[("meta", key)] = (rows[0][0] if rows else None,)
        return cached[0]

    def _id_types(self) -> dict[str, str | None]:
        return {role: self._meta(f"{role}_id_type") for role in ("customer", "item")}

    def _ensure_table(self, table: str, id_types: dict[str, str]) -> None:
        if table in self.tables():
            return
        columns = ", ".join(
            f"{name} {_tables.sql_type(role, id_types)}" for name, role in COLUMNS[table]
        )
        self._con.execute(f"CREATE TABLE {table} ({columns})")
        self._index(table)

    def _index(self, table: str) -> None:
        """An index on ``customer_id``: a profile reads one customer's rows of a large table
        in well under a millisecond instead of scanning it."""
        self._con.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_by_customer ON {table} (customer_id)"
        )
        self._tables = None

    def tables(self) -> list[str]:
        """The data tables the store holds so far."""
        if self._tables is None:
            rows = self._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND "
                "database_name = current_database()"
            ).fetchall()
            self._tables = sorted(r[0] for r in rows if r[0] not in ("meta", "audit_log"))
        return self._tables

    def _changed(self) -> None:
        """Forget what was derived from the tables (after every write, and on rollback)."""
        self._tables = None
        self._cache.clear()

    def count(self, table: str) -> int:
        """Rows in ``table`` (0 when the store has none of it yet)."""
        if table not in ("orders", "events", "contacts", "customers", "consent"):
            raise InvalidParameterError(
                f"table must be one of orders, events, contacts, customers, consent; got {table!r}."
            )
        return self._table_rows(table) if table in self.tables() else 0

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query on the store's tables and return a DataFrame."""
        return self._con.execute(query, params or []).df()

    # -- adding rows ---------------------------------------------------------------------------
    def add_orders(
        self,
        source: Any,
        *,
        customer: str,
        item: str,
        time: str,
        value: str | None = None,
        order: str | None = None,
        category: str | None = None,
    ) -> None:
        """Add order lines: one row per (order, item), with the shop's column names.

        Without ``order`` the lines of one customer at one time are one order (as
        :func:`reco.customers.summary` counts them). ``category`` (the item's category) lets
        :meth:`cube` cut by it.
        """
        self._add("orders", source, customer_id=customer, item_id=item, time=time,
                  value=value, order_id=order, category=category)  # fmt: skip

    def add_events(self, source: Any, *, customer: str, item: str, time: str, event: str) -> None:
        """Add browsing events (view, cart, purchase, ...): one row per event (identical rows
        are kept: two views in one second are two views)."""
        self._add("events", source, customer_id=customer, item_id=item, time=time, event=event)

    def add_contacts(
        self,
        source: Any,
        *,
        customer: str,
        time: str,
        channel: str,
        kind: str | None = None,
        outcome: str | None = None,
        direction: str | None = None,
    ) -> None:
        """Add contacts: emails, calls, tickets, campaign responses (one row each).

        ``kind`` says what it was (``campaign``, ``complaint``, ...), ``outcome`` how it
        ended (``responded``, ``ignored``, ``resolved``, ...), ``direction`` ``inbound`` or
        ``outbound``. The profile counts ``kind == "complaint"`` as complaints and reads
        ``outcome == "responded"`` of campaigns as responses.
        """
        self._add("contacts", source, customer_id=customer, time=time, channel=channel,
                  kind=kind, outcome=outcome, direction=direction)  # fmt: skip

    def add_customers(
        self, source: Any, *, customer: str, consent: Any = None, attributes: Any = None
    ) -> None:
        """Add or update customers: attributes (every other column unless ``attributes``
        lists them) and consent per channel.

        ``consent`` maps channels to bool columns (``{"email": "newsletter_ok"}``) or lists
        columns named ``consent_<channel>``; a missing value is "not asked", which targeting
        treats as no. A customer added again gets the given attributes and consent replaced
        (others kept).
        """
        what = "customers source"
        with Staged(self._con, source, what) as staged:
            check_columns(staged, {"customer": customer}, what)
            channels = _consent_columns(consent)
            check_columns(staged, {f"consent[{c!r}]": col for c, col in channels.items()}, what)
            taken = {customer, *channels.values()}
            if attributes is None:
                attributes = [c for c in staged.columns if c not in taken]
            attributes = list(_names(attributes, "attributes"))
            check_columns(staged, {f"attributes[{i}]": c for i, c in enumerate(attributes)}, what)
            if "customer_id" in attributes and customer != "customer_id":
                raise DataValidationError(
                    "an attribute column is named 'customer_id', the store's id column; rename it."
                )
            types = staged.types
            id_type = self._incoming_id_types("customers", {"customer_id": customer}, types)
            self._transaction(
                lambda: self._upsert_customers(customer, id_type, attributes, channels, types)
            )

    def _upsert_customers(self, customer, id_type, attributes, channels, types) -> None:
        """Stage and check the batch, then merge attributes and consent (one transaction)."""
        self._stage_customers(customer, id_type, attributes, channels, types)
        self._record_id_types(id_type)
        self._merge_attributes(attributes, types)
        if channels:
            self._merge_consent(channels, id_type)
        self._log("add", {"customers": self._incoming_count()})
        self._con.execute("DROP TABLE _incoming")

    def _stage_customers(self, customer, id_type, attributes, channels, types) -> None:
        """The batch as ``_incoming`` (ids cast, categoricals as text), checked."""
        cast = "".join(
            f", CAST({quoted(a)} AS {_stored_type(types[a])}) AS {quoted(a)}" for a in attributes
        )
        consent = "".join(
            f", {quoted(col)} AS {quoted('_consent_' + ch)}" for ch, col in channels.items()
        )
        self._con.execute(
            "CREATE OR REPLACE TEMP TABLE _incoming AS SELECT row_number() OVER () - 1 AS _row, "
            f"CAST({quoted(customer)} AS {id_type['customer']}) AS customer_id{cast}{consent} "
            "FROM _source"
        )
        self._refuse_rows("customer_id IS NULL", f"{customer!r} has missing values", "drop them")
        repeated = self._con.execute(
            "SELECT count(*) - count(DISTINCT customer_id) FROM _incoming"
        ).fetchall()[0][0]
        if repeated:
            raise DataValidationError(
                f"the customers source lists {repeated} customer id(s) more than once; keep one "
                "row per customer (df.drop_duplicates(subset=...)). Nothing was added."
            )
        for column in channels.values():
            kind = types[column].upper()
            if kind != "BOOLEAN" and kind not in _tables.INTEGER_TYPES:
                raise DataValidationError(
                    f"consent column {column!r} must hold True/False (or 1/0); got {kind}."
                )

    def _merge_attributes(self, attributes: list[str], types: dict) -> None:
        """New attribute columns added; known customers updated, new ones inserted."""
        con = self._con
        picked = "".join(f", {quoted(a)}" for a in attributes)
        if "customers" not in self.tables():
            con.execute(f"CREATE TABLE customers AS SELECT customer_id{picked} FROM _incoming "
                        "WHERE false")  # fmt: skip
            self._index("customers")
        present = {row[0] for row in con.execute("DESCRIBE customers").fetchall()}
        for name in attributes:
            if name not in present:
                column_type = _stored_type(types[name])
                con.execute(f"ALTER TABLE customers ADD COLUMN {quoted(name)} {column_type}")
        if attributes:
            assignments = ", ".join(f"{quoted(a)} = i.{quoted(a)}" for a in attributes)
            con.execute(
                f"UPDATE customers SET {assignments} FROM _incoming i "
                "WHERE customers.customer_id = i.customer_id"
            )
        con.execute(
            f"INSERT INTO customers BY NAME SELECT customer_id{picked} FROM _incoming "
            "WHERE customer_id NOT IN (SELECT customer_id FROM customers)"
        )

    def _merge_consent(self, channels: dict[str, str], id_type: dict) -> None:
        """Each channel's consent of the batch replaces the customers' earlier record."""
        con = self._con
        if "consent" not in self.tables():
            con.execute(
                f"CREATE TABLE consent (customer_id {id_type['customer']}, channel VARCHAR, "
                "granted BOOLEAN, updated_at TIMESTAMP)"
            )
            self._index("consent")
        for channel in channels:
            con.execute(
                "DELETE FROM consent WHERE channel = ? AND customer_id IN "
                "(SELECT customer_id FROM _incoming)",
                [channel],
            )
            con.execute(
                "INSERT INTO consent SELECT customer_id, ?, CAST("
                f"{quoted('_consent_' + channel)} AS BOOLEAN), CAST(now() AS TIMESTAMP) "
                "FROM _incoming",
                [channel],
            )

    def _transaction(self, work) -> None:
        """Run ``work`` in one transaction: all of it is written, or none."""
        import duckdb

        self._con.execute("BEGIN TRANSACTION")
        self._changed()
        try:
            work()
            self._con.execute("COMMIT")
            self._changed()
        except duckdb.ConversionException as error:
            self._con.execute("ROLLBACK")
            self._changed()
            raise DataValidationError(
                f"these rows do not fit the columns the store already has ({error}); convert "
                "them to the stored types. Nothing was added."
            ) from None
        except BaseException:
            self._con.execute("ROLLBACK")
            self._changed()
            raise

    def _record_id_types(self, id_types: dict[str, str]) -> None:
        for role, kind in id_types.items():
            if self._meta(f"{role}_id_type") is None:
                self._set_meta(f"{role}_id_type", kind)

    def _add(self, table: str, source: Any, **names: str | None) -> None:
        what = f"{table} source"
        with Staged(self._con, source, what) as staged:
            mapping = {stored: names[stored] for stored, _ in COLUMNS[table]}
            check_columns(staged, {_param(table, k): v for k, v in mapping.items()}, what)
            types = staged.types
            id_types = self._incoming_id_types(table, mapping, types)
            columns = [Column(stored, role, mapping[stored]) for stored, role in COLUMNS[table]]
            select = ", ".join(_expression(c, types, id_types) for c in columns)
            self._transaction(lambda: self._insert(table, columns, select, types, id_types))

    def _insert(self, table, columns, select, types, id_types) -> None:
        self._con.execute(
            "CREATE OR REPLACE TEMP TABLE _incoming AS SELECT row_number() OVER () - 1 "
            f"AS _row, {select} FROM _source"
        )
        self._check_incoming(table, columns, types)
        self._record_id_types(id_types)
        self._ensure_table(table, {**self._id_types(), **id_types})
        stored = ", ".join(name for name, _ in COLUMNS[table])
        self._con.execute(f"INSERT INTO {table} SELECT {stored} FROM _incoming")
        self._log("add", {table: self._incoming_count()})
        self._con.execute("DROP TABLE _incoming")

    def _incoming_id_types(self, table, mapping, types) -> dict[str, str]:
        """The id type of each id column of the batch, checked against the store's."""
        out = {}
        for stored, role in COLUMNS.get(table, [("customer_id", "customer")]):
            if role not in ("customer", "item"):
                continue
            column = mapping[stored]
            kind = _tables.id_type_of(types[column])
            if types[column].strip('"').upper() == "NULL":
                raise DataValidationError(
                    f"{_param(table, stored)} column {column!r} holds only missing values; "
                    "every row needs an id."
                )
            if kind is None:
                raise DataValidationError(
                    f"{_param(table, stored)} column {column!r} must hold integer or string ids; "
                    f"got {types[column]}. Convert it, e.g. df[{column!r}].astype('int64') "
                    "(a float column usually means missing ids: drop those rows first)."
                )
            known = self._meta(f"{role}_id_type")
            if known is not None and known != kind:
                readable = {"BIGINT": "integers", "VARCHAR": "strings"}
                raise DataValidationError(
                    f"{role} ids in this store are {readable[known]}; column {column!r} holds "
                    f"{readable[kind]}. Convert them (df[{column!r}].astype("
                    f"{'int' if known == 'BIGINT' else 'str'})) so one customer has one id."
                )
            out[role] = kind
        return out

    def _check_incoming(self, table: str, columns: list[Column], types: dict) -> None:
        """Missing required values, unreadable times and numbers, future times, duplicates."""
        for column in columns:
            if column.source is None:
                continue
            where = f"{column.stored} IS NULL"
            if column.role in ("time", "number"):  # given but unreadable
                self._refuse_rows(
                    f"{where} AND _raw_{column.stored} IS NOT NULL",
                    f"{column.source!r} has values that are not "
                    f"{'dates' if column.role == 'time' else 'numbers'}",
                    "fix or drop them",
                )
            if column.stored in REQUIRED[table]:
                self._refuse_rows(where, f"{column.source!r} has missing values", "drop them")
            if column.role == "time":
                self._refuse_rows(
                    f"{column.stored} > CAST(now() AS TIMESTAMP) + {_FUTURE_SLACK}",
                    f"{column.source!r} has times in the future",
                    "check the time zone and the clock of the system that wrote them",
                )
            if column.role == "number":
                self._refuse_rows(
                    f"NOT isfinite({column.stored})",
                    f"{column.source!r} has infinite values",
                    "fix them",
                )
        stored = ", ".join(name for name, _ in COLUMNS[table])
        repeated = 0
        if table == "orders":  # identical events or contacts may be real (two views a second)
            repeated = self._con.execute(
                f"SELECT count(*) - count(DISTINCT ({stored})) FROM _incoming"
            ).fetchall()[0][0]
        if repeated:
            raise DataValidationError(
                f"the {table} source repeats {repeated} row(s) exactly; drop the copies "
                "(df.drop_duplicates()) or add the column that tells them apart (an order id)."
            )
        if table in self.tables():
            again = self._con.execute(
                f"SELECT count(*) FROM (SELECT {stored} FROM _incoming INTERSECT "
                f"SELECT {stored} FROM {table})"
            ).fetchall()[0][0]
            if again:
                raise DataValidationError(
                    f"{again} row(s) of this {table} source are in the store already (was it "
                    "added before?); nothing was added. Add only the new rows."
                )

    def _refuse_rows(self, condition: str, problem: str, fix: str) -> None:
        found = self._con.execute(
            f"SELECT count(*), list(_row ORDER BY _row)[1:5] FROM _incoming WHERE {condition}"
        ).fetchall()[0]
        if found[0]:
            raise DataValidationError(
                f"column {problem}: {found[0]} row(s) (first rows {found[1]}); {fix}. "
                "Nothing was added."
            )

    def _incoming_count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM _incoming").fetchall()[0][0])

    # -- models ------------------------------------------------------------------------------
    @property
    def models_path(self) -> Path | None:
        """Where a file store keeps its fitted models (None in memory)."""
        return None if self.path is None else self.path.with_name(self.path.name + ".models")

    def fit_models(
        self,
        *,
        cutoff: Any = None,
        horizon: int = 12,
        period: float = 30.0,
        discount_rate: float = 0.01,
        churn: bool = True,
        recommender: Any = None,
        min_support: float = 0.01,
    ) -> dict[str, Any]:
        """Fit the models behind :meth:`profile` on the orders up to ``cutoff`` (default: all).

        RFM, BG/NBD, Gamma-Gamma and CLV over ``horizon`` periods of ``period`` days
        (discounted by ``discount_rate`` per period) for every customer, kept in the table
        ``scores``; with ``churn`` a :class:`~reco.customers.ChurnModel`, its P(churn) and
        each customer's top three drivers (table ``churn_drivers``); ``recommender`` (default
        :class:`~reco.models.ItemKNN`) for the next-best items, and association rules mined
        from the orders with ``min_support`` for "bought with". A file store saves the models
        beside it (:attr:`models_path`). Returns the fitted models by name.
        """
        horizon = check_int(horizon, "horizon", low=1, high=1200)
        period = check_number(period, "period", low=0, low_open=True)
        discount_rate = check_number(discount_rate, "discount_rate", low=0)
        churn = check_bool(churn, "churn")
        if recommender is not None and not isinstance(recommender, Recommender):
            raise InvalidParameterError(
                f"recommender must be an unfitted reco Recommender (e.g. EASE()); got "
                f"{type(recommender).__name__}."
            )
        end = None if cutoff is None else pd.Timestamp(as_timestamp(cutoff, "cutoff"))
        settings = {"cutoff": None if end is None else end.isoformat(), "horizon": horizon,
                    "period": period, "discount_rate": discount_rate, "churn": churn}  # fmt: skip
        orders = _fitting.orders_frame(self, end)
        models, scores, drivers = self._customer_models(orders, settings)
        models.update(_fitting.fit_recommenders(orders, recommender, min_support))
        self._install_models(models, scores, drivers, settings)
        return models

    def _customer_models(self, orders: pd.DataFrame, settings: dict) -> tuple:
        """Value and churn models and their per-customer tables, on ``orders``."""
        end = None if settings["cutoff"] is None else pd.Timestamp(settings["cutoff"])
        models, scores = _fitting.fit_value(
            orders, end, settings["horizon"], settings["period"], settings["discount_rate"]
        )
        drivers = None
        if settings["churn"]:
            models["churn"], p_churn, drivers = _fitting.fit_churn(orders, end)
            scores["p_churn"] = p_churn.reindex(scores["customer"]).to_numpy(np.float64)
        return models, scores, drivers

    def _install_models(self, models: dict, scores, drivers, settings: dict) -> None:
        """Save the models beside a file store, write their tables, keep them in memory."""
        if self.models_path is not None:
            _fitting.save_models(models, self.models_path)

        def write() -> None:
            self._write_scores(scores, drivers)
            self._set_meta("fit_settings", json.dumps(settings))

        self._transaction(write)
        self._models = models

    def _write_scores(self, scores: pd.DataFrame, drivers: pd.DataFrame | None) -> None:
        con = self._con
        frame = scores.rename(columns={"customer": "customer_id"})
        con.register("_scores", frame)
        try:
            con.execute("CREATE OR REPLACE TABLE scores AS SELECT * FROM _scores")
        finally:
            con.unregister("_scores")
        self._index("scores")
        con.execute("DROP TABLE IF EXISTS churn_drivers")
        if drivers is not None:
            con.register("_drivers", _fitting.driver_rows(drivers))
            try:
                con.execute("CREATE TABLE churn_drivers AS SELECT * FROM _drivers")
            finally:
                con.unregister("_drivers")
            self._index("churn_drivers")
        self._tables = None
        self._log("fit_models", {"scores": len(frame)})

    def _fitted_models(self) -> dict[str, Any]:
        """The models of the last :meth:`fit_models` (loaded from beside a file store)."""
        if self._models is None:
            folder = self.models_path
            self._models = (
                {} if folder is None or not folder.is_dir() else (_fitting.load_models(folder))
            )
        return self._models

    # -- one customer ------------------------------------------------------------------------
    def _customer_key(self, customer_id: Any) -> Any:
        """``customer_id`` as the store's id type (an UnknownIdError if nobody has it)."""
        kind = self._meta("customer_id_type")
        if kind is None:
            raise UnknownIdError("the store holds no customers yet; add some rows first.")
        if isinstance(customer_id, (bool, np.bool_)) or not isinstance(
            customer_id, (int, np.integer, str)
        ):
            raise InvalidParameterError(
                f"a customer id is an int or a str; got {type(customer_id).__name__}."
            )
        if (kind == "BIGINT") != isinstance(customer_id, (int, np.integer)):
            readable = "integers" if kind == "BIGINT" else "strings"
            raise UnknownIdError(f"customer ids in this store are {readable}; got {customer_id!r}.")
        return int(customer_id) if kind == "BIGINT" else customer_id

    def _read_many(self, queries: dict[str, tuple[str, str]], key: Any) -> dict[str, tuple]:
        """One customer's rows of several tables at once (``queries``: name -> (table, SQL
        with ``{table}`` and one ``?`` for the id)), each read on a cursor of its own thread
        (DuckDB runs them side by side, outside the GIL), as (column names, tuples): a
        DataFrame per query would cost more than the indexed lookup. Tables the store lacks
        read as empty."""
        present = self.tables()
        out: dict[str, tuple] = {name: ([], []) for name in queries}
        jobs = [(name, table, query) for name, (table, query) in queries.items()
                if table in present]  # fmt: skip

        def read(job: tuple) -> tuple:
            name, table, query = job
            cursor = self._thread_cursor().execute(query.format(table=table), [key])
            return name, ([d[0] for d in cursor.description], cursor.fetchall())

        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reco-store")
        for name, result in self._pool.map(read, jobs):
            out[name] = result
        return out

    def _thread_cursor(self) -> Any:
        """This thread's own cursor on the database (opened once per thread)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def profile(self, customer_id: Any, *, last: int = 5, n_items: int = 5) -> CustomerProfile:
        """The :class:`CustomerProfile` of one customer: history from the tables, the parts of
        the fitted models (:meth:`fit_models`; absent until then). ``last``: how many recent
        orders and contacts to list; ``n_items``: how many next-best and bought-with items."""
        last = check_int(last, "last", low=0, high=10_000)
        n_items = check_int(n_items, "n_items", low=1, high=1000)
        key = self._customer_key(customer_id)
        out = build_profile(self, key, last, n_items)
        if out is None:
            raise UnknownIdError(f"no customer {customer_id!r} in the store.")
        out.customer_id = customer_id
        return out

    def _shop_response_rates(self) -> dict[str, float]:
        """Campaign response rate per channel over the whole store (kept until a write)."""
        if "response_rates" not in self._cache:
            rows = self._con.execute(
                "SELECT channel, avg(CAST(outcome = 'responded' AS DOUBLE)) FROM contacts "
                "WHERE kind = 'campaign' GROUP BY channel"
            ).fetchall()
            self._cache["response_rates"] = {channel: float(rate) for channel, rate in rows}
        return self._cache["response_rates"]

    # -- KPIs --------------------------------------------------------------------------------
    def cube(
        self,
        measures: Any = ("revenue", "orders", "customers", "aov"),
        by: Any = ("period",),
        *,
        where: dict | None = None,
        period: str = "M",
        rollup: bool = False,
    ) -> pd.DataFrame:
        """KPIs by dimensions (see :mod:`reco.crm.cube` for every measure and dimension).

        ``where`` slices: ``{"region": ["north", "east"], "segment": "Champions"}``;
        ``period`` is D, W, M, Q or Y; ``rollup=True`` adds the totals of every prefix of
        ``by`` (the rolled-up dimensions are None, ``rollup_level`` counts them). Returns a
        tidy frame: the dimensions, then the measures.

        Examples
        --------
        >>> from reco.datasets import make_shop
        >>> shop = make_shop(200, 30, random_state=0, contacts=True)
        >>> store = CustomerStore()
        >>> store.add_orders(shop.order_lines, customer="customer_id", item="product_id",
        ...                  time="timestamp", value="value", order="order_id")
        >>> store.cube(["orders", "customers"], by=["period"], period="Q").shape
        (4, 3)
        """
        return run_cube(self, measures, by, where, period, check_bool(rollup, "rollup"))

    def members(self, cell: Any, *, where: dict | None = None, period: str = "M") -> pd.Series:
        """Drill down: the customer ids behind a cube cell (a row of :meth:`cube`, or a dict
        of dimension values; rolled-up dimensions are ignored). Pass the ``where`` and
        ``period`` of the cube call."""
        return members(self, cell, where, period)

    def target(
        self,
        channel: str,
        *,
        segments: Any = None,
        min_p_churn: float | None = None,
        max_p_churn: float | None = None,
        min_clv: float | None = None,
        no_contact_since: Any = None,
        where: dict | None = None,
        n: int | None = None,
    ) -> pd.DataFrame:
        """A campaign list for ``channel``: customers who consented to it, narrowed by the
        conditions, ranked by expected value (P(churn) x CLV x response rate; see
        :mod:`reco.crm.target`). Columns: ``customer_id``, ``segment``, ``p_churn``,
        ``clv``, ``value_at_risk``, ``response_rate``, ``last_contact``,
        ``expected_value``. Needs :meth:`fit_models` and consent records."""
        conditions = {
            "segments": segments, "min_p_churn": min_p_churn, "max_p_churn": max_p_churn,
            "min_clv": min_clv, "no_contact_since": no_contact_since, "where": where, "n": n,
        }  # fmt: skip
        return target_list(self, channel, conditions)

    def _table_columns(self, table: str) -> list[str]:
        return [row[0] for row in self._con.execute(f"DESCRIBE {table}").fetchall()]

    def _attribute_columns(self) -> list[str]:
        if "customers" not in self.tables():
            return []
        columns = self._con.execute("DESCRIBE customers").fetchall()
        return [row[0] for row in columns if row[0] != "customer_id"]

    # -- erasure -----------------------------------------------------------------------------
    def forget(self, customer_ids: Any) -> dict[str, int]:
        """Erase these customers: their rows leave every table of the store (in one
        transaction), then the fitted models (:meth:`fit_models`) forget them too: the
        recommender exactly (:meth:`~reco.base.Recommender.forget_users`), the rules by
        subtracting their orders (mined again from the remaining orders when that would not
        be exact), the value and churn models and their tables refitted
        with the last settings. The audit log records how many rows and which models, never
        which customers. Returns the rows deleted per table."""
        ids = check_ids(customer_ids, "customer_ids")
        keys = [self._customer_key(v.item() if isinstance(v, np.generic) else v) for v in ids]
        deleted: dict[str, int] = {}

        def erase() -> None:
            for table in self.tables():
                deleted[table] = int(
                    self._con.execute(
                        f"DELETE FROM {table} WHERE customer_id IN (SELECT unnest(?))", [keys]
                    ).fetchall()[0][0]
                )
            self._log("forget", {"customers": len(set(keys)), **deleted})

        theirs = self._orders_to_subtract(keys)  # read before they are erased
        self._transaction(erase)
        updated = self._forget_in_models(keys, theirs)
        if updated:
            self._transaction(lambda: self._log("forget_models", {"models": updated}))
        return deleted

    def _orders_to_subtract(self, keys: list) -> pd.DataFrame | None:
        """The customers' order lines the rule recommender was mined from, when subtracting
        them is exact (None: no fitted rules, or an order of theirs also holds another
        customer's lines)."""
        settings = self._meta("fit_settings")
        if settings is None or "rules" not in self._fitted_models():
            return None
        cutoff = json.loads(settings)["cutoff"]
        end = None if cutoff is None else pd.Timestamp(cutoff)
        theirs = _fitting.orders_frame(self, end, customers=keys)
        ids = theirs["order_id"].unique().tolist()
        return None if _fitting.orders_of_others(self, ids, keys) else theirs

    def _forget_in_models(self, keys: list, theirs: pd.DataFrame | None) -> list[str]:
        """Update the fitted models after an erasure (see :meth:`forget`)."""
        settings = self._meta("fit_settings")
        if settings is None:
            return []
        settings = json.loads(settings)
        models = dict(self._fitted_models())
        end = None if settings["cutoff"] is None else pd.Timestamp(settings["cutoff"])
        orders = _fitting.orders_frame(self, end)
        fitted, scores, drivers = self._customer_models(orders, settings)
        if "recommender" in models:
            models["recommender"].forget_users(keys)
        if "rules" in models:
            models["rules"].forget_users(
                keys, baskets=orders, removed_baskets=theirs, transaction="order_id",
                item="item_id",
            )  # fmt: skip
        models.update(fitted)
        self._install_models(models, scores, drivers, settings)
        return sorted(models)

    def export(
        self,
        folder: str | os.PathLike,
        *,
        tables: Any = None,
        pseudonymise: bytes | str | None = None,
        format: str = "parquet",
    ) -> dict[str, Path]:
        """Write ``tables`` (default: all) to ``folder/<table>.parquet`` (or ``.csv``), each
        file complete or absent. With ``pseudonymise`` (a secret key of 16 bytes or more)
        customer ids are replaced by their keyed hash, HMAC-SHA256 (see
        :mod:`reco.crm.export`). The export is logged (tables and row counts). Returns the
        paths by table."""
        written = export_tables(self, folder, tables, pseudonymise, format)
        detail = {t: self._table_rows(t) for t in written}
        detail["pseudonymised"] = pseudonymise is not None
        self._transaction(lambda: self._log("export", detail))
        return written

    def export_sql(
        self,
        url: str,
        *,
        tables: Any = None,
        pseudonymise: bytes | str | None = None,
        if_exists: str = "fail",
    ) -> list[str]:
        """Write ``tables`` (default: all) into the SQL database at ``url`` (SQLAlchemy, the
        ``sql`` extra), one table each under the same name, in one database transaction;
        ``pseudonymise`` as in :meth:`export`. Returns the tables written."""
        written = export_to_sql(self, url, tables, pseudonymise, if_exists)
        detail = {t: self._table_rows(t) for t in written}
        detail["pseudonymised"] = pseudonymise is not None
        self._transaction(lambda: self._log("export_sql", detail))
        return written

    def _table_rows(self, table: str) -> int:
        return int(self._con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def _log(self, action: str, detail: dict) -> None:
        self._con.execute(
            "INSERT INTO audit_log VALUES (CAST(now() AS TIMESTAMP), ?, ?)",
            [action, json.dumps(detail, sort_keys=True)],
        )

    def audit_log(self) -> pd.DataFrame:
        """What was added and erased, and when (``logged_at``, ``action``, ``detail``: row
        counts per table, never a customer's id or data)."""
        return self.sql("SELECT logged_at, action, detail FROM audit_log ORDER BY logged_at, rowid")


def _stored_type(duck_type: str) -> str:
    """Categoricals (DuckDB ENUMs) are stored as strings: new categories stay welcome."""
    return "VARCHAR" if duck_type.upper().startswith("ENUM") else duck_type


def _names(values: Any, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not all(isinstance(v, str) for v in values):
        raise InvalidParameterError(f"{what} must be column names (str); got {values[:5]!r}.")
    return values


def _consent_columns(consent: Any) -> dict[str, str]:
    """{channel: column} from a dict, or from column names ``consent_<channel>``."""
    if consent is None:
        return {}
    if isinstance(consent, dict):
        names = _names(consent.values(), "consent columns")
        return dict(zip(_names(consent.keys(), "consent channels"), names, strict=True))
    out = {}
    for column in _names(consent, "consent"):
        channel = column.removeprefix("consent_")
        if channel == column or not channel:
            raise InvalidParameterError(
                f"consent column {column!r} does not say its channel: name the columns "
                "consent_<channel> (consent_email) or pass a dict {'email': column}."
            )
        out[channel] = column
    return out


def _param(table: str, stored: str) -> str:
    """The keyword a stored column is named by in ``add_<table>``."""
    names = {"customer_id": "customer", "item_id": "item", "order_id": "order"}
    return names.get(stored, stored)


def _expression(column: Column, types: dict[str, str], id_types: dict[str, str]) -> str:
    """SQL turning the source column into the stored one (NULL where it cannot)."""
    if column.source is None:  # an optional column not given (ids and times are required)
        return f"CAST(NULL AS {_tables.sql_type(column.role, id_types)}) AS {column.stored}"
    source, kind = quoted(column.source), types[column.source].upper()
    if column.role in ("customer", "item"):
        return f"CAST({source} AS {id_types[column.role]}) AS {column.stored}"
    if column.role == "time":
        if kind in _tables.NUMBER_TYPES or kind == "BOOLEAN":
            raise DataValidationError(
                f"time column {column.source!r} must hold dates or timestamps; got numbers "
                f"({kind}). Numbers are ambiguous (days? seconds?): convert them first, e.g. "
                "pandas.to_datetime(df[col], unit='s')."
            )
        value = f"TRY_CAST({source} AS TIMESTAMP)"
        if kind.startswith("TIMESTAMP WITH TIME ZONE"):
            value = f"CAST({source} AS TIMESTAMP)"  # the session is UTC
        return f"{value} AS {column.stored}, {source} AS _raw_{column.stored}"
    if column.role == "number":
        return f"TRY_CAST({source} AS DOUBLE) AS {column.stored}, {source} AS _raw_{column.stored}"
    return f"CAST({source} AS VARCHAR) AS {column.stored}"
