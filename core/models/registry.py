"""The model registry: named models, numbered versions, stages and their history.

A version is a fitted pipeline stored as skops bytes under
``models/<model_id>/v<version>/model.skops`` (its sha256 recorded by the
workspace) plus its card and metrics in the metadata store.  Stages move
through ``none → staging → production → archived``; the database itself
allows one production version per name, and every change is written to
``stage_transitions``, which outlives deleted versions.

How models are named and referred to (``NAME@production``, ``NAME:3``) is
:mod:`core.models.refs`; its functions are available here too.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from core.models.card import ModelCard
from core.models.refs import (
    NAME_MAX,
    STAGES,
    check_stage,
    check_version_number,
    default_model_name,
    parse_ref,
    validate_model_name,
)
from core.platform import access
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError
from core.platform.metadata.models import ModelVersion, PredictionRun, RegisteredModel, StageTransition
from core.platform.storage import keys
from core.platform.workspace import Workspace

log = logging.getLogger(__name__)

DELETED = "deleted"  # appears in history only: the version itself is gone


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version, as plain data; ``card`` is read through :class:`ModelCard`.

    A plain dict given as ``card`` (what the metadata row holds) is read into a
    :class:`ModelCard` on construction.
    """

    id: int
    name: str
    version: int
    stage: str
    algorithm: str
    problem_type: str
    target: str | None
    dataset_version_id: int | None
    dataset_label: str
    artifact_key: str | None
    sha256: str | None
    size_bytes: int
    metrics: dict[str, Any]
    card: ModelCard
    train_seconds: float
    predict_ms_per_1k: float | None
    job_id: str | None
    created_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.card, ModelCard):
            object.__setattr__(self, "card", ModelCard.from_dict(self.card))

    @property
    def label(self) -> str:
        """``NAME:VERSION``, a reference :func:`get_version` accepts."""
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Transition:
    """One stage change; ``to_stage`` is ``'deleted'`` when the version was removed."""

    name: str
    version: int
    from_stage: str
    to_stage: str
    note: str
    at: datetime



def _info(row: ModelVersion, name: str) -> ModelVersionInfo:
    return ModelVersionInfo(
        row.id, name, row.version, row.stage, row.algorithm, row.problem_type, row.target, row.dataset_version_id,
        row.dataset_label or "", row.artifact_key, row.sha256, int(row.size_bytes or 0), dict(row.metrics or {}),
        ModelCard.from_dict(row.card), float(row.train_seconds or 0.0), row.predict_ms_per_1k, row.job_id,
        row.created_at,
    )


# -- rows ------------------------------------------------------------------------------
_LIVE = ModelVersion.sha256.is_not(None)  # a version is visible once its bytes are stored


def model_row(s: Session, name: str, *, ws: Workspace, lock: bool = False) -> RegisteredModel:
    """The registered model's row (for modules that keep rows about models); NotFoundError names the known ones.

    Only a model of the workspace's project is found (another project's is "not found"): ``ws`` is
    required so that no caller can look across projects by leaving it out.
    """
    name = " ".join((name or "").split())  # the same spacing rule as validate_model_name
    scope = access.in_project(RegisteredModel.project_id, ws)
    query = select(RegisteredModel).where(RegisteredModel.name == name, scope)
    # On PostgreSQL this serialises stage changes of one model; SQLite locks the whole file anyway.
    model = s.scalar(query.with_for_update() if lock else query)
    if model is None:
        known = list(s.scalars(select(RegisteredModel.name).where(scope).order_by(RegisteredModel.name).limit(8)))
        raise NotFoundError(
            f"There is no model named {name!r}.",
            hint=f"Known models: {', '.join(map(repr, known))}." if known else "No model has been trained yet.",
        )
    return model


def _rows(s: Session, model: RegisteredModel) -> list[ModelVersion]:
    return list(s.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id, _LIVE)
                          .order_by(ModelVersion.version)))


def _known(rows: list[ModelVersion]) -> str:
    return ", ".join(f"{r.version} ({r.stage})" for r in rows) or "none"


