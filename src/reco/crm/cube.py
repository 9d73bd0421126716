"""The KPI cube: measures by any dimensions, sliced, rolled up, drilled into (DuckDB).

Two fact tables feed it. Order measures come from the order lines, contact measures from the
contacts; each is cut by the dimensions it has:

=====================  =====================================================================
dimension              meaning
=====================  =====================================================================
``period``             the order's (contact's) time truncated to ``period`` (D, W, M, Q, Y)
``category``           the order line's category (orders only)
``channel``            the contact's channel (contacts only)
``segment``            the customer's RFM segment (after :meth:`CustomerStore.fit_models`)
any customer column    an attribute added with :meth:`CustomerStore.add_customers`
=====================  =====================================================================

=================  ==================================================================
measure            definition (per cell)
=================  ==================================================================
``revenue``        sum of the order lines' values
``orders``         distinct orders
``customers``      distinct customers who ordered
``aov``            average order value: revenue / orders
``repeat_rate``    share of those customers with two or more orders in the cell
``churn_rate``     mean P(churn) of those customers (after ``fit_models``)
``contacts``       contacts
``complaints``     contacts of kind ``complaint``
``response_rate``  responded / campaign contacts
=================  ==================================================================

Distinct counts and the repeat rate do not add up across cells (a customer who ordered in
January and March is one customer of the quarter), so each roll-up level is its own grouped
query over per-customer partial sums, not a sum of finer cells.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..exceptions import DataValidationError, InvalidParameterError, NotSupportedError
from ._sources import quoted

ORDER_MEASURES = ("revenue", "orders", "customers", "aov", "repeat_rate", "churn_rate")
CONTACT_MEASURES = ("contacts", "complaints", "response_rate")
PERIODS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}

_ORDER_TOTALS = {
    "revenue": "sum(revenue)",
    "orders": "CAST(sum(n_orders) AS BIGINT)",
    "customers": "count(*)",
    "aov": "sum(revenue) / nullif(sum(n_orders), 0)",
    "repeat_rate": "avg(CAST(n_orders > 1 AS DOUBLE))",
    "churn_rate": "avg(p_churn)",
}
_CONTACT_TOTALS = {
    "contacts": "count(*)",
    "complaints": "count(*) FILTER (kind = 'complaint')",
    "response_rate": "avg(CAST(outcome = 'responded' AS DOUBLE)) FILTER (kind = 'campaign')",
}


class Cube:
    """The SQL behind one ``cube`` call (validated dimensions, measures and filters)."""

    def __init__(self, store: Any, measures: Any, by: Any, where: Any, period: str) -> None:
        self.store = store
        self.measures = _names(measures, "measures")
        self.by = _names(by, "by") if by is not None else []
        if period not in PERIODS:
            raise InvalidParameterError(
                f"period must be one of {list(PERIODS)} (day, week, month, quarter, year); "
                f"got {period!r}."
            )
        self.period = PERIODS[period]
        unknown = [m for m in self.measures if m not in ORDER_MEASURES + CONTACT_MEASURES]
        if unknown:
            raise InvalidParameterError(
                f"unknown measure(s) {unknown}; choose from {list(ORDER_MEASURES)} (orders) "
                f"and {list(CONTACT_MEASURES)} (contacts)."
            )
        self.attributes = store._attribute_columns()
        self.where = _conditions(where)
        for name in [*self.by, *self.where]:
            self._check_dimension(name)

    def _check_dimension(self, name: str) -> None:
        known = {"period", "category", "channel", "segment", *self.attributes}
        if name not in known:
            raise InvalidParameterError(
                f"unknown dimension {name!r}; the store has {sorted(known)}."
            )
        if name == "segment" and "scores" not in self.store.tables():
            raise DataValidationError("segment needs fitted models: call fit_models() first.")
        orders = any(m in ORDER_MEASURES for m in self.measures)
        contacts = any(m in CONTACT_MEASURES for m in self.measures)
        if (name == "category" and contacts) or (name == "channel" and orders):
            raise NotSupportedError(
                f"{name!r} cuts only {'orders' if name == 'category' else 'contacts'}; ask "
                "for order measures and contact measures in separate calls."
            )

    def fact(self, table: str) -> tuple[str, list]:
        """The fact rows of ``table`` with every dimension asked, filtered by ``where``."""
        store = self.store
        columns = [f"date_trunc('{self.period}', f.time) AS period"]
        from_scores = []  # the columns of the scores table this cube reads
        if "segment" in {*self.by, *self.where}:
            from_scores.append("s.segment")
        if table == "orders":
            columns += ["f.category", "f.value", "coalesce(f.order_id, CAST(f.time AS VARCHAR)) "
                        "AS order_key"]  # fmt: skip
            if "churn_rate" in self.measures:
                if "scores" not in store.tables():
                    raise DataValidationError("churn_rate needs fit_models() first.")
                from_scores.append("s.p_churn")
        else:
            columns += ["f.channel", "f.kind", "f.outcome"]
        columns += from_scores
        joins = ["LEFT JOIN scores s ON s.customer_id = f.customer_id"] if from_scores else []
        wanted = [a for a in self.attributes if a in {*self.by, *self.where}]
        if wanted:
            columns += [f"c.{quoted(a)}" for a in wanted]
            joins.append("LEFT JOIN customers c ON c.customer_id = f.customer_id")
        sql = f"SELECT f.customer_id, {', '.join(columns)} FROM {table} f {' '.join(joins)}"
        clauses, params = [], []
        for name, values in self.where.items():
            clauses.append(f"{quoted(name)} IN (SELECT unnest(?))")
            params.append(values)
        if clauses:
            sql = f"SELECT * FROM ({sql}) WHERE {' AND '.join(clauses)}"
        return sql, params

    def grouped(self, table: str, keys: list[str]) -> tuple[str, list]:
        """One grouping level: the measures of ``table`` by ``keys``."""
        fact, params = self.fact(table)
        names = [m for m in self.measures if m in (ORDER_MEASURES if table == "orders"
                                                   else CONTACT_MEASURES)]  # fmt: skip
        group = ", ".join(quoted(k) for k in keys)
        select_keys = f"{group}, " if keys else ""
        if table == "orders":  # per-customer partial sums first (distinct counts, repeats)
            inner = (
                f"SELECT {select_keys}customer_id, sum(value) AS revenue, "
                "count(DISTINCT order_key) AS n_orders, "
                f"{'any_value(p_churn)' if 'churn_rate' in names else 'NULL'} AS p_churn "
                f"FROM ({fact}) GROUP BY {select_keys}customer_id"
            )
            totals = ", ".join(f"{_ORDER_TOTALS[m]} AS {m}" for m in names)
        else:
            inner = fact
            totals = ", ".join(f"{_CONTACT_TOTALS[m]} AS {m}" for m in names)
        sql = f"SELECT {select_keys}{totals} FROM ({inner})"
        if keys:
            sql += f" GROUP BY {group}"
        return sql, params


def run_cube(store: Any, measures: Any, by: Any, where: Any, period: str, rollup: bool):
    """A tidy frame: one row per cell, the dimensions then the measures; with ``rollup``
    also the totals of every prefix of ``by`` (the dimensions rolled up are None and
    ``rollup_level`` counts them)."""
    cube = Cube(store, measures, by, where, period)
    levels = [cube.by[: len(cube.by) - k] for k in range(len(cube.by) + 1)] if rollup else [cube.by]
    frames = []
    for keys in levels:
        parts = []
        for table, names in (("orders", ORDER_MEASURES), ("contacts", CONTACT_MEASURES)):
            if any(m in names for m in cube.measures):
                if table not in store.tables():
                    raise DataValidationError(f"the store holds no {table}; add some first.")
                sql, params = cube.grouped(table, keys)
                parts.append(store.sql(sql, params))
        frame = parts[0]
        if len(parts) == 2:
            frame = (frame.merge(parts[1], on=keys, how="outer") if keys
                     else pd.concat([frame, parts[1]], axis=1))  # fmt: skip
        for missing in cube.by[len(keys) :]:
            frame[missing] = None
        frame["rollup_level"] = len(cube.by) - len(keys)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    columns = [*cube.by, *cube.measures] + (["rollup_level"] if rollup else [])
    out = out[columns]
    if cube.by:
        out = out.sort_values(["rollup_level", *cube.by] if rollup else cube.by,
                              kind="stable", na_position="last")  # fmt: skip
    return out.reset_index(drop=True)


def members(store: Any, cell: Any, where: Any, period: str) -> pd.Series:
    """The customers behind one cube cell (a row of :func:`run_cube`, or a dict of dimension
    values): distinct ids of the customers with orders (contacts, when the cell names a
    channel) in it."""
    if isinstance(cell, pd.Series):
        cell = cell.to_dict()
    if not isinstance(cell, dict):
        raise InvalidParameterError(
            f"cell must be a row of a cube (a Series) or a dict of dimension values; got "
            f"{type(cell).__name__}."
        )
    dims = {k: v for k, v in cell.items() if k not in ORDER_MEASURES + CONTACT_MEASURES
            and k != "rollup_level" and v is not None and not pd.isna(v)}  # fmt: skip
    table = "contacts" if "channel" in dims else "orders"
    measure = "contacts" if table == "contacts" else "customers"
    merged = {**_conditions(where), **{k: [v] for k, v in dims.items()}}
    cube = Cube(store, [measure], None, merged, period)
    fact, params = cube.fact(table)
    ids = store.sql(f"SELECT DISTINCT customer_id FROM ({fact}) ORDER BY 1", params)
    return ids["customer_id"].rename("customer_id")


def _names(values: Any, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        raise InvalidParameterError(f"{what} must be a name or a list of names.") from None
    if (not values and what == "measures") or not all(isinstance(v, str) for v in values):
        raise InvalidParameterError(f"{what} must be a name or a non-empty list of names.")
    return values


def _conditions(where: Any) -> dict[str, list]:
    """``where`` as {dimension: allowed values}."""
    if where is None:
        return {}
    if not isinstance(where, dict):
        raise InvalidParameterError(
            "where must be a dict of dimension -> value or list of values, e.g. "
            "{'region': ['north', 'east']}."
        )
    out = {}
    for name, values in where.items():
        listed = isinstance(values, (list, tuple, set, pd.Index))
        values = list(values) if listed else [values]
        if name == "period":
            try:
                values = [pd.Timestamp(v).to_pydatetime() for v in values]
            except (TypeError, ValueError):
                raise InvalidParameterError(
                    f"where['period'] must hold dates (the periods' first days); got {values!r}."
                ) from None
        out[str(name)] = values
    return out
