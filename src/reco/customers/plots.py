"""Plots for customer models (matplotlib, the ``plot`` extra). Each returns an Axes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._plotting import axes
from .._validation import check_int, check_number
from ..exceptions import InvalidParameterError

__all__ = ["plot_calibration_holdout", "plot_frequency_recency", "plot_tracking"]


def plot_frequency_recency(
    model: Any,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    kind: str = "expected",
    horizon: float = 1.0,
    ax: Any = None,
):
    """Heat map over frequency x recency of expected purchases in the next ``horizon``
    (``kind="expected"``) or of P(alive) (``kind="alive"``), for customers observed for T.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD
        A fitted purchase model.
    T : float, optional
        Age of the customers drawn (default: the largest T fitted).
    max_frequency : int, optional
        Largest frequency drawn.
    kind : {"expected", "alive"}
        What the colour shows.
    horizon : float
        Periods ahead for ``kind="expected"``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        A bad ``kind``, ``T`` or ``horizon``.

    Examples
    --------
    >>> model = BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_frequency_recency(model, T=39, max_frequency=10, kind="alive")
    >>> bool(ax.get_xlabel() and ax.get_ylabel() and ax.get_title())
    True
    """
    if kind not in ("expected", "alive"):
        raise InvalidParameterError(f"kind must be 'expected' or 'alive'; got {kind!r}.")
    ax = axes(ax)
    fitted_on_data = np.size(getattr(model, "frequency_", ())) > 0
    if not fitted_on_data and (T is None or max_frequency is None):
        raise InvalidParameterError(
            f"{type(model).__name__} was built from parameters, not fitted on customers, so "
            "there is no T or frequency range to draw; pass T= and max_frequency=."
        )
    T = float(np.max(model.T_)) if T is None else check_number(T, "T", low=0, low_open=True)
    max_frequency = (
        int(np.max(model.frequency_))
        if max_frequency is None
        else check_int(max_frequency, "max_frequency", low=1)
    )
    frequencies = np.arange(max_frequency + 1)
    recencies = np.linspace(0, T, 50)
    grid_f, grid_r = np.meshgrid(frequencies, recencies, indexing="ij")
    grid_r = np.where(grid_f == 0, 0.0, np.maximum(grid_r, 1e-9))
    flat = {"frequency": grid_f.ravel(), "recency": grid_r.ravel(), "T": np.full(grid_f.size, T)}
    values = (
        model.probability_alive(**flat)
        if kind == "alive"
        else model.conditional_expected_purchases(horizon, **flat)
    )
    image = ax.imshow(
        values.reshape(grid_f.shape),
        aspect="auto",
        origin="lower",
        extent=(0, T, 0, max_frequency),
        cmap="viridis",
    )
    ax.figure.colorbar(
        image, ax=ax, label="P(alive)" if kind == "alive" else f"expected purchases in {horizon:g}"
    )
    ax.set_xlabel("recency (time of last purchase)")
    ax.set_ylabel("frequency (repeat purchases)")
    what = "P(alive)" if kind == "alive" else f"Expected purchases in the next {horizon:g}"
    ax.set_title(f"{what} of a customer observed for T = {T:g}")
    return ax


def plot_calibration_holdout(check: Any, *, ax: Any = None):
    """Mean holdout purchases by calibration frequency: model against actual.

    Parameters
    ----------
    check : HoldoutCheck
        From :func:`evaluate_holdout`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, calibration_end="2024-09-30")
    >>> model = BetaGeo().fit(table)
    >>> check = evaluate_holdout(model, table)
    >>> ax = plot_calibration_holdout(check)
    >>> bool(ax.get_xlabel() and ax.get_title())
    True
    """
    ax = axes(ax)
    table: pd.DataFrame = check.by_frequency
    ax.plot(table.index, table["actual"], marker="o", label="actual")
    ax.plot(table.index, table["predicted"], marker="s", label="model")
    ax.set_xlabel("purchases in calibration (last: or more)")
    ax.set_ylabel("mean purchases in holdout")
    ax.set_title("Holdout purchases by calibration frequency")
    ax.legend()
    return ax


def plot_tracking(curves: pd.DataFrame, *, calibration_end: Any = None, ax: Any = None):
    """Cumulative repeat purchases, actual against expected (from :func:`tracking`).

    Parameters
    ----------
    curves : DataFrame
        From :func:`tracking`.
    calibration_end : date, optional
        Drawn as a vertical line.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> table = summary(shop.order_lines, calibration_end="2024-09-30")
    >>> curves = tracking(BetaGeo().fit(table), shop.order_lines, freq="W")
    >>> ax = plot_tracking(curves, calibration_end="2024-09-30")
    >>> bool(ax.get_ylabel() and ax.get_title())
    True
    """
    ax = axes(ax)
    ax.plot(curves.index, curves["actual"], label="actual")
    ax.plot(curves.index, curves["expected"], linestyle="--", label="model")
    if calibration_end is not None:
        ax.axvline(pd.Timestamp(calibration_end), color="grey", linewidth=1)
    ax.set_xlabel("date")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title("Cumulative repeat purchases: model against actual")
    ax.figure.autofmt_xdate()
    ax.legend()
    return ax


def _backtest_rows(result: Any, frame: pd.DataFrame, cutoff: Any) -> tuple[pd.DataFrame, Any]:
    cutoffs = sorted(result.scores["cutoff"].unique())
    at = cutoffs[-1] if cutoff is None else pd.Timestamp(cutoff)
    if at not in cutoffs:
        raise InvalidParameterError(
            f"cutoff must be one of the backtest's cutoffs {[str(c) for c in cutoffs]}; "
            f"got {cutoff!r}."
        )
    return frame[frame["cutoff"] == at], at


def plot_churn_gains(result: Any, *, cutoff: Any = None, ax: Any = None):
    """Cumulative gains of a :class:`~reco.customers.ChurnBacktest`: share of churners
    reached against share of customers contacted, highest risk first, per method.

    Parameters
    ----------
    result : ChurnBacktest
        From :func:`backtest_churn`.
    cutoff : date, optional
        One cutoff (default: all pooled).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> churn = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    >>> result = backtest_churn(churn, shop.order_lines, cutoffs=["2024-10-01"], value="value")
    >>> ax = plot_churn_gains(result)
    >>> bool(ax.get_xlabel() and ax.get_title())
    True
    """
    from .backtest import METHODS

    ax = axes(ax)
    rows, at = _backtest_rows(result, result.scores, cutoff)
    y = rows["churn"].to_numpy()
    share = np.arange(1, y.size + 1) / y.size
    for method in METHODS:
        order = np.argsort(-rows[method].to_numpy(), kind="stable")
        ax.plot(share, np.cumsum(y[order]) / max(y.sum(), 1), label=method)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    ax.set_xlabel("share of customers contacted")
    ax.set_ylabel("share of churners reached")
    ax.set_title(f"Churn gains at {at:%Y-%m-%d}")
    ax.legend()
    return ax


def plot_churn_calibration(result: Any, *, cutoff: Any = None, ax: Any = None):
    """Observed churn rate against mean predicted P(churn), per probability bin and method.

    Parameters
    ----------
    result : ChurnBacktest
        From :func:`backtest_churn`.
    cutoff : date, optional
        One cutoff (default: all pooled).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(800, 40, random_state=0)
    >>> churn = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    >>> result = backtest_churn(churn, shop.order_lines, cutoffs=["2024-10-01"], value="value")
    >>> ax = plot_churn_calibration(result)
    >>> bool(ax.get_xlabel() and ax.get_title())
    True
    """
    ax = axes(ax)
    rows, at = _backtest_rows(result, result.calibration, cutoff)
    for method, part in rows.groupby("method", sort=False):
        ax.plot(part["mean_predicted"], part["observed_rate"], marker="o", label=method)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    ax.set_xlabel("mean predicted P(churn)")
    ax.set_ylabel("observed churn rate")
    ax.set_title(f"Churn calibration at {at:%Y-%m-%d}")
    ax.legend()
    return ax
