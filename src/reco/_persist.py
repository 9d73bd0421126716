"""Model files: one ``.npz`` holding the fitted arrays and a JSON header. No pickle, ever.

Header fields: ``format`` ("reco-model"), ``format_version``, ``class`` (module.qualname),
``reco_version``, ``params`` (``get_params()``), ``attributes`` (fitted scalars) and the
layout of the stored arrays. Loading reads with ``allow_pickle=False``, builds only classes
registered with reco (never imports a module named in the file), refuses a newer format or a
different class, and turns any corruption into :class:`DataValidationError`.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._atomic import atomic_file
from ._checked_read import crc_of, read_with_crc
from .data import IdMap
from .exceptions import DataValidationError, InvalidParameterError, NotSupportedError

_ALIGN = 64  # array data start on this boundary in files written by save()
_PADDING_FIELD = 0xD935  # zip extra field id of the alignment padding (as zipalign uses)

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
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biuf":
        return [_json_value(v) for v in value.tolist()]  # e.g. bin edges inside a dict
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


MAX_FILE_BYTES = 4 * 2**30
"""Default bound on a model file's uncompressed size (4 GiB); ``load(max_bytes=...)`` raises it."""
_MAX_HEADER_BYTES = 16 * 2**20
_OWN_PACKAGES = ("reco.models.", "reco.customers.")
_MAX_RATIO = 100


def _check_path(path: Any) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(
            f"path must be a file path (str or pathlib.Path); got {path!r} of type "
            f"{type(path).__name__}."
        )
    if not str(path):
        raise InvalidParameterError("path must be a file path; got the empty string ''.")
    return Path(path)


def save_estimator(estimator: Any, path: str | os.PathLike, version: str) -> Path:
    """Write ``estimator``'s parameters and fitted state to ``path`` atomically.

    The arrays go to a temporary file in the target's folder, which is flushed and fsynced,
    renamed over the target, and the folder is fsynced: a crash at any moment leaves the old
    file or the new complete one. The temporary file is removed on any failure; ones left by
    killed processes are removed by the next save to the same path.
    """
    path = _check_path(path)
    if path.is_dir():
        raise InvalidParameterError(
            f"path {str(path)!r} is a folder; pass a file path such as {str(path / 'model.npz')!r}."
        )
    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _json_value(value)
        except TypeError:
            params[name] = None  # e.g. a numpy Generator as random_state
            dropped.append(name)
    arrays, attributes, layout = _fitted_payload(estimator)
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
    with atomic_file(path) as handle:
        _write_archive(handle, arrays)
    return path


def _write_archive(handle: Any, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` (``numpy.load`` reads it) whose array data start on 64-byte
    boundaries, by a padding field in each member's local header: large members can then be
    mapped in place by :func:`read_model_file`."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, value in arrays.items():
            array = np.ascontiguousarray(value)
            header = _npy_header_bytes(array)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(header) + array.nbytes
            info.CRC = info.compress_size = 0  # written after the data
            zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT
            start = handle.tell() + len(info.FileHeader(zip64))
            pad = (-(start + 4)) % _ALIGN
            info.extra = struct.pack("<HH", _PADDING_FIELD, pad) + bytes(pad)
            with archive.open(info, "w", force_zip64=zip64) as stream:
                stream.write(header)
                stream.write(memoryview(array.reshape(-1)).cast("B"))


def _npy_header_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` header of a C-ordered array (a multiple of 64 bytes long)."""
    fields = np.lib.format.header_data_from_array_1_0(array)
    buffer = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buffer, fields)
    except ValueError:  # a header over 64 KiB: format 2.0
        buffer = io.BytesIO()
        np.lib.format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


def _fitted_payload(estimator: Any) -> tuple[dict, dict, dict]:
    """(arrays, JSON attributes, layout) of the fitted attributes (public, ending in _)."""
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
    return arrays, attributes, layout


def _damaged(path: Path, problem: str) -> DataValidationError:
    return DataValidationError(
        f"{str(path)!r} is not a readable reco model file ({problem}). It is corrupted, "
        "truncated, or was not written by save(); save the model again."
    )


def _npy_header(stream: Any, info: zipfile.ZipInfo, size: int) -> tuple[tuple, bool, np.dtype, int]:
    """(shape, fortran, dtype, payload bytes) of an ``.npy`` stream of ``size`` bytes,
    checked: no Python objects, and the declared shape fills the payload exactly."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"member {info.filename} holds Python objects (pickle)")
    payload = size - stream.tell()
    if math.prod(shape) * dtype.itemsize != payload:
        raise ValueError(
            f"member {info.filename} declares shape {shape} of {dtype} "
            f"({math.prod(shape) * dtype.itemsize} bytes) but stores {payload} bytes"
        )
    return shape, fortran, dtype, payload


def _read_stored_member(path: Path, info: zipfile.ZipInfo, mmap: bool) -> np.ndarray:
    """An uncompressed member read straight into its array (one copy from the page cache),
    or mapped in place with ``mmap`` (see :func:`read_model_file`); its CRC-32 checked
    either way."""
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        local = raw.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"member {info.filename} has no local header")
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_length + extra_length
        raw.seek(start)
        head = io.BytesIO(raw.read(min(info.file_size, 65_536 + 10)))
        shape, fortran, dtype, payload = _npy_header(head, info, info.file_size)
        header_bytes = head.getvalue()[: head.tell()]
        offset = start + len(header_bytes)
        if _should_map(mmap, payload, offset, fortran, shape):
            if offset + payload > os.fstat(raw.fileno()).st_size:
                raise ValueError(f"member {info.filename} is truncated")
            array = np.memmap(raw, dtype=dtype, mode="r", offset=offset, shape=shape)
            array = array.view(np.ndarray)  # the map stays open while the array lives
            crc = crc_of(memoryview(array.reshape(-1)).cast("B"), zlib.crc32(header_bytes))
        else:
            array = np.empty(math.prod(shape), dtype=dtype)
            buffer = memoryview(array).cast("B")
            try:
                crc = read_with_crc(raw.fileno(), offset, buffer, zlib.crc32(header_bytes))
            except EOFError:
                raise ValueError(f"member {info.filename} is truncated") from None
    if crc != info.CRC:
        raise ValueError(f"member {info.filename} fails its CRC-32 check")
    if fortran and len(shape) > 1:
        return np.ascontiguousarray(array.reshape(shape, order="F"))
    return array.reshape(shape)


