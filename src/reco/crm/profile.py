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

import html
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PRIOR_CONTACTS = 5.0
_TIME = "%Y-%m-%d %H:%M"


@dataclass
class CustomerProfile:
    """One customer's profile (see the module docstring). Counts and amounts cover the
    whole stored history; ``last_orders`` and ``last_contacts`` the ``last`` most recent."""

    customer_id: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool | None] = field(default_factory=dict)
    first_purchase: pd.Timestamp | None = None
    last_purchase: pd.Timestamp | None = None
    n_orders: int = 0
    spend: float = 0.0
    last_orders: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_contacts: int = 0
    last_contacts: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_complaints: int = 0
    last_complaint: pd.Timestamp | None = None
    response_rates: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    preferred_channel: str | None = None
    # model parts: None until the model is fitted (CustomerStore.fit_models)
    rfm: dict[str, Any] | None = None
    expected_purchases: float | None = None
    p_alive: float | None = None
    clv: float | None = None
    p_churn: float | None = None
    churn_drivers: pd.DataFrame | None = field(default=None, repr=False)
    next_best: pd.DataFrame | None = field(default=None, repr=False)
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
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def preferred_channel(rates: pd.DataFrame, consent: dict[str, bool | None]) -> str | None:
    """The consented channel with the best shrunk response rate (None without campaigns on
    a consented channel; every channel when the store has no consent for the customer).
    ``rates``: channel, contacts, responses, shop_rate."""
    if rates.empty:
        return None
    allowed = rates  # without consent records every channel counts
    if consent:
        allowed = rates[rates["channel"].map(lambda c: bool(consent.get(c, False)))]
    if allowed.empty:
        return None
    shrunk = (allowed["responses"] + PRIOR_CONTACTS * allowed["shop_rate"]) / (
        allowed["contacts"] + PRIOR_CONTACTS
    )
    return str(allowed["channel"].iloc[int(np.argmax(shrunk.to_numpy()))])
