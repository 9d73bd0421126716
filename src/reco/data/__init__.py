"""Data model: id maps, interaction logs and baskets."""

from . import interop
from .baskets import Baskets
from .idmap import IdMap
from .interactions import Interactions

__all__ = ["Baskets", "IdMap", "Interactions", "interop"]
