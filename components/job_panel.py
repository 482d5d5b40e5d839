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

_ICONS = {  # Material icons beside the status in words, never an emoji alone
    JobStatus.QUEUED: ":material/schedule:", JobStatus.RUNNING: ":material/progress_activity:",
    JobStatus.SUCCEEDED: ":material/check_circle:", JobStatus.FAILED: ":material/error:",
    JobStatus.CANCELLED: ":material/cancel:", JobStatus.INTERRUPTED: ":material/warning:",
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


def job_panel(kind: str, *, key: str, show_log: bool = True, extra: Extra | None = None,
              scope: Callable[[JobInfo], bool] | None = None) -> JobInfo | None:
    """Show running jobs of ``kind`` (those ``scope`` accepts, e.g. this page's dataset) and the last one watched.

    Returns the most recent job the page asked to watch (``watch``), so the page can show its results
    once it has finished.  A job seen running that then ends becomes the watched one, so after a
    browser reload (which forgets ``watch``) its outcome, log and the refreshed results still show.
    Every panel is drawn in one place, so a job that ends replaces its own running panel instead of
    showing twice; the fragment polls only while one of the page's own jobs is live.
    """
    ws = workspace()

    def mine(infos):
        return [j for j in infos if scope is None or scope(j)]

    jobs.supervise(ws)  # a job already dead is closed before it counts as "seen running" below
    active = mine(jobs.list_jobs(ws, kind=kind, active_only=True))
    live = {j.id for j in active}
    for gone in [i for i in st.session_state.get(f"{key}.seen", []) if i not in live]:  # newest first
        try:
            ended = jobs.get(ws, gone)
        except Exception:
            continue
        if scope is None or scope(ended):
            watch(key, gone)  # seen running, now ended: its outcome shows even if a reload forgot watch()
            break
    st.session_state[f"{key}.seen"] = [j.id for j in active]
    watched = None
    watched_id = st.session_state.get(f"{key}.job")
    if watched_id and watched_id not in {j.id for j in active}:
        try:
            watched = jobs.get(ws, watched_id)
        except Exception:
            watched = None
        if watched is not None and scope is not None and not scope(watched):
            watched = None  # another dataset's finished job does not stay on this one's page

    page_run = True  # this page run has just supervised and listed the jobs: no second query for it

    @st.fragment(run_every=1.0 if active else None)
    def poll() -> None:
        nonlocal page_run
        if page_run:  # the fragment's own reruns (every second while a job is live) ask again
            page_run = False
            current = active
        else:
            # A job whose process died or ignored a cancel is closed here, and the rerun below shows it.
            jobs.supervise(ws)
            current = mine(jobs.list_jobs(ws, kind=kind, active_only=True))
        ids = {j.id for j in current}
        if not ids >= {j.id for j in active}:
            st.rerun(scope="app")  # a job ended: the page shows its outcome (see ".seen") and fresh results
        for info in current:
            render_job(info, key=key, show_log=show_log, extra=extra)
        if watched is not None and watched.id not in ids:
            render_job(watched, key=key, show_log=show_log, extra=extra)

    poll()
    return watched


def watch(key: str, job_id: str) -> None:
    """Remember the job this session started, so its outcome is shown."""
    st.session_state[f"{key}.job"] = job_id
