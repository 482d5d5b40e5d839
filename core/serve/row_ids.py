"""The columns that identify a row: the training dataset's ``id`` role, carried into batch outputs.

A prediction file is only useful if it can be joined back to the rows it scored, so every batch
output starts with the id columns of the dataset version the model was trained on (Telco's
``rownames``, Auto MPG's ``Name``) whenever the scored file has them.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.data import datasets
from core.data.sources.input_chunks import InputFile
from core.models.registry import ModelVersionInfo
from core.platform.errors import NotFoundError
from core.platform.workspace import Workspace
from core.serve.loaded import LoadedModel

__all__ = ["carried_columns", "id_columns", "id_columns_in"]


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


def carried_columns(ws: Workspace, model: LoadedModel, data: InputFile,
                    keep_columns: bool) -> tuple[list[str], list[str] | None]:
    """The id columns a batch output starts with, and the columns to read (``None``: all of them).

    ``keep_columns`` carries every input column, so no id column is picked and everything is read.
    """
    if keep_columns:
        return [], None
    ids = id_columns_in(ws, model.version, data.columns, model.features)
    return ids, data.columns_to_read(model.features + ids)
