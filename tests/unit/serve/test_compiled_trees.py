"""LightGBM trees compiled to C: the same classes and probabilities as LightGBM, cached, and optional."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.serve import compiled_trees
from core.serve.compiled_trees import COMPILE_MIN_WORK, CompiledTrees

pytestmark = pytest.mark.skipif(not compiled_trees.available(), reason="treelite, tl2cgen or gcc is missing")


def _model(kind: str, seed: int = 0):
    import lightgbm

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=[f"f{i}" for i in range(5)])
    X.iloc[::7, 1] = np.nan  # LightGBM's missing-value branches must carry over
    score = X["f0"].fillna(0) - X["f2"] + rng.normal(0, 0.3, len(X))
    params = {"n_estimators": 25, "num_leaves": 15, "verbose": -1}
    if kind == "regression":
        return lightgbm.LGBMRegressor(**params).fit(X, score), X
    labels = np.digitize(score, [0]) if kind == "binary" else np.digitize(score, [-1, 0, 1])
    return lightgbm.LGBMClassifier(**params).fit(X, np.array(["no", "yes", "maybe", "sure"])[labels]), X


def _rows(X: pd.DataFrame) -> pd.DataFrame:
    rows = X.sample(400, random_state=1, replace=True).reset_index(drop=True)
    rows.iloc[::5, 0] = np.nan
    return rows


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(compiled_trees, "_LOADED", {})
    monkeypatch.setattr(compiled_trees, "_REFUSED", set())


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_compiled_trees_answer_as_lightgbm(tmp_path, kind):
    model, X = _model(kind)
    trees = compiled_trees.compiled_trees(tmp_path, f"m-{kind}", model, rows=COMPILE_MIN_WORK)
    assert isinstance(trees, CompiledTrees)
    rows = _rows(X)
    if kind == "regression":
        assert np.abs(trees.predict(rows) - model.predict(rows)).max() <= 1e-12
    else:
        proba = trees.predict_proba(rows)
        assert np.abs(proba - model.predict_proba(rows)).max() <= 1e-12
        assert model.classes_[np.argmax(proba, axis=1)].tolist() == model.predict(rows).tolist()
    assert trees.matches(model, rows)  # in fact bit for bit, which is what a batch checks before using them


def test_a_small_batch_does_not_build_but_uses_a_library_already_built(tmp_path, monkeypatch):
    model, _ = _model("binary")
    small = COMPILE_MIN_WORK // model.booster_.num_trees() - 1
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=small) is None
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=None) is None
    built = compiled_trees.compiled_trees(tmp_path, "m", model, rows=small + 1)
    assert built is not None and built.path.parent == tmp_path
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=1) is built  # kept in this process
    monkeypatch.setattr(compiled_trees, "_LOADED", {})
    again = compiled_trees.compiled_trees(tmp_path, "m", model, rows=1)  # another process: from the file
    assert again is not None and again.path == built.path


def test_without_a_compiler_or_after_a_failed_build_lightgbm_keeps_scoring(tmp_path, monkeypatch):
    model, _ = _model("binary")
    monkeypatch.setattr(compiled_trees.shutil, "which", lambda _name: None)
    assert not compiled_trees.available()
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=COMPILE_MIN_WORK) is None
    monkeypatch.undo()
    monkeypatch.setattr(compiled_trees, "FLAGS", ("-fno-such-flag",))
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=COMPILE_MIN_WORK) is None
    assert "m" in compiled_trees._REFUSED and not list(tmp_path.glob("*.so"))
    monkeypatch.setattr(compiled_trees, "FLAGS", ("-O1",))
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=COMPILE_MIN_WORK) is None  # not tried again


def test_a_library_that_differs_from_lightgbm_is_not_used_again(tmp_path):
    model, X = _model("binary")
    other, _ = _model("binary", seed=5)
    trees = compiled_trees.compiled_trees(tmp_path, "m", other, rows=COMPILE_MIN_WORK)  # the wrong model's trees
    assert trees is not None and not trees.matches(model, _rows(X))
    assert compiled_trees.compiled_trees(tmp_path, "m", model, rows=COMPILE_MIN_WORK) is None
