"""Model registry on the embedded default: names, references, registering, loading, prediction runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.models import registry
from core.platform.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError, StorageError
from core.serve import prediction_runs

NAME = "titanic · Survived"


def _add(ws, name=NAME, **changes):
    fields = dict(
        model_bytes=b"not really a model", algorithm="logistic_regression", problem_type="binary",
        target="Survived", dataset_version_id=None, dataset_label="titanic@1", metrics={"accuracy": 0.8},
        card={"params": {"C": 1.0}}, train_seconds=0.5,
    )
    fields.update(changes)
    return registry.register_version(ws, name, **fields)


# -- names and references ---------------------------------------------------------------
def test_default_name_joins_dataset_and_target_without_reserved_characters():
    assert registry.default_model_name("titanic", "Survived") == "titanic-Survived"
    assert registry.default_model_name("sales", "price:usd@eu") == "sales-price_usd_eu"
    assert registry.default_model_name("shops", None) == "shops-clusters"
    long = registry.default_model_name("d", "x" * 500)
    assert len(long) == registry.NAME_MAX and registry.validate_model_name(long) == long


@pytest.mark.parametrize(("name", "message"), [
    ("  ", "The model name is empty"),
    ("a" * 201, "201 characters long; the limit is 200"),
    ("churn@prod", "contains characters that are not allowed"),
    ("churn:2", "contains characters that are not allowed"),
    ("-churn", "contains characters that are not allowed"),
])
def test_bad_model_names_are_refused(name, message):
    with pytest.raises(InvalidInputError, match=message):
        registry.validate_model_name(name)


def test_model_names_are_cleaned():
    assert registry.validate_model_name("  iris ·  species ") == "iris · species"


@pytest.mark.parametrize(("ref", "parsed"), [
    ("m", ("m", None, None)),
    ("m:3", ("m", 3, None)),
    ("m:v12", ("m", 12, None)),
    ("m@production", ("m", None, "production")),
    ("m@Staging", ("m", None, "staging")),
    ("m@latest", ("m", None, "latest")),
    ("m@4", ("m", 4, None)),
])
def test_references_are_parsed(ref, parsed):
    assert registry.parse_ref(ref) == parsed


@pytest.mark.parametrize(("ref", "message"), [
    ("", "The model reference is empty"),
    ("m:three", "does not name a model version: after ':' comes a number"),
    ("m@prod", "'prod' is not one of production, staging, archived or latest"),
])
def test_bad_references_are_refused(ref, message):
    with pytest.raises(InvalidInputError, match=message):
        registry.parse_ref(ref)


def test_get_version_resolves_every_reference_form(ws):
    for _ in range(3):
        _add(ws)
    assert registry.get_version(ws, NAME).version == 3  # no production yet: the latest
    registry.promote(ws, NAME, 1)
    registry.set_stage(ws, NAME, 2, "staging")
    assert registry.get_version(ws, NAME).version == 1
    assert registry.get_version(ws, f"{NAME}@production").version == 1
    assert registry.get_version(ws, f"{NAME}@staging").version == 2
    assert registry.get_version(ws, f"{NAME}@latest").version == 3
    assert registry.get_version(ws, f"{NAME}:3").label == f"{NAME}:3"
    assert registry.get_version(ws, f"  {NAME}:2 ").stage == "staging"


def test_get_version_says_what_exists_when_the_reference_does_not(ws):
    _add(ws)
    _add(ws)
    with pytest.raises(NotFoundError, match="There is no model named 'nope'") as err:
        registry.get_version(ws, "nope")
    assert "titanic · Survived" in err.value.hint
    with pytest.raises(NotFoundError, match=r"has no version 7; its versions are: 1 \(none\), 2 \(none\)"):
        registry.get_version(ws, f"{NAME}:7")
    with pytest.raises(NotFoundError, match="has no version in production") as err:
        registry.get_version(ws, f"{NAME}@production")
    assert "models promote" in err.value.hint
    with pytest.raises(NotFoundError, match="has no version in archived"):
        registry.get_version(ws, f"{NAME}@archived")


def test_a_model_whose_versions_are_all_deleted_says_so(ws):
    _add(ws)
    registry.delete_version(ws, NAME, 1)
    with pytest.raises(NotFoundError, match="has no versions left: all were deleted"):
        registry.get_version(ws, NAME)
    assert registry.list_model_names(ws) == []
    assert registry.list_versions(ws, NAME) == []
    assert [t.to_stage for t in registry.history(ws, NAME)] == ["deleted"]


# -- registering -------------------------------------------------------------------------
def test_register_stores_plain_json_and_lists_by_name(ws):
    mv = _add(ws, metrics={"accuracy": np.float64(0.75), "auc": float("nan"), "cv": {"f1": {"mean": np.float32(0.5),
                                                                                               "std": 0.25}}},
              card={"classes": np.array([0, 1]), "n": np.int64(3), "params": {"C": 1.0}}, job_id="j1",
              predict_ms_per_1k=2.5)
    assert mv.metrics == {"accuracy": 0.75, "auc": None, "cv": {"f1": {"mean": 0.5, "std": 0.25}}}
    assert mv.card.classes == (0, 1) and mv.card.params == {"C": 1.0} and mv.card.extra == {"n": 3}
    assert type(mv.card.extra["n"]) is int and mv.job_id == "j1" and mv.predict_ms_per_1k == 2.5
    assert mv.created_at.tzinfo is not None
    _add(ws, name="another")
    assert [m.label for m in registry.list_versions(ws)] == ["another:1", f"{NAME}:1"]
    assert registry.list_model_names(ws) == ["another", NAME]
    assert registry.get_version(ws, f"{NAME}:1") == mv
    assert registry.get_version_by_id(ws, mv.id) == mv
    registry.delete_version(ws, NAME, 1)
    with pytest.raises(NotFoundError, match=f"There is no model version with id {mv.id}; it may have been deleted"):
        registry.get_version_by_id(ws, mv.id)


def test_register_refuses_what_cannot_be_stored(ws):
    with pytest.raises(InvalidInputError, match="The model bytes are empty"):
        _add(ws, model_bytes=b"")
    with pytest.raises(InvalidInputError, match="algorithm must be a non-empty text"):
        _add(ws, algorithm=" ")
    with pytest.raises(InvalidInputError, match="The model card must hold plain JSON values; found a object"):
        _add(ws, card={"estimator": object()})
    with pytest.raises(InvalidInputError, match="contains characters that are not allowed"):
        _add(ws, name="a@b")
    assert registry.list_versions(ws) == []


def test_a_failed_upload_leaves_no_version_behind(ws, monkeypatch):
    def broken_put(key, data, kind):
        raise StorageError("The artifact store is gone.")

    monkeypatch.setattr(ws, "put_bytes", broken_put)
    with pytest.raises(StorageError, match="artifact store is gone"):
        _add(ws)
    monkeypatch.undo()
    assert registry.list_versions(ws, NAME) == []
    assert _add(ws).version == 1


def test_plain_json_turns_numpy_and_non_finite_values_into_json():
    import datetime as dt

    value = {1: (np.int32(2), np.bool_(True)), "x": [math.inf, -math.inf, 1.5], "d": dt.date(2026, 1, 2)}
    assert registry.plain_json(value) == {"1": [2, True], "x": [None, None, 1.5], "d": "2026-01-02"}


# -- stages ------------------------------------------------------------------------------
def test_set_stage_moves_a_version_and_refuses_no_ops(ws):
    _add(ws)
    _add(ws)
    assert registry.set_stage(ws, NAME, 1, "staging", note="for QA").stage == "staging"
    with pytest.raises(ConflictError, match="Version 1 of model 'titanic · Survived' is already at stage 'staging'"):
        registry.set_stage(ws, NAME, 1, "staging")
    with pytest.raises(InvalidInputError, match="The stage must be one of none, staging, production, archived"):
        registry.set_stage(ws, NAME, 1, "prod")
    assert registry.set_stage(ws, NAME, 2, "production").stage == "production"  # through promote
    with pytest.raises(ConflictError, match="is already in production; nothing changed"):
        registry.promote(ws, NAME, 2)
    with pytest.raises(InvalidInputError, match="A model version is a whole number from 1 up"):
        registry.promote(ws, NAME, 0)
    with pytest.raises(NotFoundError, match="has no version 5"):
        registry.promote(ws, NAME, 5)
    with pytest.raises(InvalidInputError, match="The note is 2001 characters long"):
        registry.promote(ws, NAME, 1, note="x" * 2001)
    assert registry.history(ws, NAME)[-1].note == "for QA"


def test_promoting_an_earlier_version_by_hand_returns_the_history_to_it(ws):
    for _ in range(3):
        _add(ws)
    for version in (1, 2, 3, 1):
        registry.promote(ws, NAME, version)
    with pytest.raises(ConflictError, match="first version that was in production"):
        registry.rollback(ws, NAME)


# -- loading -----------------------------------------------------------------------------
@pytest.fixture
def fitted_bytes():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skops.io import dumps

    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    return dumps(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y))


def test_a_changed_model_file_is_refused(ws, fitted_bytes):
    mv = _add(ws, model_bytes=fitted_bytes)
    assert ws.get_bytes(mv.artifact_key) == fitted_bytes
    ws.store.local_path(mv.artifact_key).write_bytes(fitted_bytes[:-10] + b"0123456789")
    with pytest.raises(IntegrityError, match="does not match its recorded checksum"):
        registry.load_pipeline(ws, mv)


def test_load_pipeline_returns_the_fitted_pipeline(ws, fitted_bytes):
    pytest.importorskip("core.ml.serialize")
    import sklearn

    mv = _add(ws, model_bytes=fitted_bytes, card={"library_versions": {"scikit-learn": sklearn.__version__}})
    pipeline = registry.load_pipeline(ws, mv)
    assert pipeline.predict(np.array([[0.0, 1.0], [1.0, 0.0]])).tolist() == [0, 1]


def test_a_model_saved_by_a_newer_library_is_refused(ws, fitted_bytes):
    pytest.importorskip("core.ml.serialize")
    newer = {"scikit-learn": "99.0", "sklearn": "99.0", "skops": "99.0"}  # whichever key the card uses
    mv = _add(ws, model_bytes=fitted_bytes, card={"library_versions": newer})
    with pytest.raises(InvalidInputError, match="99.0"):
        registry.load_pipeline(ws, mv)


# -- prediction runs ---------------------------------------------------------------------
def test_prediction_runs_are_recorded_newest_first(ws):
    v1, v2 = _add(ws), _add(ws)
    prediction_runs.record(ws, v1, source="batch.csv", n_rows=np.int64(100),
                                   summary={"class_mix": {"0": np.float64(0.6), "1": 0.4}}, drift_share=0.1)
    run = prediction_runs.record(ws, v2, source="form", n_rows=1, summary={"score_mean": 0.7},
                                         artifact_key="predictions/x.parquet", job_id="j9")
    assert (run.name, run.version, run.n_rows, run.drift_share, run.job_id) == (NAME, 2, 1, None, "j9")
    runs = prediction_runs.list_runs(ws, NAME)
    assert [(r.version, r.source, r.n_rows) for r in runs] == [(2, "form", 1), (1, "batch.csv", 100)]
    assert runs[1].summary == {"class_mix": {"0": 0.6, "1": 0.4}} and runs[1].drift_share == 0.1
    assert [r.version for r in prediction_runs.list_runs(ws, NAME, version=1)] == [1]
    assert len(prediction_runs.list_runs(ws, NAME, limit=1)) == 1
    with pytest.raises(InvalidInputError, match="n_rows must be a whole number of rows"):
        prediction_runs.record(ws, v1, source="x", n_rows=-1, summary={})
    with pytest.raises(InvalidInputError, match="drift_share is the share of drifted features, from 0 to 1"):
        prediction_runs.record(ws, v1, source="x", n_rows=1, summary={}, drift_share=1.5)
    with pytest.raises(NotFoundError, match="There is no model named 'ghost'"):
        prediction_runs.list_runs(ws, "ghost")


def test_a_bare_name_means_production_else_the_latest():
    from types import SimpleNamespace

    versions = [SimpleNamespace(version=n, stage=s) for n, s in [(1, "archived"), (2, "production"), (3, "none")]]
    assert registry.default_version(versions).version == 2
    assert registry.default_version(versions[:1] + versions[2:]).version == 3
