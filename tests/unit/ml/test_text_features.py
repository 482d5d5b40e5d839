"""Free text the model drops is not pre-selected, and never shows as a zero bar in importance or SHAP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.explain import explain_rows, feature_importances, shap_summary
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types, select_features


def _frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    X = pd.DataFrame({
        "signal": signal,
        "plan": rng.choice(["basic", "pro"], n),
        "comment": [f"customer {i} wrote a long free text note about their experience" for i in range(n)],
    })
    return X, pd.Series(np.where(signal + rng.normal(0, 0.3, n) > 0, "yes", "no"), name="y")


def test_free_text_is_not_pre_selected_but_can_still_be_chosen():
    X, y = _frame()
    df = X.assign(y=y)
    assert column_types(X)["comment"] == "text"
    assert select_features(df, "y", None, {}, drop_text=True) == ["signal", "plan"]
    assert select_features(df, "y", None, {}) == ["signal", "plan", "comment"]  # training's default is unchanged
    assert select_features(df, "y", ["comment", "signal"], {}, drop_text=True) == ["comment", "signal"]
    only_text = pd.DataFrame({"comment": X["comment"], "y": y})
    assert select_features(only_text, "y", None, {}, drop_text=True) == ["comment"]  # the error comes at training


@pytest.mark.parametrize("key", ["lightgbm", "logistic_regression", "knn"])
def test_dropped_text_has_no_bar_in_importance_or_shap(key):
    entry = get_algorithm(key)
    X, y = _frame()
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    params = {"n_estimators": 30} if key == "lightgbm" else None
    pipeline, weigh, notes = make_pipeline(entry, "binary", column_types(X), resolved, params, y=y)
    assert any("'comment'" in n for n in notes)  # preprocessing drops it
    fit_pipeline(pipeline, X, y, weigh=weigh)
    importances, _ = feature_importances(pipeline, X, y, "binary")
    assert set(importances) == {"signal", "plan"}
    assert sum(importances.values()) == pytest.approx(1.0)
    if key != "knn":
        assert set(shap_summary(pipeline, X, "binary").mean_abs) == {"signal", "plan"}
        contributions = explain_rows(pipeline, X.head(3))
        assert "comment" not in contributions.columns and "signal" in contributions.columns
