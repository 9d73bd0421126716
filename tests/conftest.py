import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA_DIR = Path(os.environ.get("RECO_DATA_DIR", _DEFAULT))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real public datasets (RECO_DATA_DIR)."""
    if not DATA_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"RECO_DATA_DIR {DATA_DIR} is missing on CI")
        pytest.skip(f"RECO_DATA_DIR {DATA_DIR} not found")
    return DATA_DIR


# On CI no test may be skipped: a skip there means a dependency or data set is missing, and a
# test that silently never runs cannot fail (cf. threadpoolctl's check_no_test_skipped).
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and os.environ.get("CI"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _SKIPPED and session.exitstatus == 0:
        print(f"\n{len(_SKIPPED)} test(s) were skipped on CI: {_SKIPPED[:10]}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def churn_case(tmp_path_factory):
    """A fitted ChurnModel and the single-process score_customers rows it gives (one shop,
    one cutoff): what the Dask and Spark runs must reproduce exactly."""
    import pandas as pd

    from reco.batch import score_customers
    from reco.customers import ChurnModel
    from reco.datasets import make_shop

    lines = make_shop(800, 80, random_state=4).order_lines
    cutoff = "2024-10-01"
    churn = ChurnModel(horizon=60, n_cutoffs=2, random_state=0)
    churn.fit(lines, value="value", order="order_id", cutoff=cutoff)
    options = {"order": "order_id"}
    out = tmp_path_factory.mktemp("churn") / "one.parquet"
    score_customers(lines, cutoff=cutoff, out=out, show_progress=False,
                    models={"churn": churn}, churn_options=options)  # fmt: skip
    single = pd.read_parquet(out).set_index("customer").sort_index()
    assert single["p_churn"].notna().all()
    return lines, cutoff, churn, options, single


@pytest.fixture(scope="session")
def implicit_seed():
    """The seed reco hands implicit for a ``random_state`` (``backend="implicit"``)."""
    import numpy as np

    return lambda random_state: int(np.random.default_rng(random_state).integers(2**31 - 1))
