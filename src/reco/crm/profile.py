r"""CustomerProfile: what an agent sees when they open a customer.

The history parts come straight from the store's tables; the model parts (RFM, BTYD, CLV,
churn, next-best items) from the models fitted by :meth:`CustomerStore.fit_models` and are
``None`` when that model is not fitted: absent, never guessed.

The preferred channel is the consented channel with the best campaign response rate,
shrunk towards the shop's rate on that channel (a Beta prior worth :data:`PRIOR_CONTACTS`
contacts), so one lucky answer does not outrank twenty:

.. math::

    \hat r_{c} = \frac{\mathrm{responses}_c + m\, \bar r_c}{\mathrm{contacts}_c + m}.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PRIOR_CONTACTS = 5.0
_TIME = "%Y-%m-%d %H:%M"
_ORDER_COLUMNS = ["order_id", "time", "n_lines", "value", "items"]
_CONTACT_COLUMNS = ["time", "channel", "direction", "kind", "outcome"]
_RATE_COLUMNS = ["channel", "contacts", "responses", "shop_rate"]
_DRIVER_COLUMNS = ["feature", "value", "typical", "effect"]


class _Rows:
    """A table as read (records or column arrays), made a DataFrame only when asked for: a
    profile has six tables, and building them all cost more than reading them."""

    __slots__ = ("arrays", "columns", "records")

    def __init__(self, columns: list[str], records: list | None = None, arrays=None) -> None:
        self.columns, self.records, self.arrays = columns, records, arrays

    def frame(self) -> pd.DataFrame:
        if self.arrays is not None:
            return pd.DataFrame(dict(zip(self.columns, self.arrays, strict=True)))
        return pd.DataFrame.from_records(self.records or [], columns=self.columns)


class _Frame:
    """A DataFrame field of :class:`CustomerProfile` that may hold :class:`_Rows`, turned
    into a DataFrame (once) on first read. ``columns``: those of the empty default (None: the
    default is None, a part that is absent)."""

    def __init__(self, columns: list[str] | None) -> None:
        self.default = None if columns is None else _Rows(columns, [])

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, profile: Any, owner: type | None = None) -> Any:
        if profile is None:
            return self.default  # the dataclass's default for the field
        value = profile.__dict__.get(self.slot, self.default)
        if isinstance(value, _Rows):
            value = profile.__dict__[self.slot] = value.frame()
        return value

    def __set__(self, profile: Any, value: Any) -> None:
        profile.__dict__[self.slot] = value


@dataclass
class CustomerProfile:
    """One customer's profile (see the module docstring). Counts and amounts cover the
    whole stored history; ``last_orders`` and ``last_contacts`` the ``last`` most recent.
    ``next_best`` lists items and scores; ``next_best_because`` the history items that
    contribute most to the first of them (the model's ``explain``).

    Attributes
    ----------
    customer_id
        The shop's id.
    attributes, consent : dict
        The customer's stored attributes and consent per channel.
    first_purchase, last_purchase : Timestamp or None
    n_orders, spend : int and float
    last_orders, last_contacts : DataFrame
    n_contacts, n_complaints : int
    last_complaint : Timestamp or None
    response_rates : DataFrame
        Campaign contacts and responses per channel, beside the store's rate.
    preferred_channel : str or None
    rfm : dict or None
        ``R``, ``F``, ``M``, ``score`` and ``segment``.
    expected_purchases, p_alive, clv, p_churn : float or None
    churn_drivers, next_best, next_best_because : DataFrame or None
    bought_with_last_order : list or None

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> from reco.crm import CustomerStore
    >>> people = make_shop(300, 40, random_state=0, contacts=True)
    >>> store = CustomerStore()
    >>> store.add_orders(people.order_lines, customer="customer_id", item="product_id",
    ...                  time="timestamp", value="value", order="order_id")
    >>> profile = store.profile(7)
    >>> profile.n_orders > 0, sorted(profile.to_dict())[:3]
    (True, ['attributes', 'bought_with_last_order', 'churn_drivers'])
    """

    customer_id: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool | None] = field(default_factory=dict)
    first_purchase: pd.Timestamp | None = None
    last_purchase: pd.Timestamp | None = None
    n_orders: int = 0
    spend: float = 0.0
    last_orders: pd.DataFrame = _Frame(_ORDER_COLUMNS)
    n_contacts: int = 0
    last_contacts: pd.DataFrame = _Frame(_CONTACT_COLUMNS)
    n_complaints: int = 0
    last_complaint: pd.Timestamp | None = None
    response_rates: pd.DataFrame = _Frame(_RATE_COLUMNS)
    preferred_channel: str | None = None
    # model parts: None until the model is fitted (CustomerStore.fit_models)
    rfm: dict[str, Any] | None = None
    expected_purchases: float | None = None
    p_alive: float | None = None
    clv: float | None = None
    p_churn: float | None = None
    churn_drivers: pd.DataFrame | None = _Frame(None)
    next_best: pd.DataFrame | None = _Frame(None)
    next_best_because: pd.DataFrame | None = _Frame(None)
    bought_with_last_order: list | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (frames as lists of records, times as ISO strings)."""
        return {key: _plain(value) for key, value in asdict(self).items()}

    def __repr__(self) -> str:
        lines = [f"CustomerProfile({self.customer_id!r})"]
        for label, value in self._summary():
            lines.append(f"  {label}: {value}")
        return "\n".join(lines)

    def _summary(self) -> list[tuple[str, str]]:
        def when(value):
            return "-" if value is None else pd.Timestamp(value).strftime(_TIME)

        consented = [c for c, ok in self.consent.items() if ok]
        rows = [
            ("attributes", ", ".join(f"{k}={v}" for k, v in self.attributes.items()) or "-"),
            ("consent", ", ".join(consented) or "none"),
            ("orders", f"{self.n_orders} ({when(self.first_purchase)} .. "
                       f"{when(self.last_purchase)}), spend {self.spend:,.2f}"),
            ("contacts", f"{self.n_contacts}, complaints {self.n_complaints} (last "
                         f"{when(self.last_complaint)}), preferred channel "
                         f"{self.preferred_channel or '-'}"),
        ]  # fmt: skip
        model_parts = {
            "RFM": None
            if self.rfm is None
            else f"{self.rfm.get('segment')} ({self.rfm.get('score')})",
            "P(alive)": _number(self.p_alive),
            "expected purchases": _number(self.expected_purchases),
            "CLV": _number(self.clv),
            "P(churn)": _number(self.p_churn),
        }
        rows += [(label, value) for label, value in model_parts.items() if value is not None]
        if self.next_best is not None and len(self.next_best):
            rows.append(("next best", ", ".join(map(str, self.next_best["item"].head(5)))))
        if self.bought_with_last_order:
            rows.append(("bought with the last order", ", ".join(
                map(str, self.bought_with_last_order))))  # fmt: skip
        return rows

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
            f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
            for label, value in self._summary()
        )
        title = html.escape(f"Customer {self.customer_id}")
        recent = ""
        if len(self.last_orders):
            recent = "<p>Last orders</p>" + self.last_orders.to_html(index=False, border=0)
        return f"<div><strong>{title}</strong><table>{cells}</table>{recent}</div>"


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:,.3f}"


