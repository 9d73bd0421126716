"""The conformance suite every recommender must pass (public: test your own models with it).

Usage with pytest::

    import pytest
    from reco.testing import recommender_checks

    @pytest.mark.parametrize("estimator, check", recommender_checks([MyModel()]))
    def test_conformance(estimator, check):
        check(estimator)

or all at once: ``check_recommender(MyModel())``. Each check takes an *unfitted* estimator,
clones it and raises ``AssertionError`` (or the unexpected exception) on failure.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._params import clone
from .base import Recommender
from .data import Interactions
from .exceptions import (
    DataValidationError,
    InvalidParameterError,
    NotFittedError,
    NotSupportedError,
    UnknownIdError,
)

__all__ = [
    "CHECKS",
    "check_model_file",
    "check_recommender",
    "conformance_data",
    "recommender_checks",
]


class _OtherRecommender(Recommender):
    """A registered class that is no other model's subclass (for the wrong-class check)."""


def conformance_data(seed: int = 0) -> Interactions:
    """A small two-community shop with str ids and timestamps.

    Users ``u00..u14`` buy from items ``i00..i09``, users ``u15..u29`` from ``i10..i19`` (a
    block "checkerboard"), with a little cross-community noise.

    Parameters
    ----------
    seed : int
        Seed of the noise.

    Returns
    -------
    Interactions

    Examples
    --------
    >>> data = conformance_data(seed=0)
    >>> data.n_users > 0 and data.n_items > 0
    True
    """
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(30):
        group = 0 if u < 15 else 10
        own = rng.choice(10, size=rng.integers(3, 7), replace=False) + group
        other = rng.choice(10, size=rng.integers(0, 2), replace=False) + (10 - group)
        for i in np.concatenate((own, other)):
            rows.append(
                (
                    f"u{u:02d}",
                    f"i{int(i):02d}",
                    float(rng.integers(1, 4)),
                    pd.Timestamp("2024-01-01") + pd.Timedelta(hours=int(rng.integers(0, 2000))),
                )
            )
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "value", "time"])
    return Interactions.from_frame(frame, time="time", value="value")


def _fitted(estimator: Recommender, data: Interactions | None = None) -> Recommender:
    return clone(estimator).fit(conformance_data() if data is None else data)


def _all_recs(model: Recommender, n: int = 5, **kwargs: Any):
    return model.recommend_batch(model.user_map_.array, n, **kwargs)


def _same_batch(a, b) -> None:
    np.testing.assert_array_equal(a.item_index, b.item_index)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.lengths, b.lengths)


def _seen(model: Recommender, user_index: int) -> set[int]:
    h = model.history_
    return set(h.indices[h.indptr[user_index] : h.indptr[user_index + 1]].tolist())


# -- the checks ---------------------------------------------------------------------------------


def check_fit_returns_self(estimator: Recommender) -> None:
    model = clone(estimator)
    assert model.fit(conformance_data()) is model, "fit must return self"
    assert model.n_users_ == 30 and model.n_items_ == 20


def check_params_and_clone(estimator: Recommender) -> None:
    params = estimator.get_params(deep=False)
    rebuilt = type(estimator)(**params)
    for name, value in params.items():
        assert getattr(rebuilt, name) is value, f"__init__ must store {name} unchanged"
    twin = clone(estimator)
    assert twin.get_params() == params
    assert twin.set_params(**params) is twin
    fitted = _fitted(estimator)
    fresh = clone(fitted)
    try:
        fresh.recommend("u00")
    except NotFittedError:
        pass
    else:
        raise AssertionError("a clone of a fitted model must be unfitted")


def check_not_fitted(estimator: Recommender) -> None:
    model = clone(estimator)
    calls: list[Callable[[], Any]] = [
        lambda: model.recommend("u00"),
        lambda: model.recommend_batch(["u00"]),
        lambda: model.recommend_for_items(["i00"]),
        lambda: model.similar_items("i00"),
        lambda: model.score(["u00"], ["i00"]),
        lambda: model.explain("u00", "i00"),
        lambda: model.save(Path(tempfile.gettempdir()) / "reco-never-written.npz"),
    ]
    for call in calls:
        try:
            call()
        except NotFittedError as error:
            assert "not fitted" in str(error)
        else:
            raise AssertionError("an unfitted model must raise NotFittedError")


