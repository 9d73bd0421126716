"""reco: e-commerce customer analytics, from purchase and browsing logs to decisions."""

__version__ = "0.1.0"

from .data import Baskets, IdMap, Interactions

__all__ = ["Baskets", "IdMap", "Interactions", "__version__"]
