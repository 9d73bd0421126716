"""Every recommender through the one conformance suite."""

import pytest

from reco.models import (
    ALS,
    BPR,
    EASE,
    SLIM,
    AssociationRuleRecommender,
    ItemKNN,
    Popularity,
    RP3beta,
)
from reco.testing import recommender_checks

MODELS = [
    Popularity(),
    Popularity(measure="value", half_life="7D", n_threads=2),
    ItemKNN(k=10),
    ItemKNN(k=5, similarity="asymmetric_cosine", alpha=0.3, shrink=1.0, weighting="bm25"),
    ItemKNN(k=5, similarity="jaccard", n_threads=2),
    EASE(regularization=10.0),
    EASE(regularization=5.0, prune=5),
    RP3beta(k=10),
    RP3beta(k=5, beta=0.0, normalize=True, neighbourhood="candidate"),
    SLIM(l1=0.5, l2=1.0),
    AssociationRuleRecommender(min_support=2, min_threshold=0.1),
    ALS(n_factors=4, n_iter=6, alpha=5.0, random_state=0),
    ALS(
        n_factors=4,
        n_iter=4,
        solver="cholesky",
        unobserved_weight=0.3,
        reg_exponent=1.0,
        confidence="log",
        random_state=1,
        n_threads=2,
    ),
    BPR(n_factors=4, n_iter=40, learning_rate=0.05, random_state=0),
    BPR(n_factors=4, n_iter=40, learning_rate=0.05, random_state=1, n_threads=2),
    AssociationRuleRecommender(
        min_support=2, metric="lift", min_threshold=1.0, max_antecedent_len=1
    ),
]


@pytest.mark.parametrize("estimator, check", recommender_checks(MODELS))
def test_conformance(estimator, check):
    check(estimator)
