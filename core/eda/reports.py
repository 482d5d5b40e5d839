"""The profiling report of a dataset version: made once (as a background job or in-process), stored, reopened.

A report is stored under a key named by the version's data (``reports/<parquet sha256>/profile.html``),
next to a small JSON file saying how it was made (minimal mode, sampled or not, rows used, for
which version, when).  The key is content-addressed rather than id-based on purpose: versions
that share their Parquet file (a roles-only change, a clone) share the report, and a version id
that the database hands out again after a delete can never open another dataset's report.

Both files go through :meth:`Workspace.put_bytes`, so their sha256 is recorded and checked on
every read.  The HTML is written before the JSON, and :func:`stored_report` looks only at the
HTML, so a report interrupted between the two writes still opens (without its description).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from core.data import datasets
from core.data.datasets import VersionInfo
from core.eda.profiling import profile_report_html
from core.platform import jobs
from core.platform.errors import InvalidInputError, NotFoundError
from core.platform.progress import ProgressFn
from core.platform.storage import keys
from core.platform.workspace import Workspace

__all__ = ["ReportInfo", "ensure_report", "profile_job", "report_info", "report_key", "stored_report"]

REPORT_KIND = "profile_report"
SAMPLE_THRESHOLD = 100_000  # rows above which the report describes a random sample (fixed seed 0)



@dataclass(frozen=True)
class ReportInfo:
    """How a stored report was made: for which version, on how many rows, in which mode, when."""

    key: str
    label: str
    version_id: int
    rows: int
    rows_used: int
    sampled: bool
    minimal: bool
    size_bytes: int
    created_at: str

    def describe(self) -> str:
        """One sentence for a page or a terminal."""
        mode = "minimal mode" if self.minimal else "full mode"
        rows = (f"a random sample of {self.rows_used:,} of the {self.rows:,} rows" if self.sampled
                else f"all {self.rows_used:,} rows")
        made = self.created_at[:16].replace("T", " ")
        return f"Report of {self.label} in ydata-profiling's {mode}, on {rows}; made {made} UTC."


def report_key(version: VersionInfo) -> str:
    """The artifact key of the version's report: the same for every version with the same data."""
    return keys.profile_report(version.sha256, keys.scope_of(version.artifact_key))


def _info_key(version: VersionInfo) -> str:
    return keys.profile_info(version.sha256, keys.scope_of(version.artifact_key))


def stored_report(ws: Workspace, version: VersionInfo) -> bytes | None:
    """The stored report's HTML, checked against its recorded sha256; ``None`` when none was made.

    Raises
    ------
    IntegrityError
        When the stored bytes no longer match their checksum (regenerating the report replaces them).
    """
    key = report_key(version)
    if not ws.has_artifact(key):
        return None
    try:
        return ws.get_bytes(key)
    except NotFoundError:  # recorded, but the file is gone from the store: as good as never made
        return None


def report_info(ws: Workspace, version: VersionInfo) -> ReportInfo | None:
    """How the stored report was made; ``None`` when there is no report or no readable description."""
    key = _info_key(version)
    if not ws.has_artifact(key) or not ws.has_artifact(report_key(version)):
        return None
    try:
        return ReportInfo(**json.loads(ws.get_bytes(key)))
    except (NotFoundError, TypeError, ValueError):  # a description from another layout: the HTML still opens
        return None


def ensure_report(
    ws: Workspace,
    version: VersionInfo,
    *,
    refresh: bool = False,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[bytes, ReportInfo | None, bool]:
    """The version's report: the stored one, or a new one made now and stored.

    Parameters
    ----------
    ws : Workspace
    version : VersionInfo
    refresh : bool, default False
        Make a new report even when one is stored (it replaces the stored one).
    progress : callable(fraction, message), optional
    cancelled : callable() -> bool, optional
        Asked between columns; when it returns True the report stops and nothing is stored.

    Returns
    -------
    (html, info, reused)
        The report's bytes, how it was made (``None`` for a stored report without a description),
        and whether the stored report was reused.

    Raises
    ------
    InvalidInputError
        When the version has no rows.
    JobCancelledError
        When ``cancelled()`` returned True.
    """
    if not refresh:
        html = stored_report(ws, version)
        if html is not None:
            if progress is not None:
                progress(1.0, "Opened the stored report")
            return html, report_info(ws, version), True
    if version.n_rows == 0:
        raise InvalidInputError(
            f"{version.label} has {version.n_columns} columns but 0 rows: a profiling report needs at least one row.",
            hint="Pick a version that has data.")
    report = progress or (lambda _f, _m: None)
    report(0.0, f"Reading {version.label}")
    frame = datasets.load_frame(ws, version)
    result = profile_report_html(
        frame, title=f"{version.label}", sample_threshold=SAMPLE_THRESHOLD, cancelled=cancelled,
        progress=lambda f, m: report(0.02 + 0.93 * f, m),
    )
    html = result.html.encode("utf-8")
    info = ReportInfo(
        key=report_key(version), label=version.label, version_id=version.id, rows=len(frame),
        rows_used=result.rows_used, sampled=result.sampled, minimal=result.minimal, size_bytes=len(html),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    report(0.96, "Storing the report")
    ws.put_bytes(info.key, html, kind=REPORT_KIND)
    ws.put_bytes(_info_key(version), json.dumps(asdict(info)).encode("utf-8"), kind=REPORT_KIND)
    report(1.0, "Report stored")
    return html, info, False


PROFILE_JOB = "profile"


def submit_profile(ws: Workspace, version: VersionInfo, *, refresh: bool = False) -> str:
    """Make the version's profiling report as a background job; returns the job id.

    ``refresh`` makes it again even when one is stored (a damaged or outdated report).
    """
    params = {"dataset_version_id": version.id} | ({"refresh": True} if refresh else {})
    return jobs.submit(ws, PROFILE_JOB, params, title=f"Profile {version.label}")


def profiling_now(ws: Workspace, version: VersionInfo) -> list[jobs.JobInfo]:
    """Profiling jobs of this version that are queued or running."""
    return [j for j in jobs.list_jobs(ws, kind=PROFILE_JOB, active_only=True)
            if j.params.get("dataset_version_id") == version.id]


def profile_job(ctx: Any, dataset_version_id: int, refresh: bool = False) -> dict[str, Any]:
    """Job body (kind ``profile``): make and store the version's profiling report, or reuse the stored one."""
    version = datasets.get_version_by_id(ctx.ws, int(dataset_version_id))
    html, info, reused = ensure_report(
        ctx.ws, version, refresh=refresh, progress=ctx.progress, cancelled=ctx.cancelled,
    )
    if reused:
        ctx.log(f"A report of {version.label}'s data was stored already: reused it.")
    else:
        ctx.log(info.describe())
    result: dict[str, Any] = {"version_id": version.id, "label": version.label, "key": report_key(version),
                              "size_bytes": len(html), "reused": reused}
    if info is not None:
        result |= {"sampled": info.sampled, "rows_used": info.rows_used, "minimal": info.minimal}
    return result
