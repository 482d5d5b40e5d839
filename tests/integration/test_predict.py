"""Batch prediction end to end on real models: equality with the pipeline, schema messages, refusals, drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, explain_rows
from core.models import registry
from core.platform import jobs
from core.platform.config import Settings
from core.platform.errors import IntegrityError, InvalidInputError
from core.platform.metadata.models import ModelVersion
from core.platform.workspace import Workspace
from core.serve import compiled_trees, prediction_runs
from core.serve.batch import predict_file, validate_file
from core.serve.drift import drift_of_file
from core.serve.loaded import load_model
from core.serve.one_row import predict_one
from core.serve.outputs import output_bytes, write_output
from core.serve.validation import coerce_batch, validate_batch
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")
MPG = registry.default_model_name("mpg", "Miles_per_Gallon")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression", "lightgbm"])
    train_sample(ws, "mpg", ["decision_tree"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("predict"), _build)


@pytest.fixture
def ws(template, tmp_path):
    workspace = Workspace.open(Settings(home=copy_home(template, tmp_path / "home")))
    yield workspace
    workspace.db.dispose()


def _rows(ws, sample: str, n: int = 300, seed: int = 0) -> pd.DataFrame:
    version = datasets.get_version(ws, sample)
    frame = datasets.load_frame(ws, version).sample(n, random_state=seed).reset_index(drop=True)
    return frame.drop(columns=[version.target])


def _scored(ws, run) -> pd.DataFrame:
    return pd.read_parquet(write_output(ws, run, ws.settings.home / f"out-{run.id}.parquet"))


# -- predictions ---------------------------------------------------------------------------
@pytest.mark.parametrize(("ref", "sample"), [(f"{TITANIC}:1", "titanic"), (f"{TITANIC}:2", "titanic"),
                                             (MPG, "mpg")])
def test_batch_predictions_equal_the_stored_pipelines_own_predict(ws, tmp_path, ref, sample):
    rows = _rows(ws, sample)
    rows.to_parquet(tmp_path / "rows.parquet")
    model = load_model(ws, ref)
    run = predict_file(ws, model, tmp_path / "rows.parquet", chunk_rows=70)  # five chunks, the last one short
    out = _scored(ws, run)
    pipeline = registry.load_pipeline(ws, model.version)  # loaded afresh, not the scorer's copy
    assert run.n_rows == len(out) == 300
    assert out["prediction"].tolist() == pipeline.predict(rows[model.features]).tolist()
    if model.kind == "binary":
        proba = pipeline.predict_proba(rows[model.features])
        assert np.allclose(out[["probability_0", "probability_1"]].to_numpy(), proba)
        assert set(run.summary["class_mix"]) == {"0", "1"}
    else:
        assert run.summary["mean"] == pytest.approx(out["prediction"].mean())


@pytest.mark.skipif(not compiled_trees.available(), reason="treelite, tl2cgen or gcc is missing")
def test_compiled_trees_score_a_batch_exactly_as_the_pipeline(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(compiled_trees, "COMPILE_MIN_WORK", 0)  # build for these 300 rows
    monkeypatch.setattr(compiled_trees, "_LOADED", {})
    monkeypatch.setattr(compiled_trees, "_REFUSED", set())
    rows = _rows(ws, "titanic")
    rows.to_parquet(tmp_path / "rows.parquet")
    model = load_model(ws, f"{TITANIC}:2")
    out = _scored(ws, predict_file(ws, model, tmp_path / "rows.parquet", chunk_rows=70))
    [library] = (ws.settings.home / "cache" / "trees").glob(f"{model.version.sha256}*.so")
    assert library in compiled_trees._LOADED and not compiled_trees._REFUSED  # built, checked and used
    pipeline = registry.load_pipeline(ws, model.version)
    assert out["prediction"].tolist() == pipeline.predict(rows[model.features]).tolist()
    proba = pipeline.predict_proba(rows[model.features])
    assert np.abs(out[["probability_0", "probability_1"]].to_numpy() - proba).max() <= 1e-12


def test_the_summary_gathered_on_the_way_describes_the_output(ws, tmp_path):
    rows = _rows(ws, "titanic")
    rows.to_parquet(tmp_path / "rows.parquet")
    run = predict_file(ws, load_model(ws, TITANIC), tmp_path / "rows.parquet", chunk_rows=70)
    mix = _scored(ws, run)["prediction"].astype(str).value_counts(normalize=True)
    assert run.summary["class_mix"] == {k: float(v) for k, v in mix.items()}
    assert list(run.summary["class_mix"]) == list(mix.index)  # most frequent first
    rows = _rows(ws, "mpg")
    rows.to_parquet(tmp_path / "mpg.parquet")
    run = predict_file(ws, load_model(ws, MPG), tmp_path / "mpg.parquet", chunk_rows=70)
    predictions = _scored(ws, run)["prediction"]
    assert run.summary["mean"] == pytest.approx(predictions.mean(), rel=1e-12)
    assert run.summary["std"] == pytest.approx(predictions.std(), rel=1e-9)


def test_a_parquet_file_is_read_for_the_models_columns_and_checked_on_all(ws, tmp_path):
    rows = _rows(ws, "titanic").assign(notes="call back")
    rows.to_parquet(tmp_path / "rows.parquet")
    model = load_model(ws, TITANIC)
    report = validate_file(model, tmp_path / "rows.parquet")
    assert "Column 'notes' is not one of the model's features: it is ignored." in _messages(report, "info")
    run = predict_file(ws, model, tmp_path / "rows.parquet")
    assert "notes" not in _scored(ws, run).columns
    kept = _scored(ws, predict_file(ws, model, tmp_path / "rows.parquet", keep_columns=True))
    assert kept["notes"].tolist() == ["call back"] * 300 and kept["name"].tolist() == rows["name"].tolist()


def test_a_csv_batch_scores_like_the_same_rows_in_parquet(ws, tmp_path):
    rows = _rows(ws, "titanic")
    rows.to_parquet(tmp_path / "rows.parquet")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    model = load_model(ws, TITANIC)
    from_csv = _scored(ws, predict_file(ws, model, tmp_path / "rows.csv"))
    from_parquet = _scored(ws, predict_file(ws, model, tmp_path / "rows.parquet"))
    assert np.allclose(from_csv["probability_1"], from_parquet["probability_1"])


def test_the_batch_job_scores_in_the_background_and_keeps_a_dataset_file(ws):
    version = datasets.get_version(ws, "titanic")
    path = datasets.parquet_path(ws, version)
    job_id = jobs.submit(ws, "predict_batch", {"model": TITANIC, "path": str(path), "contributions": True,
                                               "source": version.label, "discard": False})
    info = jobs.wait(ws, job_id, timeout=120)
    assert info.status == "succeeded", info.error
    assert info.result["rows"] == version.n_rows and path.exists()
    [run] = prediction_runs.list_runs(ws, TITANIC)
    assert (run.id, run.source, run.job_id) == (info.result["run_id"], "titanic@1", job_id)
    assert run.drift_share == 0.0  # the training data itself does not drift
    csv = output_bytes(ws, run, "csv").decode().splitlines()
    assert len(csv) == version.n_rows + 1
    assert csv[0].split(",")[:3] == ['"prediction"', '"probability_0"', '"probability_1"']
    assert '"feature_1"' in csv[0] and '"contribution_3"' in csv[0]


# -- schema validation ---------------------------------------------------------------------
def _report(ws, tmp_path, frame: pd.DataFrame, name: str = "batch.csv"):
    if name.endswith(".parquet"):
        frame.to_parquet(tmp_path / name)
    else:
        frame.to_csv(tmp_path / name, index=False)
    return validate_file(load_model(ws, TITANIC), tmp_path / name)


def _messages(report, severity: str) -> list[str]:
    return [i.message for i in report.issues if i.severity == severity]


def test_missing_required_columns_block_scoring(ws, tmp_path):
    report = _report(ws, tmp_path, _rows(ws, "titanic").drop(columns=["age", "sex"]))
    assert not report.ok
    assert _messages(report, "error") == [
        "Column 'sex' is missing from the file: the model was trained on 11 columns, this file has 9 of them.",
        "Column 'age' is missing from the file: the model was trained on 11 columns, this file has 9 of them."]
    with pytest.raises(InvalidInputError, match="The file cannot be scored: 2 problems block it"):
        predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.csv")


def test_extra_columns_are_ignored_and_reported(ws, tmp_path):
    rows = _rows(ws, "titanic").assign(notes="call back", survived=1)
    report = _report(ws, tmp_path, rows)
    assert report.ok
    assert "Column 'notes' is not one of the model's features: it is ignored." in _messages(report, "info")
    assert "Column 'survived' is not one of the model's features: it is ignored." in _messages(report, "info")
    frame = report.to_frame()
    assert frame.loc[frame["column"] == "notes", ["kind", "count"]].values.tolist() == [["extra_column", 300]]
    out = _scored(ws, predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.csv"))
    assert "notes" not in out.columns and len(out) == 300


def test_numbers_written_as_text_are_converted(ws, tmp_path):
    rows = _rows(ws, "titanic")
    as_text = rows.assign(pclass=rows["pclass"].map(str))  # a string column in Parquet: no type inference
    report = _report(ws, tmp_path, as_text, "batch.parquet")
    assert report.ok
    assert "Column 'pclass' holds numbers stored as text (300 values): they are converted." in \
        _messages(report, "info")
    converted = _scored(ws, predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.parquet"))
    rows.to_csv(tmp_path / "plain.csv", index=False)
    plain = _scored(ws, predict_file(ws, load_model(ws, TITANIC), tmp_path / "plain.csv"))
    assert np.allclose(converted["probability_1"], plain["probability_1"])


def test_unreadable_values_warn_when_few_and_block_when_many(ws, tmp_path):
    rows = _rows(ws, "titanic").astype({"fare": object})
    rows.loc[0, "fare"] = "free"
    few = _report(ws, tmp_path, rows)
    assert few.ok
    assert "Column 'fare' should hold numbers, but 1 value (0.33%) cannot be read as numbers, e.g. 'free': " \
        "they are treated as missing." in _messages(few, "warning")
    rows.loc[:149, "fare"] = "unknown"
    many = _report(ws, tmp_path, rows)
    assert _messages(many, "error") == [
        "Column 'fare' should hold numbers, but 150 values (50%) cannot be read as numbers, e.g. 'unknown': fix "
        "them or empty those cells (at most 1% of a column may be unreadable)."]


def _as_text(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as a text column (Parquet keeps it text), gaps kept."""
    return frame.assign(**{column: frame[column].map(lambda v: None if pd.isna(v) else str(v))})


