"""Saving and loading models safely (core.ml.serialize)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from core.ml.catalogue import ALGORITHMS, get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types
from core.ml.serialize import check_versions, dump_model, library_versions, load_model, sha256_hex
from core.platform.errors import IntegrityError, InvalidInputError
from tests.unit.ml.test_catalogue import CASES, tiny_frame


def _fitted(key: str, kind: str, config: PreprocessConfig | None = None):
    entry = get_algorithm(key)
    X, y = tiny_frame(kind)
    resolved, _ = resolve_preprocessing(config or PreprocessConfig(), entry.family, kind, entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, kind, column_types(X), resolved, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    return pipeline, X


# Multiclass models hold the same types as binary ones: one classification kind per entry is enough.
ROUND_TRIPS = [(key, kind) for key, kind in CASES if kind != "multiclass"]


@pytest.mark.parametrize(("key", "kind"), ROUND_TRIPS, ids=[f"{k}-{kind}" for k, kind in ROUND_TRIPS])
def test_every_entry_round_trips_and_predicts_the_same(key, kind):
    pipeline, X = _fitted(key, kind)
    data = dump_model(pipeline)
    loaded = load_model(data, sha256_hex(data))
    if kind == "regression":  # a forest sums its trees in thread order: equal up to rounding
        np.testing.assert_allclose(loaded.predict(X), pipeline.predict(X), rtol=1e-12)
    else:
        np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
    if hasattr(pipeline, "predict_proba") and kind != "clustering":
        np.testing.assert_allclose(loaded.predict_proba(X), pipeline.predict_proba(X))


@pytest.mark.parametrize("config", [
    PreprocessConfig(text="hash", selection="kbest", imbalance="smote", scaling="robust"),
    PreprocessConfig(encoding="target", selection="model", imbalance="undersample"),
    PreprocessConfig(selection="variance", imbalance="oversample", imputation="constant"),
], ids=["kbest-smote", "target-model-under", "variance-over"])
def test_preprocessing_variants_round_trip(config):
    pipeline, X = _fitted("logistic_regression", "binary", config)
    data = dump_model(pipeline)
    np.testing.assert_array_equal(load_model(data, sha256_hex(data)).predict(X), pipeline.predict(X))


def test_a_tampered_file_is_refused():
    pipeline, _ = _fitted("decision_tree", "binary")
    data = dump_model(pipeline)
    digest = sha256_hex(data)
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(IntegrityError, match="checksum mismatch: the model file was changed after it was saved; refus"):
        load_model(bytes(tampered), digest)
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        load_model(data, "0" * 64)


class Sneaky(TransformerMixin, BaseEstimator):
    """Stands for any class a crafted file could name."""

    def fit(self, X, y=None):
        self.seen_ = True
        return self

    def transform(self, X):
        return X


def test_types_outside_the_allow_list_are_refused_by_name():
    from sklearn.pipeline import make_pipeline as sk_pipeline

    X, y = tiny_frame("binary")
    odd = sk_pipeline(Sneaky(), get_algorithm("decision_tree").make("binary")).fit(X[["count"]], y)
    data = dump_model(odd)
    with pytest.raises(IntegrityError, match=r"contains the type '[\w.]*test_serialize\.Sneaky', which "
                                             r"Atelier does not trust; refusing to load"):
        load_model(data, sha256_hex(data))


def test_unreadable_bytes_are_refused():
    data = b"not a skops file"
    with pytest.raises(IntegrityError, match="cannot be read as a skops file"):
        load_model(data, sha256_hex(data))


def test_versions_are_recorded_and_newer_ones_refused():
    versions = library_versions()
    assert {"scikit-learn", "xgboost", "lightgbm", "skops"} <= set(versions)
    check_versions(versions)  # same versions: fine
    check_versions({"scikit-learn": "0.24.2", "unknown-lib": "9.9"})  # older or unknown: fine
    with pytest.raises(InvalidInputError, match=rf"saved with lightgbm 99\.0, newer than the installed lightgbm "
                                                rf"{versions['lightgbm']}"):
        check_versions({"lightgbm": "99.0"})


def test_allow_list_is_fixed_and_covers_the_catalogue():
    from core.ml.serialize import TRUSTED_TYPES

    assert "xgboost.core.Booster" in TRUSTED_TYPES and "sklearn.tree._tree.Tree" in TRUSTED_TYPES
    assert len(ALGORITHMS) == 22
