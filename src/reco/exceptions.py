"""Every exception and warning reco raises.

Each error class also subclasses the matching built-in, so ``except ValueError`` or
``except KeyError`` written against scikit-learn or pandas keeps working.

A message says what was wrong, the rule, what was received, and the fix when known::

    min_support must be in (0, 1] or a positive count; got 0. Pass a fraction such as 0.01.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "DataConversionWarning",
    "DataValidationError",
    "EfficiencyWarning",
    "InvalidParameterError",
    "NotFittedError",
    "NotSupportedError",
    "RecoError",
    "RecoWarning",
    "SmallSampleWarning",
    "UndefinedMetricWarning",
    "UnknownIdError",
]


class RecoError(Exception):
    """Base class of every error reco raises on purpose."""


class NotFittedError(RecoError, ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``."""


class InvalidParameterError(RecoError, ValueError, TypeError):
    """A parameter has the wrong type or a value outside its allowed range."""


class DataValidationError(RecoError, ValueError):
    """Input data is unusable: NaN, negative weights, empty, missing columns, bad shape."""


class UnknownIdError(RecoError, KeyError):
    """External user or item ids that the model (or id map) has never seen.

    Attributes
    ----------
    ids : list
        Every unknown id, in the order given.
    """

    def __init__(self, message: str, ids: list | None = None) -> None:
        super().__init__(message)
        self.ids = list(ids) if ids is not None else []

    def __str__(self) -> str:  # KeyError would repr() the message and add quotes
        return str(self.args[0]) if self.args else ""


class NotSupportedError(RecoError, NotImplementedError):
    """The operation exists in the interface but this model or input cannot do it."""


class ConvergenceError(RecoError, RuntimeError):
    """An optimiser failed in a way that leaves no usable result."""


class RecoWarning(UserWarning):
    """Base class of every warning reco emits."""


class DataConversionWarning(RecoWarning):
    """Input had to be converted (dtype, sparse format, duplicates merged) and it cost time."""


class ConvergenceWarning(RecoWarning):
    """An optimiser stopped before its convergence criterion was met."""


class EfficiencyWarning(RecoWarning):
    """The call works but will take far longer or far more memory than it needs to."""


class SmallSampleWarning(RecoWarning):
    """A split or evaluation rests on so few users that its figures cannot be trusted."""


class UndefinedMetricWarning(RecoWarning):
    """A metric is undefined for some inputs (e.g. users with no relevant items)."""
