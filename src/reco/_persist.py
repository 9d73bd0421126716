"""Model files: one ``.npz`` holding the fitted arrays and a JSON header. No pickle, ever.

Header fields: ``format`` ("reco-model"), ``format_version``, ``class`` (module.qualname),
``reco_version``, ``params`` (``get_params()``), ``attributes`` (fitted scalars) and the
layout of the stored arrays. Loading reads with ``allow_pickle=False``, builds only classes
registered with reco (never imports a module named in the file), refuses a newer format or a
different class, and turns any corruption into :class:`DataValidationError`.
"""

from __future__ import annotations

import json
import numbers
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .data import IdMap
from .exceptions import DataValidationError, NotSupportedError

FORMAT = "reco-model"
FORMAT_VERSION = 1
_HEADER_KEY = "__header__"

# class path -> class, filled by Estimator.__init_subclass__
REGISTRY: dict[str, type] = {}


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _json_value(value: Any) -> Any:
    """A JSON-storable copy of a parameter or attribute, or raise TypeError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def save_estimator(estimator: Any, path: str | os.PathLike, version: str) -> Path:
    """Write ``estimator``'s parameters and fitted state to ``path`` atomically."""
    path = Path(path)
    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _json_value(value)
        except TypeError:
            params[name] = None  # e.g. a numpy Generator as random_state
            dropped.append(name)
    arrays: dict[str, np.ndarray] = {}
    attributes: dict[str, Any] = {}
    layout: dict[str, Any] = {}
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O":
                raise NotSupportedError(f"fitted array {name} holds Python objects; cannot save.")
            arrays[f"a/{name}"] = value
            layout[name] = {"type": "array"}
        elif isinstance(value, IdMap):
            kind, parts = value.to_arrays()
            for key, array in parts.items():
                arrays[f"m/{name}/{key}"] = array
            layout[name] = {
                "type": "idmap",
                "kind": kind,
                "name": value.name,
                "parts": sorted(parts),
            }
        elif sp.issparse(value):
            csr = sp.csr_array(value)
            arrays[f"s/{name}/data"] = csr.data
            arrays[f"s/{name}/indices"] = csr.indices
            arrays[f"s/{name}/indptr"] = csr.indptr
            layout[name] = {"type": "csr", "shape": list(csr.shape)}
        else:
            try:
                attributes[name] = _json_value(value)
            except TypeError:
                raise NotSupportedError(
                    f"fitted attribute {name} of type {type(value).__name__} cannot be saved "
                    "without pickle."
                ) from None
    from . import __version__

    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": class_path(type(estimator)),
        "reco_version": __version__,
        "params": params,
        "unsaved_params": dropped,
        "attributes": attributes,
        "layout": layout,
    }
    arrays[_HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(
            f"cannot save to {str(path)!r}: folder {str(directory)!r} does not exist."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_header(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) of a model file; every failure is a clear DataValidationError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        header = json.loads(arrays.pop(_HEADER_KEY).tobytes().decode("utf-8"))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise DataValidationError(
            f"{str(path)!r} is not a readable reco model file (corrupted, truncated, or not "
            f"written by Recommender.save): {type(e).__name__}: {e}. Save the model again."
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataValidationError(
            f"{str(path)!r} is not a reco model file (its header has no format {FORMAT!r})."
        )
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise NotSupportedError(
            f"{str(path)!r} uses model-file format {version!r}, newer than the {FORMAT_VERSION} "
            f"this reco reads (it was written by reco {header.get('reco_version')!r}). Upgrade "
            "reco (pip install -U reco) to load it."
        )
    return header, arrays


def load_estimator(expected: type, path: str | os.PathLike) -> Any:
    """Rebuild the estimator stored at ``path``; it must be ``expected`` or a subclass."""
    header, arrays = read_header(path)
    name = header.get("class")
    klass = REGISTRY.get(name)
    if klass is None:
        raise DataValidationError(
            f"{str(path)!r} holds a {name!r}, which is not a reco estimator class known in this "
            "process. Import the module that defines it before loading."
        )
    if not issubclass(klass, expected):
        raise DataValidationError(
            f"{str(path)!r} holds a {klass.__name__}, not a {expected.__name__}. Load it with "
            f"{klass.__name__}.load(path) or reco.base.Recommender.load(path)."
        )
    try:
        estimator = klass(**header["params"])
        for attr, value in header["attributes"].items():
            setattr(estimator, attr, value)
        for attr, spec in header["layout"].items():
            if spec["type"] == "array":
                value = arrays[f"a/{attr}"]
            elif spec["type"] == "idmap":
                parts = {key: arrays[f"m/{attr}/{key}"] for key in spec["parts"]}
                value = IdMap.from_arrays(spec["kind"], parts, name=spec["name"])
            elif spec["type"] == "csr":
                value = sp.csr_array(
                    (
                        arrays[f"s/{attr}/data"],
                        arrays[f"s/{attr}/indices"],
                        arrays[f"s/{attr}/indptr"],
                    ),
                    shape=tuple(spec["shape"]),
                )
                value.has_sorted_indices = True
            else:
                raise KeyError(spec["type"])
            setattr(estimator, attr, value)
    except (KeyError, TypeError, ValueError) as e:
        raise DataValidationError(
            f"{str(path)!r} is damaged: its header and arrays do not fit together "
            f"({type(e).__name__}: {e}). Save the model again."
        ) from None
    estimator._after_load()
    return estimator
