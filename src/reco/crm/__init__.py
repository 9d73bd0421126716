"""The 360-degree customer view: a customer store in DuckDB, profiles, a KPI cube,
consent-aware targeting and erasure (see :class:`CustomerStore`)."""

from ._sources import sql_source
from .plots import plot_cube
from .profile import CustomerProfile
from .store import CustomerStore

__all__ = ["CustomerProfile", "CustomerStore", "plot_cube", "sql_source"]
