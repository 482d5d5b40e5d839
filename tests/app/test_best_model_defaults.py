"""Train's results list opens on the best model of the task (production first), not on the newest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data import datasets
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import open_on
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("best-defaults"),
                         lambda ws: train_sample(ws, "titanic", ["logistic_regression", "decision_tree"]))


def open_train() -> AppTest:
    return open_on("views/train.py")


def test_train_results_open_on_the_best_model_then_on_the_production_one(template, app_home):
    copy_home(template, app_home)
    ws = Workspace.open(Settings.load())
    version = datasets.get_version(ws, "titanic")
    lr, tree = registry.list_versions(ws, TITANIC)
    assert lr.metrics["roc_auc"] > tree.metrics["roc_auc"] and tree.created_at >= lr.created_at
    at = open_train()
    picker = at.selectbox(key=f"train.result_model.{version.id}")
    assert picker.value.id == lr.id  # the better one, though older
    assert picker.options[0].startswith(f"{TITANIC}:1 · Logistic regression")
    registry.promote(ws, TITANIC, 2)
    assert open_train().selectbox(key=f"train.result_model.{version.id}").value.id == tree.id
    ws.db.dispose()
