"""A live view of background jobs, polled from a fragment.

The panel asks the database, not the session, which jobs are running: a page
switch, a browser refresh or a second window all find the same live job.
When a watched job ends, the whole page reruns once so it can show results.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.state import workspace
from core.platform import jobs
from core.platform.jobs import JobInfo, JobStatus

Extra = Callable[[JobInfo], None]

_ICONS = {
    JobStatus.QUEUED: "⏳", JobStatus.RUNNING: "⚙️", JobStatus.SUCCEEDED: "✅",
    JobStatus.FAILED: "❌", JobStatus.CANCELLED: "⏹️", JobStatus.INTERRUPTED: "⚠️",
}


def render_job(info: JobInfo, *, key: str, show_log: bool = True, extra: Extra | None = None) -> None:
    """One job: status, progress, message, log, a cancel button and ``extra(info)`` (e.g. live results)."""
    with st.container(border=True):
        head, button = st.columns([5, 1])
        head.markdown(f"{_ICONS[info.status]} **{info.title}** · {info.status.value} · {info.seconds:,.0f} s")
        if info.active:
            st.progress(min(max(info.progress, 0.0), 1.0), text=info.message or "Working…")
            disabled = info.cancel_requested
            if button.button("Cancel", key=f"{key}.cancel.{info.id}", disabled=disabled, type="secondary"):
                jobs.cancel(workspace(), info.id)
                st.toast("Cancel requested; finished work is kept.")
            if info.cancel_requested:
                st.caption("Stopping…")
        elif info.status == JobStatus.SUCCEEDED:
            st.success(info.message or "Done.")
        elif info.status in (JobStatus.FAILED, JobStatus.INTERRUPTED):
            st.error(info.error or info.message)
        else:
            st.info(info.message)
        if extra is not None:
            extra(info)
        if show_log:
            lines = jobs.logs(workspace(), info.id, tail=50)
            if lines:
                with st.expander("Log", expanded=False):
                    st.code("\n".join(lines), language=None)


def job_panel(kind: str, *, key: str, show_log: bool = True, extra: Extra | None = None) -> JobInfo | None:
    """Show running jobs of ``kind`` and the last one this session started.

    Returns the most recent job the page asked to watch (``watch``), so the
    page can show its results once it has finished.
    """
    ws = workspace()
    active = jobs.list_jobs(ws, kind=kind, active_only=True)
    watched_id = st.session_state.get(f"{key}.job")
    interval = 1.0 if active else None

    @st.fragment(run_every=interval)
    def poll() -> None:
        # A job whose process died or ignored a cancel is closed here, and the rerun below shows it.
        jobs.supervise(ws)
        current = jobs.list_jobs(ws, kind=kind, active_only=True)
        ids = {j.id for j in current}
        for info in current:
            render_job(info, key=key, show_log=show_log, extra=extra)
        if active and not ids >= {j.id for j in active}:
            st.rerun(scope="app")  # a job ended: let the page show its outcome

    poll()
    if watched_id and watched_id not in {j.id for j in active}:
        try:
            info = jobs.get(ws, watched_id)
        except Exception:
            return None
        render_job(info, key=key, show_log=show_log, extra=extra)
        return info
    return None


def watch(key: str, job_id: str) -> None:
    """Remember the job this session started, so its outcome is shown."""
    st.session_state[f"{key}.job"] = job_id
