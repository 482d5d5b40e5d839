"""A Train page rerun reads the version's detection, default features and warnings from caches keyed by version."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.data.ingest import import_sample
from core.ml import problem
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, texts


def test_widget_changes_do_not_screen_the_features_again(app_home, monkeypatch):
    import_sample(Workspace.open(Settings.load()), "titanic")
    screened: list[tuple[str, ...]] = []
    real = problem.feature_warnings

    def counting(df, target, features):
        screened.append(tuple(features))
        return real(df, target, features)

    monkeypatch.setattr(problem, "feature_warnings", counting)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception, at.exception
    assert len(screened) == 1
    shown = texts(at.warning)
    [features] = [m for m in at.multiselect if m.key and m.key.startswith("train.features.")]
    chosen = list(features.value)
    at.number_input[0].increment().run()  # any other widget: the same version, target and features
    at.run()
    assert not at.exception, at.exception
    assert len(screened) == 1
    features.set_value(chosen[:-1]).run()  # other features: screened once more
    assert len(screened) == 2 and screened[-1] == tuple(chosen[:-1])
    features.set_value(chosen).run()  # back to the first choice: from the cache, with its warnings
    assert len(screened) == 2
    assert texts(at.warning) == shown
