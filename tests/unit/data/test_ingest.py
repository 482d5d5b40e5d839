"""Importing files into the catalogue: good files, bad files, and nothing stored on failure."""

from __future__ import annotations

import pytest

from core.data import datasets
from core.data.ingest import import_file, stage_upload
from core.platform import jobs
from core.platform.errors import ConflictError, InvalidInputError
from core.platform.jobs import JobStatus

GOOD = "name;price;city\nA;1,5;Évora\nB;2,5;Faro\n".encode("cp1252")


def test_import_detects_and_records_provenance(ws, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(GOOD)
    version = import_file(ws, path, "prices")
    assert (version.n_rows, version.columns) == (2, ["name", "price", "city"])
    assert version.provenance["filename"] == "prices.csv"
    assert version.provenance["detected"]["delimiter"] == ";"
    assert datasets.load_frame(ws, version)["city"].tolist() == ["Évora", "Faro"]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"a,b,c\n", "no data rows"),
        ("junk.csv", bytes(range(256)) * 20, "binary|not a text"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n6,7\n", "Line 3 of ragged.csv has 3 field"),
        ("nottable.json", b"42", "table"),
    ],
)
def test_bad_files_say_why_and_store_nothing(ws, tmp_path, filename, content, message):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        import_file(ws, path, "bad")
    assert datasets.list_datasets(ws) == []
    assert ws.artifact_keys() == []


def test_file_over_the_limit_is_refused_before_reading(ws, tmp_path):
    small = ws.settings.with_(max_upload_mb=1)
    with pytest.raises(InvalidInputError, match=r"big.csv is 2.0 MB; the limit is 1 MB"):
        stage_upload(small, "big.csv", b"a\n" + b"1\n" * (1024 * 1024 - 1))
    assert not any(small.staging_dir.rglob("*.csv"))


def test_taken_name_fails_before_reading(ws, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(GOOD)
    import_file(ws, path, "prices")
    with pytest.raises(ConflictError, match="already exists"):
        import_file(ws, path, "prices")
    assert import_file(ws, path, "prices", if_exists="new_version").version == 2


def test_import_job_converts_a_staged_upload_and_removes_it(ws):
    staged = stage_upload(ws.settings, "prices.csv", GOOD)
    job_id = jobs.submit(ws, "import_file", {"path": str(staged), "name": "prices", "original_name": "prices.csv"})
    info = jobs.wait(ws, job_id, timeout=120)
    assert info.status == JobStatus.SUCCEEDED, info.error
    assert info.result["label"] == "prices@1"
    assert not staged.exists()
    assert jobs.logs(ws, job_id)[-1].startswith("Saved prices@1: 2 rows")


def test_failed_import_job_reports_the_message(ws):
    staged = stage_upload(ws.settings, "empty.csv", b"")
    info = jobs.wait(ws, jobs.submit(ws, "import_file", {"path": str(staged), "name": "x"}), timeout=120)
    assert info.status == JobStatus.FAILED and "empty" in info.error
    assert datasets.list_datasets(ws) == []


def test_large_csv_import_parses_on_every_core_with_steady_progress(ws, tmp_path, monkeypatch):
    from core.data.sources import csvfile

    monkeypatch.setattr(csvfile, "_BLOCK_BYTES", 64 * 1024)  # a 500 KB file now counts as large
    monkeypatch.setattr(csvfile, "_PARALLEL_FROM_BYTES", 128 * 1024)
    path = tmp_path / "sales.csv"
    path.write_text("id,amount,city\n" + "".join(f"{i},{i % 97 * 1.5},{'AB'[i % 2]}\n" for i in range(40_000)))
    steps: list[tuple[float, str]] = []
    version = import_file(ws, path, "sales", progress=lambda f, m: steps.append((f, m)))
    assert (version.n_rows, version.roles["id"]) == (40_000, "id")
    fractions = [f for f, _m in steps]
    assert fractions == sorted(fractions) and fractions[-1] >= 0.9
    messages = [m for _f, m in steps]
    assert messages.index("Describing columns") < messages.index("Writing Parquet") < messages.index(
        "Recording the version")
