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

_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def model_bytes(model: Any) -> bytes:
    """The model's file (``model.save``) as bytes."""
    with tempfile.TemporaryDirectory(prefix="reco-ship-") as folder:
        path = Path(folder) / "model.npz"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(data: bytes) -> Any:
    """The model in ``data``, loaded once per process."""
    from ..base import Recommender

    key = hashlib.sha256(data).hexdigest()
    with _LOCK:
        model = _LOADED.get(key)
        if model is None:
            with tempfile.TemporaryDirectory(prefix="reco-ship-") as folder:
                path = Path(folder) / "model.npz"
                path.write_bytes(data)
                model = Recommender.load(path)
            _LOADED.clear()  # one model per process at a time: a new one replaces the old
            _LOADED[key] = model
        return model
