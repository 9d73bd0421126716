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


def test_spark_score_customers_equals_single_process(spark, tmp_path):
    from reco.batch import score_customers
    from reco.batch import spark as reco_spark
    from reco.datasets import make_shop

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    lines = make_shop(800, 80, random_state=2).order_lines
    frame = spark.createDataFrame(lines[["customer_id", "timestamp", "value"]]).repartition(3)
    for cutoff in (None, "2024-10-01"):
        single = pd.read_parquet(
            score_customers(lines, cutoff=cutoff, out=tmp_path / "one.parquet",
                            show_progress=False)
        ).set_index("customer").sort_index()  # fmt: skip
        got = reco_spark.score_customers(frame, cutoff=cutoff).toPandas()
        got = got.set_index("customer").sort_index()
        pd.testing.assert_frame_equal(got, single, check_dtype=False, rtol=1e-12)


def test_spark_churn_scores_equal_single_process(spark, churn_case):
    from reco.batch import spark as reco_spark

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    lines, cutoff, churn, options, single = churn_case
    columns = ["customer_id", "timestamp", "value", "order_id"]
    frame = spark.createDataFrame(lines[columns]).repartition(3)
    got = reco_spark.score_customers(
        frame, cutoff=cutoff, models={"churn": churn}, churn_options=options
    ).toPandas()
    got = got.set_index("customer").sort_index()
    assert np.array_equal(got["p_churn"].to_numpy(), single["p_churn"].to_numpy())
    pd.testing.assert_frame_equal(got, single, check_dtype=False, rtol=1e-12)
