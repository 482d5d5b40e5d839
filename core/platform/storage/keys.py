"""The layout of keys inside an artifact store, in one place.

Dataset files and reports are content-addressed (a re-import of the same bytes reuses the
file); models and prediction outputs are keyed by their registry ids.

New artifacts live under their project, ``projects/<id>/…``: a store shared by a team keeps each
project's files apart, and one project's re-import never reuses (or, deleted, removes) another's
file.  Keys written before projects existed have no such prefix and keep working: every key is
read from the metadata that recorded it, never rebuilt, and what derives from a stored file (its
profiling report) lives in that file's scope, whatever it is.
"""

from __future__ import annotations

import re

_SCOPE = re.compile(r"projects/\d+/")


def in_project(project_id: int | None, key: str) -> str:
    """``key`` inside the project's part of the store (unchanged without a project)."""
    return key if project_id is None else f"projects/{int(project_id)}/{key}"


def scope_of(key: str) -> str:
    """The project prefix a stored key starts with (``projects/3/``), or ``""`` for a key from before."""
    found = _SCOPE.match(key or "")
    return found.group(0) if found else ""


def dataset_file(sha256: str) -> str:
    """A dataset version's Parquet file, by the sha256 of its bytes."""
    return f"datasets/{sha256}.parquet"


def reports_prefix(dataset_sha256: str, scope: str = "") -> str:
    """Everything derived from one dataset file (profiling reports and their info); ``scope`` is the
    file's own (:func:`scope_of` its key)."""
    return f"{scope}reports/{dataset_sha256}/"


def profile_report(dataset_sha256: str, scope: str = "") -> str:
    return reports_prefix(dataset_sha256, scope) + "profile.html"


def profile_info(dataset_sha256: str, scope: str = "") -> str:
    return reports_prefix(dataset_sha256, scope) + "profile.json"


def model_file(model_id: int, version: int) -> str:
    return f"models/{model_id}/v{version}/model.skops"


def prediction_output(model_name: str, version: int, millis: int) -> str:
    return f"predictions/{model_name}/v{version}/{millis}.parquet"
