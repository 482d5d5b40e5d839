"""Kaggle imports end to end: the CLI (in-process, and a refusal in a real subprocess) and a background job,
both through the real kagglesdk client against the local double of Kaggle's API; refresh pulls a new version."""

from __future__ import annotations

import json

from core.data import datasets
from core.data.remote import import_remote, kaggle_source, refresh_version, submit_kaggle_import
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.support.cli import cli
from tests.support.kaggle_double import kaggle  # noqa: F401

CSV = b"id,age,city\n1,30,Lisbon\n2,41,Porto\n3,25,Lisbon\n"


def test_cli_lists_files_and_imports_a_version_with_provenance(kaggle, tmp_path, cli_here):  # noqa: F811
    cli = cli_here
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


def test_cli_errors_exit_non_zero_with_the_message(kaggle, tmp_path, cli_here):  # noqa: F811
    kaggle.competitions["closed"] = (False, {"train.csv": CSV})
    done = cli(tmp_path, "datasets", "import-kaggle", "competitions/closed", "--file", "train.csv", "--name", "t")
    assert done.returncode == 1 and "competitions/closed/rules" in done.stderr and "Traceback" not in done.stderr
    missing = cli_here(tmp_path, "datasets", "import-kaggle", "alice/none", "--name", "t")
    assert missing.returncode == 1 and "404" in missing.stderr, missing.stderr


def test_a_job_imports_and_a_cut_download_registers_nothing(kaggle, ws):  # noqa: F811
    kaggle.competitions["titanic"] = (True, {"train.csv": CSV, "test.csv": CSV})
    job = submit_kaggle_import(ws, "competitions/titanic", "train", file="train.csv")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "succeeded", info.error
    assert datasets.get_version(ws, "train").provenance["competition"] == "titanic"
    kaggle.cut.add("test.csv")
    kaggle.ranges = False  # a server that cannot resume: the cut download fails cleanly
    kaggle.competitions["titanic"][1]["test.csv"] = CSV * 2000
    job = submit_kaggle_import(ws, "competitions/titanic", "test", file="test.csv")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "failed" and "was cut" in (info.error or "")
    assert "does not resume" in (info.error or "")
    assert "test" not in {d.name for d in datasets.list_datasets(ws)}


def test_a_cut_download_resumes_with_a_range_request(kaggle, ws):  # noqa: F811
    body = CSV + b"".join(f"{i},{20 + i % 50},Faro\n".encode() for i in range(4, 200_000))  # ~2.6 MB
    kaggle.datasets[("alice", "big")] = {1: {"big.csv": body}}
    kaggle.cut.add("big.csv")
    url, options = kaggle_source("alice/big", file="big.csv")
    version = import_remote(ws, url, "big", options=options)
    assert version.n_rows == 200_000 - 1 and version.provenance["size_bytes"] == len(body)
    first, *resumed = [c for c in kaggle.calls if c.startswith("GET")]
    assert first == "GET big.csv" and len(resumed) == 1, resumed
    offset = int(resumed[0].removeprefix("GET big.csv bytes=").rstrip("-"))
    assert 0 < offset <= len(body) // 2  # what had arrived was kept, the rest asked for
    ids = datasets.load_table(ws, version).column("id").to_pylist()
    assert ids == list(range(1, 200_000))  # every row once, none doubled at the seam


def test_cli_imports_several_files_of_one_dataset_as_separate_datasets(kaggle, tmp_path, cli_here):  # noqa: F811
    cli = cli_here
    kaggle.datasets[("alice", "shop")] = {1: {"orders.csv": CSV, "customers.csv": CSV + b"4,50,Faro\n"}}
    done = cli(tmp_path, "datasets", "import-kaggle", "alice/shop", "--file", "orders.csv", "--file",
               "customers.csv", "--name", "shop")
    assert done.returncode == 0, done.stderr
    assert "as shop-orders@1: 3 rows" in done.stdout and "as shop-customers@1: 4 rows" in done.stdout
    paired = cli(tmp_path, "datasets", "import-kaggle", "alice/shop", "--file", "orders.csv", "--file",
                 "customers.csv", "--name", "o", "--name", "c")
    assert paired.returncode == 0 and "as o@1" in paired.stdout and "as c@1" in paired.stdout, paired.stderr
    # Names are all checked before anything is fetched: one taken name imports nothing.
    taken = cli(tmp_path, "datasets", "import-kaggle", "alice/shop", "--file", "orders.csv", "--file",
                "customers.csv", "--name", "fresh", "--name", "o")
    assert taken.returncode == 1 and "Traceback" not in taken.stderr and "o" in taken.stderr
    wrong = cli(tmp_path, "datasets", "import-kaggle", "alice/shop", "--file", "orders.csv", "--file",
                "customers.csv", "--file", "x.csv", "--name", "a", "--name", "b")
    assert wrong.returncode == 1 and "3 files were given with 2 names" in wrong.stderr
    ws = Workspace.open(Settings(home=tmp_path))
    try:
        assert {d.name for d in datasets.list_datasets(ws)} == {"shop-orders", "shop-customers", "o", "c"}
    finally:
        ws.db.dispose()
