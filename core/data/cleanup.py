"""Fixes that make a new dataset version from an old one (versions are never edited)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.data import datasets
from core.data.datasets import VersionInfo
from core.data.placeholders import clean_table
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import DatasetVersion
from core.platform.workspace import Workspace

__all__ = ["fix_placeholders"]


def fix_placeholders(ws: Workspace, version: VersionInfo, columns: Iterable[str] | None = None) -> VersionInfo:
    """A new version of ``version`` with placeholders as missing values and padding stripped.

    The version itself is left as it is (versions are immutable).  Raises
    :class:`~core.platform.errors.InvalidInputError` when there is nothing to fix.
    """
    chosen = list(columns) if columns is not None else None
    unknown = [c for c in chosen or () if c not in version.columns]
    if unknown:
        raise InvalidInputError(f"These columns are not in {version.label}: {', '.join(map(repr, unknown))}.")
    table, changed = clean_table(datasets.load_table(ws, version), chosen)
    if not changed:
        raise InvalidInputError(
            f"{version.label} has no placeholder values (such as '?', 'NA', '-') or padded text to fix.",
            hint="Nothing was changed and no new version was made.",
        )
    note = f"Placeholders turned into missing values and spaces stripped in {', '.join(changed)}"
    provenance: dict[str, Any] = {**version.provenance, "derived_from": version.label,
                                  "placeholders_fixed": changed}
    new = datasets.save_version(ws, version.name, table, provenance=provenance, roles=version.roles, note=note,
                                if_exists="new_version")
    with ws.db.session() as s:
        s.get(DatasetVersion, new.id).parent_id = version.id
    return datasets.get_version_by_id(ws, new.id)
