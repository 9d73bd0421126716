"""Every `reco` file command: success, a bad argument (exit 2), bad data (exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from reco.base import Recommender
from reco.cli import main
from reco.datasets import make_shop


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    shop = make_shop(600, 80, random_state=3)
    events = shop.events.rename(columns={"timestamp": "ts"})
    events.to_csv(folder / "events.csv", index=False)
    events.to_parquet(folder / "events.parquet", index=False)
    shop.order_lines.to_csv(folder / "orders.csv", index=False)
    pd.DataFrame({"customer_id": events["customer_id"].unique()[:25]}).to_csv(
        folder / "users.csv", index=False
    )
    pd.DataFrame({"product_id": shop.products["product_id"][:30]}).to_csv(
        folder / "stock.csv", index=False
    )
    return folder


def _fit(files, model="ItemKNN", *extra):
    out = files / f"{model}.npz"
    code = main(
        ["fit", str(files / "events.csv"), "--user", "customer_id", "--item", "product_id",
         "--time", "ts", "--event", "event", "--weights", "view=1,cart=3,purchase=10",
         "--model", model, "--out", str(out), *extra]
    )  # fmt: skip
    assert code == 0
    return out


def test_fit_and_recommend(files, capsys):
    model_path = _fit(files, "ItemKNN", "--param", "k=20")
    model = Recommender.load(model_path)
    assert model.k == 20
    out = files / "recs.parquet"
    assert main(["recommend", str(model_path), "--users", str(files / "users.csv"), "--n", "5",
                 "--candidates", str(files / "stock.csv"), "--out", str(out)]) == 0  # fmt: skip
    recs = pd.read_parquet(out)
    users = pd.read_csv(files / "users.csv")["customer_id"].tolist()
    stock = pd.read_csv(files / "stock.csv")["product_id"].tolist()
    assert set(recs["user"]) <= set(users) and set(recs["item"]) <= set(stock)
    first = users[0]
    expected = model.recommend(first, 5, candidates=stock)
    assert recs.loc[recs["user"] == first, "item"].tolist() == expected.items.tolist()
    assert main(["recommend", str(model_path), "--n", "3", "--out", str(files / "all.csv")]) == 0
    everyone = pd.read_csv(files / "all.csv")
    assert everyone["user"].nunique() == model.n_users_
    assert "wrote" in capsys.readouterr().out


def test_similar(files):
    model_path = _fit(files, "EASE", "--param", "regularization=50.0")
    out = files / "similar.csv"
    assert main(["similar", str(model_path), "--n", "4", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    model = Recommender.load(model_path)
    item = table["item"].iloc[0]
    assert table.loc[table["item"] == item, "similar"].tolist() == (
        model.similar_items(item, 4).items.tolist()
    )


def test_mine_and_sequences(files):
    itemsets, rules = files / "itemsets.csv", files / "rules.parquet"
    assert main(["mine", str(files / "orders.csv"), "--transaction", "order_id", "--item",
                 "product_id", "--min-support", "0.01", "--itemsets", str(itemsets), "--rules",
                 str(rules), "--metric", "lift", "--min-threshold", "1"]) == 0  # fmt: skip
    table = pd.read_csv(itemsets)
    assert isinstance(json.loads(table["itemset"].iloc[0]), list)
    assert len(pd.read_parquet(rules)) > 0
    out = files / "sequences.parquet"
    assert main(["sequences", str(files / "events.csv"), "--session", "customer_id", "--item",
                 "product_id", "--time", "ts", "--min-support", "0.02", "--max-len", "3",
                 "--out", str(out), "--rules", str(files / "seqrules.csv")]) == 0  # fmt: skip
    assert len(pd.read_parquet(out)) > 0


def test_rfm_clv_churn(files):
    orders = str(files / "orders.csv")
    assert main(["rfm", orders, "--out", str(files / "rfm.csv")]) == 0
    assert {"R", "F", "M", "segment"} <= set(pd.read_csv(files / "rfm.csv").columns)
    assert main(["clv", orders, "--out", str(files / "clv.parquet"), "--quiet"]) == 0
    clv = pd.read_parquet(files / "clv.parquet")
    assert np.isfinite(clv["clv"]).all()
    assert main(["churn", orders, "--horizon", "60", "--order", "order_id", "--out",
                 str(files / "churn.csv")]) == 0  # fmt: skip
    churn = pd.read_csv(files / "churn.csv")
    assert churn["p_churn"].between(0, 1).all()


def test_evaluate(files, capsys):
    out = files / "metrics.csv"
    assert main(["evaluate", str(files / "events.parquet"), "--user", "customer_id", "--item",
                 "product_id", "--models", "Popularity,ItemKNN", "--metrics", "ndcg,recall",
                 "--k", "5,10", "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["model"]) == {"Popularity", "ItemKNN"}
    assert "ndcg" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [
            "fit",
            "{events}",
            "--user",
            "customer_id",
            "--item",
            "product_id",
            "--model",
            "Nope",
            "--out",
            "{tmp}/m.npz",
        ],
        [
            "fit",
            "{events}",
            "--user",
            "customer_id",
            "--item",
            "product_id",
            "--model",
            "ItemKNN",
            "--param",
            "k=-3",
            "--out",
            "{tmp}/m.npz",
        ],
        [
            "fit",
            "{events}",
            "--user",
            "customer_id",
            "--item",
            "product_id",
            "--model",
            "ItemKNN",
            "--param",
            "colour=3",
            "--out",
            "{tmp}/m.npz",
        ],
        [
            "fit",
            "{events}",
            "--user",
            "customer_id",
            "--item",
            "product_id",
            "--model",
            "EASE",
            "--weights",
            "view",
            "--out",
            "{tmp}/m.npz",
        ],
        ["recommend", "{model}", "--n", "0", "--out", "{tmp}/r.csv"],
        ["recommend", "{model}", "--out", "{tmp}/r.txt"],
        [
            "mine",
            "{orders}",
            "--transaction",
            "order_id",
            "--item",
            "product_id",
            "--min-support",
            "0",
            "--itemsets",
            "{tmp}/i.csv",
        ],
        [
            "evaluate",
            "{events}",
            "--user",
            "customer_id",
            "--item",
            "product_id",
            "--models",
            "Popularity",
            "--k",
            "ten",
            "--out",
            "{tmp}/m.csv",
        ],
        ["rfm", "{orders}", "--bins", "1", "--out", "{tmp}/r.csv"],
        ["serve", "{model}", "--port", "0"],
        ["similar", "{model}", "--n", "0", "--out", "{tmp}/s.csv"],
        [
            "sequences",
            "{events}",
            "--session",
            "customer_id",
            "--item",
            "product_id",
            "--min-support",
            "-1",
            "--out",
            "{tmp}/s.csv",
        ],
        ["clv", "{orders}", "--horizon", "0", "--out", "{tmp}/c.csv"],
        ["churn", "{orders}", "--horizon", "0", "--out", "{tmp}/c.csv"],
        ["demo", "--customers", "3"],
    ],
)
def test_bad_arguments_exit_2(files, tmp_path, capsys, argv):
    model = files / "ItemKNN.npz"
    if not model.exists():
        _fit(files)
    values = {"events": files / "events.csv", "orders": files / "orders.csv", "model": model,
              "tmp": tmp_path}  # fmt: skip
    argv = [a.format(**values) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            [
                "fit",
                "{events}",
                "--user",
                "customer",
                "--item",
                "product_id",
                "--model",
                "EASE",
                "--out",
                "{tmp}/m.npz",
            ],
            "did you mean 'customer_id'",
        ),
        (
            [
                "fit",
                "{tmp}/missing.csv",
                "--user",
                "a",
                "--item",
                "b",
                "--model",
                "EASE",
                "--out",
                "{tmp}/m.npz",
            ],
            "does not exist",
        ),
        (["recommend", "{bad}", "--out", "{tmp}/r.csv"], "not a readable reco model file"),
        (["recommend", "{model}", "--users", "{bad_users}", "--out", "{tmp}/r.csv"], "not known"),
        (["rfm", "{orders}", "--value", "amount", "--out", "{tmp}/r.csv"], "no column 'amount'"),
        (
            [
                "sequences",
                "{events}",
                "--session",
                "customer_id",
                "--item",
                "product",
                "--min-support",
                "0.1",
                "--out",
                "{tmp}/s.csv",
            ],
            "did you mean 'product_id'",
        ),
        (["similar", "{model}", "--items", "{bad_items}", "--out", "{tmp}/s.csv"], "not known"),
        (
            [
                "mine",
                "{events}",
                "--transaction",
                "order",
                "--item",
                "product_id",
                "--min-support",
                "0.1",
                "--itemsets",
                "{tmp}/i.csv",
            ],
            "no column 'order'",
        ),
        (["clv", "{events}", "--time", "ts", "--out", "{tmp}/c.csv"], "no column 'value'"),
        (["churn", "{orders}", "--cutoff", "1990-01-01", "--out", "{tmp}/c.csv"], "cutoff"),
        (
            [
                "evaluate",
                "{bad_events}",
                "--user",
                "customer_id",
                "--item",
                "product_id",
                "--time",
                "ts",
                "--models",
                "Popularity",
                "--out",
                "{tmp}/m.csv",
            ],
            "--time",
        ),
    ],
)
def test_bad_data_exit_1(files, tmp_path, capsys, argv, fragment):
    model = files / "ItemKNN.npz"
    if not model.exists():
        _fit(files)
    bad = files / "bad.npz"
    bad.write_bytes(b"garbage")
    pd.DataFrame({"user": [999_999]}).to_csv(files / "bad_users.csv", index=False)
    pd.DataFrame({"item": [999_999]}).to_csv(files / "bad_items.csv", index=False)
    bad_events = pd.DataFrame({"customer_id": [1, 2], "product_id": [3, 4], "ts": ["x", "y"]})
    bad_events.to_csv(files / "bad_events.csv", index=False)
    values = {"events": files / "events.csv", "orders": files / "orders.csv", "model": model,
              "tmp": tmp_path, "bad": bad, "bad_users": files / "bad_users.csv",
              "bad_items": files / "bad_items.csv",
              "bad_events": files / "bad_events.csv"}  # fmt: skip
    argv = [a.format(**values) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback_and_help_has_examples(files):
    done = subprocess.run(
        [sys.executable, "-m", "reco.cli", "--debug", "rfm", str(files / "orders.csv"),
         "--value", "amount", "--out", str(files / "x.csv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" in done.stderr
    for command in ("fit", "recommend", "similar", "mine", "sequences", "rfm", "clv", "churn",
                    "evaluate", "serve", "demo"):  # fmt: skip
        text = subprocess.run(
            [sys.executable, "-m", "reco.cli", command, "--help"], capture_output=True, text=True
        ).stdout
        assert "example" in text, command
