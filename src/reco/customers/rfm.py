"""RFM scoring: recency, frequency and monetary scores, cells and named segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._schema import FloatDict, Scalar
from .._validation import check_finite, check_int, check_option
from ..base import Estimator
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["DEFAULT_SEGMENTS", "RFMScorer"]

#: (segment, allowed R scores, allowed F scores) on 1-5 scores; the first match wins.
#: F here is the mean of the frequency and monetary scores, rounded, as in the usual RFM
#: segment grid.
DEFAULT_SEGMENTS: list[tuple[str, Sequence[int], Sequence[int]]] = [
    ("Champions", (5, 4), (5, 4)),
    ("Cannot Lose Them", (1, 2), (5,)),
    ("At Risk", (1, 2), (3, 4)),
    ("Loyal", (3, 4, 5), (3, 4, 5)),
    ("Potential Loyalists", (4, 5), (2, 3)),
    ("New", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need Attention", (3,), (3,)),
    ("About to Sleep", (3,), (1, 2)),
    ("Hibernating", (2,), (1, 2)),
    ("Lost", (1,), (1, 2)),
]


class RFMScorer(Estimator):
    r"""Recency, frequency and monetary scores from 1 (worst) to ``bins`` (best).

    Input: a :func:`reco.customers.summary` frame. Recency for RFM is the time since the last
    purchase, :math:`T - t_x` (lower is better); frequency is all purchases,
    :math:`x + 1`; monetary is ``monetary_value`` (mean repeat spend) when present.

    ``method="quantile"`` learns bin edges from the fitted customers' ranks (ties share a
    score); ``method="fixed"`` uses the edges given in ``edges`` (a dict of three increasing
    lists of ``bins - 1`` cut points for ``recency``, ``frequency``, ``monetary``). Segments
    follow :data:`DEFAULT_SEGMENTS` (documented rules; pass ``segments=`` to override) on 5
    bins.

    The default grid is the widely used 11-segment R x FM table (R on one axis, the rounded
    mean of F and M on the other: Champions R 4-5 and FM 4-5, Loyal R 3-5 and FM 3-5, At Risk
    R 1-2 and FM 3-4, Cannot Lose Them R 1-2 and FM 5, ..., Lost R 1 and FM 1-2). Its scores are
    *relative*: with quantile bins, R = 4 means "among the 40% most recent", whatever that is
    in days. On a log where most customers bought once long ago that can be a year: on CDNOW
    (23,570 customers, observed to June 1998) R = 4 spans 141-432 days since the last purchase,
    and 37% of customers are Champions, 872 of them silent for over a year. For absolute
    meaning pass ``method="fixed"`` with business cut points, e.g.
    ``edges={"recency": [30, 90, 180, 365], ...}`` in days since the last purchase (30 or
    fewer scores R = 5, over 365 scores R = 1).

    Attributes
    ----------
    edges_ : dict of arrays
        Cut points per dimension (in the dimension's own units).

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-20", "2024-01-20",
    ...                                  "2024-03-01", "2024-02-02", "2024-01-10", "2024-03-25"]),
    ...     "value": [20.0, 35.0, 15.0, 50.0, 40.0, 12.0, 30.0, 25.0],
    ... })
    >>> table = summary(orders, value="value", observation_end="2024-03-31")
    >>> scores = RFMScorer(bins=2).fit_transform(table)
    >>> list(scores.columns)
    ['R', 'F', 'M', 'cell', 'segment']
    """

    def __init__(
        self, *, bins: int = 5, method: str = "quantile", edges: Any = None, segments: Any = None
    ) -> None:
        self.bins = bins
        self.method = method
        self.edges = edges
        self.segments = segments

    @staticmethod
    def _dimensions(summary: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(summary, pd.DataFrame) or not {"frequency", "recency", "T"} <= set(
            summary.columns
        ):
            raise DataValidationError(
                "RFMScorer needs a summary frame with frequency, recency and T columns "
                "(reco.customers.summary)."
            )
        out = pd.DataFrame(
            {
                "recency": (summary["T"] - summary["recency"]).to_numpy(np.float64),
                "frequency": (summary["frequency"] + 1).to_numpy(np.float64),
            },
            index=summary.index,
        )
        if "monetary_value" in summary.columns:
            out["monetary"] = summary["monetary_value"].to_numpy(np.float64)
        for name in ("frequency", "recency", "T"):
            check_finite(summary[name].to_numpy(), f"summary column {name!r}")
            if (summary[name] < 0).any():
                raise DataValidationError(
                    f"summary column {name!r} must be non-negative; found "
                    f"{int((summary[name] < 0).sum())} negative value(s)."
                )
        if (out["recency"] < 0).any():
            raise DataValidationError(
                "recency must not exceed T (a last purchase after the end of observation); "
                f"found {int((out['recency'] < 0).sum())} such customer(s)."
            )
        if "monetary" in out:
            check_finite(out["monetary"].to_numpy(), "summary column 'monetary_value'")
        return out

    _file_schema: ClassVar[dict[str, Any]] = {
        "edges_": FloatDict(lists=True),
        "bins_": Scalar((int,), low=2, high=10),
    }

    def _validate_params(self) -> None:
        check_int(self.bins, "bins", low=2, high=10)
        check_option(self.method, "method", ("quantile", "fixed"))

    def _after_load(self) -> None:
        names = {"recency", "frequency"}
        if not names <= set(self.edges_) <= names | {"monetary"} or any(
            len(edges) != self.bins_ - 1 for edges in self.edges_.values()
        ):
            raise DataValidationError(
                "model file is invalid: edges_ must hold recency, frequency (and monetary) "
                f"with {self.bins_ - 1} cut points each. Save the model again."
            )
        self.edges_ = {name: np.asarray(e, np.float64) for name, e in self.edges_.items()}

    def fit(self, summary: pd.DataFrame, y: None = None) -> RFMScorer:
        self._validate_params()
        bins = int(self.bins)
        values = self._dimensions(summary)
        edges = {}
        for name in values.columns:
            if self.method == "fixed":
                given = (self.edges or {}).get(name)
                try:
                    given = None if given is None else np.asarray(given, np.float64)
                except (TypeError, ValueError):
                    given = None
                if (
                    given is None
                    or given.ndim != 1
                    or len(given) != bins - 1
                    or not np.isfinite(given).all()
                    or np.any(np.diff(given) <= 0)
                ):
                    raise InvalidParameterError(
                        f"method='fixed' needs edges[{name!r}]: {bins - 1} increasing cut "
                        f"points; got {given!r}."
                    )
                edges[name] = np.asarray(given, np.float64)
            else:
                quantiles = np.linspace(0, 1, bins + 1)[1:-1]
                edges[name] = np.quantile(values[name].to_numpy(), quantiles)
        self._set_fitted({"edges_": edges, "bins_": bins})
        return self

    def transform(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Scores ``R``, ``F``, ``M`` (1..bins, higher is better), ``cell`` ("545") and
        ``segment`` per customer."""
        self._check_fitted()
        values = self._dimensions(summary)
        out = pd.DataFrame(index=summary.index)
        for name, column in (("recency", "R"), ("frequency", "F"), ("monetary", "M")):
            if name not in values.columns:
                continue
            # level = cut points strictly below the value: ties at a cut point (common with
            # quantile cuts on skewed data, e.g. most customers buying once) take the lower bin
            level = np.searchsorted(self.edges_[name], values[name].to_numpy(), side="left")
            score = self.bins_ - level if name == "recency" else level + 1
            out[column] = score.astype(np.int8)
        # one digit per score (bins <= 10 gives 1..10; "10" keeps its two digits)
        cell = out.iloc[:, 0].astype(str)
        for column in out.columns[1:]:
            cell = cell + out[column].astype(str)
        out["cell"] = cell
        out["segment"] = self._segment(out)
        return out

    def fit_transform(self, summary: pd.DataFrame, y: None = None) -> pd.DataFrame:
        return self.fit(summary).transform(summary)

    def _segment(self, scores: pd.DataFrame) -> pd.Series:
        rules = DEFAULT_SEGMENTS if self.segments is None else self.segments
        r = scores["R"].to_numpy()
        fm = scores["F"].to_numpy().astype(float)
        if "M" in scores.columns:
            fm = np.floor((fm + scores["M"].to_numpy()) / 2 + 0.5)
        if self.bins_ != 5:  # rules are written on a 1-5 scale
            r = np.ceil(r * 5 / self.bins_)
            fm = np.ceil(fm * 5 / self.bins_)
        labels = np.full(len(scores), "Other", dtype=object)
        done = np.zeros(len(scores), bool)
        for name, allowed_r, allowed_f in rules:
            hit = ~done & np.isin(r, allowed_r) & np.isin(fm, allowed_f)
            labels[hit] = name
            done |= hit
        return pd.Series(labels, index=scores.index, name="segment")

    def migration(self, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
        """Customers moving between segments from one summary (date) to another: a
        before-segment x after-segment count table (customers present in both)."""
        old = self.transform(before)["segment"]
        new = self.transform(after)["segment"]
        both = old.index.intersection(new.index)
        return pd.crosstab(old.loc[both], new.loc[both], rownames=["before"], colnames=["after"])
