"""search(): random or grid search of hyper-parameters on a validation split of train."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_option, check_random_state
from ..base import Recommender
from ..exceptions import DataValidationError, InvalidParameterError
from . import metrics as m
from .evaluate import recommend_for_split
from .splitters import Split

__all__ = ["SearchResult", "search"]


@dataclass
class SearchResult:
    """Outcome of :func:`search`.

    Attributes
    ----------
    best_params : dict
    best_score : float
        Validation score of the best parameters.
    best_estimator : Recommender
        A fresh model with ``best_params``, refit on the whole ``split.train``.
    trace : DataFrame
        One row per candidate: its parameters, ``score``, ``fit_s``, ``score_s``.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import ItemKNN
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> found = search(ItemKNN(), {"k": [5, 20, 50]}, split, method="grid", n_iter=None)
    >>> found.best_estimator.get_params()["k"] == found.best_params["k"]
    True
    """

    best_params: dict
    best_score: float
    best_estimator: Recommender = field(repr=False)
    trace: pd.DataFrame = field(repr=False)


def _candidates(space: Mapping[str, Any], method: str, n_iter: int, rng: np.random.Generator):
    for name, values in space.items():
        is_distribution = hasattr(values, "rvs")
        if method == "grid" and is_distribution:
            raise InvalidParameterError(
                f"grid search needs a list of values for {name!r}; got a distribution."
            )
        if not is_distribution and (
            isinstance(values, (str, bytes))
            or not hasattr(values, "__iter__")
            or len(list(values)) == 0
        ):
            raise InvalidParameterError(
                f"space[{name!r}] must be a non-empty list of values or a scipy.stats "
                f"distribution; got {values!r}."
            )
    names = list(space)
    if method == "grid":
        grid = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(list(space[n]) for n in names))
        ]
        return grid if n_iter is None else grid[:n_iter]
    out = []
    for _ in range(n_iter):
        params = {}
        for name in names:
            values = space[name]
            if hasattr(values, "rvs"):
                params[name] = values.rvs(random_state=rng)
                if isinstance(params[name], np.generic):
                    params[name] = params[name].item()
            else:
                options = list(values)
                params[name] = options[int(rng.integers(len(options)))]
        out.append(params)
    return out


def search(
    estimator: Recommender,
    space: Mapping[str, Any],
    split: Split,
    metric: str = "ndcg",
    k: int = 10,
    *,
    n_iter: int | None = 20,
    method: str = "random",
    random_state: Any = None,
    show_progress: bool = False,
) -> SearchResult:
    """Tune ``estimator`` on a validation split carved out of ``split.train``.

    The validation split is made from the training part with the same recipe as ``split``
    (``split.resplit(split.train)``); the test part is never looked at. Each candidate is
    fit on the validation training part and scored by ``metric@k`` (mean over validation
    users); the best parameters are refit on the whole ``split.train``.

    Parameters
    ----------
    space : mapping
        Parameter name -> list of values, or a scipy.stats distribution (random search).
    method : {"random", "grid"}
        Random draws (``n_iter`` of them), or the full grid (cut to ``n_iter`` if given).

    Returns
    -------
    SearchResult
        ``best_params``, ``best_score``, ``best_estimator`` (refit on ``split.train``) and the
        ``trace`` of every candidate.

    Raises
    ------
    InvalidParameterError
        A parameter the estimator does not have, an empty space, or a bad ``method`` or
        ``n_iter``.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(400, 50, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id",
    ...                             time="timestamp")
    >>> from reco.models import EASE
    >>> split = random_holdout(X, test_size=0.2, random_state=0)
    >>> found = search(EASE(), {"regularization": [10.0, 100.0]}, split, method="grid", n_iter=None)
    >>> found.best_params["regularization"] in (10.0, 100.0), len(found.trace)
    (True, 2)
    """
    if not isinstance(estimator, Recommender):
        raise InvalidParameterError(
            f"estimator must be a reco Recommender; got {type(estimator).__name__}."
        )
    if not isinstance(split, Split):
        raise DataValidationError(f"split must be a reco Split; got {type(split).__name__}.")
    if not isinstance(space, Mapping) or not space:
        raise InvalidParameterError("space must be a non-empty dict of parameter -> values.")
    unknown = sorted(set(space) - set(estimator.get_params()))
    if unknown:
        raise InvalidParameterError(
            f"space names parameter(s) {unknown} that {type(estimator).__name__} does not have; "
            f"its parameters are {sorted(estimator.get_params())}."
        )
    check_option(method, "method", ("random", "grid"))
    if metric not in m.ACCURACY:
        raise InvalidParameterError(f"metric must be one of {sorted(m.ACCURACY)}; got {metric!r}.")
    k = check_int(k, "k", low=1)
    if n_iter is not None:
        n_iter = check_int(n_iter, "n_iter", low=1)
    elif method == "random":
        raise InvalidParameterError("random search needs n_iter (the number of draws).")
    rng = check_random_state(random_state)
    validation = split.resplit(split.train)
    candidates = _candidates(space, method, n_iter, rng)
    if show_progress:
        from tqdm.auto import tqdm

        candidates = tqdm(candidates, desc=f"search {type(estimator).__name__}")
    rows = []
    for params in candidates:
        model = _clone(estimator).set_params(**params)
        started = time.perf_counter()
        model.fit(validation.train)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        recs = recommend_for_split(model, validation, k)
        judged = m.judge(recs, validation.test, k)
        values = m.ACCURACY[metric](judged, k)[judged.n_relevant > 0]
        rows.append(
            {
                **params,
                "score": float(values.mean()) if values.size else np.nan,
                "fit_s": fit_s,
                "score_s": time.perf_counter() - started,
            }
        )
    trace = pd.DataFrame(rows)
    scores = trace["score"].to_numpy()
    if np.isnan(scores).all():
        raise DataValidationError(
            f"no validation user has a relevant item, so no candidate could be scored on "
            f"{metric!r}; the validation carve left the held-out rows empty. Use a larger "
            "split.train, or a splitter that leaves more rows per user."
        )
    best_row = int(np.nanargmax(scores))
    best_params = {name: rows[best_row][name] for name in space}
    best = _clone(estimator).set_params(**best_params).fit(split.train)
    return SearchResult(best_params, float(trace["score"].iloc[best_row]), best, trace)


def _clone(estimator: Any) -> Any:
    """An unfitted copy (reco's clone: no scikit-learn import for reco's own models)."""
    from .._params import clone

    return clone(estimator)
