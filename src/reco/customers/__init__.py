"""Customer analytics: RFM summaries and buy-till-you-die lifetime-value models."""

from .btyd import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from .plots import plot_calibration_holdout, plot_frequency_recency, plot_tracking
from .rfm import DEFAULT_SEGMENTS, RFMScorer
from .summary import summary
from .validation import HoldoutCheck, evaluate_holdout, tracking
from .value import lifetime_value

__all__ = [
    "DEFAULT_SEGMENTS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "HoldoutCheck",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMScorer",
    "evaluate_holdout",
    "lifetime_value",
    "plot_calibration_holdout",
    "plot_frequency_recency",
    "plot_tracking",
    "summary",
    "tracking",
]
