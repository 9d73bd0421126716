"""What a model file may hold: each estimator class declares the schema of its fitted state.

A model file is untrusted input (a batch job writes it, a backend loads it). Loading checks
every stored attribute against the class's ``_file_schema`` before the model can serve:
names (nothing outside the schema, so a header cannot replace a method), dtypes, shapes that
agree with each other and with the id maps, finite values, index arrays in range and CSR
invariants (monotone ``indptr``, indices in range and strictly increasing within a row), the
invariants the compiled kernels rely on. The first problem found is reported as a
:class:`~reco.exceptions.DataValidationError` naming the attribute.

Dimensions are names: an :class:`Ids` entry defines one (``"users"`` = the number of ids),
array and CSR entries use them, and a name first met in an array binds to its size there.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .exceptions import DataValidationError

__all__ = ["Array", "Csr", "DenseOrCsr", "FloatDict", "Ids", "Scalar", "check_state"]

Dim = str | int


@dataclass(frozen=True)
class Ids:
    """An :class:`~reco.data.IdMap`; its length defines the dimension ``dim``."""

    dim: str


@dataclass(frozen=True)
class Array:
    """A dense array of one dtype and shape; finite floats unless ``finite=False``;
    values within ``[low, high)`` when given (``high`` may name a dimension)."""

    dtype: str
    dims: tuple[Dim, ...]
    finite: bool = True
    low: float | None = None
    high: Dim | None = None


@dataclass(frozen=True)
class Csr:
    """A CSR matrix with float ``dtype`` data, finite, shape ``dims``, canonical layout."""

    dims: tuple[Dim, Dim]
    dtype: str = "float32"


@dataclass(frozen=True)
class DenseOrCsr:
    """Either form of one matrix (e.g. EASE's weights: dense, or CSR when pruned)."""

    dense: Array
    sparse: Csr


@dataclass(frozen=True)
class Scalar:
    """A JSON scalar of the given Python types within ``[low, high]``."""

    types: tuple[type, ...]
    low: float | None = None
    high: float | None = None
    allow_nan: bool = False


@dataclass(frozen=True)
class FloatDict:
    """A dict of float values with exactly ``keys`` (None: any str keys); ``positive``
    values > 0; NaN allowed only with ``allow_nan``; values may be lists of floats when
    ``lists`` (e.g. bin edges)."""

    keys: tuple[str, ...] | None = None
    positive: bool = False
    allow_nan: bool = False
    lists: bool = False


def _fail(where: str, problem: str) -> DataValidationError:
    return DataValidationError(
        f"model file is invalid: {where} {problem}. The file is damaged or was not written by "
        "reco's save(); save the model again from a trusted fit."
    )


class _Dims:
    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def bind(self, where: str, dims: tuple[Dim, ...], shape: tuple[int, ...]) -> None:
        if len(dims) != len(shape):
            raise _fail(where, f"must have {len(dims)} dimension(s); has shape {shape}")
        for dim, size in zip(dims, shape, strict=True):
            expected = dim if isinstance(dim, int) else self.sizes.setdefault(dim, size)
            if size != expected:
                raise _fail(
                    where,
                    f"has shape {shape}, but its {dim!r} dimension must be {expected} to match "
                    "the rest of the model",
                )

    def resolve(self, bound: Dim) -> int:
        return bound if isinstance(bound, int) else self.sizes[bound]


def check_state(schema: dict[str, Any], state: dict[str, Any]) -> None:
    """Check loaded attributes ``state`` against ``schema`` (names, types, shapes, values)."""
    extra = sorted(set(state) - set(schema))
    if extra:
        raise _fail(
            f"attribute(s) {extra[:5]}",
            f"are not part of this model (allowed: {sorted(schema)})",
        )
    missing = sorted(set(schema) - set(state))
    if missing:
        raise _fail(f"attribute(s) {missing[:5]}", "are missing")
    dims = _Dims()
    ordered = sorted(schema, key=lambda name: not isinstance(schema[name], Ids))
    for name in ordered:
        spec, value = schema[name], state[name]
        if isinstance(spec, Ids):
            dims.bind(name, (spec.dim,), (len(value),))
        elif isinstance(spec, Array):
            _check_array(name, spec, value, dims)
        elif isinstance(spec, Csr):
            _check_csr(name, spec, value, dims)
        elif isinstance(spec, DenseOrCsr):
            if sp.issparse(value):
                _check_csr(name, spec.sparse, value, dims)
            else:
                _check_array(name, spec.dense, value, dims)
        elif isinstance(spec, Scalar):
            _check_scalar(name, spec, value)
        elif isinstance(spec, FloatDict):
            _check_float_dict(name, spec, value)
        else:  # pragma: no cover - a programming error in a schema
            raise TypeError(f"unknown schema entry {spec!r}")


def _check_array(name: str, spec: Array, value: Any, dims: _Dims) -> None:
    if not isinstance(value, np.ndarray):
        raise _fail(name, f"must be an array; got {type(value).__name__}")
    if value.dtype != np.dtype(spec.dtype):
        raise _fail(name, f"must have dtype {spec.dtype}; has {value.dtype}")
    dims.bind(name, spec.dims, value.shape)
    if value.size == 0:
        return
    if value.dtype.kind == "f" and spec.finite and not _all_finite(value):
        raise _fail(name, "holds NaN or infinite values")
    if spec.low is not None and value.min() < spec.low:
        raise _fail(name, f"holds {value.min()}, below the allowed minimum {spec.low}")
    if spec.high is not None:
        high = dims.resolve(spec.high)
        if value.max() >= high:
            raise _fail(name, f"holds {value.max()}, outside the allowed range (< {high})")


def _all_finite(values: np.ndarray) -> bool:
    """No NaN or infinity, without a boolean copy of a large array: a sum is finite only if
    every term is (a NaN or an infinity propagates); an overflowing sum is checked exactly."""
    flat = values.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(flat)):
            return True
    step = 1 << 22
    return all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


