"""A few rows of a LightGBM model scored on its booster directly give the wrapper's very numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types
from core.serve.scoring import Scorer
from tests.unit.serve.test_scoring import _data, _new_rows


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_the_booster_path_equals_the_wrapper_and_the_pipeline(kind):
    X, y = _data(kind)
    if y.dtype == object:  # labels as codes: the fit is not what is tested here
        y = pd.Series(pd.factorize(y, sort=True)[0], name="y")
    entry = get_algorithm("lightgbm")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, kind, entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, kind, column_types(X), resolved, {"n_estimators": 20}, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    rows = _new_rows()  # an unseen category, an infinity and a missing value among them
    scorer = Scorer(pipeline, kind)
    assert scorer._booster is not None
    for n in (1, 8, 200):
        part = rows.head(n)
        direct, wrapped = scorer.score(part, threads=1), scorer.score(part)  # threads: the booster path
        assert np.array_equal(direct.prediction, wrapped.prediction)
        assert np.array_equal(direct.prediction, pipeline.predict(part))
        if kind != "regression":
            assert np.array_equal(direct.proba, wrapped.proba)
            assert np.array_equal(direct.proba, pipeline.predict_proba(part))
