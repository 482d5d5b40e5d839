"""Small real models for the predict, drift, benchmark and CLI tests.

Training takes seconds, so a test module trains once into a template home
(:func:`train_sample`) and each test starts from a copy of it (:func:`copy_home`):
the SQLite file and the artifact folder hold only relative keys.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.data.ingest import import_sample
from core.ml.config import SplitConfig, TrainConfig
from core.models import registry
from core.models.registry import ModelVersionInfo
from core.models.training import train_version
from core.platform.config import Settings
from core.platform.workspace import Workspace


def train_sample(ws: Workspace, sample: str = "titanic", algorithms: Sequence[str] = ("logistic_regression",),
                 *, cv_folds: int = 0, explain: bool = False, **config: Any) -> list[ModelVersionInfo]:
    """Import a bundled sample and train ``algorithms`` on it; returns the registered versions."""
    version = import_sample(ws, sample)
    rows = train_version(ws, version, TrainConfig(target=version.target, explain=explain,
                                                  split=SplitConfig(cv_folds=cv_folds), **config), list(algorithms))
    failed = [r["error"] for r in rows if r["status"] != "ok"]
    assert not failed, failed
    return [registry.get_version(ws, r["model"]) for r in rows]


def template_home(root: Path, build) -> Path:
    """A home folder made once by ``build(ws)``."""
    home = root / "template"
    ws = Workspace.open(Settings(home=home))
    try:
        build(ws)
    finally:
        ws.db.dispose()
    return home


def copy_home(template: Path, home: Path) -> Path:
    shutil.copytree(template, home, ignore=shutil.ignore_patterns("staging", "cache", "logs"))
    return home