def _check_csr(name: str, spec: Csr, value: Any, dims: _Dims) -> None:
    if not sp.issparse(value) or value.format != "csr":
        raise _fail(name, f"must be a CSR matrix; got {type(value).__name__}")
    dims.bind(name, spec.dims, value.shape)
    # the index invariants were checked on the raw arrays before scipy built the matrix
    # (scipy would silently upcast a bad index dtype); here only what the schema adds
    if value.data.dtype != np.dtype(spec.dtype):
        raise _fail(f"{name}.data", f"must have dtype {spec.dtype}; has {value.data.dtype}")


def check_csr_arrays(name, data, indices, indptr, shape, dtype: str) -> None:
    """CSR invariants: dtypes, lengths, monotone indptr, indices in range and strictly
    increasing within each row, finite data."""
    if data.dtype != np.dtype(dtype):
        raise _fail(f"{name}.data", f"must have dtype {dtype}; has {data.dtype}")
    for part, array in (("indices", indices), ("indptr", indptr)):
        if array.dtype not in (np.int32, np.int64) or array.ndim != 1:
            raise _fail(f"{name}.{part}", f"must be 1-D int32 or int64; has {array.dtype}")
    rows, cols = shape
    if data.ndim != 1 or indptr.size != rows + 1:
        raise _fail(f"{name}.indptr", f"must have {rows + 1} entries; has {indptr.size}")
    if indptr[0] != 0 or indptr[-1] != indices.size or indices.size != data.size:
        raise _fail(
            f"{name}.indptr",
            f"must run from 0 to the number of stored entries ({indices.size}, data "
            f"{data.size}); runs from {indptr[0]} to {indptr[-1]}",
        )
    if rows and (np.diff(indptr) < 0).any():
        raise _fail(f"{name}.indptr", "must not decrease")
    if indices.size == 0:
        return
    if indices.min() < 0 or indices.max() >= cols:
        raise _fail(
            f"{name}.indices",
            f"must lie in [0, {cols}); holds {indices.min()} to {indices.max()}",
        )
    steps = np.diff(indices.astype(np.int64))
    row_starts = indptr[1:-1]
    row_starts = row_starts[(row_starts > 0) & (row_starts < indices.size)]
    steps[row_starts - 1] = 1  # a new row may restart at any column
    if (steps <= 0).any():
        raise _fail(f"{name}.indices", "must be sorted and unique within each row")
    if not np.isfinite(data).all():
        raise _fail(f"{name}.data", "holds NaN or infinite values")


def _check_scalar(name: str, spec: Scalar, value: Any) -> None:
    if isinstance(value, bool) and bool not in spec.types:
        raise _fail(name, f"must be {_names(spec.types)}; got {value!r}")
    if not isinstance(value, spec.types):
        raise _fail(name, f"must be {_names(spec.types)}; got {value!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if math.isnan(value) and spec.allow_nan:
            return
        if not math.isfinite(value):
            raise _fail(name, f"must be finite; got {value!r}")
        if (spec.low is not None and value < spec.low) or (
            spec.high is not None and value > spec.high
        ):
            raise _fail(name, f"must lie in [{spec.low}, {spec.high}]; got {value!r}")


def _check_float_dict(name: str, spec: FloatDict, value: Any) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _fail(name, f"must be a dict with str keys; got {type(value).__name__}")
    if spec.keys is not None and sorted(value) != sorted(spec.keys):
        raise _fail(name, f"must have keys {list(spec.keys)}; has {sorted(value)}")
    for key, item in value.items():
        numbers_ = item if spec.lists and isinstance(item, list) else [item]
        for number in numbers_:
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise _fail(f"{name}[{key!r}]", f"must be a number; got {number!r}")
            if math.isnan(number) and spec.allow_nan:
                continue
            if not math.isfinite(number) or (spec.positive and number <= 0):
                rule = "positive and finite" if spec.positive else "finite"
                raise _fail(f"{name}[{key!r}]", f"must be {rule}; got {number!r}")


def _names(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)