def _should_map(mmap: bool, payload: int, offset: int, fortran: bool, shape) -> bool:
    """Map a member in place when asked to, unless its data are misaligned (a file not
    written by this reco), in Fortran order or empty."""
    return mmap and not (fortran and len(shape) > 1) and offset % _ALIGN == 0 and payload > 0


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, mmap: bool
) -> np.ndarray:
    """One ``.npy`` member, its header checked against its declared size before reading."""
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        return _read_stored_member(path, info, mmap)
    with archive.open(info) as stream:  # a compressed member (reco writes none): inflate
        shape, fortran, dtype, payload = _npy_header(stream, info, info.file_size)
        data = stream.read(payload)
    if len(data) != payload:
        raise ValueError(f"member {info.filename} is truncated")
    array = np.frombuffer(data, dtype=dtype)
    order = "F" if fortran else "C"
    return array.reshape(shape, order=order).copy(order="C")


def read_model_file(
    path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES, mmap: bool = False
) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) of a model file; every failure is a clear DataValidationError.

    Member sizes are read from the archive's directory and bounded by ``max_bytes`` (the
    total uncompressed size) before anything is decompressed; each array's declared shape
    must match its stored size. With ``mmap`` the arrays are memory-mapped read-only
    instead of copied: loading takes the time of the checks, and processes serving one file
    share its pages. A mapped file must then never be rewritten in place (``save`` never
    does: it renames a new file over it; ``cp`` does, and would pull the arrays from under
    the model).
    """
    path = _check_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}.")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names) or not all(n.endswith(".npy") for n in names):
                raise ValueError("unexpected or repeated members")
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise DataValidationError(
                    f"{str(path)!r} would inflate to {total:,} bytes, more than the limit of "
                    f"{max_bytes:,} (max_bytes). If you trust this file, load it with "
                    f"load(path, max_bytes={total})."
                )
            header_info = archive.getinfo(f"{_HEADER_KEY}.npy")
            if header_info.file_size > _MAX_HEADER_BYTES:
                raise ValueError("header too large")
            for info in infos:
                # save() stores members uncompressed; a member that inflates a hundredfold
                # was not written by reco (a zip bomb): refused before it is inflated
                if info.file_size > _MAX_RATIO * max(info.compress_size, 1) + 4096:
                    raise DataValidationError(
                        f"{str(path)!r} is not a reco model file: member {info.filename!r} "
                        f"would inflate from {info.compress_size:,} to {info.file_size:,} bytes "
                        "(reco writes model files uncompressed)."
                    )
            arrays = {
                info.filename[: -len(".npy")]: _read_member(archive, info, path, mmap)
                for info in infos
            }
        header = json.loads(arrays.pop(_HEADER_KEY).tobytes().decode("utf-8"))
    except DataValidationError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        UnicodeDecodeError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ) as e:
        raise _damaged(path, f"{type(e).__name__}: {e}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataValidationError(
            f"{str(path)!r} is not a reco model file (its header has no format {FORMAT!r})."
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise NotSupportedError(
            f"{str(path)!r} uses model-file format {version!r}, newer than the {FORMAT_VERSION} "
            f"this reco reads (it was written by reco {header.get('reco_version')!r}). Upgrade "
            "reco (pip install -U reco) to load it."
        )
    return header, arrays


def _header_part(header: dict, key: str, path: Path) -> dict:
    value = header.get(key)
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _damaged(path, f"header field {key!r} must be an object with str keys")
    return value


def load_estimator(
    expected: type,
    path: str | os.PathLike,
    max_bytes: int = MAX_FILE_BYTES,
    mmap: bool = False,
) -> Any:
    """Rebuild the estimator stored at ``path``; it must be ``expected`` or a subclass.

    Everything is validated before the estimator is returned: the class, its parameters
    (the same checks as ``fit``), and every fitted attribute against the class's schema.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral) or max_bytes < 1:
        raise InvalidParameterError(f"max_bytes must be a positive integer; got {max_bytes!r}.")
    if not isinstance(mmap, bool):
        raise InvalidParameterError(f"mmap must be True or False; got {mmap!r}.")
    header, arrays = read_model_file(path, int(max_bytes), mmap)
    path = Path(path)
    name = header.get("class")
    klass = REGISTRY.get(name) if isinstance(name, str) else None
    if klass is None and isinstance(name, str) and name.startswith(_OWN_PACKAGES):
        import importlib

        for package in _OWN_PACKAGES:  # reco's own model packages, never a name from the file
            importlib.import_module(package.rstrip("."))
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
    schema = getattr(klass, "_file_schema", None)
    if not schema:
        raise NotSupportedError(f"{klass.__name__} models cannot be loaded from files.")
    estimator = _build(klass, _header_part(header, "params", path), path)
    state = _state(
        _header_part(header, "attributes", path), _header_part(header, "layout", path), arrays, path
    )
    from ._schema import check_state

    upgrade = getattr(klass, "_upgrade_state", None)
    state = upgrade(state) if upgrade is not None else state
    try:
        check_state(schema, state)
    except DataValidationError as error:
        raise DataValidationError(f"{str(path)!r}: {error}") from None
    for attr, value in state.items():
        setattr(estimator, attr, value)
    try:
        estimator._after_load()
    except DataValidationError as error:
        raise DataValidationError(f"{str(path)!r}: {error}") from None
    return estimator


