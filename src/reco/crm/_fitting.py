"""``CustomerStore.fit_models``: the reco models behind a profile, fitted on the store's rows.

* value: :func:`reco.customers.summary` of the orders, then :class:`RFMScorer`,
  :class:`BetaGeo`, :class:`GammaGamma` and :func:`lifetime_value` (the rows of
  :func:`reco.customers.scores.customer_rows`), kept in the table ``scores``;
* churn: a :class:`ChurnModel` on the orders, its P(churn) in ``scores`` and each customer's
  top three drivers in ``churn_drivers``;
* next best: a recommender on the purchase history (default :class:`ItemKNN`), and an
  :class:`AssociationRuleRecommender` mined from the orders for "bought with".

Models are saved beside a file store (``<store>.models/``; not the churn model, whose
scores are in the tables), the tables inside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

MODEL_FILES = {
    "rfm": "rfm.npz",
    "purchases": "purchases.npz",
    "spend": "spend.npz",
    "recommender": "recommender.npz",
    "rules": "rules.npz",
}


def orders_frame(
    store: Any, cutoff: pd.Timestamp | None, customers: list | None = None
) -> pd.DataFrame:
    """The store's order lines up to ``cutoff`` (of ``customers`` only, when given), in a
    fixed order (sums bit-identical). Lines without an order id form one order per customer
    and time."""
    if "orders" not in store.tables():
        raise DataValidationError("the store holds no orders; add_orders first.")
    conditions, params = [], []
    if cutoff is not None:
        conditions.append("time <= ?")
        params.append(cutoff.to_pydatetime())
    if customers is not None:
        conditions.append("customer_id IN (SELECT unnest(?))")
        params.append(list(customers))
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    frame = store.sql(
        "SELECT customer_id, item_id, time, value, coalesce(order_id, "
        "CAST(customer_id AS VARCHAR) || ' ' || CAST(time AS VARCHAR)) AS order_id FROM orders "
        f"{where} ORDER BY customer_id, time, order_id, item_id",
        params,
    )
    if frame.empty and customers is None:
        raise DataValidationError("no orders on or before the cutoff; pick a later cutoff.")
    return frame


def orders_of_others(store: Any, order_ids: list, customers: list) -> bool:
    """Whether any of ``order_ids`` also holds lines of customers outside ``customers``."""
    if not order_ids:
        return False
    found = store.sql(
        "SELECT count(*) AS n FROM orders WHERE order_id IN (SELECT unnest(?)) "
        "AND customer_id NOT IN (SELECT unnest(?))",
        [list(order_ids), list(customers)],
    )
    return int(found["n"][0]) > 0


def fit_value(orders: pd.DataFrame, cutoff, horizon, period, discount_rate) -> tuple:
    """RFM, purchase and spend models and the per-customer scores (without P(churn))."""
    from ..customers import summary
    from ..customers.scores import customer_rows, fit_missing

    if orders["value"].isna().any():
        raise DataValidationError(
            "some orders have no value; RFM and CLV need the value of every order line. "
            "Add orders with value=..."
        )
    table = summary(
        orders, customer="customer_id", time="time", value="value", observation_end=cutoff
    )
    rfm, purchases, spend = fit_missing(table, {})
    scores = customer_rows(table, rfm, purchases, spend, None, horizon, period, discount_rate)
    return {"rfm": rfm, "purchases": purchases, "spend": spend}, scores


def fit_churn(orders: pd.DataFrame, cutoff) -> tuple[Any, pd.Series, pd.DataFrame]:
    """A ChurnModel, P(churn) at the cutoff and the top three drivers of every customer."""
    from ..customers import ChurnModel
    from ..customers.churn import parse_inputs

    # the log parsed once, for training and for scoring at the cutoff (ChurnModel.fit would
    # parse it again, and so would predict_proba)
    log, browsing, at = parse_inputs(
        orders, "customer_id", "time", "value", "order_id", None, None, "event", cutoff
    )
    model = ChurnModel(random_state=0)._fit_log(log, at, browsing)
    X = model.features(log, at, browsing)
    p_churn = model._predict_features(X)
    drivers = model.drivers(X[model.feature_names_], n=3)
    return model, p_churn, drivers


def fit_recommenders(orders: pd.DataFrame, recommender: Any, min_support: float) -> dict:
    """The next-best recommender and the rule recommender, on the purchase history."""
    from ..data import Interactions
    from ..models import AssociationRuleRecommender, ItemKNN

    history = Interactions.from_frame(orders, user="customer_id", item="item_id")
    model = ItemKNN() if recommender is None else recommender
    model.fit(history)
    rules = AssociationRuleRecommender(min_support=min_support, min_threshold=0.05)
    rules.fit(history, baskets=orders, transaction="order_id", item="item_id")
    return {"recommender": model, "rules": rules}


def save_models(models: dict[str, Any], folder: Path) -> None:
    """Each model to its file in ``folder`` (written atomically by the models' ``save``).
    The churn model is not saved (its scikit-learn classifier would need pickle, which
    reco's files never hold): its P(churn) and drivers are in the store's tables."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        if name in MODEL_FILES:
            model.save(folder / MODEL_FILES[name])


def load_models(folder: Path) -> dict[str, Any]:
    """The models saved in ``folder`` (those present)."""
    from ..base import Estimator

    out = {}
    for name, file in MODEL_FILES.items():
        path = folder / file
        if path.is_file():
            out[name] = Estimator.load(path)
    return out


def driver_rows(drivers: pd.DataFrame) -> pd.DataFrame:
    """Long driver rows with a rank per customer, ready for the ``churn_drivers`` table."""
    out = drivers.rename(columns={"customer": "customer_id"}).copy()
    out["rank"] = out.groupby("customer_id").cumcount().astype(np.int64) + 1
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    out["typical"] = pd.to_numeric(out["typical"], errors="coerce")
    return out[["customer_id", "rank", "feature", "value", "typical", "effect"]]
