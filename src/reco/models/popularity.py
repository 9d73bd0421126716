"""Popularity: the most popular items, optionally with recent interactions counting more."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._schema import Array
from .._validation import check_number, check_option
from ..base import Recommender
from ..data import Interactions
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["Popularity"]


class Popularity(Recommender):
    r"""Recommend the items with the highest (optionally time-decayed) popularity.

    .. math::

        \text{score}(i) = \sum_{(u, i, t)} w_{u,i} \; 2^{-(t_{\max} - t) / h}

    where :math:`w_{u,i}` is 1 (``measure="users"``: distinct users) or the interaction value
    (``measure="value"``), :math:`t_{\max}` is the latest time in the training data and
    :math:`h` the half-life (no decay when ``half_life`` is None). With ``"users"`` a repeated
    (user, item) pair counts once, at its latest time.

    Every user gets the same ranking (minus what they have seen), so it is the baseline every
    other model must beat, and the fallback for unknown users.

    Parameters
    ----------
    measure : {"users", "value"}
        Count distinct users, or sum interaction values (e.g. event weights, quantities).
    half_life : float, str, pandas.Timedelta or None
        Age at which an interaction counts half. A number is in the units of a numeric time
        column; for datetime data pass a duration such as ``"30D"`` or ``pd.Timedelta(weeks=2)``.
        Needs an :class:`Interactions` built with ``time=``.
    n_threads : int or None
        Threads for batch ranking (None: all cores).

    Attributes
    ----------
    scores_ : ndarray of float32 ``(n_items_,)``
        Each item's popularity.

    Examples
    --------
    >>> import pandas as pd
    >>> from reco.models import Popularity
    >>> log = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "a", "c"]})
    >>> model = Popularity().fit(log)
    >>> model.recommend(3, n=2).items.tolist()
    ['a', 'b']
    """

    _file_schema: ClassVar[dict[str, Any]] = {
        **Recommender._file_schema,
        "scores_": Array("float32", ("items",)),
    }
    personalised = False  # everyone gets the same ranking (seen items aside)

    def __init__(
        self,
        *,
        measure: Literal["users", "value"] = "users",
        half_life: Any = None,
        n_threads: int | None = None,
    ) -> None:
        self.measure = measure
        self.half_life = half_life
        self.n_threads = n_threads

    def _validate_params(self) -> None:
        super()._validate_params()
        check_option(self.measure, "measure", ("users", "value"))

    def _fit(self, data: Interactions) -> dict[str, Any]:
        if self.measure == "users":
            # rows are sorted by (user, item, time): the last row of a pair is its latest
            last = np.ones(len(data), dtype=bool)
            last[:-1] = (data.user_index[1:] != data.user_index[:-1]) | (
                data.item_index[1:] != data.item_index[:-1]
            )
            weights = np.ones(int(last.sum()), dtype=np.float64)
        else:
            last = slice(None)
            weights = data.value.astype(np.float64)
        if self.half_life is not None:
            weights = weights * self._decay(data, last)
        scores = np.bincount(data.item_index[last], weights=weights, minlength=data.n_items)
        return {"scores_": scores.astype(np.float32)}

    def _forget(self, rows: np.ndarray, remaining: Interactions) -> dict[str, Any]:
        """Counts of distinct users (no decay) lose the forgotten users' items, one each:
        whole numbers (below 2**24, exact in float32), so the subtraction is exact. Sums of
        values and decayed counts (their newest time may go with the users) are computed
        again."""
        exact = self.scores_.size == 0 or self.scores_.max() < 2**24  # whole in float32
        if self.measure != "users" or self.half_life is not None or not exact:
            return self._fit(remaining)
        theirs = np.bincount(self.history_[rows].indices, minlength=self.scores_.size)
        return {"scores_": (self.scores_ - theirs).astype(np.float32)}

    def _decay(self, data: Interactions, rows: Any) -> np.ndarray:
        if data.time is None:
            raise DataValidationError(
                "half_life needs timestamps, but the training data has none. Build it with "
                "Interactions.from_frame(frame, ..., time='timestamp'), or set half_life=None."
            )
        times = data.time[rows]
        if data.time.dtype.kind == "M":
            try:
                half_life = pd.Timedelta(self.half_life)
            except (ValueError, TypeError):
                half_life = None
            if half_life is None or pd.isna(half_life) or half_life <= pd.Timedelta(0):
                raise InvalidParameterError(
                    "half_life must be a positive duration for datetime data, such as '30D' or "
                    f"pandas.Timedelta(weeks=2); got {self.half_life!r}."
                )
            age = (data.time.max() - times) / np.timedelta64(1, "s")
            return np.exp2(-age / half_life.total_seconds())
        half_life = check_number(
            self.half_life,
            "half_life",
            low=0,
            low_open=True,
            hint="It is in the units of the numeric time column.",
        )
        age = (data.time.max() - times).astype(np.float64)
        return np.exp2(-age / half_life)

    def _score_users(self, user_index: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (user_index.size, self.scores_.size))

    def _score_history(self, history: sp.csr_array) -> np.ndarray:
        return np.broadcast_to(self.scores_, (history.shape[0], self.scores_.size))

    def _fallback_scores(self) -> np.ndarray:
        return self.scores_

    def _unknown_user_scores(self) -> np.ndarray:
        return self.scores_  # the model scores everyone alike: its own scale
