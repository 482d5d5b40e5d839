"""Settings: a kaggle.json uploaded is stored as the workspace's secret file, not shown, and then used."""

from __future__ import annotations

import json

from core.data.sources.kaggle_refs import kaggle_json_path
from tests.app.conftest import texts


def test_uploaded_kaggle_json_is_stored_as_a_secret(app, app_home, tmp_path, monkeypatch):
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    app.switch_page("views/settings.py").run()
    assert "No Kaggle credentials yet" in texts(app.caption)
    body = json.dumps({"username": "tester", "key": "very-secret-key"}).encode()
    app.file_uploader(key="settings.kaggle.upload").set_value(("kaggle.json", body, "application/json")).run()
    app.button(key="settings.kaggle.store").click().run()
    assert not app.exception, app.exception
    assert "Stored kaggle.json" in texts(app.success)
    assert json.loads(kaggle_json_path(app_home).read_text())["key"] == "very-secret-key"
    app.run()
    assert "the stored kaggle.json" in texts(app.caption)
    assert "very-secret-key" not in texts(app.caption) + texts(app.table) + texts(app.success)
    app.button(key="settings.kaggle.remove").click().run()
    assert not app.exception, app.exception
    assert "Removed the stored kaggle.json." in texts(app.success)
    assert not kaggle_json_path(app_home).exists()
    app.run()
    assert "No Kaggle credentials yet" in texts(app.caption)
