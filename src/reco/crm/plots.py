"""Charts of a KPI cube (:meth:`CustomerStore.cube`): trend lines over periods, a heatmap of
two dimensions, or bars of one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._plotting import axes
from ..exceptions import InvalidParameterError

__all__ = ["plot_cube"]


def plot_cube(cube: pd.DataFrame, measure: str, *, ax: Any = None):
    """Draw one ``measure`` of a cube and return the Axes.

    With a ``period`` dimension: one line per value of the other dimension (or one line);
    with two other dimensions: a heatmap, each cell labelled; with one: bars. Roll-up rows
    (``rollup_level`` > 0) are left out: the chart shows the cells.

    Parameters
    ----------
    cube : DataFrame
        From :meth:`CustomerStore.cube`.
    measure : str
        One of its measure columns.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        ``measure`` is not a column of ``cube``, or the cube has more than two dimensions.

    Examples
    --------
    >>> from reco.datasets import make_shop
    >>> from reco.crm import CustomerStore
    >>> people = make_shop(300, 40, random_state=0, contacts=True)
    >>> store = CustomerStore()
    >>> store.add_orders(people.order_lines, customer="customer_id", item="product_id",
    ...                  time="timestamp", value="value", order="order_id")
    >>> kpis = store.cube(["revenue"], by=["period"], period="M")
    >>> ax = plot_cube(kpis, "revenue")
    >>> bool(ax.get_title() and ax.get_ylabel())
    True
    """
    if not isinstance(cube, pd.DataFrame) or measure not in cube.columns:
        columns = list(cube.columns) if isinstance(cube, pd.DataFrame) else type(cube).__name__
        raise InvalidParameterError(
            f"plot_cube takes a frame from CustomerStore.cube and one of its measures; got "
            f"measure {measure!r} and {columns}."
        )
    cells = cube[cube["rollup_level"] == 0] if "rollup_level" in cube else cube
    from .cube import CONTACT_MEASURES, ORDER_MEASURES

    dims = [c for c in cells.columns
            if c not in (*ORDER_MEASURES, *CONTACT_MEASURES, "rollup_level")]  # fmt: skip
    if not dims or len(dims) > 2:
        raise InvalidParameterError(
            f"plot_cube draws cubes of one or two dimensions; this one has {dims}."
        )
    ax = axes(ax)
    label = measure.replace("_", " ")
    if "period" in dims:
        other = [d for d in dims if d != "period"]
        groups = cells.groupby(other[0], sort=True) if other else [(None, cells)]
        for name, part in groups:
            part = part.sort_values("period")
            ax.plot(part["period"], part[measure], marker="o", label=None if name is None
                    else str(name))  # fmt: skip
        if other:
            ax.legend(title=other[0])
        ax.set_xlabel("period")
        ax.set_title(f"{label} by period" + (f" and {other[0]}" if other else ""))
    elif len(dims) == 2:
        table = cells.pivot_table(index=dims[0], columns=dims[1], values=measure, aggfunc="sum")
        image = ax.imshow(table.to_numpy(float), aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=45)
        ax.set_yticks(range(table.shape[0]), [str(r) for r in table.index])
        for (row, column), value in np.ndenumerate(table.to_numpy(float)):
            if np.isfinite(value):
                ax.text(column, row, f"{value:,.3g}", ha="center", va="center", fontsize=8,
                        color="white")  # fmt: skip
        ax.figure.colorbar(image, ax=ax, label=label)
        ax.set_xlabel(dims[1])
        ax.set_ylabel(dims[0])
        ax.set_title(f"{label} by {dims[0]} and {dims[1]}")
        return ax
    else:
        ordered = cells.sort_values(measure, ascending=False)
        ax.bar([str(v) for v in ordered[dims[0]]], ordered[measure])
        ax.set_xlabel(dims[0])
        ax.tick_params(axis="x", rotation=45)
        ax.set_title(f"{label} by {dims[0]}")
    ax.set_ylabel(label)
    return ax