def check_lists_well_formed(estimator: Recommender) -> None:
    model = _fitted(estimator)
    batch = _all_recs(model, n=7)
    assert batch.item_index.shape == (30, 7) and batch.scores.dtype == np.float32
    for r in range(len(batch)):
        length = int(batch.lengths[r])
        row, scores = batch.item_index[r, :length], batch.scores[r, :length]
        assert (row >= 0).all() and len(set(row.tolist())) == length, "items distinct, valid"
        assert np.all(np.diff(scores) <= 0), "scores must be sorted best first"
        assert (batch.item_index[r, length:] == -1).all(), "padding is -1"
        assert np.isneginf(batch.scores[r, length:]).all(), "score padding is -inf"
    frame = batch.to_frame()
    assert list(frame.columns) == ["user", "item", "score", "rank"]
    assert len(frame) == int(batch.lengths.sum())


def check_recommend_matches_batch(estimator: Recommender) -> None:
    model = _fitted(estimator)
    batch = _all_recs(model, n=6)
    for r, user in enumerate(batch.users):
        single = model.recommend(user, n=6)
        assert single.user == user
        assert single == batch[r], f"recommend({user!r}) differs from recommend_batch row {r}"


def check_exclude_seen(estimator: Recommender) -> None:
    model = _fitted(estimator)
    n_items = model.n_items_
    batch = _all_recs(model, n=n_items)
    for r in range(len(batch)):
        got = set(batch.item_index[r, : batch.lengths[r]].tolist())
        assert not got & _seen(model, r), "exclude_seen=True returned a seen item"
    keep = _all_recs(model, n=n_items, exclude_seen=False)
    assert (keep.lengths >= batch.lengths).all()
    shown_seen = any(
        set(keep.item_index[r, : keep.lengths[r]].tolist()) & _seen(model, r)
        for r in range(len(keep))
    )
    assert shown_seen, "exclude_seen=False must allow seen items"


def check_exclude_and_candidates(estimator: Recommender) -> None:
    model = _fitted(estimator)
    items = model.item_map_.array
    blacklist = list(items[:6])
    whitelist = [*list(items[3:15]), "not-an-item"]
    excluded = _all_recs(model, n=20, exclude_items=blacklist)
    allowed = _all_recs(model, n=20, candidates=whitelist)
    both = _all_recs(model, n=20, exclude_items=blacklist, candidates=whitelist)
    for r in range(30):
        e = set(excluded[r].items.tolist())
        a = set(allowed[r].items.tolist())
        b = set(both[r].items.tolist())
        assert not e & set(blacklist), "exclude_items leaked"
        assert a <= set(whitelist), "an item outside candidates was returned"
        assert b <= set(whitelist) - set(blacklist), "exclude_items + candidates must combine"
        assert b == a - set(blacklist), "the combination must be candidates minus exclusions"


def check_short_lists(estimator: Recommender) -> None:
    model = _fitted(estimator)
    items = list(model.item_map_.array[:3])
    batch = _all_recs(model, n=10, candidates=items, exclude_seen=False)
    assert (batch.lengths <= 3).all(), "n larger than the eligible items gives shorter lists"
    rec = model.recommend("u00", n=100, candidates=items, exclude_seen=False)
    assert len(rec) <= 3


