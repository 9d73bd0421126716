"""Every recommender through the one conformance suite."""

import pytest

from reco.models import Popularity
from reco.testing import recommender_checks

MODELS = [
    Popularity(),
    Popularity(measure="value", half_life="7D", n_threads=2),
]


@pytest.mark.parametrize("estimator, check", recommender_checks(MODELS))
def test_conformance(estimator, check):
    check(estimator)
