"""The Predict page through AppTest: model choice, one-row form, batch job, drift, health, retrain, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import datasets
from core.models import registry
from core.models.ranking import best_version
from core.models.training_stats import feature_specs
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import prediction_runs
from core.serve.loaded import load_model
from core.serve.one_row import predict_one
from core.serve.outputs import output_bytes
from tests.app.conftest import open_on, texts
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("predict-page"),
                         lambda ws: train_sample(ws, "titanic", ["logistic_regression", "decision_tree"]))


def open_page() -> AppTest:
    return open_on("views/predict.py")


@pytest.fixture
def page(template, app_home) -> AppTest:
    copy_home(template, app_home)
    return open_page()


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def rows(n: int = 40, seed: int = 0) -> pd.DataFrame:
    ws = workspace()
    frame = datasets.load_frame(ws, datasets.get_version(ws, "titanic"))
    return frame.sample(n, random_state=seed).drop(columns=["survived"]).reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload(at: AppTest, key: str, name: str, data: bytes) -> None:
    at.radio(key=f"{key}.source").set_value("Upload a file").run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.id and key in u.proto.id)
    uploader.set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception


def test_no_models_points_to_train(app):
    app.switch_page("views/predict.py").run()
    assert not app.exception
    assert "There are no models yet" in texts(app.info)


def shown() -> registry.ModelVersionInfo:
    """The version the page opens on: production, else the best by the primary metric."""
    return best_version(registry.list_versions(workspace(), TITANIC))


def test_the_default_version_is_production_else_the_best_by_the_primary_metric(page):
    v1, v2 = registry.list_versions(workspace(), TITANIC)
    assert v1.metrics["roc_auc"] > v2.metrics["roc_auc"]  # logistic regression beats the newer decision tree
    assert page.selectbox(key=f"predict.version.{TITANIC}").value == 1
    assert f"Using {TITANIC}:1, the best by ROC AUC (none is in production)." in texts(page.caption)
    assert "v1 · none · Logistic regression" in page.selectbox(key=f"predict.version.{TITANIC}").options
    registry.promote(workspace(), TITANIC, 2)
    fresh = open_page()  # a new browser session
    assert fresh.selectbox(key=f"predict.version.{TITANIC}").value == 2
    assert f"Using {TITANIC}:2, the production version." in texts(fresh.caption)
    fresh.selectbox(key=f"predict.version.{TITANIC}").set_value(1).run()
    assert f"Using {TITANIC}:1 (none); the default would be {TITANIC}:2 (production)." in texts(fresh.caption)


def test_one_row_form_predicts_and_explains(page):
    mv = shown()
    page.selectbox(key=f"predict.row.{mv.id}.sex").set_value("female")
    page.number_input(key=f"predict.row.{mv.id}.pclass").set_value(1)
    page.button(key=f"FormSubmitter:predict.row.form.{mv.id}-Predict").click().run()
    assert not page.exception and not page.error and not page.warning
    form = {s.key.removeprefix(f"predict.row.{mv.id}."): s.value
            for s in [*page.selectbox, *page.number_input, *page.text_input]
            if s.key and s.key.startswith(f"predict.row.{mv.id}.")}
    # free-text columns the model drops are not asked for, and said so
    text = [c for c in mv.card.features if mv.card.feature_types[c] == "text"]
    assert text and not set(text) & set(form)
    assert (form["sex"], form["pclass"], len(form)) == ("female", 1, 11 - len(text))
    assert f"Not asked: {', '.join(text)} (free text, which this model does not use)." in texts(page.caption)
    expected = predict_one(load_model(workspace(), mv), {**form, **dict.fromkeys(text, "")})
    metric = next(m for m in page.metric if m.label == "Prediction")
    assert metric.value == str(expected.prediction)
    assert len(page.get("plotly_chart")) >= 2  # the probability bars and the SHAP waterfall


def test_an_out_of_range_value_is_predicted_with_a_warning(page):
    mv = shown()
    page.number_input(key=f"predict.row.{mv.id}.age").set_value(900.0)
    page.button(key=f"FormSubmitter:predict.row.form.{mv.id}-Predict").click().run()
    assert not page.exception
    assert "Column 'age' has 1 value (100%) far outside the training range" in texts(page.warning)


def test_batch_upload_is_checked_scored_in_a_job_and_offered_for_download(page):
    upload(page, "predict.batch", "people.csv", csv_bytes(rows().assign(note="x")))
    assert "40 rows: 0 error(s)" in texts(page.caption)
    issues = next(df.value for df in page.dataframe if "kind" in df.value.columns)
    assert issues.loc[issues["column"] == "note", "kind"].tolist() == ["extra_column"]
    page.checkbox(key="predict.batch.contributions").check().run()
    page.button(key="predict.batch.start").click().run()
    assert not page.exception
    ws = workspace()
    [job] = jobs.list_jobs(ws, kind="predict_batch")
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.get(ws, job.id).error
    page.run()
    assert [b.label for b in page.get("download_button")] == ["Download Parquet", "Download CSV"]
    [run] = prediction_runs.list_runs(ws, TITANIC)
    assert (run.n_rows, run.source) == (40, "people.csv")
    health = next(df.value for df in page.dataframe if "drift share" in df.value.columns)
    assert health["rows"].tolist() == [40] and health["source"].tolist() == ["people.csv"]


def test_a_batch_without_a_model_column_is_refused_with_the_issue_table(page):
    upload(page, "predict.batch", "short.csv", csv_bytes(rows().drop(columns=["sex"])))
    assert "The file cannot be scored until the errors above are fixed." in texts(page.error)
    issues = next(df.value for df in page.dataframe if "kind" in df.value.columns)
    assert issues.iloc[0][["column", "kind", "severity"]].tolist() == ["sex", "missing_column", "error"]
    assert not [b for b in page.button if b.key == "predict.batch.start"]


def test_a_junk_upload_shows_a_message_not_a_traceback(page):
    upload(page, "predict.batch", "junk.csv", bytes(range(256)) * 40)
    assert page.error and "Traceback" not in texts(page.error)


def test_a_dataset_version_can_be_scored_without_an_upload(page):
    page.radio(key="predict.batch.source").set_value("A dataset version").run()
    assert not page.exception
    assert "1,309 rows: 0 error(s)" in texts(page.caption)
    issues = next(df.value for df in page.dataframe if "kind" in df.value.columns)
    assert "survived" in issues.loc[issues["kind"] == "extra_column", "column"].tolist()
    assert page.button(key="predict.batch.start").label == "Score 1,309 rows"


def test_drift_of_an_uploaded_file(page):
    shifted = rows(300, seed=2)
    shifted["age"] = shifted["age"] + 30
    upload(page, "predict.drift", "shifted.csv", csv_bytes(shifted))
    page.button(key="predict.drift.run").click().run()
    assert not page.exception and not page.error
    verdict = {m.label: m.value for m in page.metric}
    assert verdict["Verdict"] == "Some drift" and verdict["Drifted features"] == "14%"
    table = next(df.value for df in page.dataframe if "psi" in df.value.columns)
    assert table.loc[table["drifted"], "feature"].tolist() == ["age"]


def test_a_tampered_model_is_refused_with_a_clear_message(page):
    mv = registry.get_version(workspace(), f"{TITANIC}:2")  # not the one the page opened on (and loaded)
    path = Path(workspace().settings.home) / "artifacts" / mv.artifact_key
    path.write_bytes(path.read_bytes()[:-5] + b"xxxxx")
    page.selectbox(key=f"predict.version.{TITANIC}").set_value(2).run()
    assert not page.exception
    assert "does not match its recorded checksum" in texts(page.error)
    assert "Traceback" not in texts(page.error)


def test_retrain_on_a_newer_version_then_compare_and_promote(page):
    ws = workspace()
    first = datasets.get_version(ws, "titanic@1")  # titanic@2: the same rows again (a sample loaded twice no longer is)
    datasets.save_version(ws, "titanic", datasets.load_table(ws, first), provenance=first.provenance,
                          roles=first.roles, if_exists="new_version")
    page.selectbox(key=f"predict.version.{TITANIC}").set_value(2).run()  # retrain the decision tree
    page.button(key="predict.retrain.start").click().run()
    assert not page.exception
    [job] = jobs.list_jobs(ws, kind="train")
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.get(ws, job.id).error
    page.run()
    new = registry.get_version(ws, f"{TITANIC}:3")
    assert (new.algorithm, new.dataset_label) == ("decision_tree", "titanic@2")
    assert any(f"{TITANIC}:3" in df.value.columns for df in page.dataframe)  # side by side with v2
    page.button(key="predict.retrain.promote").click().run()
    assert f"Promoted {TITANIC}:3 to production." in texts(page.success)
    assert registry.get_version(ws, f"{TITANIC}@production").version == 3


def test_a_batch_with_the_input_columns_on_request_joins_back(page):
    people = rows()
    upload(page, "predict.batch", "people.csv", csv_bytes(people))
    page.checkbox(key="predict.batch.with_inputs").check().run()
    page.button(key="predict.batch.start").click().run()
    assert not page.exception
    ws = workspace()
    [job] = jobs.list_jobs(ws, kind="predict_batch")
    assert job.params["keep_columns"] is True
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded", jobs.get(ws, job.id).error
    [run] = prediction_runs.list_runs(ws, TITANIC)
    out = pd.read_parquet(io.BytesIO(output_bytes(ws, run, "parquet")))
    assert list(out.columns)[: len(people.columns)] == list(people.columns)
    assert out["name"].tolist() == people["name"].tolist() and "prediction" in out.columns


def test_every_field_of_the_one_row_form_starts_at_a_training_value(page):
    mv = shown()
    specs = {s.name: s for s in feature_specs(load_model(workspace(), mv).reference)}
    fields = [w for w in [*page.selectbox, *page.number_input, *page.text_input, *page.checkbox, *page.date_input]
              if w.key and w.key.startswith(f"predict.row.{mv.id}.")]
    assert fields
    for widget in fields:
        spec = specs[widget.key.removeprefix(f"predict.row.{mv.id}.")]
        assert widget.value not in (None, ""), spec.name
        if spec.widget in ("select", "text"):
            assert widget.value == spec.default, spec.name  # the most frequent value
