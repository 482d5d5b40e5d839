"""The profiling report as a job: stored once per dataset's data, reopened without recomputing, cancel, refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.data import datasets
from core.eda.reports import ensure_report, report_info, report_key, stored_report
from core.platform import jobs
from core.platform.errors import IntegrityError, InvalidInputError, JobCancelledError
from core.platform.jobs import JobStatus


@pytest.fixture
def small(ws):
    frame = pd.DataFrame({
        "price": [10.5, 12.0, 9.9, 30.1, 11.2, 10.0, 15.5, 8.8],
        "city": ["Porto", "Lisbon", "Faro", "Porto", "Porto", "Lisbon", "Faro", "Porto"],
        "rooms": [1, 2, 1, 4, 2, 1, 3, 1],
    })
    return datasets.save_version(ws, "flats", frame, provenance={"source": "test"})


def test_the_key_names_the_data_not_the_version(ws, small):
    assert report_key(small) == f"projects/1/reports/{small.sha256}/profile.html"  # under the project
    assert stored_report(ws, small) is None and report_info(ws, small) is None


@pytest.mark.slow
def test_job_stores_the_report_and_a_second_request_reuses_it(ws, small):
    job_id = jobs.submit(ws, "profile", {"dataset_version_id": small.id}, title="Profile flats@1")
    info = jobs.wait(ws, job_id, timeout=120)
    assert info.status == JobStatus.SUCCEEDED, info.error
    assert info.result == {"version_id": small.id, "label": "flats@1", "key": report_key(small),
                           "size_bytes": info.result["size_bytes"], "reused": False, "sampled": False,
                           "rows_used": 8, "minimal": True}
    assert any("minimal mode, on all 8 rows" in line for line in jobs.logs(ws, job_id))
    html = stored_report(ws, small)
    assert html is not None and len(html) == info.result["size_bytes"]
    assert html.lstrip().lower().startswith(b"<!doctype html>")
    assert b"flats@1" in html and b"ydata" in html.lower() and b"Lisbon" in html
    described = report_info(ws, small)
    assert (described.label, described.rows, described.rows_used, described.sampled) == ("flats@1", 8, 8, False)

    again = jobs.wait(ws, jobs.submit(ws, "profile", {"dataset_version_id": small.id}), timeout=60)
    assert again.status == JobStatus.SUCCEEDED and again.result["reused"] is True
    assert stored_report(ws, small) == html

    # a roles-only version shares the Parquet file, so it opens the same report without any job
    relabelled = datasets.set_roles(ws, small, {"price": "target"})
    assert relabelled.sha256 == small.sha256
    reopened, _, reused = ensure_report(ws, relabelled)
    assert reused and reopened == html


@pytest.mark.slow
def test_cancel_stores_nothing(ws, small):
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 4  # past the set-up steps, inside ydata's describe step

    with pytest.raises(JobCancelledError, match="The profile report was cancelled."):
        ensure_report(ws, small, cancelled=cancelled)
    assert not ws.has_artifact(report_key(small)) and stored_report(ws, small) is None


def test_a_version_without_rows_is_refused_with_a_message(ws, small):
    empty = datasets.derive_version(ws, small, drop_rows=range(small.n_rows))
    with pytest.raises(InvalidInputError, match=r"flats@2 has 3 columns but 0 rows: a profiling report needs"):
        ensure_report(ws, empty)


def test_a_changed_stored_report_is_refused_and_refresh_replaces_it(ws, small, monkeypatch):
    import core.eda.reports as profiling_job
    from core.eda.profiling import ProfileResult

    monkeypatch.setattr(profiling_job, "profile_report_html", lambda df, **kw: ProfileResult(
        f"<!doctype html><title>{kw['title']}</title>{len(df)} rows", False, len(df), True))
    html, info, reused = ensure_report(ws, small)
    assert (html, reused) == (b"<!doctype html><title>flats@1</title>8 rows", False)
    assert json.loads(ws.get_bytes(f"projects/1/reports/{small.sha256}/profile.json"))["rows_used"] == 8

    ws.store.local_path(report_key(small)).write_bytes(b"<html>changed after it was saved</html>")
    with pytest.raises(IntegrityError, match="does not match its recorded checksum"):
        stored_report(ws, small)
    fresh, _, reused = ensure_report(ws, small, refresh=True)
    assert not reused and stored_report(ws, small) == fresh


def test_deleting_the_dataset_removes_its_report(ws):
    import pandas as pd

    from core.data import datasets
    from core.eda.reports import ensure_report, report_key

    version = datasets.save_version(ws, "small", pd.DataFrame({"a": [1, 2, 3], "b": list("xyz")}), provenance={})
    ensure_report(ws, version)
    assert ws.has_artifact(report_key(version))
    datasets.delete_dataset(ws, "small")
    assert ws.artifact_keys("projects/1/reports/") == []
    assert ws.store.list("projects/1/reports/") == []
