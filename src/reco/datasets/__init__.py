"""Synthetic shops and readers for public data formats."""

from .readers import read_arff_baskets, read_cdnow, read_events, read_movielens
from .shop import Shop, ShopTruth, make_shop

__all__ = [
    "Shop",
    "ShopTruth",
    "make_shop",
    "read_arff_baskets",
    "read_cdnow",
    "read_events",
    "read_movielens",
]
