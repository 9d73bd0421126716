"""reco.batch.recommend_all: chunked, streamed, atomic, equal to recommend_batch."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from reco.batch import recommend_all
from reco.datasets import make_shop
from reco.exceptions import InvalidParameterError, UnknownIdError
from reco.models import ItemKNN, Popularity
from reco.testing import conformance_data


@pytest.fixture(scope="module")
def model():
    return ItemKNN(k=10).fit(conformance_data())


def _read(path):
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_rows_equal_recommend_batch(model, tmp_path, suffix, chunk_size):
    out = recommend_all(
        model, n=4, out=tmp_path / f"recs{suffix}", chunk_size=chunk_size, show_progress=False
    )
    got = _read(out)
    batch = model.recommend_batch(model.user_map_.array, 4)
    expected = batch.to_frame()
    assert list(got.columns) == ["user", "item", "score", "rank"]
    assert got["user"].astype(str).tolist() == expected["user"].astype(str).tolist()
    assert got["item"].astype(str).tolist() == expected["item"].astype(str).tolist()
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-6)
    assert got["rank"].tolist() == expected["rank"].tolist()


def test_given_users_options_and_empty(model, tmp_path):
    out = recommend_all(
        model,
        ["u03", "u20"],
        3,
        out=tmp_path / "some.parquet",
        exclude_items=["i01"],
        candidates=["i01", "i02", "i03", "i12"],
        show_progress=False,
    )
    got = _read(out)
    for user in ("u03", "u20"):
        expected = model.recommend(
            user, 3, exclude_items=["i01"], candidates=["i01", "i02", "i03", "i12"]
        )
        assert got.loc[got["user"] == user, "item"].tolist() == expected.items.tolist()
    empty = recommend_all(model, [], 3, out=tmp_path / "none.parquet", show_progress=False)
    frame = _read(empty)
    assert len(frame) == 0 and list(frame.columns) == ["user", "item", "score", "rank"]


def test_unknown_users_refused_before_writing(model, tmp_path):
    target = tmp_path / "recs.parquet"
    target.write_bytes(b"old")
    with pytest.raises(UnknownIdError, match="nobody"):
        recommend_all(model, ["u01", "nobody"], out=target, show_progress=False)
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]  # no temporary left behind
    out = recommend_all(
        model, ["u01", "nobody"], 2, out=tmp_path / "p.csv", unknown="popular", show_progress=False
    )
    assert _read(out)["user"].tolist().count("nobody") == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"out": "recs.txt"}, "must end in .parquet or .csv"),
        ({"out": "missing/recs.csv"}, "does not exist"),
        ({"out": "r.csv", "n": 0}, "n must be"),
        ({"out": "r.csv", "chunk_size": 0}, "chunk_size"),
        ({"out": "r.csv", "unknown": "skip"}, "unknown"),
    ],
)
def test_bad_arguments(model, tmp_path, monkeypatch, kwargs, match):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match=match):
        recommend_all(model, show_progress=False, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(Exception, match="not fitted"):
        recommend_all(Popularity(), out=tmp_path / "r.csv", show_progress=False)


_CHILD = """
import sys
from reco.base import Recommender
from reco.batch import recommend_all
model = Recommender.load(sys.argv[1])
print("ready", flush=True)
while True:
    recommend_all(model, n=20, out=sys.argv[2], chunk_size=500, show_progress=False)
"""


def test_killed_job_leaves_old_or_complete_file(tmp_path):
    shop = make_shop(3000, 300, random_state=0)
    from reco import Interactions

    data = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    model = ItemKNN(k=20).fit(data)
    model_path = tmp_path / "model.npz"
    model.save(model_path)
    target = tmp_path / "recs.parquet"
    target.write_bytes(b"old file")
    reference = recommend_all(model, n=20, out=tmp_path / "ref.parquet", show_progress=False)
    expected_rows = len(pd.read_parquet(reference))
    rng = np.random.default_rng(0)
    outcomes = {"old": 0, "new": 0}
    for _ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(model_path), str(target)], stdout=subprocess.PIPE
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.6)))
        child.kill()
        child.wait()
        content = target.read_bytes()
        if content == b"old file":
            outcomes["old"] += 1
        else:
            assert len(pd.read_parquet(target)) == expected_rows  # complete, readable
            outcomes["new"] += 1
        target.write_bytes(b"old file")
    assert outcomes["old"] + outcomes["new"] == 20
    recommend_all(model, n=20, out=target, show_progress=False)  # a later run cleans up
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture(scope="module")
def shop():
    return make_shop(1500, 150, random_state=1)


def test_score_customers_matches_the_parts(shop, tmp_path):
    from reco.batch import score_customers
    from reco.customers import (
        BetaGeo,
        ChurnModel,
        GammaGamma,
        RFMScorer,
        lifetime_value,
        summary,
    )

    cutoff = "2024-10-01"
    lines = shop.order_lines
    churn = ChurnModel(horizon=60, random_state=0).fit(lines, value="value", cutoff=cutoff)
    whole = _read(
        score_customers(
            lines,
            cutoff=cutoff,
            out=tmp_path / "all.parquet",
            models={"churn": churn},
            show_progress=False,
        )
    )
    chunked = _read(
        score_customers(
            lines,
            cutoff=cutoff,
            out=tmp_path / "chunks.csv",
            chunk_size=97,
            models={"churn": churn},
            show_progress=False,
        )
    )
    pd.testing.assert_frame_equal(whole, chunked, check_dtype=False, atol=1e-9)
    kept = lines[pd.to_datetime(lines["timestamp"]) <= pd.Timestamp(cutoff)]
    kept = kept.sort_values(["customer_id", "timestamp", "value"], kind="stable")
    table = summary(kept, value="value", observation_end=cutoff)
    purchases, spend = BetaGeo().fit(table), GammaGamma().fit(table)
    value = lifetime_value(purchases, spend, table).reindex(table.index)
    segments = RFMScorer().fit_transform(table)
    assert whole["customer"].tolist() == table.index.tolist()
    np.testing.assert_allclose(whole["clv"], value["clv"], rtol=1e-10)
    assert whole["segment"].tolist() == segments["segment"].astype(str).tolist()
    p_churn = churn.predict_proba(lines, value="value", cutoff=cutoff)
    np.testing.assert_allclose(whole["p_churn"], p_churn.reindex(table.index), rtol=1e-12)


def test_score_customers_bad_input(shop, tmp_path):
    from reco.batch import score_customers
    from reco.exceptions import DataValidationError

    with pytest.raises(InvalidParameterError, match="unknown key"):
        score_customers(shop.order_lines, out=tmp_path / "c.csv", models={"spam": 1})
    with pytest.raises(InvalidParameterError, match="horizon"):
        score_customers(shop.order_lines, out=tmp_path / "c.csv", horizon=0)
    with pytest.raises(DataValidationError, match="DataFrame"):
        score_customers([1, 2], out=tmp_path / "c.csv")
    with pytest.raises(InvalidParameterError, match="must end in"):
        score_customers(shop.order_lines, out=tmp_path / "c.json")
    assert list(tmp_path.iterdir()) == []
