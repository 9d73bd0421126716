import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from reco import exceptions as ex
from reco._validation import (
    check_frame,
    check_int,
    check_n,
    check_number,
    check_random_state,
    check_sparse,
)


def test_exception_hierarchy_keeps_builtin_clauses():
    assert issubclass(ex.NotFittedError, ValueError) and issubclass(
        ex.NotFittedError, AttributeError
    )
    assert issubclass(ex.InvalidParameterError, TypeError)
    assert issubclass(ex.UnknownIdError, KeyError)
    assert issubclass(ex.NotSupportedError, NotImplementedError)
    assert issubclass(ex.ConvergenceError, RuntimeError)
    for warning in (
        ex.DataConversionWarning,
        ex.EfficiencyWarning,
        ex.SmallSampleWarning,
        ex.ConvergenceWarning,
        ex.UndefinedMetricWarning,
    ):
        assert issubclass(warning, ex.RecoWarning) and issubclass(warning, UserWarning)
    assert str(ex.UnknownIdError("plain message")) == "plain message"


@pytest.mark.parametrize("value", [0, -1, 1.5, "3", True, None])
def test_check_n_rejects(value):
    with pytest.raises(ex.InvalidParameterError, match=r"^n must be an integer.*got"):
        check_n(value)


def test_check_n_accepts_numpy_ints():
    assert check_n(np.int64(5)) == 5


def test_numbers_and_ranges():
    assert check_number(0.5, "x", low=0, high=1) == 0.5
    with pytest.raises(ex.InvalidParameterError, match=r"x must be a finite number > 0; got 0.0"):
        check_number(0, "x", low=0, low_open=True)
    with pytest.raises(ex.InvalidParameterError, match="finite"):
        check_number(float("nan"), "x")
    with pytest.raises(ex.InvalidParameterError, match=r"k must be an integer in \[1, 5\]"):
        check_int(9, "k", low=1, high=5)


def test_random_state():
    a = check_random_state(3).random(3)
    assert np.array_equal(a, check_random_state(3).random(3))
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    with pytest.raises(ex.InvalidParameterError, match="random_state"):
        check_random_state(-1)


def test_check_frame_messages():
    frame = pd.DataFrame({"user_id": [1], "item_id": [2]})
    with pytest.raises(ex.DataValidationError, match="Did you mean user='user_id'"):
        check_frame(frame, {"user": "userid"})
    with pytest.raises(ex.DataValidationError, match="must be a pandas DataFrame"):
        check_frame([1, 2], {})


def test_check_sparse():
    with pytest.raises(ex.DataValidationError, match="dense"):
        check_sparse(np.ones((2, 2)))
    out = check_sparse(sp.coo_array(np.array([[1, 0], [0, 2]])))
    assert out.format == "csr" and out.dtype == np.float32
    with pytest.raises(ex.DataValidationError, match="non-negative"):
        check_sparse(sp.csr_array(np.array([[1.0, -1.0]])))
