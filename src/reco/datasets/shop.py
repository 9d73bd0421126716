"""make_shop: a seeded synthetic shop whose structure the models must recover.

The generative story (all vectorised numpy, so a million customers take seconds):

* **Products** belong to categories; within a category popularity is Zipf
  (weight ~ rank^-zipf_exponent); each category has a price level, each product a price.
* **Customers** sign up at a uniform time in the first ``acquisition_share`` of the period.
  Each has a purchase rate lambda ~ Gamma (orders per day while active) and an exponential
  lifetime with rate mu ~ Gamma (the Pareto/NBD story), so some customers drop out early and
  others buy for the whole period: CLV and churn models have real signal. The dropout time is
  recorded in ``truth``.
* **Tastes**: each customer favours three categories (Dirichlet weights); a line comes from a
  favourite with probability ``taste_strength``, else from any category. Collaborative
  filtering has signal.
* **Bundles**: ``n_bundles`` sets of 2-4 products from one category; an order contains one
  bundle with probability ``bundle_rate``. Mining must find them.
* **Browsing**: every purchased line is preceded by views and a cart event in the order's
  session; orders also hold views (and abandoned carts) of products not bought, and customers
  have browse-only sessions while active.
* **Contacts** (``contacts=True``): consent per channel, campaigns with a planted preferred
  channel per customer, complaints before dropping out (see :mod:`reco.datasets._contacts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import check_bool, check_int, check_number, check_random_state
from ._contacts import CHANNELS, contact_frames, make_contacts

__all__ = ["Shop", "ShopTruth", "make_shop"]


@dataclass
class ShopTruth:
    """What :func:`make_shop` planted, for tests and demos to check recovery against.

    Attributes
    ----------
    bundles : list of tuple
        Product ids of each planted bundle.
    customers : DataFrame
        Per customer: ``customer_id``, ``purchase_rate`` (orders per day while active),
        ``dropout_time`` (may lie after the end), ``alive_at_end``, ``spend_multiplier`` and
        ``favourite_category``; with contacts also ``preferred_channel`` (the channel with
        the planted high response rate) and ``complainer``.
    start, end : Timestamp
        The observation period.

    Examples
    --------
    >>> truth = make_shop(200, 30, random_state=0).truth
    >>> all(len(bundle) >= 2 for bundle in truth.bundles)
    True
    >>> bool(truth.start < truth.end)
    True
    """

    bundles: list[tuple[int, ...]]
    customers: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass
class Shop:
    """A generated shop: five tables and the planted truth.

    Attributes
    ----------
    customers : DataFrame  (customer_id, signup_time; with contacts also region and
        consent_email, consent_sms, consent_phone)
    products : DataFrame   (product_id, category, price, popularity_rank)
    orders : DataFrame     (order_id, customer_id, timestamp, n_lines, total)
    order_lines : DataFrame (order_id, customer_id, product_id, quantity, price, value, timestamp)
    events : DataFrame     (customer_id, product_id, event, timestamp, session_id);
        event is ``view``, ``cart`` or ``purchase``, sorted by time.
    truth : ShopTruth
    contacts : DataFrame or None  (customer_id, timestamp, channel, direction, kind, outcome)
        With ``contacts=True``: kind ``campaign`` (outcome ``responded`` / ``ignored``),
        ``complaint`` or ``inquiry`` (``resolved`` / ``unresolved``), sorted by time.

    Examples
    --------
    >>> shop = make_shop(200, 30, random_state=0)
    >>> sorted(shop.order_lines.columns)
    ['customer_id', 'order_id', 'price', 'product_id', 'quantity', 'timestamp', 'value']
    >>> shop.events["event"].unique().tolist()
    ['view', 'cart', 'purchase']
    """

    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    events: pd.DataFrame
    truth: ShopTruth = field(repr=False)
    contacts: pd.DataFrame | None = field(repr=False, default=None)

    def __repr__(self) -> str:
        return (
            f"Shop({len(self.customers)} customers, {len(self.products)} products, "
            f"{len(self.orders)} orders, {len(self.order_lines)} order lines, "
            f"{len(self.events)} events)"
        )


EVENT_TYPES = ("view", "cart", "purchase")


def make_shop(
    n_customers: int = 1000,
    n_products: int = 200,
    *,
    n_categories: int | None = None,
    n_bundles: int | None = None,
    start: str | pd.Timestamp = "2024-01-01",
    days: int = 365,
    orders_per_year: float = 6.0,
    mean_lifetime_days: float = 240.0,
    mean_basket_size: float = 2.0,
    bundle_rate: float = 0.15,
    taste_strength: float = 0.85,
    zipf_exponent: float = 1.1,
    views_per_purchase: float = 1.5,
    extra_views_per_order: float = 1.0,
    browse_sessions_per_order: float = 0.3,
    acquisition_share: float = 0.8,
    contacts: bool = False,
    campaigns_per_year: float = 12.0,
    random_state: int | np.random.Generator | None = None,
) -> Shop:
    """Generate a synthetic shop with known structure (see the module docstring).

    Parameters
    ----------
    n_customers, n_products : int
        Size of the shop. About ``n_customers * 10`` events come out with the defaults.
    n_categories : int, optional
        Default ``clip(n_products // 20, 2, 50)``.
    n_bundles : int, optional
        Planted bundles; default ``clip(n_products // 40, 1, 50)``.
    start, days :
        Observation period ``[start, start + days)``.
    orders_per_year : float
        Mean purchase rate of an active customer (Gamma-distributed across customers, shape 1).
    mean_lifetime_days : float
        Mean time from sign-up to dropout (exponential, rate Gamma across customers).
    mean_basket_size : float
        Mean lines per order before bundles are added (1 + Poisson).
    bundle_rate : float
        Share of orders that contain one planted bundle.
    taste_strength : float
        Share of lines drawn from the customer's favourite categories.
    zipf_exponent : float
        Popularity exponent within a category.
    views_per_purchase, extra_views_per_order, browse_sessions_per_order : float
        Browsing volume (views before each purchased line; views of products not bought per
        order; browse-only sessions per order).
    acquisition_share : float
        Customers sign up uniformly over this first share of the period.
    contacts : bool
        Also generate consent, customer regions and the contact history (``Shop.contacts``),
        from a separate random stream: the other tables are the same with or without.
    campaigns_per_year : float
        Outbound campaign contacts per customer and year (with ``contacts``).
    random_state : int, Generator or None
        Same seed, same shop.

    Returns
    -------
    Shop
        ``customers``, ``products``, ``orders``, ``order_lines``, ``events``, ``contacts``
        (with ``contacts=True``) and the planted ``truth``.

    Raises
    ------
    InvalidParameterError
        A size below the minimum or a rate out of range.

    Examples
    --------
    >>> shop = make_shop(200, 50, random_state=0)
    >>> sorted(shop.events["event"].unique())
    ['cart', 'purchase', 'view']
    >>> shop.truth.bundles[0] == make_shop(200, 50, random_state=0).truth.bundles[0]
    True
    """
    n_customers = check_int(n_customers, "n_customers", low=1)
    n_products = check_int(n_products, "n_products", low=2)
    n_categories = (
        int(np.clip(n_products // 20, 2, 50))
        if n_categories is None
        else check_int(n_categories, "n_categories", low=1, high=n_products)
    )
    n_bundles = (
        int(np.clip(n_products // 40, 1, 50))
        if n_bundles is None
        else check_int(n_bundles, "n_bundles", low=0, high=n_products // 2)
    )
    days = check_int(days, "days", low=1)
    for name, value in (
        ("orders_per_year", orders_per_year),
        ("mean_lifetime_days", mean_lifetime_days),
        ("zipf_exponent", zipf_exponent),
    ):
        check_number(value, name, low=0, low_open=True)
    check_number(mean_basket_size, "mean_basket_size", low=1)
    for name, value in (
        ("bundle_rate", bundle_rate),
        ("taste_strength", taste_strength),
        ("acquisition_share", acquisition_share),
    ):
        check_number(value, name, low=0, high=1)
    for name, value in (
        ("views_per_purchase", views_per_purchase),
        ("extra_views_per_order", extra_views_per_order),
        ("browse_sessions_per_order", browse_sessions_per_order),
    ):
        check_number(value, name, low=0)
    check_number(campaigns_per_year, "campaigns_per_year", low=0)
    contacts = check_bool(contacts, "contacts")
    start = pd.Timestamp(start)
    rng = check_random_state(random_state)

    catalog = _make_catalog(rng, n_products, n_categories, zipf_exponent)
    people = _make_customers(
        rng, n_customers, n_categories, days, orders_per_year, mean_lifetime_days, acquisition_share
    )
    bundles = _make_bundles(rng, catalog, n_bundles)

    # -- orders: the first at sign-up, then a Poisson process until dropout or the end -------
    active_end = np.minimum(people["dropout"], days)
    active = np.maximum(active_end - people["signup"], 0.0)
    repeats = rng.poisson(people["rate"] * active)
    n_orders = 1 + repeats
    order_customer = np.repeat(np.arange(n_customers, dtype=np.int64), n_orders)
    offsets = np.concatenate(([0], np.cumsum(n_orders)[:-1]))
    is_first = np.zeros(order_customer.size, dtype=bool)
    is_first[offsets] = True
    order_time = people["signup"][order_customer] + np.where(
        is_first, 0.0, rng.random(order_customer.size) * active[order_customer]
    )
    chrono = np.argsort(order_time, kind="stable")
    order_customer, order_time = order_customer[chrono], order_time[chrono]
    n_orders_total = order_customer.size

    # -- order lines: taste-driven products plus planted bundles -----------------------------
    sizes = 1 + rng.poisson(mean_basket_size - 1, n_orders_total)
    line_order = np.repeat(np.arange(n_orders_total, dtype=np.int64), sizes)
    line_product = _draw_products(rng, catalog, people, order_customer[line_order], taste_strength)
    if bundles:
        has_bundle = np.flatnonzero(rng.random(n_orders_total) < bundle_rate)
        choice = rng.integers(0, len(bundles), has_bundle.size)
        bundle_sizes = np.array([len(b) for b in bundles])[choice]
        flat = np.concatenate(bundles)
        starts = np.concatenate(([0], np.cumsum([len(b) for b in bundles])[:-1]))[choice]
        within = np.arange(bundle_sizes.sum()) - np.repeat(
            np.cumsum(bundle_sizes) - bundle_sizes, bundle_sizes
        )
        line_order = np.concatenate((line_order, np.repeat(has_bundle, bundle_sizes)))
        line_product = np.concatenate(
            (line_product, flat[np.repeat(starts, bundle_sizes) + within])
        )
    # a product twice in one order is one line with a larger quantity
    key = line_order * n_products + line_product
    key, repeat_count = np.unique(key, return_counts=True)
    line_order, line_product = key // n_products, key % n_products
    spend = people["spend"][order_customer[line_order]]
    quantity = repeat_count + rng.poisson(0.25 * spend)
    price = catalog["price"][line_product]
    value = np.round(quantity * price, 2)
    line_total = np.bincount(line_order, weights=value, minlength=n_orders_total)
    line_count = np.bincount(line_order, minlength=n_orders_total)

    # -- browsing events ---------------------------------------------------------------------
    events = _make_events(
        rng,
        catalog,
        people,
        taste_strength,
        order_customer,
        order_time,
        line_order,
        line_product,
        views_per_purchase,
        extra_views_per_order,
        browse_sessions_per_order,
        active,
        days,
    )

    # -- tables with external ids ------------------------------------------------------------
    customer_ids = np.arange(1, n_customers + 1, dtype=np.int64)
    product_ids = np.arange(1, n_products + 1, dtype=np.int64)
    order_ids = np.arange(1, n_orders_total + 1, dtype=np.int64)

    def stamp(day: np.ndarray) -> np.ndarray:
        return (
            np.datetime64(start, "ns")
            + np.round(np.asarray(day) * 86_400.0).astype("timedelta64[s]")
        ).astype("datetime64[ns]")

    customers = pd.DataFrame({"customer_id": customer_ids, "signup_time": stamp(people["signup"])})
    products = pd.DataFrame(
        {
            "product_id": product_ids,
            "category": pd.Categorical([f"cat{c:02d}" for c in catalog["category"]]),
            "price": catalog["price"],
            "popularity_rank": catalog["rank"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": customer_ids[order_customer],
            "timestamp": stamp(order_time),
            "n_lines": line_count.astype(np.int32),
            "total": np.round(line_total, 2),
        }
    )
    order_lines = pd.DataFrame(
        {
            "order_id": order_ids[line_order],
            "customer_id": customer_ids[order_customer[line_order]],
            "product_id": product_ids[line_product],
            "quantity": quantity.astype(np.int32),
            "price": price,
            "value": value,
            "timestamp": stamp(order_time[line_order]),
        }
    )
    event_frame = pd.DataFrame(
        {
            "customer_id": customer_ids[events["customer"]],
            "product_id": product_ids[events["product"]],
            "event": pd.Categorical.from_codes(events["type"], categories=list(EVENT_TYPES)),
            "timestamp": stamp(events["time"]),
            "session_id": events["session"] + 1,
        }
    )
    truth = ShopTruth(
        bundles=[tuple(int(p) for p in product_ids[b]) for b in bundles],
        customers=pd.DataFrame(
            {
                "customer_id": customer_ids,
                "purchase_rate": people["rate"],
                "dropout_time": stamp(np.minimum(people["dropout"], 50 * 365.0)),
                "alive_at_end": people["dropout"] >= days,
                "spend_multiplier": people["spend"],
                "favourite_category": pd.Categorical(
                    [f"cat{c:02d}" for c in people["favourites"][:, 0]]
                ),
            }
        ),
        start=start,
        end=start + pd.Timedelta(days=days),
    )
    contact_frame = None
    if contacts:
        drawn = make_contacts(
            np.random.default_rng(rng.integers(2**63)), people["signup"],
            np.minimum(people["dropout"], 50 * 365.0), days, float(campaigns_per_year),
        )  # fmt: skip
        contact_frame, columns = contact_frames(drawn, customer_ids, stamp)
        customers = customers.assign(**columns)
        truth.customers["preferred_channel"] = pd.Categorical.from_codes(
            drawn["preferred"], categories=list(CHANNELS)
        )
        truth.customers["complainer"] = drawn["complainer"]
    return Shop(customers, products, orders, order_lines, event_frame, truth, contact_frame)


def _make_catalog(rng, n_products, n_categories, zipf_exponent):
    category = np.sort(
        np.concatenate(
            (np.arange(n_categories), rng.integers(0, n_categories, n_products - n_categories))
        )
    )
    rank_in_category = np.arange(n_products) - np.searchsorted(category, category)
    weight = (rank_in_category + 1.0) ** -zipf_exponent
    # products of a category are contiguous: cumulative weight within category, shifted by
    # the category number, is increasing overall and can be searched in one call
    totals = np.bincount(category, weights=weight, minlength=n_categories)
    before = np.concatenate(([0.0], np.cumsum(totals)[:-1]))
    cdf = category + (np.cumsum(weight) - before[category]) / totals[category]
    last_of_category = np.append(category[1:] != category[:-1], True)
    cdf[last_of_category] = category[last_of_category] + 1.0  # exact upper ends
    level = np.exp(rng.normal(np.log(20.0), 0.8, n_categories))
    price = np.round(level[category] * np.exp(rng.normal(0, 0.35, n_products)), 0) - 0.01
    price = np.maximum(price, 0.99)
    global_weight = weight / totals[category] * np.bincount(category)[category]
    rank = np.empty(n_products, dtype=np.int32)
    rank[np.argsort(-global_weight, kind="stable")] = np.arange(1, n_products + 1)
    return {
        "category": category,
        "cdf": cdf,
        "weight": weight,
        "price": price,
        "rank": rank,
        "n_categories": n_categories,
    }


def _make_customers(rng, n, n_categories, days, orders_per_year, mean_lifetime, acquisition):
    signup = rng.random(n) * (acquisition * days)
    rate = rng.gamma(1.0, orders_per_year / 365.0, n)  # orders per day
    mu = rng.gamma(3.0, 1.0 / (2.0 * mean_lifetime), n)  # dropout rate: E[1/mu] = mean_lifetime
    lifetime = rng.exponential(1.0 / mu)
    favourites = rng.integers(0, n_categories, (n, 3))
    taste = rng.dirichlet(np.ones(3), n).cumsum(axis=1)
    spend = rng.gamma(4.0, 0.25, n)
    return {
        "signup": signup,
        "rate": rate,
        "dropout": signup + lifetime,
        "favourites": favourites,
        "taste_cdf": taste,
        "spend": spend,
    }


def _make_bundles(rng, catalog, n_bundles):
    category = catalog["category"]
    counts = np.bincount(category)
    eligible = np.flatnonzero(counts >= 2)
    bundles = []
    used: set[int] = set()
    for _ in range(n_bundles):
        if eligible.size == 0:
            break
        cat = int(rng.choice(eligible))
        members = np.flatnonzero(category == cat)
        members = np.array([m for m in members if m not in used])
        if members.size < 2:
            eligible = eligible[eligible != cat]
            continue
        size = int(min(members.size, rng.integers(2, 5)))
        # bundles are mid-popularity products: skip the head of the category
        pick = np.sort(
            rng.choice(
                members[members.size // 4 :] if members.size >= 8 else members,
                size=size,
                replace=False,
            )
        )
        used.update(pick.tolist())
        bundles.append(pick.astype(np.int64))
    return bundles


def _draw_categories(rng, catalog, people, customer, taste_strength):
    u = rng.random(customer.size)
    slot = (u[:, None] > people["taste_cdf"][customer]).sum(axis=1).clip(0, 2)
    favourite = people["favourites"][customer, slot]
    anywhere = rng.integers(0, catalog["n_categories"], customer.size)
    return np.where(rng.random(customer.size) < taste_strength, favourite, anywhere)


def _draw_products(rng, catalog, people, customer, taste_strength, chunk=2_000_000):
    out = np.empty(customer.size, dtype=np.int64)
    for a in range(0, customer.size, chunk):
        part = customer[a : a + chunk]
        category = _draw_categories(rng, catalog, people, part, taste_strength)
        target = category + rng.random(part.size)
        out[a : a + chunk] = np.searchsorted(catalog["cdf"], target, side="right")
    return np.minimum(out, catalog["category"].size - 1)


def _make_events(
    rng,
    catalog,
    people,
    taste_strength,
    order_customer,
    order_time,
    line_order,
    line_product,
    views_per_purchase,
    extra_views,
    browse_rate,
    active,
    days,
):
    minute = 1.0 / 1440.0
    parts = []
    # purchased lines: views, then a cart event, then the purchase at the order time
    n_lines = line_order.size
    n_views = (
        1 + rng.poisson(max(views_per_purchase - 1.0, 0.0), n_lines)
        if views_per_purchase >= 1
        else rng.poisson(views_per_purchase, n_lines)
    )
    view_line = np.repeat(np.arange(n_lines), n_views)
    t_order = order_time[line_order]
    parts.append(
        (
            order_customer[line_order[view_line]],
            line_product[view_line],
            0,
            t_order[view_line] - rng.uniform(5, 30, view_line.size) * minute,
            line_order[view_line],
        )
    )
    parts.append(
        (
            order_customer[line_order],
            line_product,
            1,
            t_order - rng.uniform(0.5, 5, n_lines) * minute,
            line_order,
        )
    )
    parts.append((order_customer[line_order], line_product, 2, t_order, line_order))
    # views (and a few abandoned carts) of products not bought, in the order's session
    n_extra = rng.poisson(extra_views, order_customer.size)
    extra_order = np.repeat(np.arange(order_customer.size), n_extra)
    extra_customer = order_customer[extra_order]
    extra_product = _draw_products(rng, catalog, people, extra_customer, taste_strength)
    extra_time = order_time[extra_order] - rng.uniform(1, 30, extra_order.size) * minute
    parts.append((extra_customer, extra_product, 0, extra_time, extra_order))
    abandoned = rng.random(extra_order.size) < 0.1
    parts.append(
        (
            extra_customer[abandoned],
            extra_product[abandoned],
            1,
            extra_time[abandoned] + 0.5 * minute,
            extra_order[abandoned],
        )
    )
    # browse-only sessions while the customer is active
    n_orders = np.bincount(order_customer, minlength=people["signup"].size)
    n_sessions = rng.poisson(browse_rate * n_orders)
    session_customer = np.repeat(np.arange(n_orders.size), n_sessions)
    session_time = people["signup"][session_customer] + rng.random(
        session_customer.size
    ) * np.maximum(active[session_customer], minute)
    session_time = np.minimum(session_time, days - minute)
    session_id = order_customer.size + np.arange(session_customer.size)
    per_session = 1 + rng.poisson(1.5, session_customer.size)
    view_session = np.repeat(np.arange(session_customer.size), per_session)
    browse_customer = session_customer[view_session]
    parts.append(
        (
            browse_customer,
            _draw_products(rng, catalog, people, browse_customer, taste_strength),
            0,
            session_time[view_session] + rng.uniform(0, 20, view_session.size) * minute,
            session_id[view_session],
        )
    )

    customer = np.concatenate([p[0] for p in parts])
    product = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    time = np.maximum(np.concatenate([p[3] for p in parts]), 0.0)
    session = np.concatenate([p[4] for p in parts]).astype(np.int64)
    order = np.argsort(time, kind="stable")
    return {
        "customer": customer[order],
        "product": product[order],
        "type": kind[order],
        "time": time[order],
        "session": session[order],
    }