def check_unknown_users(estimator: Recommender) -> None:
    model = _fitted(estimator)
    users = ["u00", "nobody", "u20", "ghost"]
    try:
        model.recommend_batch(users, 5)
    except UnknownIdError as error:
        assert "2 user id(s)" in str(error) and "nobody" in str(error)
        assert error.ids == ["nobody", "ghost"]
    else:
        raise AssertionError("unknown users must raise UnknownIdError by default")
    known = model.recommend_batch(["u00", "u20"], 5)
    popular = model.recommend_batch(users, 5, unknown="popular")
    empty = model.recommend_batch(users, 5, unknown="empty")
    for batch in (popular, empty):
        assert batch[0] == known[0] and batch[2] == known[1], "known rows must not change"
    assert popular.lengths[1] == 5 and popular[1] == popular[3]
    assert empty.lengths[1] == 0 and empty.lengths[3] == 0
    solo = model.recommend("nobody", 5, unknown="popular")
    assert solo == popular[1]


def check_transposed_matrix(estimator: Recommender) -> None:
    data = conformance_data()
    model = _fitted(estimator, data)
    try:
        model.recommend_for_baskets(data.to_csr().T)
    except DataValidationError as error:
        assert "transpose" in str(error), str(error)
    else:
        raise AssertionError("a transposed (items x users) matrix must be refused")
    wrong = sp.csr_array((2, model.n_items_ + 1), dtype=np.float32)
    try:
        model.recommend_for_baskets(wrong)
    except DataValidationError as error:
        assert "one column per fitted item" in str(error)
    else:
        raise AssertionError("a matrix with the wrong number of items must be refused")


def check_recommend_for_items(estimator: Recommender) -> None:
    model = _fitted(estimator)
    basket = ["i00", "i03", "i05"]
    rec = model.recommend_for_items(basket, n=5)
    assert rec.user is None and 0 < len(rec) <= 5
    assert not set(rec.items.tolist()) & set(basket), "the basket's own items were returned"
    batch = model.recommend_for_baskets([basket, ["i12"]], n=5)
    assert batch[0] == rec
    try:
        model.recommend_for_items(["i00", "zzz"])
    except UnknownIdError:
        pass
    else:
        raise AssertionError("unknown items must raise under unknown='raise'")
    skipped = model.recommend_for_items(["i00", "i03", "i05", "zzz"], n=5, unknown="skip")
    assert skipped == rec
    if not getattr(model, "_exact_fold_in", True):
        return
    # a user's own history, folded in, gives that user's list
    history = model.history_[[0]].toarray()[0]
    items = model.item_map_.ids(np.flatnonzero(history))
    folded = model.recommend_for_items(items, n=5, weights=history[history > 0])
    np.testing.assert_allclose(folded.scores, model.recommend("u00", 5).scores, rtol=1e-5)


def check_score(estimator: Recommender) -> None:
    model = _fitted(estimator)
    rec = model.recommend("u03", n=5)
    scores = model.score(["u03"], rec.items)
    assert scores.shape == (1, len(rec))
    np.testing.assert_allclose(scores[0], rec.scores, rtol=1e-5, atol=1e-6)
    grid = model.score(["u01", "u20"], ["i00", "i10", "i19"])
    assert grid.shape == (2, 3) and grid.dtype == np.float32
    try:
        model.score(["nobody"], ["i00"])
    except UnknownIdError:
        pass
    else:
        raise AssertionError("score must refuse unknown users")


def check_similar_items_and_explain(estimator: Recommender) -> None:
    model = _fitted(estimator)
    try:
        similar = model.similar_items("i00", n=5, exclude_items=["i01"])
    except NotSupportedError:
        pass
    else:
        assert "i00" not in similar.items.tolist() and "i01" not in similar.items.tolist()
        assert len(similar) <= 5
    rec = model.recommend("u00", 1)
    try:
        explanation = model.explain("u00", rec.items[0])
    except NotSupportedError:
        pass
    else:
        assert isinstance(explanation, pd.DataFrame)


