"""Settings shows what is in use (secrets masked) and tests each connection."""

from __future__ import annotations

from tests.app.conftest import texts


def test_settings_show_defaults_and_connections_work(app):
    app.switch_page("views/settings.py").run()
    table = texts(app.table)
    assert "ATELIER_DATABASE_URL" in table and "sqlite:///" in table
    app.button[0].click().run()
    assert "Metadata database: connected." in texts(app.success)
    assert "Artifact store: connected." in texts(app.success)


def test_settings_say_how_background_jobs_run(app, app_home):
    from core.platform.jobs import worker

    app.switch_page("views/settings.py").run()  # opening the workspace starts the warm worker
    worker.start(app_home / "logs")
    assert worker.ready(60)
    app.run()
    assert f"forked by this server's warm worker (process {worker.pid()})" in texts(app.caption)


def test_unreachable_database_is_named_without_its_password(app_home, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    monkeypatch.setenv("ATELIER_DATABASE_URL", "postgresql+psycopg://atelier:hunter2@127.0.0.1:9/atelier")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    errors = texts(at.error)
    assert "postgresql+psycopg://atelier:***@127.0.0.1:9/atelier cannot be used" in errors
    assert "hunter2" not in errors
    at.switch_page("views/settings.py").run()
    at.button[0].click().run()
    assert "Metadata database:" in texts(at.error) and "hunter2" not in texts(at.error) + texts(at.table)
