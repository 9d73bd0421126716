"""RecList and RecBatch: what every recommender returns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .data import IdMap

__all__ = ["RecBatch", "RecList"]


class RecList:
    """One ranked list: ``items`` (external ids, best first) and their ``scores``.

    ``user`` is the user it was made for (None for a basket, a session or ``similar_items``).
    """

    __slots__ = ("item_index", "items", "scores", "user")

    def __init__(
        self, user: Any, items: np.ndarray, scores: np.ndarray, item_index: np.ndarray
    ) -> None:
        self.user = user
        self.items = items
        self.scores = scores
        self.item_index = item_index

    def to_frame(self) -> pd.DataFrame:
        """Columns ``item``, ``score``, ``rank`` (1 = best)."""
        return pd.DataFrame(
            {
                "item": self.items,
                "score": self.scores,
                "rank": np.arange(1, len(self) + 1, dtype=np.int32),
            }
        )

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[tuple[Any, float]]:
        return zip(self.items.tolist(), self.scores.tolist(), strict=True)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RecList)
            and np.array_equal(self.item_index, other.item_index)
            and np.array_equal(self.scores, other.scores)
        )

    __hash__ = None  # mutable arrays inside

    def __repr__(self) -> str:
        head = ", ".join(f"{i!r}: {s:.4g}" for i, s in list(self)[:5])
        more = ", ..." if len(self) > 5 else ""
        return f"RecList(user={self.user!r}, n={len(self)}, [{head}{more}])"


class RecBatch:
    """Ranked lists for many users, as fixed-width arrays.

    Attributes
    ----------
    users : ndarray
        The users asked for, in order.
    item_index : ndarray of int32, shape (n_users, n)
        Item indices in the model's item map, best first; padding is ``-1``.
    scores : ndarray of float32, shape (n_users, n)
        Scores; padding is ``-inf``.
    lengths : ndarray of int32
        How many real entries each row has (rows are shorter when fewer items are eligible, or
        empty for unknown users under ``unknown="empty"``).
    item_map : IdMap
        The model's item map, to turn indices into external ids.
    """

    __slots__ = ("item_index", "item_map", "lengths", "scores", "users")

    def __init__(
        self,
        users: np.ndarray,
        item_index: np.ndarray,
        scores: np.ndarray,
        lengths: np.ndarray,
        item_map: IdMap,
    ) -> None:
        self.users = users
        self.item_index = item_index
        self.scores = scores
        self.lengths = lengths
        self.item_map = item_map

    @property
    def items(self) -> np.ndarray:
        """External item ids, shape (n_users, n). Padding is -1 for integer ids, else None."""
        pad = self.item_index < 0
        ids = self.item_map.ids(np.where(pad, 0, self.item_index))
        if not pad.any():
            return ids
        if ids.dtype.kind in "iu":
            ids = ids.astype(np.int64)
            ids[pad] = -1
        else:
            ids = ids.astype(object)
            ids[pad] = None
        return ids

    @property
    def n(self) -> int:
        """The requested list length (width of the arrays)."""
        return self.item_index.shape[1]

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, position: int) -> RecList:
        length = int(self.lengths[position])
        index = self.item_index[position, :length]
        return RecList(
            self.users[position],
            self.item_map._ids_unchecked(index),
            self.scores[position, :length],
            index,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long frame ``user, item, score, rank`` (1 = best), padding dropped."""
        mask = np.arange(self.n)[None, :] < self.lengths[:, None]
        rows, cols = np.nonzero(mask)
        return pd.DataFrame(
            {
                "user": self.users[rows],
                "item": self.item_map.ids(self.item_index[rows, cols]),
                "score": self.scores[rows, cols],
                "rank": (cols + 1).astype(np.int32),
            }
        )

    def __repr__(self) -> str:
        return (
            f"RecBatch(n_users={len(self)}, n={self.n}, "
            f"mean_length={float(self.lengths.mean()) if len(self) else 0:.3g})"
        )
