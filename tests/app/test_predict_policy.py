"""The Predict page's Deployment tab sets, shows and removes the model's retraining policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import retrain_policy
from tests.app.conftest import open_on, texts
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")
KEY = "predict.deploy"


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression"])
    registry.promote(ws, TITANIC, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("policy-page"), _build)


def _policy():
    ws = Workspace.open(Settings.load())
    try:
        return retrain_policy.get_policy(ws, TITANIC)
    finally:
        ws.db.dispose()


def test_the_form_saves_the_policy_and_removes_it(template, app_home):
    copy_home(template, app_home)
    at = open_on("views/predict.py")
    assert "**Retraining policy:** none." in texts(at.markdown)
    at.number_input(key=f"{KEY}.windows").set_value(4)
    at.number_input(key=f"{KEY}.hours").set_value(12.0)
    at.number_input(key=f"{KEY}.gain").set_value(0.02)
    at.checkbox(key=f"{KEY}.new_data").uncheck()
    next(b for b in at.button if b.label == "Save policy").click().run()
    policy = _policy()
    assert (policy.drift_windows, policy.every_hours, policy.on_new_data) == (4, 12.0, False)
    assert policy.min_gain == pytest.approx(0.02)
    assert "drift is flagged on 4 windows in a row or every 12 hours" in texts(at.markdown)
    next(b for b in at.button if b.label == "Remove policy").click().run()
    assert _policy() is None and "**Retraining policy:** none." in texts(at.markdown)


def test_a_policy_with_no_trigger_is_refused_with_a_message(template, app_home):
    copy_home(template, app_home)
    at = open_on("views/predict.py")
    at.number_input(key=f"{KEY}.windows").set_value(0)
    at.checkbox(key=f"{KEY}.new_data").uncheck()
    next(b for b in at.button if b.label == "Save policy").click().run()
    assert "Say when to retrain" in texts(at.error) and _policy() is None
