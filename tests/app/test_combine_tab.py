"""The Data page's Combine tab through AppTest: a join and a filter saved as new versions by jobs."""

from __future__ import annotations

import pandas as pd

from core.data import datasets
from core.data.transform import TRANSFORM_JOB
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts


def _ws() -> Workspace:
    return Workspace.open(Settings.load())


def _seed() -> None:
    ws = _ws()
    datasets.save_version(ws, "people", pd.DataFrame({"pid": [1, 2, 3], "age": [30, 41, 2]}),
                          provenance={"source": "test"})
    datasets.save_version(ws, "cities", pd.DataFrame({"pid": [1, 2, 2], "city": ["Lisbon", "Porto", "Braga"]}),
                          provenance={"source": "test"})


def _open(app, name: str) -> None:
    app.segmented_control(key="data.view").set_value("Datasets").run()
    app.selectbox(key="data.browse.dataset").set_value(name).run()
    assert not app.exception, app.exception


def test_join_suggests_keys_shows_the_plan_and_saves_by_a_job(app):
    _seed()
    _open(app, "people")
    app.radio(key="data.combine.mode").set_value("Joining with another dataset").run()
    app.selectbox(key="data.combine.right").set_value("cities").run()
    assert not app.exception, app.exception
    assert "pid 67%" in texts(app.caption)  # pids 1 and 2 of 1, 2, 3 are in cities
    assert "**3 rows**" in texts(app.markdown) and "more than once on the right" in texts(app.warning)
    app.text_input(key="data.combine.join_name").set_value("pc").run()
    app.button(key="data.combine.join_save").click().run()
    assert not app.exception, app.exception
    ws = _ws()
    [job] = jobs.list_jobs(ws, kind=TRANSFORM_JOB)
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.logs(ws, job.id)
    assert datasets.get_version(ws, "pc").n_rows == 3


def test_filter_chips_preview_and_a_bad_value(app):
    _seed()
    _open(app, "people")
    app.radio(key="data.combine.mode").set_value("Filtering rows").run()
    app.selectbox(key="data.combine.col").set_value("age").run()
    app.selectbox(key="data.combine.op").set_value(">=").run()
    app.text_input(key="data.combine.value").set_value("abc").run()
    app.button(key="data.combine.add").click().run()
    assert "'abc' is not a number" in texts(app.error)
    app.text_input(key="data.combine.value").set_value("3").run()
    app.button(key="data.combine.add").click().run()
    assert not app.exception, app.exception
    assert "Keeps **2 of 3 rows**" in texts(app.markdown)
    app.button(key="data.combine.filter_save").click().run()
    ws = _ws()
    [job] = jobs.list_jobs(ws, kind=TRANSFORM_JOB)
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.logs(ws, job.id)
    assert datasets.get_version(ws, "people@2").n_rows == 2