def _plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return [{k: _plain(v) for k, v in row.items()} for row in value.to_dict("records")]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def preferred_channel(
    counts: dict[str, list[int]], shop_rates: dict[str, float], consent: dict[str, bool | None]
) -> str | None:
    """The consented channel with the best shrunk response rate (None without campaigns on
    a consented channel; every channel counts when the store has no consent for the
    customer). ``counts``: channel -> [contacts, responses]; ``shop_rates``: the store-wide
    rate per channel."""
    best, best_rate = None, -1.0
    for channel, (contacts, responses) in sorted(counts.items()):
        if consent and not consent.get(channel):
            continue
        prior = shop_rates.get(channel, 0.0)
        rate = (responses + PRIOR_CONTACTS * prior) / (contacts + PRIOR_CONTACTS)
        if rate > best_rate:
            best, best_rate = channel, rate
    return best


# -- reading one customer's rows ---------------------------------------------------------------
_ORDER_LINES = "SELECT order_id, time, value, item_id FROM {table} WHERE customer_id = ?"
_CONTACTS = (
    "SELECT time, channel, direction, kind, outcome FROM {table} WHERE customer_id = ? "
    "ORDER BY time DESC"
)


_QUERIES = {
    "customers": ("customers", "SELECT * FROM {table} WHERE customer_id = ?"),
    "consent": ("consent", "SELECT channel, granted FROM {table} WHERE customer_id = ?"),
    "orders": ("orders", _ORDER_LINES),
    "contacts": ("contacts", _CONTACTS),
    "scores": ("scores", "SELECT * FROM {table} WHERE customer_id = ?"),
    "drivers": ("churn_drivers", "SELECT feature, value, typical, effect FROM {table} "
                "WHERE customer_id = ? ORDER BY rank"),
}  # fmt: skip


def build_profile(store: Any, key: Any, last: int, n_items: int) -> CustomerProfile | None:
    """The profile of the customer with stored id ``key`` (None if no table knows them).
    The customer's rows of every table are read at once, each query on its own cursor."""
    reads = store._read_many(_QUERIES, key)
    out = CustomerProfile(key)
    columns, rows = reads["customers"]
    if rows:
        out.attributes = {c: plain_value(v) for c, v in zip(columns, rows[0], strict=True)
                          if c != "customer_id"}  # fmt: skip
    out.consent = {channel: granted for channel, granted in reads["consent"][1]}
    last_basket = _order_parts(out, reads["orders"][1], last)
    _contact_parts(store, out, reads["contacts"], last)
    _model_parts(store, out, reads, key, n_items, last_basket)
    if not (rows or out.consent or out.n_orders or out.n_contacts):
        query = ("events", "SELECT 1 FROM {table} WHERE customer_id = ? LIMIT 1")
        if not store._read_many({"events": query}, key)["events"][1]:
            return None
    return out