def check_lists_carry_signal(estimator: Recommender) -> None:
    """Quality, not only shape: on the two communities of :func:`conformance_data`, lists
    hold at least 60% of the own-community items they could (random lists: about 35%); a
    model that does not personalise
    (``personalised = False``, e.g. Popularity) must instead rank popular items first. Scores
    must not be all equal for every user."""
    model = _fitted(estimator)
    recs = _all_recs(model, n=5)
    flat = recs.scores[np.isfinite(recs.scores)]
    varied = [np.ptp(recs.scores[u, : recs.lengths[u]]) > 0 for u in range(len(recs.users))]
    assert flat.size and any(varied), "every list has equal scores: the scores carry no ranking"
    if getattr(model, "personalised", True):
        # own-community items listed, against the most that could be (a user who has seen
        # 7 of their 10 own items can get at most 3 more)
        got = possible = 0
        for u, user in enumerate(recs.users):
            second = int(str(user)[1:]) >= 15  # users u15.. buy items i10..
            seen = model.item_map_.ids(model.history_[[u]].indices)
            unseen_own = 10 - _own_count(seen, second)
            got += _own_count(recs.items[u, : recs.lengths[u]], second)
            possible += min(int(recs.lengths[u]), unseen_own)
        share = got / max(possible, 1)
        assert share >= 0.6, (  # random lists reach about 0.35 here
            f"lists hold {share:.0%} of the own-community items they could; a personalised "
            "model must find the two communities of conformance_data"
        )
    else:
        popularity = np.asarray(model.item_popularity_, dtype=np.float64)
        chosen = popularity[recs.item_index[:, 0][recs.lengths > 0]]
        assert chosen.mean() > np.median(popularity), (
            "a non-personalised model must rank popular items first; its first items are "
            "less popular than the median item"
        )


def _own_count(items: Any, second: bool) -> int:
    """How many of ``items`` (ids ``iNN``) belong to community two (``second``) or one."""
    return sum((int(str(i)[1:]) >= 10) == second for i in items)


def check_explain_matches_score(estimator: Recommender) -> None:
    """An explanation names history items only, and its parts add up to the score
    (contributions sum to it, or for max-based models the best part equals it)."""
    model = _fitted(estimator)
    for user in model.user_map_.array[:6]:
        rec = model.recommend(user, 3)
        for item in rec.items.tolist():
            try:
                explanation = model.explain(user, item)
            except NotSupportedError:
                return
            score = float(model.score([user], [item])[0, 0])
            if "item" in explanation.columns:
                history = set(
                    model.item_map_.ids(
                        model.history_[[model.user_map_.index_one(user)]].indices
                    ).tolist()
                )
                assert set(explanation["item"]) <= history, "explain names items not in history"
            if "contribution" in explanation.columns:
                total = float(explanation["contribution"].sum())
                assert abs(total - score) <= 1e-4 * max(1.0, abs(score)), (
                    f"contributions sum to {total}, but the score of {item!r} is {score}"
                )
            elif getattr(model, "metric", None) in explanation.columns and len(explanation):
                best = float(explanation[model.metric].max())
                assert abs(best - score) <= 1e-4 * max(1.0, abs(score)), (
                    f"the best explaining rule has {best}, but the score of {item!r} is {score}"
                )


def check_save_load(estimator: Recommender) -> None:
    model = _fitted(estimator)
    expected = _all_recs(model, n=8)
    users, items = model.user_map_.array[:5], model.item_map_.array
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.reco"
        model.save(path)
        assert path.is_file(), "save must write exactly the path given"
        for loader in (Recommender, type(model)):
            loaded = loader.load(path)
            assert type(loaded) is type(model)
            assert loaded.get_params() == model.get_params()
            _same_batch(_all_recs(loaded, n=8), expected)
            np.testing.assert_array_equal(loaded.score(users, items), model.score(users, items))


