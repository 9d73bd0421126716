"""Recommenders, all on the :class:`reco.base.Recommender` interface."""

from .als import ALS
from .bpr import BPR
from .ease import EASE
from .itemknn import ItemKNN, bm25_weight, tfidf_weight
from .popularity import Popularity
from .rp3 import RP3beta
from .rules import AssociationRuleRecommender
from .slim import SLIM

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "SLIM",
    "AssociationRuleRecommender",
    "ItemKNN",
    "Popularity",
    "RP3beta",
    "bm25_weight",
    "tfidf_weight",
]
