r"""Campaign targeting: who to contact on a channel, ranked by what contacting them is worth.

Only customers who granted consent on the channel are ever listed (no consent record, or
``granted`` false or missing, means no). Each is valued

.. math::

    \mathrm{expected\_value} = \underbrace{P(\mathrm{churn}) \cdot \mathrm{CLV}}_{\text{value at
    risk}} \cdot \hat r,

:math:`\hat r` the customer's campaign response rate on the channel, shrunk towards the
store's rate on it as in :mod:`reco.crm.profile`. Conditions narrow the list: segments,
P(churn) and CLV bounds, no contact since a date, customer attributes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._validation import check_int, check_number
from ..exceptions import DataValidationError, InvalidParameterError
from ._sources import quoted
from .profile import PRIOR_CONTACTS

_RATES = (
    "SELECT customer_id, count(*) FILTER (kind = 'campaign' AND channel = $channel) AS n, "
    "count(*) FILTER (kind = 'campaign' AND channel = $channel AND outcome = 'responded') "
    "AS r, max(time) AS last_contact FROM contacts GROUP BY customer_id"
)


_NO_RATES = (
    "SELECT NULL AS customer_id, 0 AS n, 0 AS r, CAST(NULL AS TIMESTAMP) AS last_contact "
    "WHERE false"
)


def target_list(store: Any, channel: str, conditions: dict[str, Any]) -> pd.DataFrame:
    """The ranked campaign list (see the module docstring); ``conditions`` holds the
    keyword arguments of :meth:`CustomerStore.target`."""
    if not isinstance(channel, str):
        raise InvalidParameterError(f"channel must be a str such as 'email'; got {channel!r}.")
    _check_ready(store)
    clauses, params = _clauses(store, conditions)
    params.update(channel=channel, prior=PRIOR_CONTACTS)
    params["shop_rate"] = store._shop_response_rates().get(channel, 0.0)
    n = conditions["n"]
    limit = "" if n is None else f"LIMIT {check_int(n, 'n', low=1)}"
    rates = _RATES if "contacts" in store.tables() else _NO_RATES
    customers = (
        "LEFT JOIN customers a ON a.customer_id = s.customer_id"
        if store._attribute_columns()
        else ""
    )
    query = f"""
        WITH rates AS ({rates})
        SELECT s.customer_id, s.segment, s.p_churn, s.clv, s.p_churn * s.clv AS value_at_risk,
               (coalesce(r.r, 0) + $prior * $shop_rate) / (coalesce(r.n, 0) + $prior)
                   AS response_rate,
               r.last_contact
        FROM scores s
        JOIN consent c ON c.customer_id = s.customer_id AND c.channel = $channel
        LEFT JOIN rates r ON r.customer_id = s.customer_id
        {customers}
        WHERE {" AND ".join(["c.granted", *clauses])}
    """
    ranked = (
        f"SELECT *, value_at_risk * response_rate AS expected_value FROM ({query}) "
        f"ORDER BY expected_value DESC, customer_id {limit}"
    )
    return store._con.execute(ranked, params).df()


def _check_ready(store: Any) -> None:
    """Consent records and fitted P(churn) and CLV, or a message saying what to do."""
    tables = store.tables()
    if "consent" not in tables:
        raise DataValidationError(
            "the store records no consent, and targeting never lists a customer without it: "
            "add_customers(..., consent=...) first."
        )
    if "scores" not in tables:
        raise DataValidationError("targeting needs P(churn) and CLV: call fit_models() first.")
    if (
        "p_churn" not in store._table_columns("scores")
        or store.sql("SELECT count(p_churn) AS k FROM scores")["k"][0] == 0
    ):
        raise DataValidationError("targeting needs P(churn): call fit_models(churn=True).")


def _clauses(store: Any, conditions: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions and their parameters for the narrowing arguments."""
    clauses, params = [], {}
    segments = conditions["segments"]
    if segments is not None:
        chosen = [segments] if isinstance(segments, str) else list(segments)
        clauses.append("s.segment IN (SELECT unnest($segments))")
        params["segments"] = [str(v) for v in chosen]
    for name, sign in (("min_p_churn", ">="), ("max_p_churn", "<=")):
        if conditions[name] is not None:
            params[name] = check_number(conditions[name], name, low=0, high=1)
            clauses.append(f"s.p_churn {sign} ${name}")
    if conditions["min_clv"] is not None:
        params["min_clv"] = check_number(conditions["min_clv"], "min_clv")
        clauses.append("s.clv >= $min_clv")
    if conditions["no_contact_since"] is not None:
        from ..customers._log import as_timestamp

        since = as_timestamp(conditions["no_contact_since"], "no_contact_since")
        params["since"] = pd.Timestamp(since)
        clauses.append("(r.last_contact IS NULL OR r.last_contact < $since)")
    attributes, where = store._attribute_columns(), conditions["where"] or {}
    if not isinstance(where, dict):
        raise InvalidParameterError(
            "where must be a dict of customer attribute -> value or list of values, e.g. "
            "{'region': ['north']}."
        )
    for position, (name, values) in enumerate(where.items()):
        if name not in attributes:
            raise InvalidParameterError(
                f"where names {name!r}, not a customer attribute; the store has {attributes}."
            )
        params[f"w{position}"] = list(values) if isinstance(values, (list, tuple)) else [values]
        clauses.append(f"a.{quoted(name)} IN (SELECT unnest($w{position}))")
    return clauses, params
