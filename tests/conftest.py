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
