"""Models saved before ``core`` moved into stage packages still load and predict identically.

Saved skops files name the classes of ``core.ml.steps``; the fixtures were written by the last
flat ``core`` (see ``tests/fixtures/saved_models/make.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.ml.serialize import load_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "saved_models"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_a_model_saved_before_the_move_loads_and_predicts_the_same(name):
    case = MANIFEST[name]
    pipeline = load_model((FIXTURES / f"{name}.skops").read_bytes(), case["sha256"])
    rows = pd.read_parquet(FIXTURES / f"{name}.input.parquet")

    predicted = pd.Series(pipeline.predict(rows)).tolist()
    expected = case["expected"]["prediction"]
    if isinstance(expected[0], float):
        np.testing.assert_allclose(predicted, expected, rtol=1e-12)
    else:
        assert predicted == expected
    if "proba" in case["expected"]:
        np.testing.assert_allclose(pipeline.predict_proba(rows), case["expected"]["proba"], rtol=1e-12, atol=1e-15)


def test_the_fixtures_use_the_steps_whose_import_path_must_not_move():
    # If this fails, the fixtures no longer prove that core.ml.steps kept its path.
    import skops.io as sio

    used = set()
    for name in MANIFEST:
        used |= set(sio.get_untrusted_types(data=(FIXTURES / f"{name}.skops").read_bytes()))
    assert {"core.ml.steps.CategoryCleaner", "core.ml.steps.TextHasher", "core.ml.steps.DatetimeExpander"} <= used
