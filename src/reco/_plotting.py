"""Shared matplotlib helper: matplotlib is optional (the ``plot`` extra) and imported lazily."""

from __future__ import annotations

from typing import Any


def axes(ax: Any = None):
    """``ax``, or a new 6 x 4 inch Axes; an ImportError naming the extra without matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'reco[plot]'") from None
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    return ax
