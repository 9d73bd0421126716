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
