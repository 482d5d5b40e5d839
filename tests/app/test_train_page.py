"""The Train page through AppTest: detection, a training job, its results, and a failing job's message."""

from __future__ import annotations

import pandas as pd

from core.data import datasets
from core.data.ingest import import_sample
from core.models import registry
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def wait_for_estimates(at, tries: int = 120) -> list[pd.DataFrame]:
    """The estimates tables once every row has filled in (they are computed in the background)."""
    import time

    for _ in range(tries):
        tables = [df.value for df in at.dataframe if "estimated time" in df.value.columns]
        if tables and "estimating…" not in tables[0]["estimated time"].tolist():
            return tables
        time.sleep(0.5)
        at.run()
    raise AssertionError("the estimates never filled in")


def run_training(at, algorithms: list[str], kind: str) -> jobs.JobInfo:
    at.multiselect(key=f"train.algorithms.{kind}").set_value(algorithms).run()
    [estimates] = wait_for_estimates(at)
    assert estimates["algorithm"].tolist() == algorithms  # shown for each choice before anything starts
    assert estimates["fits in memory"].all()
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    ws = workspace()
    [job] = jobs.list_jobs(ws, kind="train")
    info = jobs.wait(ws, job.id, timeout=240)
    at.run()
    assert not at.exception, at.exception
    return info


def test_detects_the_problem_trains_and_shows_results(app_home):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    import_sample(workspace(), "penguins")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception, at.exception
    assert "multiclass" in texts(at.caption) and "distinct text values" in texts(at.caption)
    info = run_training(at, ["decision_tree", "logistic_regression"], "multiclass")
    assert info.status == "succeeded", info.error
    assert [r["status"] for r in info.result["results"]] == ["ok", "ok"]
    assert len(registry.list_versions(workspace())) == 2
    labels = [t.label for t in at.tabs]
    assert {"Confusion matrix", "ROC", "Precision-recall", "Importance", "SHAP"} <= set(labels), labels
    assert at.get("plotly_chart"), "the results tabs draw their figures"


def test_a_class_with_one_row_says_why_and_what_to_do(app_home):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    frame = pd.DataFrame({"x": range(40), "y": ["a"] * 20 + ["b"] * 19 + ["c"]})
    datasets.save_version(workspace(), "tiny", frame, provenance={}, roles={"y": "target"})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/train.py").run()
    at.selectbox(key="train.split").set_value("stratified").run()
    info = run_training(at, ["decision_tree"], "multiclass")
    assert info.status == "failed"
    assert "random split" in info.error
    assert "random split" in texts(at.error)
    assert registry.list_versions(workspace()) == []
