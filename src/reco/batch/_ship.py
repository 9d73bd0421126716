"""Ship a fitted model to cluster workers as its model file (bytes), never as a pickle.

Each worker process loads (and validates) a given file once: models are cached by the
SHA-256 of their bytes, so every partition a process scores after the first reuses it.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["model_bytes", "model_from_bytes"]

_LOADED: dict[str, Any] = {}  # SHA-256 -> model, the most recently used last
_LOCK = threading.Lock()
_KEEP = 8


def model_bytes(model: Any) -> bytes:
    """The model's file (``model.save``) as bytes."""
    with tempfile.TemporaryDirectory(prefix="reco-ship-") as folder:
        path = Path(folder) / "model.npz"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(data: bytes) -> Any:
    """The model (any reco estimator) in ``data``, loaded once per process; the few most
    recently used stay loaded."""
    from ..base import Estimator

    key = hashlib.sha256(data).hexdigest()
    with _LOCK:
        model = _LOADED.pop(key, None)
        if model is None:
            with tempfile.TemporaryDirectory(prefix="reco-ship-") as folder:
                path = Path(folder) / "model.npz"
                path.write_bytes(data)
                model = Estimator.load(path)
            while len(_LOADED) >= _KEEP:
                _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = model
        return model
