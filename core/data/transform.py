"""New dataset versions made from others: a join of two versions, or row filters and column drops.

A transform is a plain, JSON-able *spec* (``{"op": "join", ...}`` or ``{"op": "filter", ...}``) over
input versions named by id.  :func:`apply_spec` runs it and saves the result as a new, immutable
version whose provenance holds the spec and its inputs, so :func:`rerun_version` can run it again
(on the same inputs, or on their datasets' latest versions).  Conditions are structured data
(:class:`Condition`); nothing a user types is ever evaluated as code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from core.data.datasets import (
    VersionInfo,
    _check_name_free,
    get_version,
    get_version_by_id,
    load_table,
    save_version,
    validate_name,
)
from core.data.joins import (
    DEFAULT_MAX_ROWS,
    HOW,
    RIGHT_SUFFIX,
    JoinPlan,
    KeySuggestion,
    join_tables,
    plan_join,
    suggest_keys,
)
from core.data.row_filters import OPERATORS, Condition, condition_from, condition_mask, filter_table, parse_where
from core.platform import jobs
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import DatasetVersion
from core.platform.progress import ProgressFn
from core.platform.workspace import Workspace

TRANSFORM_JOB = "core.data.transform:transform_job"
__all__ = [  # the pieces of joins and row filters, re-exported for callers of this module
    "DEFAULT_MAX_ROWS", "HOW", "OPERATORS", "RIGHT_SUFFIX", "Condition", "JoinPlan", "KeySuggestion",
    "condition_from", "condition_mask", "filter_table", "join_tables", "parse_where", "plan_join", "suggest_keys",
    "apply_spec", "filter_spec", "filter_version", "join_spec", "join_versions", "rerun_version", "run_spec",
    "submit_transform", "transform_job",
]


# -- specs, versions, jobs ---------------------------------------------------------------------
def join_spec(left: VersionInfo, right: VersionInfo, on: Sequence[str], how: str = "inner",
              max_rows: int = DEFAULT_MAX_ROWS) -> dict[str, Any]:
    return {"op": "join", "left": left.id, "right": right.id, "on": list(on), "how": how,
            "max_rows": int(max_rows), "suffix": RIGHT_SUFFIX}


def filter_spec(source: VersionInfo, conditions: Sequence[Condition | Mapping[str, Any]], combine: str = "and",
                drop: Iterable[str] = ()) -> dict[str, Any]:
    return {"op": "filter", "source": source.id, "combine": combine, "drop": list(drop),
            "conditions": [asdict(condition_from(c)) for c in conditions]}


def _inputs(ws: Workspace, spec: Mapping[str, Any]) -> list[VersionInfo]:
    ids = [spec["left"], spec["right"]] if spec.get("op") == "join" else [spec.get("source")]
    if spec.get("op") not in {"join", "filter"} or any(not isinstance(i, int) for i in ids):
        raise InvalidInputError(f"Not a transform spec: {dict(spec)!r}.")
    return [get_version_by_id(ws, i) for i in ids]


def _roles(left: VersionInfo, right: VersionInfo | None, columns: list[str], on: Sequence[str] = (),
           suffix: str = RIGHT_SUFFIX) -> dict[str, str]:
    roles = {c: r for c, r in left.roles.items() if c in columns}
    if right is not None:
        has_target = "target" in roles.values()
        for c, r in right.roles.items():
            if c in on:
                continue
            name = c if c not in left.columns else f"{c}{suffix}"
            if name in columns and not (r == "target" and has_target):
                roles[name] = r
    return roles


def run_spec(ws: Workspace, spec: Mapping[str, Any], progress: ProgressFn | None = None
             ) -> tuple[pa.Table, dict[str, str], list[VersionInfo], str, list[str]]:
    """Run ``spec``: the table, its roles, the input versions, a note, and warnings."""
    report = progress or (lambda _f, _m: None)
    inputs = _inputs(ws, spec)
    report(0.05, "Reading the input versions")
    if spec["op"] == "join":
        left, right = inputs
        if left.id == right.id:
            raise InvalidInputError("Join two different versions, not one with itself.")
        lt, rt = load_table(ws, left), load_table(ws, right)
        report(0.3, "Joining")
        table, plan = join_tables(lt, rt, spec["on"], spec.get("how", "inner"),
                                  max_rows=int(spec.get("max_rows", DEFAULT_MAX_ROWS)),
                                  suffix=spec.get("suffix", RIGHT_SUFFIX))
        note = (f"{spec.get('how', 'inner').title()} join of {left.label} and {right.label} on "
                f"{', '.join(spec['on'])}: {plan.rows:,} rows, {plan.left_unmatched:,} left rows without a match")
        roles = _roles(left, right, table.column_names, spec["on"], spec.get("suffix", RIGHT_SUFFIX))
        return table, roles, inputs, note, plan.warnings
    (source,) = inputs
    table = load_table(ws, source)
    report(0.3, "Filtering")
    conditions = [condition_from(c) for c in spec.get("conditions", [])]
    drop = list(spec.get("drop", []))
    if not conditions and not drop:
        raise InvalidInputError("Nothing to do: add a condition or a column to drop.")
    out = filter_table(table, conditions, spec.get("combine", "and"), drop)
    if out.num_rows == 0:
        raise InvalidInputError(f"No row of {source.label} meets the conditions, so no version was made.",
                                hint="Loosen the conditions; preview them first.")
    glue = f" {spec.get('combine', 'and')} "
    parts = [f"kept {out.num_rows:,} of {table.num_rows:,} rows where {glue.join(c.describe() for c in conditions)}"
             if conditions else "", f"dropped {', '.join(drop)}" if drop else ""]
    note = f"From {source.label}: " + "; ".join(p for p in parts if p)
    return out, _roles(source, None, out.column_names), inputs, note, []


def apply_spec(ws: Workspace, spec: Mapping[str, Any], name: str, *, if_exists: str = "error",
               progress: ProgressFn | None = None) -> VersionInfo:
    """Run ``spec`` and save the result as a version of ``name`` (its provenance holds spec and inputs)."""
    name = validate_name(name)
    report = progress or (lambda _f, _m: None)
    if if_exists == "error":
        _check_name_free(ws, name, if_exists)
    table, roles, inputs, note, warnings = run_spec(ws, spec, lambda f, m: report(0.6 * f, m))
    provenance = {
        "source": spec["op"],
        "inputs": [{"dataset_id": v.dataset_id, "version_id": v.id, "name": v.name, "version": v.version}
                   for v in inputs],
        "spec": dict(spec),
        "warnings": warnings,
    }
    version = save_version(ws, name, table, provenance=provenance, roles=roles, note=note, if_exists=if_exists,
                           progress=lambda f, m: report(0.6 + 0.4 * f, m))
    with ws.db.session() as s:
        s.get(DatasetVersion, version.id).parent_id = inputs[0].id
    return get_version_by_id(ws, version.id)


def join_versions(ws: Workspace, left: VersionInfo, right: VersionInfo, on: Sequence[str], name: str, *,
                  how: str = "inner", max_rows: int = DEFAULT_MAX_ROWS, if_exists: str = "error",
                  progress: ProgressFn | None = None) -> VersionInfo:
    return apply_spec(ws, join_spec(left, right, on, how, max_rows), name, if_exists=if_exists, progress=progress)


def filter_version(ws: Workspace, source: VersionInfo, conditions: Sequence[Condition | Mapping[str, Any]],
                   name: str, *, combine: str = "and", drop: Iterable[str] = (), if_exists: str = "error",
                   progress: ProgressFn | None = None) -> VersionInfo:
    return apply_spec(ws, filter_spec(source, conditions, combine, drop), name, if_exists=if_exists,
                      progress=progress)


def rerun_version(ws: Workspace, ref: str, *, latest_inputs: bool = False,
                  progress: ProgressFn | None = None) -> VersionInfo:
    """Run the transform that made ``ref`` again, as the next version of its dataset; with
    ``latest_inputs`` on the latest versions of its inputs' datasets (after a refresh, say)."""
    version = get_version(ws, ref)
    spec = version.provenance.get("spec")
    if version.provenance.get("source") not in {"join", "filter"} or not spec:
        raise InvalidInputError(f"{version.label} was not made by a join or a filter, so it cannot be re-run.")
    spec = dict(spec)
    if latest_inputs:
        for key in ("left", "right", "source"):
            if key in spec:
                spec[key] = get_version(ws, get_version_by_id(ws, spec[key]).name).id
    return apply_spec(ws, spec, version.name, if_exists="new_version", progress=progress)


