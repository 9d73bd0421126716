"""Customer analytics: RFM summaries, buy-till-you-die lifetime-value models and churn."""

from .backtest import ChurnBacktest, backtest_churn
from .btyd import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from .churn import churn_features, churn_labels
from .churn_model import ChurnModel
from .plots import (
    plot_calibration_holdout,
    plot_churn_calibration,
    plot_churn_gains,
    plot_frequency_recency,
    plot_tracking,
)
from .rfm import DEFAULT_SEGMENTS, RFMScorer
from .summary import summary
from .validation import HoldoutCheck, evaluate_holdout, tracking
from .value import lifetime_value, value_at_risk

__all__ = [
    "DEFAULT_SEGMENTS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ChurnBacktest",
    "ChurnModel",
    "GammaGamma",
    "HoldoutCheck",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMScorer",
    "backtest_churn",
    "churn_features",
    "churn_labels",
    "evaluate_holdout",
    "lifetime_value",
    "plot_calibration_holdout",
    "plot_churn_calibration",
    "plot_churn_gains",
    "plot_frequency_recency",
    "plot_tracking",
    "summary",
    "tracking",
    "value_at_risk",
]
