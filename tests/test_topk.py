"""The fused mask + top-k kernel against a brute-force sort."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from reco._topk import select_topk


def brute_force(scores, n, seen, blocked, sparse):
    out = []
    for r in range(scores.shape[0]):
        row = scores[r]
        eligible = [
            j
            for j in range(row.size)
            if j not in seen[r]
            and not blocked[j]
            and np.isfinite(row[j])
            and not (sparse and row[j] == 0)
        ]
        eligible = [j for j in eligible if not np.isnan(row[j])]
        out.append(sorted(eligible, key=lambda j: (-row[j], j))[:n])
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.integers(1, 4),
)
def test_matches_brute_force(n_rows, n_items, n, seed, sparse, threads):
    rng = np.random.default_rng(seed)
    # few distinct values, so ties are common and the tie rule is exercised
    scores = rng.integers(-2, 4, size=(n_rows, n_items)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    scores[rng.random(scores.shape) < 0.05] = np.nan
    history = sp.csr_array((rng.random((n_rows, n_items)) < 0.3).astype(np.float32))
    history.sort_indices()
    blocked = rng.random(n_items) < 0.2
    seen = [set(history.indices[history.indptr[r] : history.indptr[r + 1]]) for r in range(n_rows)]
    if sparse:
        stored = np.where(np.isnan(scores), 0, scores)
        stored[np.isneginf(stored)] = 0
        matrix = sp.csr_array(stored)
        out = select_topk(
            matrix,
            n,
            history=history,
            history_rows=np.arange(n_rows),
            blocked=blocked,
            n_threads=threads,
        )
        expected = brute_force(stored, n, seen, blocked, sparse=True)
    else:
        out = select_topk(
            scores,
            n,
            history=history,
            history_rows=np.arange(n_rows),
            blocked=blocked,
            n_threads=threads,
        )
        expected = brute_force(scores, n, seen, blocked, sparse=False)
    for r in range(n_rows):
        length = out.lengths[r]
        assert out.items[r, :length].tolist() == expected[r]
        assert (out.items[r, length:] == -1).all()
        assert np.isneginf(out.scores[r, length:]).all()


def test_threads_do_not_change_results():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 50, size=(3000, 200)).astype(np.float32)
    one = select_topk(scores, 10, n_threads=1)
    four = select_topk(scores, 10, n_threads=4)
    np.testing.assert_array_equal(one.items, four.items)
    np.testing.assert_array_equal(one.scores, four.scores)


def test_history_rows_select_which_history():
    scores = np.tile(np.arange(5, 0, -1, dtype=np.float32), (2, 1))  # item 0 best
    history = sp.csr_array(np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]], dtype=np.float32))
    out = select_topk(scores, 2, history=history, history_rows=np.array([1, -1]))
    assert out.items.tolist() == [[0, 2], [0, 1]]


def test_broadcast_scores_are_not_copied_or_written():
    vector = np.array([0.5, 2.0, 1.0], dtype=np.float32)
    block = np.broadcast_to(vector, (1000, 3))
    out = select_topk(block, 2, n_threads=2)
    assert (out.items == [1, 2]).all()
    assert vector.tolist() == [0.5, 2.0, 1.0]


@pytest.mark.parametrize("n", [1, 3, 100])
def test_all_items_blocked_gives_empty_rows(n):
    out = select_topk(np.ones((3, 4), np.float32), n, blocked=np.ones(4, bool))
    assert out.lengths.tolist() == [0, 0, 0]


def test_factor_scores_are_sequential_float32_sums():
    """dot_scores sums each score over the factors in order, in float32, multiply then add
    (no FMA): the same floats on every machine, whatever the batch (11 users: blocks of four
    and single users; 4,133 items: several spans and a ragged tail; 19 factors: not a
    multiple of four)."""
    from reco._topk import dot_scores

    rng = np.random.default_rng(0)
    items_t = np.ascontiguousarray(rng.standard_normal((19, 4133)).astype(np.float32))
    users = rng.standard_normal((11, 19)).astype(np.float32)
    expected = np.zeros((11, 4133), np.float32)
    for f in range(19):
        expected = expected + (users[:, [f]] * items_t[f][None, :]).astype(np.float32)
    got = dot_scores(users, items_t)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(dot_scores(users[[7]], items_t)[0], got[7])
    np.testing.assert_array_equal(dot_scores(users[:5], items_t), got[:5])
