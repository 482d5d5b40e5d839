"""The Predict page's Deployment tab shows the model's traffic route and its alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import alerts
from tests.app.conftest import open_on, texts
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression"])
    registry.promote(ws, TITANIC, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("alerts-page"), _build)


def _open() -> AppTest:
    return open_on("views/predict.py")


def test_no_alerts_says_so_with_the_thresholds(template, app_home):
    copy_home(template, app_home)
    at = _open()
    assert "production answers every request" in texts(at.markdown)
    assert "No alerts" in texts(at.caption) and "drift share 30%" in texts(at.caption)


def test_a_recorded_alert_is_listed(template, app_home):
    copy_home(template, app_home)
    ws = Workspace.open(Settings.load())
    alerts.record_event(ws, TITANIC, 1, "error_rate", "titanic-survived v1: 9 of 30 requests failed (30%).",
                        {"errors": 9})
    ws.db.dispose()
    at = _open()
    assert "**Alerts** (1 most recent):" in texts(at.markdown)
    [table] = [d.value for d in at.dataframe if "kind" in d.value.columns]
    assert table["kind"].tolist() == ["error rate"] and "9 of 30 requests failed" in table["message"].iloc[0]
