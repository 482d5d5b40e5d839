"""The Predict page's Deployment tab: serve command, URL, examples from the schema, keys shown once."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import api_keys
from tests.app.conftest import open_on, texts
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression"])
    registry.promote(ws, TITANIC, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("deploy-page"), _build)


@pytest.fixture
def page(template, app_home) -> AppTest:
    copy_home(template, app_home)
    return open_on("views/predict.py")


def test_the_tab_shows_the_command_url_and_examples_built_from_the_schema(page):
    code = texts(page.code)
    assert "python -m core serve" in code
    assert f"curl -s -X POST http://127.0.0.1:8000/v1/models/{TITANIC}/predict" in code
    assert '"sex"' in code and "dataframe_records" in code  # the Python example names the model's columns
    assert "Authorization" not in code  # no key yet
    assert "none yet, so the API answers anyone" in texts(page.markdown)


def test_a_key_is_shown_once_then_revoked(page):
    page.text_input(key="predict.deploy.name").input("ci job")
    next(b for b in page.button if b.label == "Create API key").click().run()
    assert not page.exception, page.exception
    assert "Copy it now: it is shown only this once." in texts(page.success)
    ws = Workspace.open(Settings.load())
    [key] = api_keys.list_keys(ws)
    shown = [c.value for c in page.code if str(c.value).startswith("atl_")]
    assert len(shown) == 1 and api_keys.hash_key(shown[0]) in api_keys.active_hashes(ws)[0]
    page.run()  # the next run no longer shows it
    assert not [c for c in page.code if str(c.value).startswith("atl_")]
    assert 'Authorization: Bearer $ATELIER_API_KEY' in texts(page.code)
    page.selectbox(key="predict.deploy.revoke_name").select("ci job")
    page.button(key="predict.deploy.revoke").click().run()
    assert not page.exception, page.exception
    assert api_keys.list_keys(ws) == [] and key.name == "ci job"
    ws.db.dispose()


def test_an_empty_key_name_is_refused_with_a_message(page):
    next(b for b in page.button if b.label == "Create API key").click().run()
    assert "An API key needs a name" in texts(page.error)
