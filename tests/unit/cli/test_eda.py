"""`python -m core eda …` and `python -m core profile …`: output, files, exit codes.

Everything runs through ``core.cli.main`` in-process (a subprocess costs about two seconds here), with one
subprocess check that no traceback leaks to a real terminal.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.data import datasets
from core.eda.reports import stored_report
from tests.support.cli import cli


@pytest.fixture
def people(ws):
    frame = pd.DataFrame({"age": [30, 41, 25, 41, 58, 33], "city": ["Lisbon", "Porto", "Lisbon", "Porto", "Faro", None],
                          "income": [1200.5, 2300.0, 980.0, 2300.0, 3100.0, 1500.0]})
    return datasets.save_version(ws, "people", frame, provenance={"source": "test"})


def test_eda_prints_the_overview(ws, people, cli_here):
    done = cli_here(ws.settings.home, "eda", "people")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("people@1: ")
    assert "Rows: 6    Columns: 3" in out
    assert "Missing cells: 1 (5.6%)" in out  # 1 of 18 cells
    lines = out.splitlines()
    table = lines[lines.index("Columns") + 1:]
    assert table[0].split()[:5] == ["column", "kind", "count", "missing", "unique"]
    rows = {line.split()[0]: line.split() for line in table[2:5]}
    assert rows["age"][:5] == ["age", "numeric", "6", "0", "5"]
    assert rows["city"][:4] == ["city", "categorical", "5", "1"]
    assert "income" in rows
    assert "Lisbon 40.0%" in out  # top values: 2 of the 5 present cities


def test_eda_of_a_version_without_rows_still_lists_its_columns(ws, people, cli_here):
    datasets.derive_version(ws, people, drop_rows=range(6))
    done = cli_here(ws.settings.home, "eda", "people@2")
    assert done.returncode == 0, done.stderr
    assert "Rows: 0    Columns: 3" in done.stdout and "city" in done.stdout
    assert "no rows" in done.stdout


@pytest.mark.slow
def test_profile_writes_the_report_and_stores_it_for_next_time(ws, people, tmp_path, cli_here):
    out = tmp_path / "people.html"
    done = cli_here(ws.settings.home, "profile", "people@1", "--output", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_bytes()
    assert html.lstrip().lower().startswith(b"<!doctype html>") and b"people@1" in html and b"ydata" in html.lower()
    assert "Wrote a new report (stored for next time) of people@1" in done.stdout
    assert "minimal mode, on all 6 rows" in done.stdout
    assert stored_report(ws, people) == html

    again = cli_here(ws.settings.home, "profile", "people", "-o", str(tmp_path / "again.html"))
    assert again.returncode == 0, again.stderr
    assert "Wrote the stored report of people@1" in again.stdout
    assert (tmp_path / "again.html").read_bytes() == html


def test_bad_references_and_outputs_exit_1_with_the_message(ws, people, tmp_path, cli_here):
    datasets.derive_version(ws, people, drop_rows=range(6))
    cases = [
        (("eda", "people@7"), "Dataset 'people' has no version 7; it has versions 1, 2."),
        (("eda", "people@x"), "'people@x' does not name a version: write NAME@NUMBER"),
        (("profile", "nobody", "--output", str(tmp_path / "r.html")), "There is no dataset named 'nobody'."),
        (("profile", "people", "--output", str(tmp_path / "missing" / "r.html")), "for the report does not exist"),
        (("profile", "people", "--output", str(tmp_path)), "is a folder; give a file name"),
        (("profile", "people@2", "--output", str(tmp_path / "r.html")),
         "people@2 has 3 columns but 0 rows: a profiling report needs at least one row."),
    ]
    for args, message in cases:
        done = cli_here(ws.settings.home, *args)
        code, out, err = done.returncode, done.stdout, done.stderr
        assert code == 1, (args, out)
        assert err.startswith("error: ") and message in err, (args, err)
    assert not (tmp_path / "r.html").exists()

    done = cli(ws.settings.home, "eda", "nobody")  # the real command: the message, no traceback
    assert done.returncode == 1
    assert "There is no dataset named 'nobody'." in done.stderr and "Traceback" not in done.stderr


def test_an_output_that_cannot_be_written_is_named(ws, people, tmp_path, monkeypatch, cli_here):
    output = tmp_path / "r.html"
    write = Path.write_bytes

    def full_disk(self, data):  # only the user's output fails; the artifact store writes as usual
        if self == output:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, data)

    monkeypatch.setattr("core.eda.reports.profile_report_html", lambda df, **kw: _fake_report(kw["title"]))
    monkeypatch.setattr(Path, "write_bytes", full_disk)
    done = cli_here(ws.settings.home, "profile", "people", "-o", str(output))
    code, err = done.returncode, done.stderr
    assert code == 1
    assert "The report could not be written to" in err and "No space left on device" in err
    assert "Choose a file you can write to." in err


def _fake_report(title: str):
    from core.eda.profiling import ProfileResult

    return ProfileResult(f"<!doctype html><title>{title}</title>", False, 6, True)


def test_profile_needs_an_output(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["profile", "people"])
    assert exit_.value.code == 2 and "--output" in capsys.readouterr().err
