import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.exceptions import DataValidationError, InvalidParameterError
from reco.mining import frequent_sequences, sequential_rules

sessions_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 6)), min_size=1, max_size=6),
    min_size=1,
    max_size=12,
)


def to_frame(sessions):
    rows = []
    for s, events in enumerate(sessions):
        for position, (item, dt) in enumerate(events):
            rows.append((s, item, dt + 10 * position))  # times increase within a session
    return pd.DataFrame(rows, columns=["session_id", "item_id", "timestamp"])


def contains(events, pattern, gap, span):
    """Brute force: some choice of increasing positions matches the pattern within limits."""
    items = [i for i, _ in events]
    times = [t for _, t in events]
    for positions in itertools.combinations(range(len(items)), len(pattern)):
        if [items[p] for p in positions] != list(pattern):
            continue
        steps = [times[b] - times[a] for a, b in itertools.pairwise(positions)]
        if gap is not None and any(s > gap for s in steps):
            continue
        if span is not None and times[positions[-1]] - times[positions[0]] > span:
            continue
        return True
    return False


@settings(max_examples=70, deadline=None)
@given(
    sessions_strategy,
    st.integers(1, 4),
    st.sampled_from([None, 10, 25]),
    st.sampled_from([None, 20, 40]),
)
def test_equals_brute_force(sessions, threshold, gap, span):
    frame = to_frame(sessions)
    timed = [
        list(zip(g["item_id"], g["timestamp"], strict=True))
        for _, g in frame.groupby("session_id", sort=True)
    ]
    result = frequent_sequences(frame, threshold, max_gap=gap, max_span=span, max_len=4)
    got = dict(zip(result.frame["sequence"], result.frame["count"], strict=True))
    expected = {}
    for length in range(1, 5):
        for pattern in itertools.product("abcd", repeat=length):
            count = sum(contains(s, pattern, gap, span) for s in timed)
            if count >= threshold:
                expected[pattern] = count
    assert got == expected


def test_event_types_and_rules():
    events = pd.DataFrame(
        {
            "session_id": [1, 1, 1, 2, 2, 2, 3, 3],
            "item_id": ["A", "B", "C", "A", "B", "C", "A", "C"],
            "event": ["view", "view", "purchase", "view", "view", "purchase", "view", "view"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-01 10:05",
                    "2024-01-01 10:20",
                    "2024-01-02 09:00",
                    "2024-01-02 09:01",
                    "2024-01-02 11:00",
                    "2024-01-03 08:00",
                    "2024-01-03 08:30",
                ]
            ),
        }
    )
    result = frequent_sequences(events, 2, event="event")
    patterns = dict(zip(result.frame["sequence"], result.frame["count"], strict=True))
    full = (("view", "A"), ("view", "B"), ("purchase", "C"))
    assert patterns[full] == 2
    found = sequential_rules(result, min_confidence=0.9)
    assert found.n_sequences == 3 and len(found) == len(found.frame)
    rules = found.frame
    row = rules[(rules["antecedent"] == full[:2]) & (rules["consequent"] == full[2:])].iloc[0]
    assert row["confidence"] == 1.0 and row["support"] == pytest.approx(2 / 3)
    within_hour = frequent_sequences(events, 2, event="event", max_span="1h")
    assert full not in set(within_hour.frame["sequence"])  # session 2 took two hours
    assert (("view", "A"), ("view", "B")) in set(within_hour.frame["sequence"])


def test_row_order_without_time():
    events = pd.DataFrame({"session_id": [1, 1, 2, 2], "item_id": ["x", "y", "x", "y"]})
    result = frequent_sequences(events, 2, time=None)
    assert ("x", "y") in set(result.frame["sequence"])
    assert ("y", "x") not in set(result.frame["sequence"])


def test_errors():
    events = pd.DataFrame({"session_id": [1], "item_id": ["x"], "timestamp": [1.0]})
    with pytest.raises(DataValidationError, match="session='sess'"):
        frequent_sequences(events, 1, session="sess")
    with pytest.raises(InvalidParameterError, match="max_gap"):
        frequent_sequences(events, 1, max_gap=-1)
    with pytest.raises(InvalidParameterError, match="need a time column"):
        frequent_sequences(events, 1, time=None, max_span=3)
    with pytest.raises(InvalidParameterError, match="min_confidence"):
        sequential_rules(frequent_sequences(events, 1), 2.0)
