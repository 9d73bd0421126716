"""reco.batch.spark on a real local[2] Spark session: rows equal the single-process path.
Skip locally with -m "not cluster"; CI runs it (Java 17 is on the machine)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from reco.batch import recommend_all
from reco.models import ItemKNN
from reco.testing import conformance_data

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("reco-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def model():
    return ItemKNN(k=10).fit(conformance_data())


def test_spark_rows_equal_single_process(spark, model, tmp_path):
    from reco.batch import spark as reco_spark

    users = spark.createDataFrame(
        pd.DataFrame({"user": model.user_map_.array.astype(str)})
    ).repartition(3)
    rows = reco_spark.recommend_all(model, users, 5, exclude_items=["i03"])
    got = rows.toPandas().sort_values(["user", "rank"]).reset_index(drop=True)
    single = recommend_all(
        model, n=5, out=tmp_path / "single.parquet", show_progress=False, exclude_items=["i03"]
    )
    expected = pd.read_parquet(single).sort_values(["user", "rank"]).reset_index(drop=True)
    assert got["user"].tolist() == expected["user"].tolist()
    assert got["item"].tolist() == expected["item"].tolist()
    assert np.array_equal(got["score"].to_numpy(np.float32), expected["score"].to_numpy())
    assert got["rank"].tolist() == expected["rank"].tolist()
    out = reco_spark.recommend_all(model, users, 2, out=str(tmp_path / "spark_out"))
    assert len(pd.read_parquet(out)) == 2 * model.n_users_


def test_spark_bad_input(spark, model):
    from reco.batch import spark as reco_spark
    from reco.exceptions import DataValidationError

    with pytest.raises(DataValidationError, match="Spark DataFrame"):
        reco_spark.recommend_all(model, pd.DataFrame({"user": ["u01"]}))
