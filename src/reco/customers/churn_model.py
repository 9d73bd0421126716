r"""ChurnModel: a calibrated classifier of P(churn) trained on earlier cutoffs of the same log.

To score customers at a cutoff :math:`c` with horizon :math:`h`, the model is trained at
cutoffs :math:`c - h - k\,s` (:math:`k = 0 \dots` ``n_cutoffs`` - 1, spacing :math:`s`), whose
label windows all end by :math:`c`: it never sees the label window of the cutoff it scores.
Customers are split once into a training part and a held-out part (``holdout_size``); the
classifier learns on the first, the calibration map (isotonic or sigmoid) and the permutation
importances come from the second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_number, check_option, check_random_state
from ..base import Estimator
from ..exceptions import DataValidationError, InvalidParameterError, NotSupportedError
from ._log import PurchaseLog, as_duration, as_timestamp, days
from .churn import _check_windows, _since, features_at, labels_at, parse_inputs

__all__ = ["ChurnModel"]

_MAX_HELD_ROWS = 100_000  # held-out rows kept for feature_importances()


def default_classifier(random_state: Any = None) -> Any:
    """The default estimator: gradient-boosted trees that take NaN and categories as they are."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=50,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        categorical_features="from_dtype",
        random_state=random_state,
    )


class ChurnModel(Estimator):
    """P(churn within ``horizon``) per customer, from purchases (and browsing).

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Any classifier with ``predict_proba``; default a ``HistGradientBoostingClassifier``
        (see :func:`default_classifier`). It is cloned, never changed.
    calibration : {"isotonic", "sigmoid", None}
        Map from the classifier's score to a probability, fitted on the held-out customers.
    horizon : days or offset
        Length of the churn window (``90`` or ``"26W"``).
    n_cutoffs : int
        Training cutoffs stacked by :meth:`fit` (fewer when the log is too short).
    cutoff_spacing : days or offset, optional
        Distance between training cutoffs; default the horizon.
    active_since : days or offset, optional
        Train and score only customers who bought within this time before the cutoff.
    windows : tuple of int
        Feature windows in days (see :func:`churn_features`).
    holdout_size : float in (0, 1)
        Share of customers held out for calibration and importances.
    random_state : int, Generator or None

    Attributes
    ----------
    estimator_ : the fitted classifier
    calibrator_ : the fitted calibration map, or None
    feature_names_ : list of str
    categories_ : dict of column -> categories (``fit_table`` with categorical columns)
    training_cutoffs_ : list of Timestamp
    holdout_scores_ : dict with ``roc_auc``, ``brier`` and ``n`` on the held-out customers

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(2000, 100, random_state=0)
    >>> model = ChurnModel(horizon=60, random_state=0).fit(
    ...     shop.orders, value="total", cutoff="2024-12-01")
    >>> risk = model.predict_proba(shop.orders, value="total", cutoff="2024-12-01")
    >>> bool(risk.between(0, 1).all())
    True
    """

    def __init__(
        self,
        *,
        estimator: Any = None,
        calibration: str | None = "isotonic",
        horizon: Any = 90,
        n_cutoffs: int = 3,
        cutoff_spacing: Any = None,
        active_since: Any = None,
        windows: tuple[int, ...] = (30, 90, 365),
        holdout_size: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.horizon = horizon
        self.n_cutoffs = n_cutoffs
        self.cutoff_spacing = cutoff_spacing
        self.active_since = active_since
        self.windows = windows
        self.holdout_size = holdout_size
        self.random_state = random_state

    # -- parameters ---------------------------------------------------------------------------
    def _validated(self) -> dict[str, Any]:
        check_option(self.calibration, "calibration", ("isotonic", "sigmoid", None))
        horizon = as_duration(self.horizon, "horizon")
        spacing = (
            horizon
            if self.cutoff_spacing is None
            else as_duration(self.cutoff_spacing, "cutoff_spacing")
        )
        if self.estimator is not None and not hasattr(self.estimator, "predict_proba"):
            raise InvalidParameterError(
                f"estimator must be a scikit-learn classifier with predict_proba; got "
                f"{type(self.estimator).__name__}. Pass e.g. LogisticRegression() or None."
            )
        return {
            "horizon": horizon,
            "spacing": spacing,
            "n_cutoffs": check_int(self.n_cutoffs, "n_cutoffs", low=1, high=100),
            "windows": _check_windows(self.windows),
            "holdout": check_number(
                self.holdout_size, "holdout_size", low=0, high=1, low_open=True, high_open=True
            ),
            "rng": check_random_state(self.random_state),
        }

    # -- fit on a log -------------------------------------------------------------------------
    def fit(
        self,
        transactions: pd.DataFrame,
        *,
        customer: str = "customer_id",
        time: str = "timestamp",
        value: str | None = None,
        cutoff: Any = None,
        events: pd.DataFrame | None = None,
        order: str | None = None,
        category: str | None = None,
        event: str = "event",
    ) -> ChurnModel:
        """Train on labelled cutoffs before ``cutoff`` (default: the log's last time).

        Rows after ``cutoff`` are ignored. The latest training cutoff is
        ``cutoff - horizon``, so its label window ends at ``cutoff``.
        """
        log, browsing, end = parse_inputs(
            transactions, customer, time, value, order, category, events, event, cutoff
        )
        return self._fit_log(log, end, browsing)

    def training_cutoffs(self, log_start: Any, cutoff: Any) -> list[pd.Timestamp]:
        """The cutoffs :meth:`fit` trains at for scoring at ``cutoff``."""
        p = self._validated()
        return [
            pd.Timestamp(c)
            for c in self._cutoffs(
                p, as_timestamp(log_start, "start"), as_timestamp(cutoff, "cutoff")
            )
        ]

    @staticmethod
    def _cutoffs(p: dict, start: np.datetime64, end: np.datetime64) -> list[np.datetime64]:
        out = []
        for k in range(p["n_cutoffs"]):
            at = end - p["horizon"] - k * p["spacing"]
            if at <= start:
                break
            out.append(at)
        if not out:
            raise DataValidationError(
                f"the log is too short to train at {pd.Timestamp(end)}: the first training "
                f"cutoff ({pd.Timestamp(end - p['horizon'])} = cutoff - horizon) precedes or "
                f"equals the first transaction ({pd.Timestamp(start)}). Use a later cutoff or "
                "a shorter horizon."
            )
        return out[::-1]

    def _training_table(self, log, end, browsing, p) -> tuple[pd.DataFrame, np.ndarray, list]:
        frames, labels, cutoffs = [], [], self._cutoffs(p, log.first_time, end)
        for at in cutoffs:
            y = labels_at(log, at, p["horizon"], self.active_since, observation_end=end)
            X = features_at(log, at, p["windows"], browsing, p["horizon"], True)
            frames.append(X.loc[y.index])
            labels.append(y.to_numpy())
        return pd.concat(frames), np.concatenate(labels), cutoffs

    def _fit_log(self, log: PurchaseLog, end: np.datetime64, browsing: Any) -> ChurnModel:
        p = self._validated()
        X, y, cutoffs = self._training_table(log, end, browsing, p)
        learned = self._fit_arrays(X, y, p)
        learned["training_cutoffs_"] = [pd.Timestamp(c) for c in cutoffs]
        learned["horizon_days_"] = float(days(p["horizon"]))
        self._set_fitted(learned)
        return self

    # -- fit on a ready table -----------------------------------------------------------------
    def fit_table(self, X: pd.DataFrame, y: Any) -> ChurnModel:
        """Train on a ready feature table (e.g. a contractual business's customer table).

        ``X``: one row per customer, numeric, bool or categorical (str) columns; NaN allowed
        with the default estimator. ``y``: 1/True = churned, 0/False = stayed.
        """
        p = self._validated()
        if not isinstance(X, pd.DataFrame):
            raise DataValidationError(
                f"X must be a pandas DataFrame of features; got {type(X).__name__}."
            )
        if len(X) == 0 or X.shape[1] == 0:
            raise DataValidationError(f"X must have rows and columns; got shape {X.shape}.")
        learned = self._fit_arrays(X, _binary_labels(y, len(X)), p)
        learned["training_cutoffs_"] = []
        learned["horizon_days_"] = float(days(p["horizon"]))
        self._set_fitted(learned)
        return self

    def _fit_arrays(self, X: pd.DataFrame, y: np.ndarray, p: dict) -> dict[str, Any]:
        from sklearn.base import clone

        _check_two_classes(y)
        categories = {
            str(c): pd.Index(pd.unique(X[c].dropna().astype(str)))
            for c in X.columns
            if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])
        }
        names = [str(c) for c in X.columns]
        table = _encode(X, names, categories, self.estimator is None)
        held = _held_out(X.index, p["holdout"], p["rng"])
        if y[~held].min() == y[~held].max() or y[held].min() == y[held].max():
            held = _held_out_stratified(y, p["holdout"], p["rng"])
        seed = int(p["rng"].integers(2**31 - 1))
        estimator = default_classifier(seed) if self.estimator is None else clone(self.estimator)
        estimator.fit(table[~held], y[~held])
        score = _positive_score(estimator, table[held])
        calibrator = _fit_calibrator(self.calibration, score, y[held])
        keep = np.flatnonzero(held)
        if keep.size > _MAX_HELD_ROWS:
            keep = np.sort(p["rng"].choice(keep, _MAX_HELD_ROWS, replace=False))
        probability = _apply_calibrator(calibrator, score)
        return {
            "estimator_": estimator,
            "calibrator_": calibrator,
            "feature_names_": names,
            "categories_": categories,
            "n_train_rows_": int((~held).sum()),
            "holdout_scores_": _scores(y[held], probability),
            "_held_X": table.iloc[keep],
            "_held_y": y[keep],
        }

    def _set_fitted(self, learned: dict[str, Any]) -> None:
        private = {k: learned.pop(k) for k in [k for k in learned if k.startswith("_")]}
        super()._set_fitted(learned)
        self.__dict__.update(private)

    # -- predictions --------------------------------------------------------------------------
    def predict_proba_table(self, X: pd.DataFrame) -> pd.Series:
        """Calibrated P(churn) for each row of a feature table shaped like the training one."""
        self._check_fitted()
        if not isinstance(X, pd.DataFrame):
            raise DataValidationError(
                f"X must be a pandas DataFrame of features; got {type(X).__name__}."
            )
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise DataValidationError(
                f"X lacks {len(missing)} feature column(s) the model was fitted on: "
                f"{missing[:5]}; columns present: {list(X.columns)[:10]}."
            )
        table = _encode(X, self.feature_names_, self.categories_, self.estimator is None)
        score = _positive_score(self.estimator_, table)
        return pd.Series(_apply_calibrator(self.calibrator_, score), index=X.index, name="p_churn")

    def predict_proba(
        self,
        transactions: pd.DataFrame,
        *,
        customer: str = "customer_id",
        time: str = "timestamp",
        value: str | None = None,
        cutoff: Any = None,
        events: pd.DataFrame | None = None,
        order: str | None = None,
        category: str | None = None,
        event: str = "event",
    ) -> pd.Series:
        """P(no purchase in ``(cutoff, cutoff + horizon]``) per customer known at ``cutoff``."""
        self._check_fitted()
        if not self.training_cutoffs_:
            raise NotSupportedError(
                "this ChurnModel was fitted with fit_table; score a feature table with "
                "predict_proba_table(X)."
            )
        log, browsing, at = parse_inputs(
            transactions, customer, time, value, order, category, events, event, cutoff
        )
        return self._predict_log(log, at, browsing)

    def features(
        self, log: PurchaseLog, at: np.datetime64, browsing: Any, population: Any = None
    ) -> pd.DataFrame:
        """The feature table at ``at`` for the customers this model scores (``population``:
        the statistics of all customers, when ``log`` holds only some of them)."""
        p = self._validated()
        X = features_at(log, at, p["windows"], browsing, p["horizon"], True, population)
        if self.active_since is not None:
            since = _since(self.active_since, at)
            recent = np.unique(log.code[(log.time <= at) & (log.time >= since)])
            X = X.loc[X.index.isin(log.ids[recent])]
        return X

    def _predict_log(
        self, log: PurchaseLog, at: np.datetime64, browsing: Any, population: Any = None
    ) -> pd.Series:
        return self._predict_features(self.features(log, at, browsing, population))

    def _predict_features(self, X: pd.DataFrame) -> pd.Series:
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise DataValidationError(
                f"the log lacks what the model was trained with ({missing[:5]}); pass the "
                "same value/order/category/events arguments as to fit."
            )
        return self.predict_proba_table(X[self.feature_names_])

    def feature_importances(self, n_repeats: int = 5) -> pd.DataFrame:
        """Permutation importance on the held-out customers: the drop in ROC-AUC when one
        feature's values are shuffled (mean and standard deviation over ``n_repeats``)."""
        from sklearn.inspection import permutation_importance

        self._check_fitted()
        n_repeats = check_int(n_repeats, "n_repeats", low=1, high=100)
        if np.unique(self._held_y).size < 2:  # pragma: no cover - stratified split prevents it
            raise DataValidationError("the held-out customers hold one class only.")
        result = permutation_importance(
            self.estimator_,
            self._held_X,
            self._held_y,
            scoring="roc_auc",
            n_repeats=n_repeats,
            random_state=0,
        )
        out = pd.DataFrame(
            {
                "feature": self.feature_names_,
                "importance": result.importances_mean,
                "std": result.importances_std,
            }
        )
        return out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)

    def drivers(self, X: pd.DataFrame, n: int = 3) -> pd.DataFrame:
        """The ``n`` features that raise each row's P(churn) most above a retained customer's.

        Each numeric feature in turn is set to its median over the held-out customers who
        stayed (the typical retained customer); the drop in P(churn) is that feature's
        effect. Only features with a positive effect are listed, so a row may have fewer
        than ``n``. Returns long rows: ``customer``, ``feature``, ``value``, ``typical`` and
        ``effect`` (largest first per customer).
        """
        self._check_fitted()
        n = check_int(n, "n", low=1)
        base = self.predict_proba_table(X).to_numpy()
        typical = self._held_X[self._held_y == 0].median(numeric_only=True)
        names = [name for name in self.feature_names_ if name in typical.index]
        effects = np.zeros((len(X), len(names)))
        for column, name in enumerate(names):  # one feature at a time
            # a row already at the typical value keeps its P(churn): effect 0, not predicted
            differ = np.flatnonzero(~(X[name] == typical[name]).to_numpy())
            if differ.size:
                changed = X.iloc[differ].copy()
                changed[name] = typical[name]
                effects[differ, column] = (
                    base[differ] - self.predict_proba_table(changed).to_numpy()
                )
        # per row, the n largest positive effects (ties: the earlier feature)
        order = np.argsort(-effects, axis=1, kind="stable")[:, :n]
        picked = np.take_along_axis(effects, order, axis=1)
        keep = picked > 0
        rows = np.repeat(np.arange(len(X)), keep.sum(axis=1))
        columns = order[keep]
        values = X[names].to_numpy(np.float64) if names else np.zeros((len(X), 0))
        return pd.DataFrame(
            {
                "customer": np.asarray(X.index)[rows],
                "feature": np.asarray(names, dtype=object)[columns],
                "value": values[rows, columns],
                "typical": typical[names].to_numpy(np.float64)[columns],
                "effect": picked[keep],
            }
        )

    def save(self, path: Any) -> None:
        raise NotSupportedError(
            "ChurnModel holds a scikit-learn classifier, which cannot be stored without "
            "pickle; reco model files never use pickle. Refit it from the log (fit is "
            "deterministic with a fixed random_state), or store the classifier with skops."
        )


