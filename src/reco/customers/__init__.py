"""Customer analytics: RFM summaries and buy-till-you-die lifetime-value models."""

from .btyd import BetaGeo, GammaGamma
from .summary import summary

__all__ = ["BetaGeo", "GammaGamma", "summary"]
