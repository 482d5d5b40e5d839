"""Which loaded model answers a request: a name's production version, or a version by number.

The registry is asked again once the answer is older than ``serve_refresh_ms``, so a promotion or
a rollback is served within that time, without a restart.  The switch never fails a request: the
version being replaced stays loaded in the :class:`~core.serve.loaded.ModelCache` until the new one
is loaded, and each version is loaded once, however many requests ask for it at the same moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.models import registry
from core.models.registry import ModelVersionInfo
from core.platform.errors import NotFoundError
from core.platform.workspace import Workspace
from core.serve.api.gc_pause import freeze_heap
from core.serve.loaded import LoadedModel, ModelCache

__all__ = ["ModelResolver"]


class ModelResolver:
    """Loaded models by name (production) or by name and version, for many threads at once."""

    def __init__(self, ws: Workspace, *, refresh_seconds: float = 1.0, max_models: int = 8,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ws = ws
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._cache = ModelCache(max_models)
        self._cache_lock = threading.Lock()
        self._load_locks: dict[tuple[int, str], threading.Lock] = {}
        self._production: dict[str, tuple[float, ModelVersionInfo]] = {}

    def production(self, name: str) -> LoadedModel:
        """The production version of ``name`` (NotFoundError when it has none)."""
        return self._loaded(self.production_version(name))

    def production_version(self, name: str) -> ModelVersionInfo:
        now = self.clock()
        seen = self._production.get(name)
        if seen is not None and now - seen[0] < self.refresh_seconds:
            return seen[1]
        try:
            version = registry.get_version(self.ws, f"{name}@production")
        except NotFoundError:
            self._production.pop(name, None)
            raise
        self._production[name] = (now, version)
        return version

    def version(self, name: str, number: int) -> LoadedModel:
        """Version ``number`` of ``name``, whatever its stage."""
        return self._loaded(registry.get_version(self.ws, f"{name}:{int(number)}"))

    def served(self) -> list[ModelVersionInfo]:
        """The production version of every model that has one, by name."""
        versions = registry.list_versions(self.ws)
        return [v for v in versions if v.stage == "production"]

    def _loaded(self, version: ModelVersionInfo) -> LoadedModel:
        key = (version.id, version.sha256 or "")
        with self._cache_lock:
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:  # one load per version; other versions keep being served meanwhile
            with self._cache_lock:
                cached = self._cached(version)
            if cached is not None:
                return cached
            loaded = registry.load_pipeline(self.ws, version)
            with self._cache_lock:
                model = LoadedModel(version, loaded)
                self._cache.put(self.ws, model)
            freeze_heap()  # the model's objects live as long as it is served: out of the collector's scans
            return model

    def _cached(self, version: ModelVersionInfo) -> LoadedModel | None:
        return self._cache.get(self.ws, version)
