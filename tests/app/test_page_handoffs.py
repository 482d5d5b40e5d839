"""Settings that must survive the hand-off between renders and pages (issue 11, "Silent losses").

Each test drives the real app through AppTest against a temp workspace and would fail on the
behaviour the issue reports: CV folds stuck at 0, a picker left on the old version after a save,
the Data tabs' position moving when a success message goes, a reloaded job panel that forgets the
job's outcome, and a second identical version from loading a sample twice.
"""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.data import datasets
from core.data.ingest import import_sample
from core.models import registry
from core.models.training import submit_training
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, texts


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def fresh_app(page: str | None = None) -> AppTest:
    """A new browser session (what a reload gives): nothing in its session state."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def folds(at: AppTest) -> int:
    [box] = [n for n in at.number_input if n.label.startswith("CV folds")]
    return box.value


def untargeted(ws: Workspace, name: str = "blobs") -> datasets.VersionInfo:
    frame = pd.DataFrame({"a": [float(i % 7) for i in range(60)], "b": [float(i % 5) for i in range(60)],
                          "label": ["yes", "no"] * 30})
    return datasets.save_version(ws, name, frame, provenance={"source": "test"},
                                 roles={"a": "feature", "b": "feature", "label": "feature"})


def test_cv_folds_follow_the_target_chosen_after_a_first_render_without_one(app_home):
    ws = workspace()
    version = untargeted(ws)
    at = fresh_app("views/train.py")
    assert folds(at) == 0  # no target: clustering, no folds
    at.selectbox(key=f"train.target.{version.id}").set_value("label").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="train.kind.label").value == "binary"
    assert folds(at) == 5  # not the clustering widget's 0

    # The same from a version that has a target, picked after the untargeted one was shown.
    targeted = datasets.set_roles(ws, version, {**version.roles, "label": "target"})
    at = fresh_app("views/train.py")
    at.selectbox(key="train.version.blobs").set_value(1).run()  # v1: no target
    assert folds(at) == 0
    at.selectbox(key="train.version.blobs").set_value(0).run()  # v2: target "label"
    assert at.selectbox(key=f"train.target.{targeted.id}").value == "label"
    assert folds(at) == 5


def test_after_saving_roles_every_picker_opens_the_new_version(app):
    ws = workspace()
    first = import_sample(ws, "penguins")
    datasets.set_roles(ws, first, {**first.roles, "island": "ignore"})  # v2, the newest
    app.session_state["data.goto"] = "Datasets"  # the view the first (empty) render did not choose
    app.run()
    app.selectbox(key="data.browse.dataset").set_value("penguins").run()
    app.selectbox(key="data.browse.version.penguins").set_value(1).run()  # back to v1 (the list is newest first)
    assert app.subheader[0].value == "penguins@1"
    app.selectbox(key=f"data.roles.{first.id}.target").set_value("island").run()
    app.button(key="data.save_roles").click().run()
    assert not app.exception, app.exception
    new = datasets.get_version(ws, "penguins")
    assert (new.version, new.target) == (3, "island")
    assert app.subheader[0].value == "penguins@3"
    assert app.selectbox(key="data.browse.version.penguins").value == 0  # the picker shows v3, not a shifted v2
    app.switch_page("views/train.py").run()
    assert app.selectbox(key="train.version.penguins").value == 0
    assert app.selectbox(key=f"train.target.{new.id}").value == "island"


def _path(block, wanted: str, prefix: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    for index, child in getattr(block, "children", {}).items():
        if getattr(child, "type", None) == wanted:
            return (*prefix, index)
        found = _path(child, wanted, (*prefix, index))
        if found:
            return found
    return None


def test_the_data_tabs_keep_their_place_when_the_success_message_goes(app):
    app.button(key="data.sample.penguins").click().run()
    assert "as penguins@1" in texts(app.success)
    with_message = _path(app.main, "tab_container")
    version = datasets.get_version(workspace(), "penguins")
    app.selectbox(key=f"data.roles.{version.id}.target").set_value("island").run()
    assert not app.exception, app.exception
    assert "as penguins@1" not in texts(app.success)
    # The browser keeps the open tab while the tabs element stays at the same place in the page.
    assert with_message is not None and _path(app.main, "tab_container") == with_message
    assert not app.button(key="data.save_roles").disabled


def test_a_reloaded_job_panel_shows_the_outcome_and_refreshes_the_results(app_home, monkeypatch):
    from core.platform.jobs import launch

    ws = workspace()
    version = import_sample(ws, "penguins")
    other = import_sample(ws, "titanic")
    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)  # queued: it runs when the test says
    config = {"target": "species", "features": ["bill_length_mm", "bill_depth_mm"], "problem_kind": "multiclass",
              "split": {"kind": "random", "test_size": 0.2, "cv_folds": 0, "seed": 0}}
    job_id = submit_training(ws, version, config, ["decision_tree"])
    elsewhere = submit_training(ws, other, {**config, "target": "survived", "features": ["age", "fare"],
                                            "problem_kind": "binary"}, ["decision_tree"])

    at = fresh_app()  # the reload: this session never called watch()
    at.switch_page("views/train.py").run()
    at.selectbox(key="train.dataset").set_value("penguins").run()
    panels = [m.value for m in at.markdown if "Train 1 model(s)" in str(m.value)]
    assert len(panels) == 1 and "penguins@1" in panels[0] and "queued" in panels[0]  # one panel, its own job
    assert "No model has been trained" in texts(at.info)

    assert jobs.run_job(job_id) == "succeeded"
    at.run()
    assert not at.exception, at.exception
    panels = [m.value for m in at.markdown if "Train 1 model(s)" in str(m.value)]
    assert len(panels) == 1 and "succeeded" in panels[0], panels
    assert "Log" in [e.label for e in at.expander]
    assert registry.list_versions(ws) and "No model has been trained" not in texts(at.info)
    assert at.selectbox(key=f"train.result_model.{version.id}").value is not None  # the results list is fresh

    # Another dataset: penguins' finished panel does not follow, and titanic's queued job shows alone.
    at.selectbox(key="train.dataset").set_value("titanic").run()
    panels = [m.value for m in at.markdown if "Train 1 model(s)" in str(m.value)]
    assert len(panels) == 1 and "titanic@1" in panels[0], panels
    jobs.cancel(ws, elsewhere)


def test_loading_a_sample_twice_opens_the_existing_version(app):
    for _ in range(2):
        app.session_state["data.goto"] = "Add data"
        app.run()
        app.button(key="data.sample.titanic").click().run()
        assert not app.exception, app.exception
    assert [v.version for v in datasets.list_versions(workspace(), "titanic")] == [1]
    assert "already loaded as titanic@1" in texts(app.success)
    assert app.subheader[0].value == "titanic@1"


def test_estimates_fill_in_without_holding_the_train_button(app_home, monkeypatch):
    import threading

    from components import estimates
    from core.platform.jobs import launch

    ws = workspace()
    frame = pd.DataFrame({"x": [float(i % 11) for i in range(80)], "z": [float(i % 3) for i in range(80)],
                          "kind": ["p", "q"] * 40, "amount": [i * 1.5 for i in range(80)]})
    version = datasets.save_version(ws, "slow-estimates", frame, provenance={"source": "test"},
                                    roles={"kind": "target"})
    release = threading.Event()
    real = estimates._compute

    def slow(*args, **kwargs):
        release.wait(60)  # an estimate that takes as long as the test says
        return real(*args, **kwargs)

    monkeypatch.setattr(estimates, "_compute", slow)
    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)
    at = fresh_app("views/train.py")
    [table] = [df.value for df in at.dataframe if "estimated time" in df.value.columns]
    assert set(table["estimated time"]) == {"estimating…"}
    assert not at.button(key="train.start").disabled  # the button is there before any estimate
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    [job] = jobs.list_jobs(ws, kind="train")
    assert job.params["dataset_version_id"] == version.id

    release.set()
    from tests.app.test_train_page import wait_for_estimates

    [table] = wait_for_estimates(at)
    assert table["fits in memory"].all()
    binary = at.multiselect(key="train.algorithms.binary").value
    assert table["algorithm"].tolist() == binary

    at.selectbox(key=f"train.target.{version.id}").set_value("amount").run()  # regression now
    [table] = wait_for_estimates(at)
    assert table["algorithm"].tolist() == at.multiselect(key="train.algorithms.regression").value
    assert not set(table["how"]) & {"A quick fit on a sample is running."}
    jobs.cancel(ws, job.id)