def _order_parts(out: CustomerProfile, lines: list[tuple], last: int) -> list:
    """Orders from the customer's lines, grouped here: a customer has a few lines, and a
    plain indexed read of them costs a fraction of a grouped query. Returns the items of the
    last order."""
    if not lines:
        return []
    orders: dict[str, list] = {}
    for order_id, time, value, item in lines:
        order_key = order_id if order_id is not None else str(time)
        entry = orders.setdefault(order_key, [order_key, time, 0, 0.0, []])
        entry[1] = min(entry[1], time)
        entry[2] += 1
        entry[3] += value or 0.0
        entry[4].append(item)
    rows = sorted(orders.values(), key=lambda row: row[0])  # ties in time: by order id
    rows.sort(key=lambda row: row[1], reverse=True)
    for row in rows:
        row[4].sort()
    out.n_orders = len(rows)
    out.first_purchase = pd.Timestamp(min(row[1] for row in rows))
    out.last_purchase = pd.Timestamp(rows[0][1])
    out.spend = float(sum(row[3] for row in rows))
    out.last_orders = _Rows(_ORDER_COLUMNS, rows[:last])
    return rows[0][4]


def _contact_parts(store: Any, out: CustomerProfile, read: tuple, last: int) -> None:
    """Counts, complaints, the last contacts and the campaign response rates, from one
    query (a customer has tens of contacts, not millions)."""
    columns, contacts = read
    if not contacts:
        return
    out.n_contacts = len(contacts)
    out.last_contacts = _Rows(columns, contacts[:last])
    complaints = [row[0] for row in contacts if row[3] == "complaint"]
    out.n_complaints = len(complaints)
    out.last_complaint = pd.Timestamp(complaints[0]) if complaints else None
    counts: dict[str, list[int]] = {}
    for _, channel, _, kind, outcome in contacts:
        if kind == "campaign":
            tally = counts.setdefault(channel, [0, 0])
            tally[0] += 1
            tally[1] += outcome == "responded"
    shop = store._shop_response_rates()
    out.response_rates = _Rows(
        _RATE_COLUMNS, [(c, n, r, shop.get(c, 0.0)) for c, (n, r) in sorted(counts.items())]
    )
    out.preferred_channel = preferred_channel(counts, shop, out.consent)


def _model_parts(
    store: Any, out: CustomerProfile, reads: dict, key: Any, n_items: int, last_basket: list
) -> None:
    columns, scores = reads["scores"]
    if scores:
        row = {c: plain_value(v) for c, v in zip(columns, scores[0], strict=True)}
        cells = {"R": row["R"], "F": row["F"], "M": row["M"]}
        out.rfm = {**cells, "score": "".join(str(v) for v in cells.values()),
                   "segment": row["segment"]}  # fmt: skip
        out.expected_purchases = row["expected_purchases"]
        out.p_alive = row["probability_alive"]
        out.clv = row["clv"]
        out.p_churn = row["p_churn"]
    if out.p_churn is not None:
        columns, drivers = reads["drivers"]
        out.churn_drivers = _Rows(columns or _DRIVER_COLUMNS, drivers)
    models = store._fitted_models()
    recommender = models.get("recommender")
    if recommender is not None and key in recommender.user_map_:
        found = recommender.recommend(key, n_items)
        out.next_best = _Rows(["item", "score"], arrays=(found.items, found.scores))
        if len(found):
            out.next_best_because = _because(recommender, key, found.items[0])
    rules = models.get("rules")
    if rules is not None and last_basket:
        basket = [i for i in last_basket if i in rules.item_map_]
        if basket:
            found = rules.recommend_for_items(basket, n_items)
            out.bought_with_last_order = [
                plain_value(i) for i, s in zip(found.items, found.scores, strict=True) if s > 0
            ]


def _because(model: Any, key: Any, item: Any) -> _Rows | None:
    """The three history items that add most to ``item``'s score (None if the model cannot
    say): the first rows of ``explain``, read as arrays."""
    try:
        parts = model._explanation(model.user_map_.index_one(key), model.item_map_.index_one(item))
    except NotImplementedError:
        return None
    columns = ["item", "contribution", "share"]
    return _Rows(columns, arrays=tuple(parts[c][:3] for c in columns))


def plain_value(value: Any) -> Any:
    """A scalar from a query as a plain Python value (NA and NaN as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, datetime.datetime):
        return pd.Timestamp(value)
    return value.item() if isinstance(value, np.generic) else value
