"""Recommenders, all on the :class:`reco.base.Recommender` interface."""

from .popularity import Popularity

__all__ = ["Popularity"]
