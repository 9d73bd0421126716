"""IdMap: external ids (any hashable) <-> contiguous int32 indices."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_ids, check_option, preview
from ..exceptions import (
    DataValidationError,
    InvalidParameterError,
    NotSupportedError,
    UnknownIdError,
)

__all__ = ["IdMap"]

Missing = Literal["raise", "skip", "negative"]


class IdMap:
    """An immutable, ordered vocabulary of external ids.

    Position ``i`` holds the id with index ``i``; indices are int32 and contiguous from 0.

    Parameters
    ----------
    ids : array-like
        Unique external ids (str, int, or any hashable). Duplicates are refused.
    name : str
        What the ids are ("user", "item", ...), used in error messages.

    Examples
    --------
    >>> m = IdMap(["b", "a", "c"], name="item")
    >>> m.index(["a", "c"]).tolist()
    [1, 2]
    >>> m.ids([0, 2]).tolist()
    ['b', 'c']
    >>> m.index(["a", "zz"], missing="negative").tolist()
    [1, -1]
    """

    __slots__ = ("_index", "_values", "name")

    def __init__(self, ids: Any, *, name: str = "id") -> None:
        array = check_ids(ids, f"{name} ids")
        index = pd.Index(
            array, dtype=array.dtype if array.dtype.kind != "O" else object, tupleize_cols=False
        )
        if not index.is_unique:
            dup = index[index.duplicated()].unique()
            raise DataValidationError(
                f"{name} ids given to an IdMap must be unique; found {len(dup)} duplicated "
                f"id(s): {preview(dup)}. Drop duplicates first (e.g. pandas.unique(ids))."
            )
        if index.hasnans:
            raise DataValidationError(
                f"{name} ids must not contain NaN or None; found {int(index.isna().sum())}. "
                "Drop the rows with missing ids first."
            )
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "name", name)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def _from_index(cls, index: pd.Index, name: str) -> IdMap:
        """Wrap a pandas Index already known to be unique and NaN-free (internal)."""
        if isinstance(index.dtype, pd.StringDtype):
            # str ids as Python objects, as IdMap(ids) keeps them: the object hash table
            # looks ids up twice as fast, and fitted and loaded maps behave the same
            index = index.astype(object)
        self = object.__new__(cls)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "name", name)
        return self

    @classmethod
    def range(cls, n: int, *, name: str = "id") -> IdMap:
        """The identity map ``0 .. n-1`` (used for bare scipy matrices)."""
        return cls._from_index(pd.RangeIndex(n), name)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("IdMap is immutable")

    # -- lookups -----------------------------------------------------------------------------
    def index(self, ids: Any, *, missing: Missing = "raise") -> np.ndarray:
        """Indices (int32) of external ids.

        Parameters
        ----------
        ids : array-like
            External ids.
        missing : {"raise", "skip", "negative"}
            Unknown ids raise :class:`UnknownIdError`, are dropped, or map to -1.
        """
        check_option(missing, "missing", ("raise", "skip", "negative"))
        return self._index_checked(check_ids(ids, f"{self.name} ids"), missing)

    def _index_checked(self, array: np.ndarray, missing: Missing) -> np.ndarray:
        """:meth:`index` of an array that already passed ``check_ids``."""
        if array.size == 0:
            return np.empty(0, dtype=np.int32)
        positions = self._positions(array)
        unknown = positions < 0
        if unknown.any():
            if missing == "raise":
                self._raise_unknown(array[unknown])
            if missing == "skip":
                positions = positions[~unknown]
        return positions

    def coerce(self, values: Any) -> np.ndarray:
        """External ids read as text (a CSV column, a URL) in this map's kind: integers for
        an integer map (``"42"`` -> 42), strings for a map of strings (42 -> ``"42"``);
        other maps get ``values`` unchanged. Values that cannot be converted raise
        :class:`DataValidationError`."""
        array = check_ids(values, f"{self.name} ids")
        kind = self._index.dtype.kind
        if kind in "iu":
            if array.dtype.kind in "iu":
                return array
            try:
                converted = [int(v) for v in array.tolist()]
                if any(isinstance(v, float) and not float(v).is_integer() for v in array.tolist()):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                bad = [v for v in array.tolist() if not _integral(v)]
                raise DataValidationError(
                    f"{self.name} ids of this model are integers; got values such as "
                    f"{preview(bad)}."
                ) from None
            return np.asarray(converted, dtype=np.uint64 if kind == "u" else np.int64)
        if self._index.inferred_type in ("string", "empty") and array.dtype.kind != "U":
            return np.asarray([str(v) for v in array.tolist()], dtype=object)
        return array

    def _positions(self, array: np.ndarray) -> np.ndarray:
        """Positions (int32, -1 when unknown) of checked ids, by the cheapest exact route."""
        index = self._index
        if array.size <= 4:  # serving path: a hash lookup per id beats get_indexer's set-up
            return np.array([self._position(v) for v in array], dtype=np.int32)
        if isinstance(index, pd.RangeIndex) and array.dtype.kind in "iu" and index.step == 1:
            inside = (array >= index.start) & (array < index.stop)
            return np.where(inside, array - index.start, -1).astype(np.int32)
        # the index's own hash table, without get_indexer's conversions of the query (which
        # cost a millisecond per call for 2,000 str ids: a candidate list on every request)
        query = _engine_query(index.dtype, array)
        if query is not None:
            try:
                return index._engine.get_indexer(query).astype(np.int32, copy=False)
            except (AttributeError, TypeError, ValueError):  # another pandas: the public route
                pass
        return index.get_indexer(array).astype(np.int32, copy=False)

    def _position(self, id_: Any) -> int:
        """Index of one id, or -1 when unknown."""
        try:
            position = self._index.get_loc(id_)
        except (KeyError, TypeError, ValueError, InvalidParameterError):
            return -1
        return int(position) if isinstance(position, (int, np.integer)) else -1

    def index_one(self, id_: Hashable) -> int:
        """Index of a single external id; unknown ids raise :class:`UnknownIdError`."""
        try:
            position = self._index.get_loc(id_)
        except (KeyError, TypeError, InvalidParameterError):
            self._raise_unknown([id_])
        if not isinstance(position, (int, np.integer)):  # slice/mask: not a scalar id
            self._raise_unknown([id_])
        return int(position)

    def _raise_unknown(self, unknown: Any) -> None:
        unknown = list(pd.unique(np.asarray(unknown, dtype=object)))
        raise UnknownIdError(
            f"{len(unknown)} {self.name} id(s) are not known to this model: {preview(unknown)}. "
            f"Known {self.name} ids are the {len(self)} seen in training; pass unknown='skip' "
            "(or 'popular'/'empty' where offered) to serve them anyway.",
            ids=unknown,
        )

    def ids(self, index: Any) -> np.ndarray:
        """External ids at the given indices (numpy array of the ids' dtype)."""
        index = np.asarray(index)
        if index.size and index.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"{self.name} indices must be integers; got {index.dtype} values such as "
                f"{index.ravel()[:3].tolist()}. Use index(ids) to look up external ids."
            )
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise InvalidParameterError(
                f"{self.name} indices must be in [0, {len(self) - 1}]; got values from "
                f"{int(index.min())} to {int(index.max())}."
            )
        return self._ids_unchecked(index)

    def _ids_unchecked(self, index: np.ndarray) -> np.ndarray:
        """:meth:`ids` of indices known to be valid (a kernel's output): no range check."""
        return self._id_values().take(index)

    def _id_values(self) -> np.ndarray:
        """The ids as one numpy array, built once (serving maps a few indices per call)."""
        try:
            return self._values
        except AttributeError:
            values = self._index.to_numpy()
            values.flags.writeable = False
            object.__setattr__(self, "_values", values)
            return values

    # -- container protocol ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._index)

    def __contains__(self, id_: Any) -> bool:
        try:
            return id_ in self._index
        except TypeError:
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self._index.equals(other._index)

    def __hash__(self) -> int:
        return hash((len(self), self.name))

    def __repr__(self) -> str:
        return f"IdMap(name={self.name!r}, n={len(self)}, first={preview(self._index[:3])})"

    def __reduce__(self):
        return (IdMap._from_index, (self._index, self.name))

    @property
    def array(self) -> np.ndarray:
        """All external ids, in index order (a read-only array)."""
        return self._id_values()

    @property
    def pandas_index(self) -> pd.Index:
        """The ids as a pandas Index (for joining results back to frames)."""
        return self._index

    def to_list(self) -> list:
        return self._index.tolist()

    # -- persistence without pickle -------------------------------------------------------------
    def to_arrays(self) -> tuple[str, dict[str, np.ndarray]]:
        """(kind, arrays) storable with ``numpy.savez(allow_pickle=False)``.

        kind is ``"range"``, ``"int"`` or ``"str"`` (UTF-8 bytes plus offsets, so any str
        survives); ids of other types cannot be saved.
        """
        index = self._index
        if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
            return "range", {"size": np.array([len(index)], dtype=np.int64)}
        values = index.to_numpy()
        if values.dtype.kind == "u" and values.size and values.max() > np.iinfo(np.int64).max:
            return "uint", {"ids": values.astype(np.uint64)}
        if values.dtype.kind in "iu":
            return "int", {"ids": values.astype(np.int64)}
        if all(isinstance(v, str) for v in values):
            encoded = [v.encode("utf-8", "surrogatepass") for v in values]
            offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
            np.cumsum([len(b) for b in encoded], out=offsets[1:])
            return "str", {
                "offsets": offsets,
                "utf8": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            }
        kinds = sorted({type(v).__name__ for v in values})
        raise NotSupportedError(
            f"{self.name} ids of type(s) {kinds} cannot be saved; reco saves only int or str ids "
            "(no pickle). Map the ids to str or int before fitting."
        )

    @classmethod
    def from_arrays(cls, kind: str, arrays: dict[str, np.ndarray], *, name: str) -> IdMap:
        """Inverse of :meth:`to_arrays`; arrays from a file are checked, never trusted."""
        expected = {"range": {"size"}, "int": {"ids"}, "uint": {"ids"}, "str": {"offsets", "utf8"}}
        if kind not in expected or set(arrays) != expected[kind]:
            raise DataValidationError(
                f"{name} id map in the file has kind {kind!r} with parts {sorted(arrays)}; "
                f"expected one of {sorted(expected)} with its parts."
            )

        def part(key: str, dtype: type) -> np.ndarray:
            array = arrays[key]
            if array.dtype != np.dtype(dtype) or array.ndim != 1:
                raise DataValidationError(
                    f"{name} id map part {key!r} must be a 1-D {np.dtype(dtype)} array; got "
                    f"{array.dtype} of shape {array.shape}."
                )
            return array

        if kind == "range":
            size = part("size", np.int64)
            if size.size != 1 or not 0 <= int(size[0]) < 2**31:
                raise DataValidationError(f"{name} id map size must be in [0, 2**31).")
            return cls.range(int(size[0]), name=name)
        if kind in ("int", "uint"):
            return cls(part("ids", np.int64 if kind == "int" else np.uint64), name=name)
        if kind == "str":
            offsets, utf8 = part("offsets", np.int64), part("utf8", np.uint8)
            if (
                offsets.size == 0
                or offsets[0] != 0
                or offsets[-1] != utf8.size
                or (np.diff(offsets) < 0).any()
            ):
                raise DataValidationError(
                    f"{name} id map offsets must rise from 0 to the text length {utf8.size}."
                )
            raw = utf8.tobytes()
            ids = np.empty(offsets.size - 1, dtype=object)
            try:
                for k in range(ids.size):
                    ids[k] = raw[offsets[k] : offsets[k + 1]].decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as error:
                raise DataValidationError(f"{name} ids in the file are not text: {error}") from None
            return cls(ids, name=name)
        raise DataValidationError(f"unknown id-map kind {kind!r} in the file.")


def _integral(value: Any) -> bool:
    try:
        return float(value).is_integer() and not isinstance(value, bool)
    except (TypeError, ValueError, OverflowError):
        return False


def _engine_query(dtype: Any, array: np.ndarray) -> np.ndarray | None:
    """``array`` in the form the hash table of an index of ``dtype`` takes, or None when the
    public ``get_indexer`` must convert it (mixed kinds, datetimes, extension types)."""
    kind = getattr(dtype, "kind", None)
    if kind == "O" or isinstance(dtype, pd.StringDtype):
        return array if array.dtype.kind == "O" else None
    if kind == "i" and array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.size and array.max() >= 2**63:
            return None
        return array.astype(np.int64, copy=False)
    if kind == "u" and array.dtype.kind in "iu":
        if array.dtype.kind == "i" and array.size and array.min() < 0:
            return None
        return array.astype(np.uint64, copy=False)
    return None
