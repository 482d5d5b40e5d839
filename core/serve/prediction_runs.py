"""Prediction runs: each batch or form scoring of a model version, recorded for the Health view.

A run keeps when it happened, how many rows, where its output went, a summary
(class mix or mean score) and the share of drifted features, under the
registered model and version that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from core.models.registry import ModelVersionInfo, check_version_number, model_row, plain_json
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import PredictionRun
from core.platform.workspace import Workspace

__all__ = ["PredictionRunInfo", "list_runs", "record"]


@dataclass(frozen=True)
class PredictionRunInfo:
    id: int
    name: str
    version: int
    source: str
    n_rows: int
    artifact_key: str | None
    summary: dict[str, Any]
    drift_share: float | None
    job_id: str | None
    created_at: datetime


def record(
    ws: Workspace,
    mv: ModelVersionInfo,
    *,
    source: str,
    n_rows: int,
    artifact_key: str | None = None,
    summary: Mapping[str, Any],
    drift_share: float | None = None,
    job_id: str | None = None,
) -> PredictionRunInfo:
    """Record that ``mv`` scored ``n_rows`` rows (for the Health view)."""
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 0:
        raise InvalidInputError(f"n_rows must be a whole number of rows, 0 or more; got {n_rows!r}.")
    if drift_share is not None and not 0.0 <= float(drift_share) <= 1.0:
        raise InvalidInputError(f"drift_share is the share of drifted features, from 0 to 1; got {drift_share!r}.")
    with ws.db.session() as s:
        model = model_row(s, mv.name, ws=ws)
        row = PredictionRun(
            model_id=model.id, project_id=model.project_id, version=mv.version, source=(source or "")[:300],
            n_rows=int(n_rows),
            artifact_key=artifact_key, summary=plain_json(dict(summary), "prediction summary"),
            drift_share=None if drift_share is None else float(drift_share), job_id=job_id,
        )
        s.add(row)
        s.flush()
        return _info(row, model.name)


def list_runs(ws: Workspace, name: str, version: int | None = None,
              limit: int | None = None) -> list[PredictionRunInfo]:
    """Prediction runs of a model (of one version when given), newest first."""
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        query = select(PredictionRun).where(PredictionRun.model_id == model.id).order_by(PredictionRun.id.desc())
        if version is not None:
            query = query.where(PredictionRun.version == check_version_number(version))
        if limit is not None:
            query = query.limit(limit)
        return [_info(r, model.name) for r in s.scalars(query)]


def _info(row: PredictionRun, name: str) -> PredictionRunInfo:
    return PredictionRunInfo(row.id, name, row.version, row.source, int(row.n_rows), row.artifact_key,
                             dict(row.summary or {}), row.drift_share, row.job_id, row.created_at)
