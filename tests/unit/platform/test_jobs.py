from __future__ import annotations

import os
import signal
import time

import pytest

from core.platform import jobs
from core.platform.errors import InvalidInputError, NotFoundError
from core.platform.jobs import JobStatus

COUNT = "tests.support.jobfuncs:count_job"


def test_job_runs_in_its_own_process_and_reports(ws):
    job_id = jobs.submit(ws, COUNT, {"steps": 4, "delay": 0.01}, title="count")
    info = jobs.wait(ws, job_id, timeout=60)
    assert info.status == JobStatus.SUCCEEDED, info.error
    assert info.progress == 1.0
    assert info.result == {"done": 4, "total": 4}
    assert jobs.logs(ws, job_id) == [f"step {i} of 4" for i in range(1, 5)]
    assert info.finished_at is not None and info.seconds > 0


def test_cancel_stops_a_cooperative_job_and_keeps_interim_results(ws):
    job_id = jobs.submit(ws, COUNT, {"steps": 400, "delay": 0.05})
    deadline = time.monotonic() + 30
    while jobs.get(ws, job_id).result.get("done", 0) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=30)
    assert info.status == JobStatus.CANCELLED
    assert 2 <= info.result["done"] < 400


def test_forced_cancel_kills_a_job_that_ignores_the_flag(ws):
    job_id = jobs.submit(ws, "tests.support.jobfuncs:stubborn_job", {"seconds": 120})
    deadline = time.monotonic() + 30
    while jobs.get(ws, job_id).status != JobStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    jobs.cancel(ws, job_id)
    assert jobs.enforce_cancel(ws, grace=60) == []  # still inside its grace period
    assert jobs.enforce_cancel(ws, grace=0) == [job_id]
    assert jobs.get(ws, job_id).status == JobStatus.CANCELLED


def test_user_error_is_kept_as_message_and_crash_hides_traceback(ws):
    failed = jobs.wait(ws, jobs.submit(ws, "tests.support.jobfuncs:failing_job", {}), timeout=60)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "The column 'x' is missing.\nPick another column."
    crashed = jobs.wait(ws, jobs.submit(ws, "tests.support.jobfuncs:crashing_job", {}), timeout=60)
    assert crashed.status == JobStatus.FAILED
    assert "internal detail" not in crashed.error and "reference" in crashed.error


def test_dead_process_is_marked_interrupted_at_start_up(ws):
    job_id = jobs.submit(ws, "tests.support.jobfuncs:stubborn_job", {"seconds": 120})
    deadline = time.monotonic() + 30
    while jobs.get(ws, job_id).status != JobStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    from core.platform.metadata.models import Job

    with ws.db.session() as s:
        pid = s.get(Job, job_id).pid
    assert jobs.mark_interrupted(ws) == 0  # alive: left alone
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while jobs.mark_interrupted(ws) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert jobs.get(ws, job_id).status == JobStatus.INTERRUPTED


def test_cancel_before_start_and_unknown_kind(ws):
    job_id = jobs.submit(ws, COUNT, {}, start=False)
    jobs.cancel(ws, job_id)
    assert jobs.get(ws, job_id).status == JobStatus.CANCELLED
    with pytest.raises(InvalidInputError, match="Unknown job kind 'nope'"):
        jobs.submit(ws, "nope", {})
    with pytest.raises(NotFoundError, match="no job"):
        jobs.get(ws, "missing")


def test_a_queued_job_waits_longer_than_a_silent_running_one(ws):
    """A queue (a busy cluster, a loaded machine) may hold a job for minutes: it is not closed as dead
    after the 60 s that a running job's missing heartbeat means."""
    from datetime import UTC, datetime, timedelta

    from core.platform.metadata.models import Job

    waiting = jobs.submit(ws, COUNT, {}, start=False)
    silent = jobs.submit(ws, COUNT, {}, start=False)
    five_minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    with ws.db.session() as s:
        s.get(Job, waiting).created_at = five_minutes_ago
        row = s.get(Job, silent)
        row.status, row.started_at, row.heartbeat_at = JobStatus.RUNNING, five_minutes_ago, five_minutes_ago
    assert jobs.mark_interrupted(ws) == 1
    assert jobs.get(ws, waiting).status == JobStatus.QUEUED
    assert jobs.get(ws, silent).status == JobStatus.INTERRUPTED
    with ws.db.session() as s:
        s.get(Job, waiting).created_at = datetime.now(UTC) - timedelta(hours=1)
    assert jobs.mark_interrupted(ws) == 1 and jobs.get(ws, waiting).status == JobStatus.INTERRUPTED
