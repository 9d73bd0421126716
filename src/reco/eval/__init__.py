"""Offline evaluation: splitters, ranking metrics, evaluate/compare, tuning and plots."""

from .evaluate import EvaluationResult, compare, evaluate
from .metrics import (
    average_popularity,
    average_precision,
    catalog_coverage,
    gini_index,
    hit_rate,
    intra_list_diversity,
    ndcg,
    novelty,
    personalisation,
    precision,
    recall,
    recall_liang,
    reciprocal_rank,
)
from .plots import plot_comparison, plot_metric_vs_k, plot_popularity_bias
from .splitters import (
    Split,
    k_core,
    leave_last_n,
    min_interactions,
    random_holdout,
    temporal_split,
    user_split,
)
from .tuning import SearchResult, search

__all__ = [
    "EvaluationResult",
    "SearchResult",
    "Split",
    "average_popularity",
    "average_precision",
    "catalog_coverage",
    "compare",
    "evaluate",
    "gini_index",
    "hit_rate",
    "intra_list_diversity",
    "k_core",
    "leave_last_n",
    "min_interactions",
    "ndcg",
    "novelty",
    "personalisation",
    "plot_comparison",
    "plot_metric_vs_k",
    "plot_popularity_bias",
    "precision",
    "random_holdout",
    "recall",
    "recall_liang",
    "reciprocal_rank",
    "search",
    "temporal_split",
    "user_split",
]