def check_bad_model_files(estimator: Recommender) -> None:
    model = _fitted(estimator)
    with tempfile.TemporaryDirectory() as folder:
        good = Path(folder) / "good.npz"
        model.save(good)
        raw = good.read_bytes()
        truncated = Path(folder) / "truncated.npz"
        truncated.write_bytes(raw[: len(raw) // 2])
        garbage = Path(folder) / "garbage.npz"
        garbage.write_bytes(b"not a model at all")
        for path in (truncated, garbage):
            try:
                type(model).load(path)
            except DataValidationError:
                pass
            else:
                raise AssertionError("a corrupted model file must raise DataValidationError")
        from . import _persist

        header, arrays = _persist.read_model_file(good)
        for change, error in (
            ({"format_version": _persist.FORMAT_VERSION + 1}, NotSupportedError),
            ({"class": "reco.testing._OtherRecommender"}, DataValidationError),
        ):
            altered = Path(folder) / "altered.npz"
            import json

            payload = dict(arrays)
            payload["__header__"] = np.frombuffer(
                json.dumps({**header, **change}).encode(), np.uint8
            )
            with open(altered, "wb") as handle:
                np.savez(handle, **payload)
            try:
                type(model).load(altered)
            except error:
                pass
            else:
                raise AssertionError(f"{change} must raise {error.__name__}")
        missing_folder = Path(folder) / "no" / "such" / "folder" / "m.npz"
        try:
            model.save(missing_folder)
        except FileNotFoundError:
            pass
        else:
            raise AssertionError("saving into a missing folder must fail")
        assert sorted(p.name for p in Path(folder).iterdir()) == [
            "altered.npz",
            "garbage.npz",
            "good.npz",
            "truncated.npz",
        ], "no stray temp files"


def check_pickle(estimator: Recommender) -> None:
    model = _fitted(estimator)
    again = pickle.loads(pickle.dumps(model))
    _same_batch(_all_recs(again), _all_recs(model))


def check_deterministic(estimator: Recommender) -> None:
    params = estimator.get_params()
    seeded = (
        clone(estimator).set_params(random_state=0)
        if "random_state" in params
        else clone(estimator)
    )
    a, b = _fitted(seeded), _fitted(seeded)
    for name, value in vars(a).items():
        if name.endswith("_") and isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, getattr(b, name), err_msg=name)
    _same_batch(_all_recs(a), _all_recs(b))


def check_thread_safety(estimator: Recommender) -> None:
    model = _fitted(estimator)
    users = list(model.user_map_.array)
    expected = {u: model.recommend(u, 5) for u in users}
    failures: list[str] = []
    barrier = threading.Barrier(8)

    def work(offset: int) -> None:
        barrier.wait()
        for k in range(60):
            user = users[(offset * 7 + k) % len(users)]
            if model.recommend(user, 5) != expected[user]:
                failures.append(user)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"concurrent recommend calls disagreed for {failures[:5]}"


def _expect(error: type[BaseException], call: Callable[[], Any], *words: str) -> None:
    try:
        call()
    except error as caught:
        for word in words:
            assert word in str(caught), f"message {str(caught)!r} should mention {word!r}"
    else:
        raise AssertionError(f"expected {error.__name__}")


def check_bad_input(estimator: Recommender) -> None:
    data = conformance_data()
    model = _fitted(estimator, data)
    before = _all_recs(model)
    frame = data.to_frame()
    nan_frame = frame.assign(value=frame["value"].where(frame.index != 3, np.nan))
    inf_frame = frame.assign(value=frame["value"].where(frame.index != 3, np.inf))
    negative = frame.assign(value=frame["value"].where(frame.index != 3, -1.0))
    dense = data.to_csr().toarray()
    nan_csr = data.to_csr().copy()
    nan_csr.data = nan_csr.data.copy()
    nan_csr.data[0] = np.nan
    cases: list[tuple[type[BaseException], Callable[[], Any], tuple[str, ...]]] = [
        (
            DataValidationError,
            lambda: model.fit(Interactions.from_frame(nan_frame, value="value")),
            ("finite",),
        ),
        (
            DataValidationError,
            lambda: model.fit(Interactions.from_frame(inf_frame, value="value")),
            ("finite",),
        ),
        (
            DataValidationError,
            lambda: model.fit(Interactions.from_frame(negative, value="value")),
            ("negative",),
        ),
        (DataValidationError, lambda: model.fit(nan_csr), ("finite",)),
        (DataValidationError, lambda: model.fit(frame.iloc[:0]), ("empty",)),
        (
            DataValidationError,
            lambda: model.fit(frame.rename(columns={"item_id": "itemid"})),
            ("item_id", "itemid"),
        ),
        (DataValidationError, lambda: model.fit(dense), ("sparse",)),
        (InvalidParameterError, lambda: model.recommend("u00", n=0), ("n",)),
        (InvalidParameterError, lambda: model.recommend("u00", n=-3), ("n",)),
        (InvalidParameterError, lambda: model.recommend("u00", n=2.5), ("n",)),
        (InvalidParameterError, lambda: model.recommend("u00", n="10"), ("n",)),
        (InvalidParameterError, lambda: model.recommend("u00", n=True), ("n",)),
        (InvalidParameterError, lambda: model.recommend_batch("u00"), ("list",)),
        (
            InvalidParameterError,
            lambda: model.recommend_batch(["u00"], unknown="maybe"),
            ("unknown",),
        ),
        (UnknownIdError, lambda: model.recommend("nobody"), ("nobody",)),
        (UnknownIdError, lambda: model.similar_items("no-item"), ("no-item",)),
        (UnknownIdError, lambda: model.recommend_for_items(["no-item"]), ("no-item",)),
        (DataValidationError, lambda: model.recommend_for_baskets(dense), ("sparse",)),
    ]
    for error, call, words in cases:
        _expect(error, call, *words)
        _same_batch(_all_recs(model), before)  # a refused call changes nothing


def check_refit_forgets(estimator: Recommender) -> None:
    model = _fitted(estimator)
    small = conformance_data().filter(items=[f"i{i:02d}" for i in range(10)])
    frame = small.to_frame()
    rebuilt = Interactions.from_frame(frame, time="time", value="value")
    assert model.fit(rebuilt) is model
    assert model.n_items_ == 10 and "i15" not in model.item_map_
    assert model.n_users_ == frame["user_id"].nunique()
    assert model.history_.shape == (model.n_users_, 10)


CHECKS: list[Callable[[Recommender], None]] = [
    check_fit_returns_self,
    check_params_and_clone,
    check_not_fitted,
    check_lists_well_formed,
    check_recommend_matches_batch,
    check_exclude_seen,
    check_exclude_and_candidates,
    check_short_lists,
    check_unknown_users,
    check_transposed_matrix,
    check_recommend_for_items,
    check_score,
    check_similar_items_and_explain,
    check_lists_carry_signal,
    check_explain_matches_score,
    check_save_load,
    check_bad_model_files,
    check_pickle,
    check_deterministic,
    check_thread_safety,
    check_bad_input,
    check_refit_forgets,
]


def recommender_checks(estimators: Iterable[Recommender]) -> list[Any]:
    """``pytest.param(estimator, check)`` for every estimator and check, with readable ids.

    Parameters
    ----------
    estimators : iterable of Recommender
        Unfitted instances.

    Returns
    -------
    list of pytest.param

    Examples
    --------
    >>> from reco.models import Popularity
    >>> checks = recommender_checks([Popularity()])   # for pytest.mark.parametrize
    >>> len(checks) > 10
    True
    """
    import pytest

    return [
        pytest.param(estimator, check, id=f"{type(estimator).__name__}-{check.__name__[6:]}")
        for estimator in estimators
        for check in CHECKS
    ]


def check_recommender(estimator: Recommender) -> None:
    """Run every conformance check on ``estimator`` (raises on the first failure).

    Parameters
    ----------
    estimator : Recommender
        An unfitted instance of the class to check.

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        The first check that fails, naming it.

    Examples
    --------
    >>> from reco.models import Popularity
    >>> check_recommender(Popularity())      # raises AssertionError naming the broken check
    """
    for check in CHECKS:
        check(estimator)


def check_model_file(
    path: str | Path,
    *,
    isolated: bool = True,
    max_bytes: int | None = None,
    n_users: int = 20,
) -> dict[str, Any]:
    """Check a model file from anywhere before it serves: load it and exercise every path.

    Loading validates the whole file (see :meth:`reco.base.Estimator.load`); then a few
    users are scored with ``recommend_batch``, a basket with ``recommend_for_items`` and an
    item with ``similar_items`` (where the model supports it), and every list must hold known
    item ids with finite scores, best first. With ``isolated`` (default) this runs in a child
    Python process, so even a file that could crash the interpreter only fails the check.

    Parameters
    ----------
    path : str or Path
        The model file.
    isolated : bool
        Run the check in a child process.
    max_bytes : int, optional
        Size limit of the file's arrays (default: load's).
    n_users : int
        Users to score.

    Returns
    -------
    dict with ``class``, ``n_users``, ``n_items`` and ``checked`` (the calls exercised).

    Raises
    ------
    DataValidationError
        The file is invalid, or the model served a malformed answer (or, isolated, crashed
        the child process).

    Examples
    --------
    >>> from reco.models import Popularity
    >>> Popularity().fit(conformance_data()).save("model.npz")
    >>> report = check_model_file("model.npz", isolated=False)
    >>> report["class"]
    'Popularity'
    """
    import json
    import subprocess
    import sys

    from . import _persist

    limit = _persist.MAX_FILE_BYTES if max_bytes is None else max_bytes
    if not isolated:
        return _check_model_file_here(path, limit, n_users)
    code = (
        "import json, sys\n"
        "from reco.testing import _check_model_file_here\n"
        "from reco.exceptions import RecoError\n"
        "try:\n"
        "    report = _check_model_file_here(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))\n"
        "except (RecoError, FileNotFoundError) as error:\n"
        "    report = {'error': type(error).__name__, 'message': str(error)}\n"
        "print(json.dumps(report))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(limit), str(n_users)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise DataValidationError(
            f"checking {str(path)!r} ended the child process with exit code {done.returncode} "
            f"(a negative code is the signal that killed it): {done.stderr.strip()[-500:]}"
        )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in report:
        error_class = {
            "NotSupportedError": NotSupportedError,
            "FileNotFoundError": FileNotFoundError,
        }
        raise error_class.get(report["error"], DataValidationError)(report["message"])
    return report


def _check_model_file_here(path: str | Path, max_bytes: int, n_users: int) -> dict[str, Any]:
    from .base import Estimator

    model = Estimator.load(path, max_bytes=max_bytes)
    report: dict[str, Any] = {"class": type(model).__name__, "checked": ["load"]}
    if not isinstance(model, Recommender):
        return report
    n_all = len(model.user_map_)
    report.update({"n_users": n_all, "n_items": len(model.item_map_)})
    items = set(model.item_map_.array.tolist())

    def well_formed(ids: Any, scores: np.ndarray, what: str) -> None:
        ids = list(np.asarray(ids).ravel().tolist())
        if any(i not in items for i in ids) or not np.isfinite(scores).all():
            raise DataValidationError(f"{what} served unknown items or non-finite scores.")
        if (np.diff(scores) > 0).any():
            raise DataValidationError(f"{what} served a list that is not best first.")

    picks = np.linspace(0, n_all - 1, min(n_users, n_all)).astype(int) if n_all else []
    users = model.user_map_.ids(np.unique(picks)) if n_all else []
    batch = model.recommend_batch(users, 10)
    for row, length in enumerate(batch.lengths):
        well_formed(batch.items[row, :length], batch.scores[row, :length], "recommend_batch")
    report["checked"].append("recommend_batch")
    if len(items):
        basket = model.item_map_.ids(np.arange(min(3, len(items))))
        recs = model.recommend_for_items(basket, 10)
        well_formed(recs.items, recs.scores, "recommend_for_items")
        report["checked"].append("recommend_for_items")
        try:
            similar = model.similar_items(basket[0], 10)
        except NotSupportedError:
            pass
        else:
            well_formed(similar.items, similar.scores, "similar_items")
            report["checked"].append("similar_items")
    return report