def _build(klass: type, params: dict, path: Path) -> Any:
    """The estimator from its stored parameters, checked as ``fit`` checks them."""
    allowed = set(klass._get_param_names())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise DataValidationError(
            f"{str(path)!r} is invalid: parameter(s) {unknown[:5]} are not parameters of "
            f"{klass.__name__} (allowed: {sorted(allowed)})."
        )
    try:
        estimator = klass(**params)
        estimator._validate_params()
    except (InvalidParameterError, TypeError, ValueError) as error:
        raise DataValidationError(
            f"{str(path)!r} is invalid: its parameters fail {klass.__name__}'s checks: {error}"
        ) from None
    return estimator


def _state(attributes: dict, layout: dict, arrays: dict[str, np.ndarray], path: Path) -> dict:
    """Fitted attributes from the header and the arrays; every array must be used once."""
    state: dict[str, Any] = {}
    used: set[str] = set()
    for attr in list(attributes) + list(layout):
        if not attr.endswith("_") or attr.startswith("_") or attr in state:
            raise _damaged(path, f"attribute name {attr!r} is not allowed or repeated")
        if attr in attributes:
            state[attr] = attributes[attr]
            continue
        spec = layout[attr]
        try:
            state[attr] = _layout_value(attr, spec, arrays, used)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise _damaged(path, f"attribute {attr!r}: {type(e).__name__}: {e}") from None
    left = sorted(set(arrays) - used)
    if left:
        raise _damaged(path, f"arrays {left[:5]} belong to no attribute")
    return state


def _take(arrays: dict, key: str, used: set) -> np.ndarray:
    if key in used:
        raise ValueError(f"array {key} used twice")
    used.add(key)
    return arrays[key]


def _layout_value(attr: str, spec: Any, arrays: dict, used: set) -> Any:
    if not isinstance(spec, dict):
        raise TypeError("layout entry must be an object")
    kind = spec.get("type")
    if kind == "array":
        return _take(arrays, f"a/{attr}", used)
    if kind == "idmap":
        parts = spec.get("parts")
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise TypeError("idmap parts must be a list of names")
        values = {key: _take(arrays, f"m/{attr}/{key}", used) for key in parts}
        id_name = spec.get("name")
        if not isinstance(id_name, str):
            raise TypeError("idmap name must be a string")
        return IdMap.from_arrays(spec.get("kind"), values, name=id_name)
    if kind == "csr":
        from ._schema import check_csr_arrays

        shape = spec.get("shape")
        if (
            not isinstance(shape, list)
            or len(shape) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape)
        ):
            raise ValueError(f"csr shape must be two non-negative integers; got {shape!r}")
        data, indices, indptr = (
            _take(arrays, f"s/{attr}/{part}", used) for part in ("data", "indices", "indptr")
        )
        check_csr_arrays(attr, data, indices, indptr, tuple(shape), str(data.dtype))
        value = sp.csr_array((data, indices, indptr), shape=tuple(shape), copy=False)
        value.has_sorted_indices = True
        return value
    raise ValueError(f"unknown layout type {kind!r}")
