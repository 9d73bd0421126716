"""The store's tables: their columns, and how an incoming column becomes a stored one.

Stored columns (``{ID}`` is BIGINT or VARCHAR, fixed by the first rows a store receives):

* ``orders``: customer_id, item_id, time, value, order_id, category (one row per order line)
* ``events``: customer_id, item_id, time, event
* ``contacts``: customer_id, time, channel, direction, kind, outcome
* ``customers``: customer_id and the shop's attribute columns
* ``consent``: customer_id, channel, granted, updated_at
* ``audit_log``: logged_at, action, detail (counts only, never ids)
* ``meta``: key, value (id types, creation time, format version)

Times are stored as UTC ``TIMESTAMP`` (time zones converted, never compared in local time).
"""

from __future__ import annotations

from dataclasses import dataclass

FORMAT_VERSION = "1"

# table -> (column, role): role "customer"/"item" take the id types, "time" a timestamp,
# "number" a finite double, "text" a string
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "orders": [
        ("customer_id", "customer"), ("item_id", "item"), ("time", "time"),
        ("value", "number"), ("order_id", "text"), ("category", "text"),
    ],
    "events": [("customer_id", "customer"), ("item_id", "item"), ("time", "time"),
               ("event", "text")],
    "contacts": [
        ("customer_id", "customer"), ("time", "time"), ("channel", "text"),
        ("direction", "text"), ("kind", "text"), ("outcome", "text"),
    ],
}  # fmt: skip

# the columns a row must have (others may be NULL)
REQUIRED = {
    "orders": ("customer_id", "item_id", "time"),
    "events": ("customer_id", "item_id", "time", "event"),
    "contacts": ("customer_id", "time", "channel"),
}

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "HUGEINT"}  # fmt: skip
NUMBER_TYPES = INTEGER_TYPES | {"FLOAT", "DOUBLE", "REAL"}
TIME_TYPES = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"}


@dataclass(frozen=True)
class Column:
    """An incoming column mapped to a stored one."""

    stored: str
    role: str
    source: str | None  # the frame's column, None when not given (stored as NULL)


def sql_type(role: str, id_types: dict[str, str]) -> str:
    if role in ("customer", "item"):
        return id_types[role]
    return {"time": "TIMESTAMP", "number": "DOUBLE", "text": "VARCHAR"}[role]


def id_type_of(duck_type: str) -> str | None:
    """BIGINT for integer columns, VARCHAR for strings (and categoricals), None otherwise."""
    base = duck_type.upper()
    if base in INTEGER_TYPES:
        return "BIGINT"
    if base == "VARCHAR" or base.startswith("ENUM"):
        return "VARCHAR"
    return None
