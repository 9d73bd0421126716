"""scikit-learn's parameter protocol without importing scikit-learn (it costs a second).

:class:`Params` gives ``get_params`` / ``set_params`` (nested ``a__b`` names) and a ``repr``
of the parameters that differ from their defaults, with the semantics of
``sklearn.base.BaseEstimator``, so ``sklearn.base.clone``, grid searches and pipelines treat
reco estimators as their own.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from .exceptions import InvalidParameterError

__all__ = ["Params", "clone"]


class Params:
    """Parameters are the keyword arguments of ``__init__``, stored unchanged as attributes."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        parameters = inspect.signature(init).parameters.values()
        names = []
        for p in parameters:
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise TypeError(
                    f"{cls.__name__}.__init__ takes *{p.name}; estimators take keyword "
                    "parameters only."
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters by name; with ``deep``, those of nested estimators as ``name__param``."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Any:
        """Set parameters (``name`` or nested ``name__param``); returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise InvalidParameterError(
                    f"{type(self).__name__} has no parameter {name!r}; valid parameters are "
                    f"{sorted(self._get_param_names())}."
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
            if p.default is not p.empty
        }
        changed = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or not _same(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(value: Any, default: Any) -> bool:
    """``value`` equals the default (NaN equals NaN; arrays never do)."""
    if value is default:
        return True
    try:
        equal = value == default
        if isinstance(equal, bool):
            return equal or (value != value and default != default)
    except Exception:
        return False
    return False


def clone(estimator: Any) -> Any:
    """An unfitted copy with the same parameters (``sklearn.base.clone``'s semantics).

    reco estimators are rebuilt from their parameters (each cloned in turn); other objects with
    ``get_params`` go to scikit-learn's clone (imported only then); anything else is deep-copied.
    """
    if isinstance(estimator, Params):
        params = {k: clone(v) for k, v in estimator.get_params(deep=False).items()}
        return type(estimator)(**params)
    if hasattr(estimator, "get_params") and not isinstance(estimator, type):
        from sklearn.base import clone as sklearn_clone

        return sklearn_clone(estimator)
    return copy.deepcopy(estimator)
