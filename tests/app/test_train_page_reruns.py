"""A Train page rerun reads the version's detection, default features and warnings from caches keyed by version."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.data.ingest import import_sample
from core.eda import leakage_memo
from core.ml import problem
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, texts


def test_widget_changes_do_not_screen_the_features_again(app_home, monkeypatch):
    import_sample(Workspace.open(Settings.load()), "titanic")
    screened: list[tuple[str, ...]] = []
    real = problem.feature_warnings

    def counting(df, target, features, **kwargs):
        screened.append(tuple(features))
        return real(df, target, features, **kwargs)

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


def test_feature_changes_reuse_one_leakage_screen_per_version_and_target(app_home, monkeypatch):
    import_sample(Workspace.open(Settings.load()), "titanic")
    import streamlit as st

    st.cache_data.clear()  # another test's titanic sample would answer from the page's caches
    leakage_memo.forget_screens()  # and from the process's memo
    screens: list[str] = []
    real = leakage_memo.screen_leakage

    def counting(df, target, kind, features, **kwargs):
        screens.append(target)
        return real(df, target, kind, features, **kwargs)

    monkeypatch.setattr(leakage_memo, "screen_leakage", counting)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception, at.exception
    assert screens == ["survived"]  # the warnings and the ranking (its set-up and data preparation): one screen
    [features] = [m for m in at.multiselect if m.key and m.key.startswith("train.features.")]
    chosen = list(features.value)
    features.set_value(chosen[:-1]).run()
    features.set_value(chosen[1:]).run()
    assert not at.exception, at.exception
    assert screens == ["survived"]
    assert any("'boat'" in w for w in texts(at.warning)) == ("boat" in chosen[1:])
    [target] = [s for s in at.selectbox if s.key and s.key.startswith("train.target.")]
    target.set_value("pclass").run()  # another target: screened once for it
    assert not at.exception, at.exception
    assert screens == ["survived", "pclass"]
    [features] = [m for m in at.multiselect if m.key and m.key.startswith("train.features.")]
    features.set_value(list(features.value)[1:]).run()
    assert screens == ["survived", "pclass"]
