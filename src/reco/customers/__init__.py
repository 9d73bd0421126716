"""Customer analytics: RFM summaries and buy-till-you-die lifetime-value models."""

from .btyd import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from .rfm import DEFAULT_SEGMENTS, RFMScorer
from .summary import summary
from .value import lifetime_value

__all__ = [
    "DEFAULT_SEGMENTS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMScorer",
    "lifetime_value",
    "summary",
]
