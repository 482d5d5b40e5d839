"""The Data page's SQL tab through AppTest, against a real SQLite file."""

from __future__ import annotations

import sqlite3

from core.data import datasets
from core.data.remote import REMOTE_IMPORT_JOB
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts


def test_sql_tab_lists_tables_previews_a_query_and_imports_as_a_job(app, tmp_path):
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE orders (id INTEGER, amount REAL)")
        c.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 2.0) for i in range(30)])
    app.text_input(key="data.sql.url").set_value(f"sqlite:///{db}").run()
    app.button(key="data.sql.test").click().run()
    assert not app.exception, app.exception
    assert "Connected: sqlite" in texts(app.success)
    assert app.selectbox(key="data.sql.table").options == ["orders"]

    app.radio(key="data.sql.mode").set_value("A SELECT query").run()
    app.text_area(key="data.sql.query").set_value("DELETE FROM orders").run()
    app.button(key="data.sql.preview").click().run()
    assert "starts with DELETE" in texts(app.error)

    app.radio(key="data.sql.mode").set_value("A table").run()
    app.text_input(key="data.sql.name").set_value("orders").run()
    app.button(key="data.sql.import").click().run()
    assert not app.exception, app.exception
    ws = Workspace.open(Settings.load())
    [job] = jobs.list_jobs(ws, kind=REMOTE_IMPORT_JOB)
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded"
    assert datasets.get_version(ws, "orders").n_rows == 30
