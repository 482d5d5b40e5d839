"""Kaggle imports end to end: the CLI in a real subprocess and a background job, both through the
real kagglesdk client against the local double of Kaggle's API; refresh pulls a new version."""

from __future__ import annotations

import json

from core.data import datasets
from core.data.remote import refresh_version, submit_kaggle_import
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.support.kaggle_double import kaggle  # noqa: F401
from tests.unit.cli.test_datasets import cli

CSV = b"id,age,city\n1,30,Lisbon\n2,41,Porto\n3,25,Lisbon\n"


def test_cli_lists_files_and_imports_a_version_with_provenance(kaggle, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "people")] = {3: {"people.csv": CSV, "notes.txt": b"x"}}
    listed = cli(tmp_path, "datasets", "kaggle-files", "alice/people", "--json")
    assert listed.returncode == 0, listed.stderr
    sizes = {f["name"]: f["size"] for f in json.loads(listed.stdout)["files"]}
    assert sizes == {"people.csv": len(CSV), "notes.txt": 1}
    shown = cli(tmp_path, "datasets", "kaggle-files", "alice/people/versions/3")
    assert shown.returncode == 0 and "people.csv" in shown.stdout and f"{len(CSV)} B" in shown.stdout, shown.stderr
    done = cli(tmp_path, "datasets", "import-kaggle", "alice/people", "--file", "people.csv", "--name", "people")
    assert done.returncode == 0, done.stderr
    assert "people@1: 3 rows × 3 columns" in done.stdout and "version 3" in done.stdout
    ws = Workspace.open(Settings(home=tmp_path))
    try:
        prov = datasets.get_version(ws, "people").provenance
        assert (prov["kind"], prov["handle"], prov["version"], prov["file"]) == ("kaggle", "alice/people", 3,
                                                                                 "people.csv")
        assert "dummy-test-token" not in json.dumps(prov) and "secrets_home" not in json.dumps(prov)
        kaggle.datasets[("alice", "people")][4] = {"people.csv": CSV + b"4,50,Faro\n"}
        again = refresh_version(ws, "people")
        assert (again.label, again.n_rows, again.provenance["version"]) == ("people@2", 4, 4)
    finally:
        ws.db.dispose()


def test_cli_errors_exit_non_zero_with_the_message(kaggle, tmp_path):  # noqa: F811
    kaggle.competitions["closed"] = (False, {"train.csv": CSV})
    done = cli(tmp_path, "datasets", "import-kaggle", "competitions/closed", "--file", "train.csv", "--name", "t")
    assert done.returncode == 1 and "competitions/closed/rules" in done.stderr and "Traceback" not in done.stderr
    missing = cli(tmp_path, "datasets", "import-kaggle", "alice/none", "--name", "t")
    assert missing.returncode == 1 and "404" in missing.stderr, missing.stderr


def test_a_job_imports_and_a_cut_download_registers_nothing(kaggle, ws):  # noqa: F811
    kaggle.competitions["titanic"] = (True, {"train.csv": CSV, "test.csv": CSV})
    job = submit_kaggle_import(ws, "competitions/titanic", "train", file="train.csv")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "succeeded", info.error
    assert datasets.get_version(ws, "train").provenance["competition"] == "titanic"
    kaggle.cut.add("test.csv")
    kaggle.competitions["titanic"][1]["test.csv"] = CSV * 2000
    job = submit_kaggle_import(ws, "competitions/titanic", "test", file="test.csv")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "failed" and "was cut" in (info.error or "")
    assert "test" not in {d.name for d in datasets.list_datasets(ws)}
