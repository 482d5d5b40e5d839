"""``python -m core retrain NAME``: the same settings on the newest dataset version, a common holdout, a decision."""

from __future__ import annotations

import json

import pytest

from core.cli import main as cli_main
from core.data import datasets
from core.data.ingest import import_sample
from core.ml.config import SplitConfig, TrainConfig
from core.models import registry
from core.models.training import train_version
from core.serve.retrain_compare import compare_on_holdout

NAME = "survival"


@pytest.fixture
def trained(ws, monkeypatch):
    """v1 trained on titanic without 'sex' (a weak model) and in production; titanic@3 is complete again."""
    monkeypatch.setenv("ATELIER_HOME", str(ws.settings.home))
    full = import_sample(ws, "titanic")
    weak = datasets.derive_version(ws, full, drop_columns=["sex"])
    train_version(ws, weak, TrainConfig(target=weak.target, explain=False, split=SplitConfig(cv_folds=0)),
                  ["logistic_regression"], model_name=NAME)
    registry.promote(ws, NAME, 1)
    newest = import_sample(ws, "titanic")
    return ws, newest


def test_a_retrained_version_better_on_the_holdout_is_promoted_with_its_numbers_in_the_history(trained, capsys):
    ws, newest = trained
    assert cli_main(["retrain", NAME, "--promote-if-better", "0.01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["new"] == f"{NAME}:2" and out["base"] == f"{NAME}:1" and out["promoted"] is True
    comparison = out["comparison"]
    assert comparison["metric"] == "roc_auc" and comparison["dataset"] == newest.label
    assert comparison["gain"] == pytest.approx(comparison["new"] - comparison["base"]) and comparison["gain"] >= 0.01
    again = compare_on_holdout(ws, registry.get_version(ws, f"{NAME}:2"), registry.get_version(ws, f"{NAME}:1"),
                               newest)
    assert again.new == pytest.approx(comparison["new"]) and again.rows == comparison["rows"] > 0
    assert registry.get_version(ws, f"{NAME}@production").version == 2
    note = registry.history(ws, NAME)[0].note
    assert "roc_auc on a common holdout" in note and "margin 0.01" in note


def test_below_the_margin_production_stays_and_the_cli_says_why(trained, capsys):
    ws, _ = trained
    assert cli_main(["retrain", NAME, "--promote-if-better", "0.99"]) == 0
    out = capsys.readouterr().out
    assert f"Trained {NAME}:2 on titanic@3." in out and f"{NAME}:1 stays in production: the gain" in out
    assert registry.get_version(ws, f"{NAME}@production").version == 1


def test_nothing_newer_is_refused_with_a_message(trained, capsys):
    ws, newest = trained
    assert cli_main(["retrain", NAME, "--on", "titanic@1"]) == 1
    assert "titanic@1 is not a newer version of 'titanic' than titanic@2" in capsys.readouterr().err
    assert cli_main(["retrain", "nobody"]) == 1
    assert capsys.readouterr().err.startswith("error:")
    assert [v.version for v in registry.list_versions(ws, NAME)] == [1]  # nothing trained
