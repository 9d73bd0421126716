"""Market-basket mining: frequent itemsets and association rules."""

from .itemsets import FrequentItemsets, as_baskets, frequent_itemsets
from .rules import METRICS, AssociationRules, association_rules
from .sequences import FrequentSequences, SequentialRules, frequent_sequences, sequential_rules

__all__ = [
    "METRICS",
    "AssociationRules",
    "FrequentItemsets",
    "FrequentSequences",
    "SequentialRules",
    "as_baskets",
    "association_rules",
    "frequent_itemsets",
    "frequent_sequences",
    "sequential_rules",
]
