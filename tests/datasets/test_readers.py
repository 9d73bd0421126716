import gzip

import pandas as pd
import pytest

from reco.datasets import read_arff_baskets, read_cdnow, read_events, read_movielens
from reco.exceptions import DataValidationError


def test_movielens_100k(data_dir):
    frame = read_movielens(data_dir / "ml100k" / "u.data.gz")
    assert frame.shape == (100_000, 4)
    assert frame["user_id"].nunique() == 943 and frame["item_id"].nunique() == 1682
    assert frame["timestamp"].min() >= pd.Timestamp("1997-09-19")
    assert frame.equals(read_movielens(data_dir / "ml100k"))


def test_movielens_latest_layout(tmp_path):
    path = tmp_path / "ratings.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(
            "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n"
        )
    frame = read_movielens(path)
    assert frame["rating"].tolist() == [2.5, 3.0]
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]


def test_movielens_errors(tmp_path):
    (tmp_path / "x.csv").write_text("a;b\n")
    with pytest.raises(DataValidationError, match=r"neither the u\.data layout"):
        read_movielens(tmp_path / "x.csv")
    with pytest.raises(DataValidationError, match="holds none of"):
        read_movielens(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_movielens(tmp_path / "missing")


def test_cdnow(data_dir):
    master = read_cdnow(data_dir / "cdnow" / "CDNOW_master.txt.gz")
    assert len(master) == 69_659 and master["customer_id"].nunique() == 23_570
    assert master["value"].sum() == pytest.approx(2_500_315.63)
    assert master["customer_id"].iloc[0] == "00001"
    sample = read_cdnow(data_dir / "cdnow" / "CDNOW_sample.txt")
    assert len(sample) == 6_919 and sample["customer_id"].nunique() == 2_357


def test_supermarket_arff(data_dir):
    baskets = read_arff_baskets(data_dir / "supermarket_weka" / "supermarket.arff.gz")
    assert len(baskets) == 4_627 and baskets.n_items == 216
    sizes = baskets.describe()
    assert sizes["basket_size_max"] == 48
    assert sizes["basket_size_mean"] == pytest.approx(18.5, abs=0.05)
    assert "bread and cake" in baskets.item_map
    with_total = read_arff_baskets(
        data_dir / "supermarket_weka" / "supermarket.arff.gz", include_other=True
    )
    assert with_total.item_counts()["total=high"] == 1_679


def test_read_events_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"]})
    frame.to_csv(tmp_path / "e.csv.gz", index=False)
    frame.to_parquet(tmp_path / "e.parquet")
    pd.testing.assert_frame_equal(read_events(tmp_path / "e.csv.gz"), frame, check_dtype=False)
    pd.testing.assert_frame_equal(read_events(tmp_path / "e.parquet"), frame, check_dtype=False)