def test_unreadable_values_in_one_chunk_are_judged_on_the_whole_file(ws, tmp_path):
    rows = _rows(ws, "titanic").astype({"fare": object})
    rows.loc[[0, 1], "fare"] = "free"  # 2 of the first chunk's 70 rows, 2 of the file's 300: under 1%
    rows.to_csv(tmp_path / "batch.csv", index=False)
    run = predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.csv", chunk_rows=70)
    assert run.n_rows == 300
    assert any("2 values (0.67%) cannot be read as numbers" in w for w in run.summary["warnings"])


def test_a_file_blocked_by_its_last_rows_stores_and_records_nothing(ws, tmp_path):
    rows = _as_text(_rows(ws, "titanic"), "fare")
    rows.loc[296:, "fare"] = "unknown"  # 4 of 300 rows, all in the last chunk: over 1% of the file
    rows.to_parquet(tmp_path / "batch.parquet")
    model = load_model(ws, TITANIC)
    expected = validate_file(model, tmp_path / "batch.parquet")
    with pytest.raises(InvalidInputError) as raised:
        predict_file(ws, model, tmp_path / "batch.parquet", chunk_rows=70)
    with pytest.raises(InvalidInputError) as from_report:
        expected.raise_for_errors()
    assert str(raised.value) == str(from_report.value)
    assert "4 values (1.3%) cannot be read as numbers" in str(raised.value)
    assert prediction_runs.list_runs(ws, TITANIC) == []
    assert not any(ws.settings.staging_dir.iterdir())


