"""The columns that identify a row: the training dataset's ``id`` role, carried into batch outputs.

A prediction file is only useful if it can be joined back to the rows it scored, so every batch
output starts with the id columns of the dataset version the model was trained on (Telco's
``rownames``, Auto MPG's ``Name``) whenever the scored file has them.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.data import datasets
from core.models.registry import ModelVersionInfo
from core.platform.errors import NotFoundError
from core.platform.workspace import Workspace

__all__ = ["id_columns", "id_columns_in"]


def id_columns(ws: Workspace, version: ModelVersionInfo) -> list[str]:
    """The ``id`` columns of the dataset version ``version`` was trained on (none when it is gone)."""
    if version.dataset_version_id is None:
        return []
    try:
        trained_on = datasets.get_version_by_id(ws, version.dataset_version_id)
    except NotFoundError:  # the dataset was deleted: the model still scores, without ids
        return []
    return trained_on.columns_with_role("id")


def id_columns_in(ws: Workspace, version: ModelVersionInfo, file_columns: Iterable[object],
                  features: Iterable[str] = ()) -> list[str]:
    """The id columns a file to score holds, in the dataset's order, leaving out the model's own features."""
    present, used = {str(c) for c in file_columns}, set(features)
    return [c for c in id_columns(ws, version) if c in present and c not in used]
