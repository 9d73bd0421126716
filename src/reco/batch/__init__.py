"""Batch jobs: score every user or customer in chunks, streamed to Parquet or CSV files
written atomically (and, in :mod:`reco.batch.dask` and :mod:`reco.batch.spark`, the same jobs
on a cluster)."""

from .customers import score_customers
from .recommend import recommend_all, recommendation_rows

__all__ = ["recommend_all", "recommendation_rows", "score_customers"]