def _binary_labels(y: Any, n: int) -> np.ndarray:
    values = pd.Series(y).to_numpy() if not isinstance(y, np.ndarray) else y
    if values.ndim != 1 or values.size != n:
        raise DataValidationError(
            f"y must hold one label per row of X ({n}); got shape {np.shape(values)}."
        )
    if values.dtype.kind == "b":
        return values.astype(np.int8)
    if values.dtype.kind in "iuf" and np.isin(values, (0, 1)).all():
        return values.astype(np.int8)
    shown = pd.unique(pd.Series(values))[:5].tolist()
    raise DataValidationError(
        f"y must hold 1 (churned) and 0 (stayed), or True/False; got values {shown}. Map "
        "them first, e.g. (y == 'Yes').astype(int)."
    )


def _check_two_classes(y: np.ndarray) -> None:
    if y.size == 0:
        raise DataValidationError("there are no labelled customers to train on.")
    if y.min() == y.max():
        which = "churned (1)" if y[0] == 1 else "stayed (0)"
        raise DataValidationError(
            f"every training customer {which}: a classifier needs both classes. Pick another "
            "cutoff or horizon (a longer horizon gives fewer churners, a shorter one more), or "
            "check the log's dates."
        )
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise DataValidationError(
            f"only {int(counts.min())} training customer(s) of one class (churned "
            f"{int(counts[1])}, stayed {int(counts[0])}); at least 2 of each are needed."
        )


