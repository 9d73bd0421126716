"""Market-basket mining: frequent itemsets and association rules."""

from .itemsets import FrequentItemsets, as_baskets, frequent_itemsets
from .rules import METRICS, AssociationRules, association_rules

__all__ = [
    "METRICS",
    "AssociationRules",
    "FrequentItemsets",
    "as_baskets",
    "association_rules",
    "frequent_itemsets",
]
