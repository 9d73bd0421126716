"""The peers' input types, in one place: reco's data to and from implicit, mlxtend, pyfim,
PrefixSpan and LensKit (lifetimes reads reco's ``summary`` frame as it is: the same columns).

Every ``to_*`` returns a fresh, writable object the peer may change in place (reco's own
matrices are shared and read-only); every ``from_*`` validates like reco's own readers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool
from ..exceptions import DataValidationError
from .baskets import Baskets
from .interactions import Interactions

__all__ = [
    "from_implicit",
    "from_mlxtend",
    "to_implicit",
    "to_lenskit",
    "to_mlxtend",
    "to_pyfim",
]


def _checked(value: Any, kind: type, name: str, build: str) -> Any:
    """``value`` if it is a ``kind``; otherwise an error saying how to build one."""
    if not isinstance(value, kind):
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        raise DataValidationError(
            f"{name} takes {article} {kind.__name__}; got {type(value).__name__}. Build one "
            f"with {build}."
        )
    return value


def _interactions(data: Any, name: str) -> Interactions:
    return _checked(data, Interactions, name, "Interactions.from_frame(df, user=..., item=...)")


def _baskets(baskets: Any, name: str) -> Baskets:
    how = "Baskets.from_frame(df, transaction=..., item=...) or Baskets.from_lists(lists)"
    return _checked(baskets, Baskets, name, how)


def to_implicit(data: Interactions) -> sp.csr_matrix:
    """The users x items matrix as implicit (>= 0.5) fits it: a writable float32
    ``scipy.sparse.csr_matrix``; row ``u`` is ``data.user_map.ids(u)``, column ``i`` is
    ``data.item_map.ids(i)`` (implicit's user and item numbers).

    Parameters
    ----------
    data : Interactions

    Returns
    -------
    scipy.sparse.csr_matrix of float32

    Raises
    ------
    DataValidationError
        ``data`` is not an Interactions.

    Examples
    --------
    >>> import pandas as pd
    >>> from reco import Interactions
    >>> X = Interactions.from_frame(pd.DataFrame({"user": ["ann", "ann", "bob"],
    ...                                           "item": ["tea", "cups", "tea"]}),
    ...                             user="user", item="item")
    >>> matrix = to_implicit(X)          # users x items, what implicit's fit takes
    >>> matrix.toarray()
    array([[1., 1.],
           [1., 0.]], dtype=float32)
    """
    return _interactions(data, "to_implicit").to_csr(copy=True, format="matrix")


def from_implicit(matrix: Any, *, user_ids: Any = None, item_ids: Any = None) -> Interactions:
    """An Interactions from implicit's users x items matrix (ids 0..n-1 unless named).

    Parameters
    ----------
    matrix : scipy sparse matrix
        Users x items.
    user_ids, item_ids : array-like, optional
        External ids of the rows and columns.

    Returns
    -------
    Interactions

    Raises
    ------
    DataValidationError
        Not a 2-D sparse matrix, negative or non-finite values, or ids of the wrong length.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> data = from_implicit(sp.csr_matrix([[1.0, 0.0], [2.0, 1.0]]), item_ids=["tea", "cups"])
    >>> data.shape, data.item_map.to_list()
    ((2, 2), ['tea', 'cups'])
    """
    return Interactions.from_csr(matrix, user_ids=user_ids, item_ids=item_ids)


def to_mlxtend(baskets: Baskets, *, sparse: bool = False) -> pd.DataFrame:
    """mlxtend's one-hot frame: one bool column per item (the item ids), one row per
    transaction (the transaction ids). ``sparse=True`` gives pandas sparse columns, which
    mlxtend's ``fpgrowth`` also takes, for catalogues too wide for a dense table.

    Parameters
    ----------
    baskets : Baskets
    sparse : bool
        Pandas sparse columns instead of dense ones.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataValidationError
        ``baskets`` is not a Baskets.

    Examples
    --------
    >>> from reco import Baskets
    >>> baskets = Baskets.from_lists([["milk", "bread"], ["milk"]])
    >>> to_mlxtend(baskets)
       milk  bread
    0  True   True
    1  True  False
    """
    baskets = _baskets(baskets, "to_mlxtend")
    matrix = sp.csr_array(baskets.matrix, dtype=bool)
    if check_bool(sparse, "sparse"):
        frame = pd.DataFrame.sparse.from_spmatrix(
            sp.csc_matrix(matrix), columns=baskets.item_map.pandas_index
        )
        frame.index = baskets.transaction_map.pandas_index
        return frame
    return pd.DataFrame(
        matrix.toarray(),
        index=baskets.transaction_map.pandas_index,
        columns=baskets.item_map.pandas_index,
    )


def from_mlxtend(frame: pd.DataFrame) -> Baskets:
    """Baskets from mlxtend's one-hot frame (see :meth:`Baskets.from_onehot`).

    Parameters
    ----------
    frame : DataFrame
        One bool (or 0/1) column per item.

    Returns
    -------
    Baskets

    Raises
    ------
    DataValidationError
        Columns that are not 0/1.

    Examples
    --------
    >>> import pandas as pd
    >>> onehot = pd.DataFrame({"milk": [True, True], "bread": [True, False]})
    >>> from_mlxtend(onehot).to_lists()
    [['milk', 'bread'], ['milk']]
    """
    return Baskets.from_onehot(frame)


def to_pyfim(baskets: Baskets) -> list[list[Any]]:
    """pyfim's (and PrefixSpan's, for one sequence per row) input: each transaction's items
    as a list of item ids.

    Parameters
    ----------
    baskets : Baskets

    Returns
    -------
    list of lists

    Raises
    ------
    DataValidationError
        ``baskets`` is not a Baskets.

    Examples
    --------
    >>> from reco import Baskets
    >>> baskets = Baskets.from_lists([["milk", "bread"], ["milk"]])
    >>> to_pyfim(baskets)
    [['milk', 'bread'], ['milk']]
    """
    return _baskets(baskets, "to_pyfim").to_lists()


def to_lenskit(data: Interactions) -> pd.DataFrame:
    """LensKit's and RecBole's long frame: ``user_id``, ``item_id``, ``rating`` (the value)
    and ``timestamp`` when the log has times (LensKit >= 2025 names them so).

    Parameters
    ----------
    data : Interactions

    Returns
    -------
    DataFrame

    Raises
    ------
    DataValidationError
        ``data`` is not an Interactions.

    Examples
    --------
    >>> import pandas as pd
    >>> from reco import Interactions
    >>> X = Interactions.from_frame(pd.DataFrame({"user": ["ann", "ann", "bob"],
    ...                                           "item": ["tea", "cups", "tea"]}),
    ...                             user="user", item="item")
    >>> to_lenskit(X)
      user_id item_id  rating
    0     ann     tea     1.0
    1     ann    cups     1.0
    2     bob     tea     1.0
    """
    data = _interactions(data, "to_lenskit")
    out = {
        "user_id": data.user_map.ids(data.user_index),
        "item_id": data.item_map.ids(data.item_index),
        "rating": np.asarray(data.value, dtype=np.float64),
    }
    if data.time is not None:
        out["timestamp"] = data.time
    return pd.DataFrame(out)
