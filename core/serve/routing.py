"""Traffic routes of the HTTP API: a share of a model's requests to a challenger version (A/B), or
every request mirrored to a shadow version whose answers are never returned.

A route is stored per model in the metadata database (``model_routes``), so every server worker
and the command line (``python -m core models route``) see the same one.  :func:`pick` decides a
request: by a hash of its request id when it has one (the same id always gets the same version),
at random otherwise.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.models import registry
from core.models.registry import model_row
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import ModelRoute, utcnow
from core.platform.workspace import Workspace

__all__ = ["Deployment", "Route", "clear_route", "deployments", "get_route", "pick", "set_route"]


@dataclass(frozen=True)
class Route:
    """A model's split: ``challenger`` answers ``share`` of the requests; ``shadow`` is scored on all."""

    name: str
    challenger: int | None = None
    share: float = 0.0
    shadow: int | None = None
    updated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return (self.challenger is not None and self.share > 0) or self.shadow is not None

    def to_json(self) -> dict:
        return {"challenger": self.challenger, "share": self.share if self.challenger is not None else 0.0,
                "shadow": self.shadow}

    def describe(self) -> str:
        parts = []
        if self.challenger is not None:
            parts.append(f"v{self.challenger} answers {self.share:.0%}")
        if self.shadow is not None:
            parts.append(f"v{self.shadow} shadows every request")
        return "; ".join(parts) or "production answers every request"


def bucket(name: str, request_id: str) -> float:
    """Where a request id falls in [0, 1): the same for every server, worker and run."""
    digest = hashlib.sha256(f"{name}\x00{request_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick(route: Route | None, request_id: str | None, rng: random.Random | None = None) -> int | None:
    """The challenger's version number when this request goes to it, else ``None`` (production)."""
    if route is None or route.challenger is None or route.share <= 0:
        return None
    draw = bucket(route.name, request_id) if request_id else (rng or random).random()
    return route.challenger if draw < route.share else None


def get_route(ws: Workspace, name: str) -> Route:
    """The route of model ``name`` (an empty one when none is set)."""
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        row = s.scalar(select(ModelRoute).where(ModelRoute.model_id == model.id))
        return _route(model.name, row)


def _route(name: str, row: ModelRoute | None) -> Route:
    if row is None:
        return Route(name)
    return Route(name, row.challenger_version, float(row.share or 0.0), row.shadow_version, row.updated_at)


def _check_version(ws: Workspace, name: str, version: int, role: str) -> None:
    mv = registry.get_version(ws, f"{name}:{int(version)}")  # NotFoundError lists the known versions
    if mv.stage == "production":
        raise InvalidInputError(f"v{mv.version} of {name!r} is the production version: it cannot also be the {role}.",
                                hint="Choose another version, or promote another one first.")


def set_route(ws: Workspace, name: str, *, challenger: int | None = None, share: float | None = None,
              shadow: int | None = None) -> Route:
    """Set the challenger (with its share of requests) and/or the shadow of ``name``; what is not
    given is kept."""
    if challenger is None and shadow is None and share is None:
        raise InvalidInputError("Say what to route: a challenger version with its share, or a shadow version.",
                                hint="For example: python -m core models route NAME --challenger 2 --share 0.1")
    if share is not None and not 0.0 < float(share) <= 1.0:
        raise InvalidInputError(f"The challenger's share is a fraction of requests above 0 and at most 1, such as "
                                f"0.1; got {share!r}.")
    if challenger is not None:
        _check_version(ws, name, challenger, "challenger")
    if shadow is not None:
        _check_version(ws, name, shadow, "shadow")
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = s.scalar(select(ModelRoute).where(ModelRoute.model_id == model.id))
        if row is None:
            row = ModelRoute(model_id=model.id, share=0.0)
            s.add(row)
        if challenger is not None:
            row.challenger_version = int(challenger)
        if share is not None:
            row.share = float(share)
        if shadow is not None:
            row.shadow_version = int(shadow)
        if row.challenger_version is not None and not row.share:
            raise InvalidInputError("A challenger needs its share of requests, such as --share 0.1.")
        if row.challenger_version is None and row.share:
            raise InvalidInputError("A share needs a challenger version to send it to: add --challenger V.")
        row.updated_at = utcnow()
        s.flush()
        return _route(model.name, row)


def clear_route(ws: Workspace, name: str) -> Route:
    """Send every request of ``name`` to its production version again; returns the route removed."""
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = s.scalar(select(ModelRoute).where(ModelRoute.model_id == model.id))
        before = _route(model.name, row)
        if row is not None:
            s.delete(row)
        return before


@dataclass(frozen=True)
class Deployment:
    """A model the API serves: its production version and its route."""

    name: str
    production: int
    algorithm: str
    route: Route


def deployments(ws: Workspace) -> list[Deployment]:
    """Every model with a production version, by name, with its route."""
    served = [v for v in registry.list_versions(ws) if v.stage == "production"]
    return [Deployment(v.name, v.version, v.algorithm, get_route(ws, v.name)) for v in served]