def _row(s: Session, model: RegisteredModel, version: int) -> ModelVersion:
    rows = _rows(s, model)
    for row in rows:
        if row.version == version:
            return row
    deleted = s.scalar(select(StageTransition.at).where(
        StageTransition.model_id == model.id, StageTransition.version == version, StageTransition.to_stage == DELETED))
    if deleted is not None:
        raise NotFoundError(f"Version {version} of model {model.name!r} was deleted on {deleted:%Y-%m-%d %H:%M}"
                            f" UTC; its versions now are: {_known(rows)}.")
    raise NotFoundError(f"Model {model.name!r} has no version {version}; its versions are: {_known(rows)}.")


def _move(s: Session, model: RegisteredModel, row: ModelVersion, stage: str, note: str) -> None:
    s.add(StageTransition(model_id=model.id, version=row.version, from_stage=row.stage, to_stage=stage, note=note))
    row.stage = stage
    s.flush()  # the partial unique index must see each step, never two production rows at once


def _note(note: str) -> str:
    cleaned = (note or "").strip()
    if len(cleaned) > 2000:
        raise InvalidInputError(f"The note is {len(cleaned)} characters long; the limit is 2000.")
    return cleaned


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _production_conflict(name: str) -> ConflictError:
    return ConflictError(
        f"Model {name!r} already has a production version: another change to its stages was made at the same moment.",
        hint="Reload the versions and try again.",
    )


# -- reading ---------------------------------------------------------------------------
def default_version(versions: Sequence[Any]) -> Any:
    """The production version, else the latest: what a bare model name means everywhere.

    ``versions`` are oldest first (as :func:`list_versions` returns them) and each has a ``stage``.
    """
    production = [v for v in versions if v.stage == "production"]
    return production[-1] if production else versions[-1]


def get_version(ws: Workspace, ref: str) -> ModelVersionInfo:
    """A version by reference: ``NAME``, ``NAME@STAGE``, ``NAME@latest`` or ``NAME:VERSION``.

    ``NAME`` alone is the production version, or the latest when none is in
    production; ``NAME@staging`` / ``NAME@archived`` the latest in that stage.
    """
    name, number, stage = parse_ref(ref)
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        if number is not None:
            return _info(_row(s, model, number), model.name)
        rows = _rows(s, model)
        if not rows:
            raise NotFoundError(f"Model {name!r} has no versions left: all were deleted.",
                                hint="Train it again to add a version.")
        if stage in {"production", "staging", "archived"}:
            in_stage = [r for r in rows if r.stage == stage]
            if not in_stage:
                hint = (f"Promote one with: python -m core models promote {name!r} VERSION"
                        if stage == "production" else None)
                raise NotFoundError(f"Model {name!r} has no version in {stage}; its versions are: {_known(rows)}.",
                                    hint=hint)
            return _info(in_stage[-1], model.name)
        return _info(default_version(rows) if stage is None else rows[-1], model.name)


def get_version_by_id(ws: Workspace, version_id: int) -> ModelVersionInfo:
    """A version by its row id (the leaderboard's ``id`` column)."""
    with ws.db.session() as s:
        found = s.execute(select(ModelVersion, RegisteredModel.name)
                          .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                          .where(ModelVersion.id == int(version_id), _LIVE,
                                 access.in_project(RegisteredModel.project_id, ws))).first()
        if found is None:
            raise NotFoundError(f"There is no model version with id {version_id}; it may have been deleted.")
        return _info(*found)


def list_versions(ws: Workspace, name: str | None = None) -> list[ModelVersionInfo]:
    """Every version (of one model when ``name`` is given), by name then version."""
    query = (select(ModelVersion, RegisteredModel.name)
             .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
             .where(_LIVE, access.in_project(RegisteredModel.project_id, ws))
             .order_by(RegisteredModel.name, ModelVersion.version))
    with ws.db.session() as s:
        if name is not None:
            query = query.where(ModelVersion.model_id == model_row(s, name, ws=ws).id)
        return [_info(row, model_name) for row, model_name in s.execute(query)]


