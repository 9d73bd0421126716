import subprocess
import sys

from reco.cli import main


def test_demo_runs_end_to_end(capsys):
    assert main(["demo", "--customers", "400", "--products", "60", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "1. Shop",
        "2. Interactions",
        "3. Recommenders",
        "5. Frequently bought",
        "6. Customer value",
        "7. Churn",
        "8. Serving",
    ):
        assert heading in out
    at_risk = out.split("ten customers with the most value at risk")[1].split("== 8")[0]
    assert at_risk.count("at risk; drivers:") == 10
    assert "same answers: True" in out
    assert "hit@10" in out
    found, planted = out.split("planted bundles found among the frequent itemsets: ")[1].split()[
        ::2
    ][:2]
    assert found == planted, "make_shop's planted bundles must be recovered"


def test_console_script_and_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "reco.cli", "demo", "--customers", "3"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "at least 10" in result.stderr