def test_a_write_failing_behind_the_scoring_fails_the_run_and_leaves_nothing(ws, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    rows = _rows(ws, "titanic")
    rows.to_parquet(tmp_path / "batch.parquet")
    real, calls = pq.ParquetWriter.write_table, []

    def third_fails(self, table, *args, **kwargs):
        calls.append(len(table))
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", third_fails)
    with pytest.raises(OSError, match="No space left on device"):
        predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.parquet", chunk_rows=70)
    assert calls == [70, 70, 70]  # the failure stops the run at the next chunk: nothing past it is written
    assert prediction_runs.list_runs(ws, TITANIC) == []
    assert not any(ws.settings.staging_dir.iterdir())


def test_a_blocking_first_chunk_stops_scoring_but_reports_the_whole_file(ws, tmp_path):
    rows = _as_text(_rows(ws, "titanic").drop(columns=["sex"]), "fare")
    rows.loc[[10, 250], "fare"] = "n/a"  # one in the first chunk, one in the fourth
    rows.to_parquet(tmp_path / "batch.parquet")
    with pytest.raises(InvalidInputError, match=r"1 problem blocks it\.\n- Column 'sex' is missing") as raised:
        predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.parquet", chunk_rows=70)
    assert str(raised.value).count("\n- ") == 1  # the unreadable fares are a warning for the whole file
    assert prediction_runs.list_runs(ws, TITANIC) == []


def test_unseen_categories_are_a_warning_and_still_scored(ws, tmp_path):
    rows = _rows(ws, "titanic")
    rows.loc[:4, "sex"] = "other"
    report = _report(ws, tmp_path, rows)
    assert report.ok
    assert "Column 'sex' has 5 values (1.7%) never seen in training, e.g. 'other'." in _messages(report, "warning")
    run = predict_file(ws, load_model(ws, TITANIC), tmp_path / "batch.csv")
    assert run.n_rows == 300 and any("never seen" in w for w in run.summary["warnings"])


def test_an_empty_file_is_refused(ws, tmp_path):
    model = load_model(ws, TITANIC)
    _rows(ws, "titanic").head(0).to_csv(tmp_path / "empty.csv", index=False)
    _rows(ws, "titanic").head(0).to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(InvalidInputError, match=r"empty.csv has a header \(13 column\(s\): pclass, name, .*\) but no "
                                                r"data rows"):
        validate_file(model, tmp_path / "empty.csv")
    with pytest.raises(InvalidInputError, match="empty.parquet has no rows to score"):
        validate_file(model, tmp_path / "empty.parquet")
    for name in ("empty.csv", "empty.parquet"):
        with pytest.raises(InvalidInputError, match="no (data )?rows"):
            predict_file(ws, model, tmp_path / name)
    assert prediction_runs.list_runs(ws, TITANIC) == []


# -- one row ------------------------------------------------------------------------------
ROW_CHANGES = [{}, {"age": None, "fare": "12.5", "embarked": "Z"}, {"pclass": "2", "sex": None, "age": 900.0},
               {"sibsp": True, "cabin": 3, "home.dest": np.nan}]


@pytest.mark.parametrize("ref", [f"{TITANIC}:1", f"{TITANIC}:2"])
@pytest.mark.parametrize("changes", ROW_CHANGES)
def test_one_row_equals_validating_coercing_and_asking_the_pipeline(ws, ref, changes):
    model = load_model(ws, ref)
    values = {**_rows(ws, "titanic", n=1, seed=3).iloc[0].to_dict(), **changes}
    result = predict_one(model, values)
    frame = pd.DataFrame([{f: values.get(f) for f in model.features}])
    report = validate_batch(model.reference, frame)
    X = coerce_batch(model.reference, frame, report)
    pipeline = registry.load_pipeline(ws, model.version)
    assert [i.message for i in result.report.issues] == [i.message for i in report.issues]
    assert result.prediction == pipeline.predict(X)[0]
    assert result.probabilities == {str(c): float(p) for c, p in zip(pipeline.classes_, pipeline.predict_proba(X)[0],
                                                                       strict=True)}
    row = explain_rows(pipeline, X).iloc[0]
    expected = row.drop([BASE_COLUMN, CLASS_COLUMN]).astype(float)
    pd.testing.assert_series_equal(result.contributions, expected.reindex(expected.abs().sort_values(
        ascending=False).index), check_exact=True)
    assert (result.base_value, result.explained_class) == (float(row[BASE_COLUMN]), row[CLASS_COLUMN])
    assert predict_one(model, values, explain=False).contributions is None


def test_one_row_with_a_blocking_problem_is_refused(ws):
    model = load_model(ws, TITANIC)
    values = {**_rows(ws, "titanic", n=1).iloc[0].to_dict(), "age": "old"}
    with pytest.raises(InvalidInputError, match=r"Column 'age' should hold numbers, but 1 value \(100%\) cannot be "
                                                r"read as numbers, e\.g\. 'old'"):
        predict_one(model, values)


# -- refusals -----------------------------------------------------------------------------
def test_a_tampered_model_file_is_refused(ws):
    mv = registry.get_version(ws, f"{TITANIC}:2")
    path = ws.settings.home / "artifacts" / mv.artifact_key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match its recorded checksum.*changed or damaged after it"):
        load_model(ws, mv.label)


def test_a_model_saved_by_a_newer_library_is_refused_naming_it(ws):
    mv = registry.get_version(ws, f"{TITANIC}:1")
    with ws.db.session() as s:
        row = s.get(ModelVersion, mv.id)
        row.card = {**row.card, "library_versions": {**row.card["library_versions"], "scikit-learn": "99.0"}}
    with pytest.raises(InvalidInputError, match=r"This model was saved with scikit-learn 99\.0, newer than the "
                                                r"installed scikit-learn"):
        load_model(ws, mv.label)


# -- drift ----------------------------------------------------------------------------------
def test_drift_flags_the_feature_shifted_on_purpose_and_not_the_others(ws, tmp_path):
    rows = _rows(ws, "titanic", n=500, seed=7)
    rows["age"] = rows["age"] + 25
    rows.to_parquet(tmp_path / "shifted.parquet")
    model = load_model(ws, TITANIC)
    report = drift_of_file(model.reference, tmp_path / "shifted.parquet")
    assert report.drifted_features == ["age"]
    untouched = report.to_frame().set_index("feature").drop(index="age")
    assert not untouched["drifted"].any()
    run = predict_file(ws, model, tmp_path / "shifted.parquet")
    assert run.summary["drift"]["drifted_features"] == ["age"] and run.drift_share == pytest.approx(1 / 7)
    assert drift_of_file(model.reference, _write(tmp_path, _rows(ws, "titanic", 500, 8))).verdict \
        == "No drift"


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    frame.to_parquet(tmp_path / "same.parquet")
    return tmp_path / "same.parquet"


# -- joining back: the rows' ids --------------------------------------------------------------
def test_a_batch_output_starts_with_the_rows_id_column_and_keeps_the_inputs_on_request(ws, tmp_path):
    rows = _rows(ws, "mpg", n=120)  # Auto MPG's "Name" has the id role
    assert datasets.get_version(ws, "mpg").roles["Name"] == "id"
    rows.to_parquet(tmp_path / "cars.parquet")
    rows.to_csv(tmp_path / "cars.csv", index=False)
    model = load_model(ws, MPG)
    assert "Name" not in model.features
    for name in ("cars.parquet", "cars.csv"):
        out = _scored(ws, predict_file(ws, model, tmp_path / name, chunk_rows=50))
        assert list(out.columns) == ["Name", "prediction"]
        assert out["Name"].tolist() == rows["Name"].tolist()  # joins back row by row
    kept = _scored(ws, predict_file(ws, model, tmp_path / "cars.parquet", keep_columns=True))
    assert list(kept.columns) == [*rows.columns, "prediction"]


def test_a_file_without_the_id_column_is_scored_without_it(ws, tmp_path):
    _rows(ws, "mpg").drop(columns=["Name"]).to_parquet(tmp_path / "anonymous.parquet")
    out = _scored(ws, predict_file(ws, load_model(ws, MPG), tmp_path / "anonymous.parquet"))
    assert list(out.columns) == ["prediction"] and len(out) == 300
