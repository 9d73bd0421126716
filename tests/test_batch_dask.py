"""reco.batch.dask on a real LocalCluster with 2 worker processes: rows equal the
single-process path exactly. Skip locally with -m "not cluster"; CI runs it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reco.batch import recommend_all
from reco.models import ItemKNN, Popularity
from reco.testing import conformance_data

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def model():
    return ItemKNN(k=10).fit(conformance_data())


def test_dask_rows_equal_single_process(client, model, tmp_path):
    import dask.dataframe as dd

    from reco.batch import dask as reco_dask

    users = pd.DataFrame({"user": model.user_map_.array, "other": 1})
    frame = dd.from_pandas(users, npartitions=4)
    got = reco_dask.recommend_all(model, frame, 5, candidates=["i01", "i02", "i11", "i12", "i13"])
    got = got.compute().reset_index(drop=True)
    single = recommend_all(
        model, n=5, out=tmp_path / "single.parquet", show_progress=False,
        candidates=["i01", "i02", "i11", "i12", "i13"],
    )  # fmt: skip
    expected = pd.read_parquet(single)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert np.array_equal(got["score"].to_numpy(), expected["score"].to_numpy())


def test_dask_to_parquet_and_bad_input(client, model, tmp_path):
    import dask.dataframe as dd

    from reco.batch import dask as reco_dask
    from reco.exceptions import DataValidationError

    frame = dd.from_pandas(pd.DataFrame({"user": ["u01", "u02", "u03"]}), npartitions=2)
    out = reco_dask.recommend_all(model, frame, 3, out=str(tmp_path / "recs"))
    written = pd.read_parquet(out).sort_values(["user", "rank"]).reset_index(drop=True)
    assert written["user"].tolist() == ["u01"] * 3 + ["u02"] * 3 + ["u03"] * 3
    with pytest.raises(DataValidationError, match="dask DataFrame"):
        reco_dask.recommend_all(model, pd.DataFrame({"user": ["u01"]}))
    with pytest.raises(Exception, match="not fitted"):
        reco_dask.recommend_all(Popularity(), frame)


def test_dask_score_customers_equals_single_process(client, tmp_path):
    import dask.dataframe as dd

    from reco.batch import dask as reco_dask
    from reco.batch import score_customers
    from reco.datasets import make_shop

    lines = make_shop(800, 80, random_state=2).order_lines
    for cutoff in (None, "2024-10-01"):
        single = pd.read_parquet(
            score_customers(lines, cutoff=cutoff, out=tmp_path / "one.parquet",
                            show_progress=False)
        ).set_index("customer").sort_index()  # fmt: skip
        frame = dd.from_pandas(lines.sample(frac=1.0, random_state=0), npartitions=5)
        got = reco_dask.score_customers(frame, cutoff=cutoff).compute()
        got = got.set_index("customer").sort_index()
        got.index = got.index.astype(single.index.dtype)
        pd.testing.assert_frame_equal(got, single, check_dtype=False, rtol=1e-9)


def test_dask_score_customers_bad_input(client, model):
    import dask.dataframe as dd

    from reco.batch import dask as reco_dask
    from reco.exceptions import DataValidationError, InvalidParameterError, NotSupportedError

    frame = dd.from_pandas(pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"]}), 1)
    with pytest.raises(DataValidationError, match="lack column"):
        reco_dask.score_customers(frame)
    with pytest.raises(InvalidParameterError, match="ChurnModel"):
        reco_dask.score_customers(frame.assign(value=1.0), models={"churn": object()})
    with pytest.raises(NotSupportedError, match="events"):
        reco_dask.score_customers(frame.assign(value=1.0), churn_options={"events": frame})


def test_dask_churn_scores_equal_single_process(client, churn_case):
    """P(churn) on partitions, with the population's median gap and BG/NBD fit gathered
    once, equals the single-process scores exactly."""
    import dask.dataframe as dd

    from reco.batch import dask as reco_dask

    lines, cutoff, churn, options, single = churn_case
    frame = dd.from_pandas(lines.sample(frac=1.0, random_state=1), npartitions=3)
    got = reco_dask.score_customers(
        frame, cutoff=cutoff, models={"churn": churn}, churn_options=options
    ).compute()
    got = got.set_index("customer").sort_index()
    got.index = got.index.astype(single.index.dtype)
    np.testing.assert_array_equal(got["p_churn"].to_numpy(), single["p_churn"].to_numpy())
    pd.testing.assert_frame_equal(got, single, check_dtype=False, rtol=1e-9)
