"""AppTest runs the real app script headless against a temp workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ATELIER_HOME", str(home))
    monkeypatch.chdir(ROOT)
    return home


@pytest.fixture
def app(app_home: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def open_on(page: str, timeout: int = 60) -> AppTest:
    """The app, run once and switched to ``page`` (e.g. ``"views/predict.py"``), with no exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    """All the visible text of a list of elements, joined, for `in` checks."""
    return "\n".join(str(e.value) for e in elements)