def _encode(X: pd.DataFrame, names: list[str], categories: dict, native: bool) -> pd.DataFrame:
    """Categorical columns with the training categories: pandas categoricals for the
    default trees (they split on categories), one-hot columns for any other estimator."""
    table = X[names].copy() if list(X.columns) != names else X.copy()
    for name, cats in categories.items():
        text = table[name].astype(str).where(table[name].notna())
        # categories not seen in training are missing values, as NaN is
        table[name] = pd.Categorical(text.where(text.isin(cats)), cats)
    if native or not categories:
        return table
    return pd.get_dummies(table, columns=list(categories), dtype=np.float64)


def _held_out(index: pd.Index, share: float, rng: np.random.Generator) -> np.ndarray:
    """True for rows of held-out customers; all rows of one customer fall on one side."""
    codes, uniques = pd.factorize(index)
    chosen = rng.random(uniques.size) < share
    return chosen[codes]


def _held_out_stratified(y: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    held = np.zeros(y.size, dtype=bool)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        take = min(max(1, round(share * rows.size)), rows.size - 1)
        held[rng.choice(rows, take, replace=False)] = True
    return held


def _positive_score(estimator: Any, table: pd.DataFrame) -> np.ndarray:
    classes = list(estimator.classes_)
    return estimator.predict_proba(table)[:, classes.index(1)].astype(np.float64)


def _fit_calibrator(method: str | None, score: np.ndarray, y: np.ndarray) -> Any:
    if method is None:
        return None
    if np.unique(y).size < 2:
        raise DataValidationError(
            "the held-out customers hold one class only, so the calibration cannot be fitted; "
            "raise holdout_size or pass calibration=None."
        )
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e6).fit(_logit(score)[:, None], y)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


def _apply_calibrator(calibrator: Any, score: np.ndarray) -> np.ndarray:
    if calibrator is None:
        return score
    if hasattr(calibrator, "transform"):
        return np.clip(calibrator.transform(score), 0.0, 1.0)
    return calibrator.predict_proba(_logit(score)[:, None])[:, 1]


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "brier": float(np.mean((p - y) ** 2)),
        "n": int(y.size),
    }
