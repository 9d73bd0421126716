"""The contact history of a generated shop (``make_shop(..., contacts=True)``).

The story, drawn from its own random stream so the orders and events of a seed do not change:

* **Consent**: each customer opts in to ``email``, ``sms`` and ``phone`` independently
  (probabilities :data:`CONSENT_RATE`); the shop contacts a customer only on a channel they
  consented to.
* **Campaigns** (outbound): about ``campaigns_per_year`` contacts per customer from sign-up to
  the end, each on one of the consented channels at random. The customer responds with the
  probability of that channel (:data:`RESPONSE_RATE`), raised to :data:`PREFERRED_RESPONSE` on
  their planted ``preferred_channel`` (one of the consented channels); after dropping out, a
  fifth of it.
* **Complaints** (inbound): half the customers who drop out during the period complain first
  (two weeks before leaving, on average); a few of the others complain at random times. The
  churn model and the profile have a complaint signal to find.
* **Inquiries** (inbound): questions at a low rate while active.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = ("email", "sms", "phone")
CONSENT_RATE = (0.8, 0.5, 0.35)
RESPONSE_RATE = (0.08, 0.06, 0.12)
PREFERRED_RESPONSE = 0.45
REGIONS = ("north", "south", "east", "west")


def make_contacts(
    rng: np.random.Generator,
    signup: np.ndarray,
    dropout: np.ndarray,
    days: int,
    campaigns_per_year: float,
) -> dict:
    """Consent, planted preferences and the contact rows (customer codes, day offsets)."""
    n = signup.size
    consent = rng.random((n, len(CHANNELS))) < np.asarray(CONSENT_RATE)
    preferred = _one_of(rng, np.where(consent.any(axis=1)[:, None], consent, True))
    rates = np.tile(np.asarray(RESPONSE_RATE), (n, 1))
    rates[np.arange(n), preferred] = PREFERRED_RESPONSE
    region = rng.integers(0, len(REGIONS), n)

    campaigns = _campaigns(rng, signup, dropout, days, campaigns_per_year, consent, rates)
    complaints, complainer = _complaints(rng, signup, dropout, days)
    inquiries = _inquiries(rng, signup, dropout, days)
    rows = {key: np.concatenate([part[key] for part in (campaigns, complaints, inquiries)])
            for key in campaigns}  # fmt: skip
    order = np.lexsort((rows["customer"], rows["time"]))
    return {
        "rows": {key: value[order] for key, value in rows.items()},
        "consent": consent,
        "preferred": preferred,
        "complainer": complainer,
        "region": region,
    }


def _campaigns(rng, signup, dropout, days, per_year, consent, rates) -> dict:
    n = signup.size
    reachable = consent.any(axis=1)
    counts = rng.poisson(per_year * (days - signup) / 365.0) * reachable
    customer = np.repeat(np.arange(n), counts)
    time = signup[customer] + rng.random(customer.size) * (days - signup[customer])
    channel = _one_of(rng, consent[customer])
    chance = rates[customer, channel] * np.where(time < dropout[customer], 1.0, 0.2)
    responded = rng.random(customer.size) < chance
    return {
        "customer": customer,
        "time": time,
        "channel": channel,
        "direction": np.zeros(customer.size, np.int64),  # outbound
        "kind": np.zeros(customer.size, np.int64),  # campaign
        "outcome": np.where(responded, 0, 1),  # responded / ignored
    }


def _one_of(rng, allowed: np.ndarray) -> np.ndarray:
    """A column index per row, uniform among the row's True entries (at least one)."""
    pick = rng.random(allowed.shape[0]) * allowed.sum(axis=1)
    return np.argmax(np.cumsum(allowed, axis=1) > pick[:, None], axis=1)


def _complaints(rng, signup, dropout, days) -> tuple[dict, np.ndarray]:
    n = signup.size
    leaves = dropout < days
    before_leaving = leaves & (rng.random(n) < 0.5)
    at_random = ~leaves & (rng.random(n) < 0.05)
    who = np.flatnonzero(before_leaving | at_random)
    lead = rng.exponential(14.0, who.size)
    random_time = signup[who] + rng.random(who.size) * (days - signup[who])
    time = np.where(before_leaving[who], np.maximum(dropout[who] - lead, signup[who]), random_time)
    channel = np.where(rng.random(who.size) < 0.6, 2, 0)  # phone, else email
    complainer = np.zeros(n, bool)
    complainer[who] = True
    return {
        "customer": who,
        "time": time,
        "channel": channel,
        "direction": np.ones(who.size, np.int64),  # inbound
        "kind": np.ones(who.size, np.int64),  # complaint
        "outcome": np.where(rng.random(who.size) < 0.7, 2, 3),  # resolved / unresolved
    }, complainer


def _inquiries(rng, signup, dropout, days) -> dict:
    active = np.maximum(np.minimum(dropout, days) - signup, 0.0)
    counts = rng.poisson(0.5 * active / 365.0)
    customer = np.repeat(np.arange(signup.size), counts)
    time = signup[customer] + rng.random(customer.size) * active[customer]
    return {
        "customer": customer,
        "time": time,
        "channel": np.where(rng.random(customer.size) < 0.5, 2, 0),
        "direction": np.ones(customer.size, np.int64),
        "kind": np.full(customer.size, 2, np.int64),  # inquiry
        "outcome": np.full(customer.size, 2, np.int64),  # resolved
    }


def contact_frames(drawn: dict, customer_ids: np.ndarray, stamp) -> tuple[pd.DataFrame, dict]:
    """The contacts table and the customer columns (region, consent) with external ids."""
    rows = drawn["rows"]
    contacts = pd.DataFrame(
        {
            "customer_id": customer_ids[rows["customer"]],
            "timestamp": stamp(rows["time"]),
            "channel": pd.Categorical.from_codes(rows["channel"], categories=list(CHANNELS)),
            "direction": pd.Categorical.from_codes(rows["direction"], ["outbound", "inbound"]),
            "kind": pd.Categorical.from_codes(rows["kind"], ["campaign", "complaint", "inquiry"]),
            "outcome": pd.Categorical.from_codes(
                rows["outcome"], ["responded", "ignored", "resolved", "unresolved"]
            ),
        }
    )
    columns = {"region": pd.Categorical.from_codes(drawn["region"], categories=list(REGIONS))}
    for position, channel in enumerate(CHANNELS):
        columns[f"consent_{channel}"] = drawn["consent"][:, position]
    return contacts, columns