def list_model_names(ws: Workspace) -> list[str]:
    """Names that have at least one version, alphabetically."""
    query = (select(RegisteredModel.name).join(ModelVersion, ModelVersion.model_id == RegisteredModel.id)
             .where(_LIVE, access.in_project(RegisteredModel.project_id, ws)).distinct())
    with ws.db.session() as s:
        return sorted(s.scalars(query), key=str.casefold)


def history(ws: Workspace, name: str) -> list[Transition]:
    """The model's stage changes, newest first (deleted versions included)."""
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        rows = s.scalars(select(StageTransition).where(StageTransition.model_id == model.id)
                         .order_by(StageTransition.id.desc()))
        return [Transition(model.name, t.version, t.from_stage, t.to_stage, t.note, t.at) for t in rows]


# -- registering -----------------------------------------------------------------------
def register_version(
    ws: Workspace,
    name: str,
    *,
    model_bytes: bytes,
    algorithm: str,
    problem_type: str,
    target: str | None,
    dataset_version_id: int | None,
    dataset_label: str,
    metrics: Mapping[str, Any],
    card: ModelCard | Mapping[str, Any],
    train_seconds: float,
    predict_ms_per_1k: float | None = None,
    job_id: str | None = None,
) -> ModelVersionInfo:
    """Store a fitted model's bytes as the next version of ``name`` (created on first use).

    The version row is reserved first, so two trainings finishing together
    get different numbers and never write each other's file; it stays
    invisible until its bytes are stored.  Numbers are never reused, not even
    those of deleted versions, whose history stays.

    Returns
    -------
    ModelVersionInfo
        The new version, in stage ``'none'``.
    """
    name = validate_model_name(name)
    access.require(ws, "train")  # every trained model lands here: the page's, the CLI's, a job's
    if not isinstance(model_bytes, bytes | bytearray) or not model_bytes:
        raise InvalidInputError("The model bytes are empty: nothing to register.",
                                hint="Pass the serialised pipeline (skops bytes).")
    for field, value in (("algorithm", algorithm), ("problem_type", problem_type)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"The model's {field} must be a non-empty text; got {value!r}.")
    fields = dict(
        algorithm=algorithm.strip(), problem_type=problem_type.strip(), target=None if target is None else str(target),
        dataset_version_id=dataset_version_id, dataset_label=dataset_label or "",
        metrics=plain_json(dict(metrics or {}), "metrics"), card=plain_json(_card_json(card), "card"),
        train_seconds=float(train_seconds), job_id=job_id,
        predict_ms_per_1k=None if predict_ms_per_1k is None else float(predict_ms_per_1k),
    )
    model_id = _model_id(ws, name)
    row_id, key = _reserve(ws, model_id, fields)
    try:
        ref = ws.put_bytes(key, bytes(model_bytes), kind="model")
    except BaseException:
        _unreserve(ws, row_id, key)
        raise
    with ws.db.session() as s:
        row = s.get(ModelVersion, row_id)
        row.sha256, row.size_bytes = ref.sha256, ref.size_bytes
        s.flush()
        return _info(row, name)


def _card_json(card: ModelCard | Mapping[str, Any] | None) -> dict[str, Any]:
    # A ModelCard is stored as its to_dict(); a plain dict (old callers, tests) exactly as given.
    return card.to_dict() if isinstance(card, ModelCard) else dict(card or {})


def _model_id(ws: Workspace, name: str) -> int:
    for _ in range(2):
        try:
            with ws.db.session() as s:
                found = s.scalar(select(RegisteredModel.id).where(
                    RegisteredModel.name == name, access.in_project(RegisteredModel.project_id, ws)))
                if found is not None:
                    return found
                model = RegisteredModel(name=name, project_id=access.project_id(ws))
                s.add(model)
                s.flush()
                return model.id
        except DBIntegrityError:
            continue  # created by another writer just now: read it on the second pass
    raise ConflictError(f"Model {name!r} was being created by someone else at the same moment.", hint="Try again.")


def _next_number(s: Session, model_id: int) -> int:
    # Transitions and prediction runs keep the numbers of deleted versions: never hand those out again.
    highest = [s.scalar(select(func.max(table.version)).where(table.model_id == model_id))
               for table in (ModelVersion, StageTransition, PredictionRun)]
    return max((h or 0) for h in highest) + 1


