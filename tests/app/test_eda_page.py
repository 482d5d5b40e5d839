"""The EDA page through AppTest: every view on real samples, awkward data, a zero-row version,
saving without outliers, the cache across view switches, and the profiling job end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from core.data import datasets
from core.data.ingest import import_sample
from core.eda import outlier_rows
from core.eda.reports import ensure_report, report_key, stored_report
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts

VIEWS = ("Overview", "Distributions", "Correlations", "Missing values", "Outliers", "Target vs features", "Scatter",
         "Full report")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Cached results are keyed by version id and data sha256; start each test from nothing all the same."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def open_eda(app, view: str = "Overview"):
    app.switch_page("views/eda.py").run()
    assert not app.exception, app.exception
    return show(app, view)


def show(app, view: str):
    app.button_group(key="eda.view").set_value(view).run()
    assert not app.exception, (view, app.exception)
    assert not app.error, (view, texts(app.error))
    return app


def plotly_charts(app) -> list:
    return app.get("plotly_chart")


def notes(app) -> str:
    """The text of the info boxes, as the user reads it (Markdown escapes removed)."""
    return texts(app.info).replace("\\", "")


def frames(app) -> list[pd.DataFrame]:
    return [df.value for df in app.dataframe]


def test_every_view_shows_its_key_element_on_titanic(app):
    version = import_sample(workspace(), "titanic")
    open_eda(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Rows"] == "1,309" and metrics["Columns"] == "14"
    assert {"Memory", "Missing cells", "Duplicate rows"} <= set(metrics)
    [table] = [f for f in frames(app) if "kind" in f.columns]
    assert list(table["name"]) == version.columns
    assert "Types:" in texts(app.caption)

    show(app, "Distributions")
    assert plotly_charts(app)
    app.selectbox(key=f"eda.dist.column.{version.id}").set_value("fare").run()
    app.toggle(key="eda.dist.log").set_value(True).run()
    assert not app.exception and plotly_charts(app)
    assert "values <= 0" in notes(app)  # free fares cannot sit on a log axis: the note says so

    show(app, "Correlations")
    assert plotly_charts(app)
    pairs = next(f for f in frames(app) if "column_a" in f.columns)
    assert len(pairs) and pairs["value"].abs().is_monotonic_decreasing
    app.radio(key="eda.corr.method").set_value("Associations (every column)").run()
    pairs = next(f for f in frames(app) if "column_a" in f.columns)
    assert "cramers_v" in set(pairs["measure"]) and "eta" in set(pairs["measure"])

    show(app, "Missing values")
    assert plotly_charts(app)  # the missingness matrix
    assert any("both_missing" in f.columns for f in frames(app))  # boat and body go missing together

    show(app, "Outliers")
    assert any("iqr_outliers" in f.columns for f in frames(app))
    assert not app.button(key="eda.outliers.save").disabled

    show(app, "Target vs features")
    ranking = next(f for f in frames(app) if "mutual_information" in f.columns)
    assert ranking["feature"].iloc[0] == "boat"  # a lifeboat number all but says who survived
    assert plotly_charts(app)

    show(app, "Scatter")
    assert plotly_charts(app)

    show(app, "Full report")
    assert app.button(key="eda.report.generate").label == "Generate profiling report"
    assert "all 1,309 rows" in texts(app.caption)


def test_switching_views_and_pages_reads_results_from_the_cache(app, monkeypatch):
    import core.eda as eda

    calls = {"overview": 0, "correlations": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(eda, "describe_dataset", counted("overview", eda.describe_dataset))
    monkeypatch.setattr(eda, "compute_correlations", counted("correlations", eda.compute_correlations))
    import_sample(workspace(), "penguins")
    open_eda(app)
    show(app, "Correlations")
    for view in ("Overview", "Distributions", "Correlations", "Overview", "Correlations"):
        show(app, view)
    app.switch_page("views/data.py").run()
    app.switch_page("views/eda.py").run()  # back again: the same view, from the cache
    assert not app.exception and app.button_group(key="eda.view").value == "Correlations"
    assert calls == {"overview": 1, "correlations": 1}


def test_save_without_outliers_makes_a_new_version(app):
    ws = workspace()
    version = import_sample(ws, "titanic")
    open_eda(app, "Outliers")
    app.selectbox(key="eda.outliers.method").set_value("zscore").run()
    count = outlier_rows(datasets.load_frame(ws, version), "zscore").count
    assert f"**{count:,}** of 1,309 rows" in texts(app.markdown)
    app.button(key="eda.outliers.save").click().run()
    assert not app.exception, app.exception
    new = datasets.get_version(ws, "titanic")
    assert new.version == 2 and new.parent_id == version.id
    assert 0 < count == version.n_rows - new.n_rows
    assert "Saved titanic@2" in texts(app.success)
    assert "titanic@2" in texts(app.caption)  # the page now shows the new version
    assert datasets.get_version(ws, "titanic@1").n_rows == 1309  # the old version is untouched


def test_zero_row_version_shows_messages_not_exceptions(app):
    ws = workspace()
    frame = import_sample(ws, "penguins")
    empty = datasets.derive_version(ws, frame, drop_rows=range(frame.n_rows), note="no rows left")
    assert empty.n_rows == 0
    open_eda(app)
    assert {m.label: m.value for m in app.metric}["Rows"] == "0"
    assert "no rows" in notes(app)
    for view in VIEWS[1:]:
        show(app, view)
        assert "penguins@2 has 8 columns but no rows" in notes(app), view
    assert jobs.list_jobs(ws, kind="profile") == []


def awkward_frame(n: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    formats = ["2024-01-%02d", "%02d/02/2024", "March %d, 2024"]
    return pd.DataFrame({
        "code": [f"c{i:05d}" for i in range(n)],  # 10,000 categories
        "comment": [f"note {i} about order {rng.integers(1e6)} with some free text" for i in range(n)],
        "nothing": pd.Series([None] * n, dtype="float64"),
        "same": np.ones(n),
        "when": [formats[i % 3] % (i % 28 + 1) for i in range(n)],
        "amount": rng.lognormal(3, 1, n),
    })


def test_awkward_columns_are_explained_in_every_view(app):
    ws = workspace()
    datasets.save_version(ws, "awkward", awkward_frame(), provenance={"source": "test"})
    datasets.save_version(ws, "single", pd.DataFrame({"x": np.arange(50.0)}), provenance={"source": "test"})
    app.switch_page("views/eda.py").run()
    app.selectbox(key="eda.dataset").set_value("awkward").run()
    for view in VIEWS[:-1]:
        show(app, view)
        assert app.info, view
    show(app, "Overview")
    shown = notes(app)
    assert "missing in every row" in shown and "(constant)" in shown and "free text" in shown
    assert "10,000 distinct values" in shown and "dates written as text" in shown
    show(app, "Distributions")
    app.selectbox(key=f"eda.dist.column.{datasets.get_version(ws, 'awkward').id}").set_value("nothing").run()
    assert "no distribution to draw" in notes(app) and not plotly_charts(app)

    app.selectbox(key="eda.dataset").set_value("single").run()
    show(app, "Correlations")
    assert "at least two columns" in notes(app)
    assert not app.exception and not app.error


def test_target_view_flags_leakage_and_asks_for_a_target_when_there_is_none(app):
    ws = workspace()
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=300), "y": np.where(x > 0, "up", "down")})
    frame["copy_of_y"] = frame["y"].map({"up": "U", "down": "D"})
    datasets.save_version(ws, "leaky", frame, provenance={"source": "test"}, roles={"y": "target"})
    open_eda(app, "Target vs features")
    assert "'copy_of_y' alone predicts the target almost perfectly" in texts(app.warning)
    assert app.radio(key=f"eda.target.kind.{datasets.get_version(ws, 'leaky').id}").value == "classification"
    assert plotly_charts(app)

    datasets.save_version(ws, "no-target", frame.drop(columns="y"), provenance={"source": "test"},
                          roles={c: "feature" for c in frame.columns if c != "y"})
    app.run()
    app.selectbox(key="eda.dataset").set_value("no-target").run()
    assert "no target column" in notes(app) and not app.exception


@pytest.mark.slow
def test_profiling_report_job_is_stored_then_reopened_without_a_new_job(app):
    ws = workspace()
    version = import_sample(ws, "penguins")
    open_eda(app, "Full report")
    app.button(key="eda.report.generate").click().run()
    assert not app.exception, app.exception
    [job] = jobs.list_jobs(ws, kind="profile")
    assert job.params == {"dataset_version_id": version.id}
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.get(ws, job.id).error
    html = stored_report(ws, version)
    assert html is not None and b"penguins@1" in html and b"ydata" in html.lower()
    assert ws.has_artifact(report_key(version))

    app.run()  # the page after the job: the stored report, inline and as a download
    assert not app.exception, app.exception
    assert app.download_button(key="eda.report.download")
    assert "minimal mode, on all 344 rows" in texts(app.caption)

    show(app, "Overview")  # a second request, later: opens at once, no second job
    show(app, "Full report")
    assert app.download_button(key="eda.report.download")
    assert not [b for b in app.button if b.key == "eda.report.generate"]
    assert len(jobs.list_jobs(ws, kind="profile")) == 1
    again, _, reused = ensure_report(ws, version)
    assert reused and again == html


def test_a_job_whose_process_died_is_shown_interrupted_not_running(app):
    """A profiling process killed from outside (for memory, say) must not look alive forever."""
    import socket
    import subprocess
    from datetime import UTC, datetime

    from core.platform.metadata.models import Job

    ws = workspace()
    version = import_sample(ws, "penguins")
    gone = subprocess.Popen(["true"])
    gone.wait()
    now = datetime.now(UTC)
    job_id = jobs.submit(ws, "profile", {"dataset_version_id": version.id}, title="Profile penguins@1", start=False)
    with ws.db.session() as s:
        row = s.get(Job, job_id)
        row.status, row.pid, row.host = "running", gone.pid, socket.gethostname()
        row.started_at = row.heartbeat_at = now
    open_eda(app, "Full report")
    info = jobs.get(ws, job_id)
    assert info.status == "interrupted" and "process running this job stopped" in info.message
    assert "Profile penguins@1" not in texts(app.markdown)  # no live panel for it