def submit_transform(ws: Workspace, spec: Mapping[str, Any], name: str, *, new_version: bool = False) -> str:
    """Run ``spec`` as a background job (progress, cancel, a log); returns the job id."""
    name = validate_name(name)
    inputs = _inputs(ws, spec)
    if not new_version:
        _check_name_free(ws, name, "error")
    what = "Join " + " and ".join(v.label for v in inputs) if spec["op"] == "join" else f"Filter {inputs[0].label}"
    return jobs.submit(ws, TRANSFORM_JOB, {"spec": dict(spec), "name": name,
                                           "if_exists": "new_version" if new_version else "error"},
                       title=f"{what} into {name!r}")


def transform_job(ctx, spec: dict[str, Any], name: str, if_exists: str = "error") -> dict[str, Any]:
    """Job body: run the spec with progress (cancel checked at each step) and save the version."""
    version = apply_spec(ctx.ws, spec, name, if_exists=if_exists,
                         progress=lambda f, m: (ctx.check_cancelled(), ctx.progress(f, m)))
    for warning in version.provenance.get("warnings", []):
        ctx.log(f"Warning: {warning}")
    ctx.log(f"Saved {version.label}: {version.n_rows:,} rows × {version.n_columns} columns")
    return {"version_id": version.id, "label": version.label}
