"""Loaded models: a stored model version, verified and unpickled once, with what scoring needs.

A :class:`ModelCache` belongs to whoever serves many requests (the app's server process, the
HTTP API) and keeps the most recently used versions, keyed by their checksum; a job or a command
loads its model once and needs none.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from core.models import registry
from core.models.card import ModelCard
from core.models.registry import ModelVersionInfo
from core.platform.errors import InvalidInputError
from core.platform.workspace import Workspace
from core.serve.scoring import Scorer, scorer_for

__all__ = ["LoadedModel", "ModelCache", "load_model"]


@dataclass(frozen=True)
class LoadedModel:
    """A stored model version, verified and loaded, with what scoring needs."""

    version: ModelVersionInfo
    pipeline: Any

    @property
    def card(self) -> ModelCard:
        return self.version.card

    @property
    def reference(self) -> dict[str, Any]:
        reference = self.card.reference
        if not reference:
            raise InvalidInputError(
                f"Model {self.version.label} has no reference statistics, so its input cannot be validated.",
                hint="Retrain it with this version of Atelier.",
            )
        return reference

    @property
    def features(self) -> list[str]:
        return list(self.card.features)

    @property
    def kind(self) -> str:
        return self.version.problem_type

    @property
    def classes(self) -> list[Any]:
        return list(self.card.classes or [])

    @property
    def scorer(self) -> Scorer:
        """The pipeline's scorer (kept per process with the pipeline)."""
        return scorer_for(self.pipeline, self.kind)


class ModelCache:
    """The ``max_models`` most recently used model versions of one process, keyed by checksum."""

    def __init__(self, max_models: int = 8) -> None:
        self.max_models = max_models
        self._models: OrderedDict[tuple[str, int, str], LoadedModel] = OrderedDict()

    def load(self, ws: Workspace, ref: str | ModelVersionInfo) -> LoadedModel:
        version = _version(ws, ref)
        model = self.get(ws, version)
        if model is None:
            model = _load(ws, version)
            self.put(ws, model)
        return model

    def get(self, ws: Workspace, version: ModelVersionInfo) -> LoadedModel | None:
        """``version`` if it is loaded already (with this fresh row: its stage may have changed), else ``None``;
        never loads."""
        key = _key(ws, version)
        cached = self._models.pop(key, None)
        if cached is None:
            return None
        self._models[key] = cached  # most recently used
        return LoadedModel(version, cached.pipeline)

    def put(self, ws: Workspace, model: LoadedModel) -> None:
        """Keep ``model``, loaded elsewhere (a server loads outside its cache's lock)."""
        self._models[_key(ws, model.version)] = model
        while len(self._models) > self.max_models:
            self._models.popitem(last=False)

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        self._models.clear()


def load_model(ws: Workspace, ref: str | ModelVersionInfo, cache: ModelCache | None = None) -> LoadedModel:
    """Load the version named by ``ref`` (a registry reference or a version), through ``cache`` if given."""
    if cache is not None:
        return cache.load(ws, ref)
    return _load(ws, _version(ws, ref))


def _key(ws: Workspace, version: ModelVersionInfo) -> tuple[str, int, str]:
    return ws.settings.database_url, version.id, version.sha256 or ""


def _version(ws: Workspace, ref: str | ModelVersionInfo) -> ModelVersionInfo:
    version = registry.get_version(ws, ref) if isinstance(ref, str) else ref
    if version.artifact_key is None or version.sha256 is None:
        raise InvalidInputError(f"Model {version.label} has no stored file.")
    return version


def _load(ws: Workspace, version: ModelVersionInfo) -> LoadedModel:
    return LoadedModel(version, registry.load_pipeline(ws, version))
