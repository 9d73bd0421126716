"""The README's first section and its code examples stay true."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_section_is_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert len(first_block) == 2
    assert first_block[0].endswith("reco demo")
    assert "pytest" in first_block[1] and ".[test]" in first_block[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert first_block[1] in ci, ".ci/run must run the README's test command"


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S):
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "popularity.npz").is_file()
    assert len(namespace["result"].summary) > 0
    # the basket example shows a rule: the planted bundle's other item comes first
    together, bundle = namespace["together"], namespace["shop"].truth.bundles[0]
    assert together.items[0] in bundle[1:] and together.scores[0] > 0
    assert len(together.items) == 5 and len(namespace["rules"]) > 0
    # the first example shows popular items for a customer, best first
    assert namespace["model"].recommend(42, n=5).scores.tolist() == sorted(
        namespace["model"].recommend(42, n=5).scores.tolist(), reverse=True
    )
    at_risk = namespace["at_risk"]
    assert len(at_risk) == 10 and at_risk["value_at_risk"].is_monotonic_decreasing
    assert at_risk["p_churn"].between(0, 1).all() and (at_risk["value_at_risk"] > 0).all()
    assert namespace["recs"].count() == 10  # the Spark example: 5 items for each of 2 users
    # the customer 360: a full profile, a cube with its totals, a consent-only target list
    profile, store, shop = namespace["profile"], namespace["store"], namespace["people"]
    assert profile.n_orders > 0 and profile.clv is not None and profile.p_churn is not None
    assert profile.next_best is not None and len(profile.next_best) == 5
    kpis = namespace["kpis"]
    assert kpis.loc[kpis["rollup_level"] == 2, "customers"].item() == shop.order_lines[
        "customer_id"].nunique()  # fmt: skip
    consent = shop.customers.set_index("customer_id")["consent_email"]
    assert consent.loc[namespace["campaign"]["customer_id"]].all()
    assert store.sql("SELECT count(*) AS n FROM orders WHERE customer_id = 7")["n"][0] == 0
    metrics = namespace["check"].metrics.set_index("method")
    assert set(metrics.index) == {"model", "recency_rule", "btyd"}
    model, btyd = metrics.loc["model", "roc_auc"], metrics.loc["btyd", "roc_auc"]
    assert (model.to_numpy() > btyd.to_numpy()).all()