def _reserve(ws: Workspace, model_id: int, fields: dict[str, Any]) -> tuple[int, str]:
    for _ in range(5):
        try:
            with ws.db.session() as s:
                number = _next_number(s, model_id)
                key = keys.in_project(access.project_id(ws), keys.model_file(model_id, number))
                row = ModelVersion(model_id=model_id, version=number, stage="none", artifact_key=key, sha256=None,
                                   size_bytes=0, **fields)
                s.add(row)
                s.flush()
                return row.id, key
        except DBIntegrityError:
            continue  # another training took this number first
    raise ConflictError("Too many models were registered under this name at the same moment.", hint="Try again.")


def _unreserve(ws: Workspace, row_id: int, key: str) -> None:
    try:
        with ws.db.session() as s:
            s.execute(delete(ModelVersion).where(ModelVersion.id == row_id))
        if ws.store.exists(key):
            ws.delete_artifact(key)
    except Exception:  # the original error matters more; a hidden reserved row is harmless
        log.warning("could not clean up the reserved model version %s", row_id, exc_info=True)


def plain_json(value: Any, what: str = "value") -> Any:
    """``value`` as plain JSON: numpy scalars and arrays unwrapped, NaN/inf → None.

    PostgreSQL's JSON type rejects NaN, and a numpy scalar is no JSON at all,
    so everything stored in metadata passes through here.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, np.generic | np.ndarray):
        return plain_json(value.tolist(), what)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, what) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_json(v, what) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise InvalidInputError(f"The model {what} must hold plain JSON values; found a {type(value).__name__}: "
                            f"{str(value)[:60]!r}.", hint="Convert it to a number, text, list or dict first.")


# -- stages ----------------------------------------------------------------------------
def promote(ws: Workspace, name: str, version: int, note: str = "") -> ModelVersionInfo:
    """Make ``version`` the production version; the previous one goes to ``archived``.

    Both changes happen in one transaction, each recorded in the history.
    """
    version, note = check_version_number(version), _note(note)
    access.require(ws, "promote")
    try:
        with ws.db.session() as s:
            model = model_row(s, name, lock=True, ws=ws)
            row = _row(s, model, version)
            if row.stage == "production":
                raise ConflictError(f"Version {version} of model {name!r} is already in production; nothing changed.")
            current = s.scalar(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                          ModelVersion.stage == "production"))
            if current is not None:
                _move(s, model, current, "archived", _joined(f"replaced in production by v{version}", note))
            _move(s, model, row, "production", note)
            promoted = _info(row, model.name)
    except DBIntegrityError as exc:
        raise _production_conflict(name) from exc
    access.audit(ws, "promote", promoted.label)
    return promoted


def set_stage(ws: Workspace, name: str, version: int, stage: str, note: str = "") -> ModelVersionInfo:
    """Move a version to ``staging``, ``archived`` or ``none`` (``production`` goes through :func:`promote`)."""
    version, stage, note = check_version_number(version), check_stage(stage), _note(note)
    if stage == "production":
        return promote(ws, name, version, note)
    access.require(ws, "promote")
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = _row(s, model, version)
        if row.stage == stage:
            raise ConflictError(f"Version {version} of model {name!r} is already at stage {stage!r}; nothing changed.")
        _move(s, model, row, stage, note)
        moved = _info(row, model.name)
    access.audit(ws, f"stage_{stage}", moved.label)
    return moved


def _production_path(transitions: Iterable[StageTransition]) -> list[int]:
    """Versions that were in production, oldest first, as the history left them.

    Each promotion is pushed; a promotion of a version already on the path
    (a rollback, or promoting an earlier version by hand) returns the path to
    that point, so rolling back twice goes two steps back, not back and forth.
    """
    path: list[int] = []
    for t in transitions:
        if t.to_stage != "production":
            continue
        if t.version in path:
            del path[path.index(t.version) + 1:]
        else:
            path.append(t.version)
    return path


def rollback(ws: Workspace, name: str, note: str = "") -> ModelVersionInfo:
    """Put back the version that was in production before the current one.

    The current production version goes to ``archived``; deleted versions
    are skipped.  Returns the version now in production.
    """
    note = _note(note)
    access.require(ws, "rollback")
    try:
        with ws.db.session() as s:
            model = model_row(s, name, lock=True, ws=ws)
            rows = {r.version: r for r in _rows(s, model)}
            current = next((r for r in rows.values() if r.stage == "production"), None)
            if current is None:
                raise ConflictError(f"Model {name!r} has no production version, so there is nothing to roll back.",
                                    hint="Promote a version instead.")
            path = _production_path(s.scalars(select(StageTransition).where(StageTransition.model_id == model.id)
                                              .order_by(StageTransition.id)))
            earlier = path[:path.index(current.version)] if current.version in path else path
            target = next((rows[v] for v in reversed(earlier) if v in rows and v != current.version), None)
            if target is None:
                gone = [str(v) for v in earlier if v not in rows]
                why = (f"the versions in production before it ({', '.join(gone)}) were deleted" if gone
                       else "it is the first version that was in production")
                raise ConflictError(
                    f"Model {name!r} has no earlier production version to roll back to: {why}.",
                    hint=f"Promote another version instead; its versions are: {_known(list(rows.values()))}.",
                )
            _move(s, model, current, "archived", _joined(f"rolled back to v{target.version}", note))
            _move(s, model, target, "production", _joined(f"rollback from v{current.version}", note))
            restored = _info(target, model.name)
    except DBIntegrityError as exc:
        raise _production_conflict(name) from exc
    access.audit(ws, "rollback", restored.label)
    return restored


def delete_version(ws: Workspace, name: str, version: int, *, confirm_production: bool = False,
                   note: str = "") -> ModelVersionInfo:
    """Delete a version and its stored file; its history stays.

    Deleting the production version leaves the model without one, so it needs
    ``confirm_production=True``.  Returns the deleted version's details.
    """
    version, note = check_version_number(version), _note(note)
    access.require(ws, "delete_model")
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = _row(s, model, version)
        if row.stage == "production" and not confirm_production:
            raise ConflictError(
                f"Version {version} of model {name!r} is in production: deleting it leaves {name!r} without a "
                "production version.",
                hint="Promote another version first, or confirm deleting the production version "
                "(confirm_production=True; on the command line add --yes).",
            )
        info = _info(row, model.name)
        s.add(StageTransition(model_id=model.id, version=row.version, from_stage=row.stage, to_stage=DELETED,
                              note=note))
        s.delete(row)
    if info.artifact_key:
        try:
            ws.delete_artifact(info.artifact_key)
        except Exception:  # the version is gone already; a stray file only costs space
            log.warning("could not delete the file of %s", info.label, exc_info=True)
    access.audit(ws, "delete_model", info.label)
    return info


# -- loading ---------------------------------------------------------------------------
def load_pipeline(ws: Workspace, mv: ModelVersionInfo) -> Any:
    """The fitted pipeline of ``mv``, loaded safely.

    The workspace verifies the bytes against the recorded checksum
    (:class:`~core.platform.errors.IntegrityError` when the file was changed), the
    card's library versions are checked, then skops loads it with a fixed
    allow-list of types.
    """
    if not mv.artifact_key or not mv.sha256:
        raise NotFoundError(f"Model version {mv.label} has no stored file.", hint="Train the model again.")
    data = ws.get_bytes(mv.artifact_key)
    from core.ml.serialize import check_versions, load_model  # the training stack loads only when needed

    check_versions(mv.card.library_versions)
    return load_model(data, mv.sha256)


__all__ = [
    "NAME_MAX", "STAGES", "ModelVersionInfo", "Transition", "check_version_number", "default_model_name",
    "delete_version", "get_version", "get_version_by_id", "history", "list_model_names", "list_versions",
    "load_pipeline", "model_row", "parse_ref", "plain_json", "promote", "register_version", "rollback",
    "set_stage", "validate_model_name",
]
