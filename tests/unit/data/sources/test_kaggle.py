"""The Kaggle source with the real kagglesdk client against the local double of Kaggle's API:
handles, credentials, listing, downloads (zip, big stream, cut halfway) and the errors."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from core.data.sources.kaggle import list_files, read_kaggle
from core.data.sources.kaggle_refs import (
    find_credentials,
    kaggle_json_path,
    parse_ref,
    remove_kaggle_json,
    store_kaggle_json,
)
from core.platform.errors import InvalidInputError, NotFoundError, StorageError
from tests.support.kaggle_double import BIG, BIG_ROWS, BIG_SIZE, KEY, USER, kaggle  # noqa: F401

CSV = b"city,price\nLisbon,3\nPorto,2\nFaro,1\n"


def _zip(**members: bytes) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return sink.getvalue()


@pytest.mark.parametrize(("text", "expected"), [
    ("alice/houses", ("alice", "houses", None, "")),
    ("alice/houses/versions/3", ("alice", "houses", 3, "")),
    ("https://www.kaggle.com/datasets/alice/houses/versions/2", ("alice", "houses", 2, "")),
    ("kaggle.com/datasets/alice/houses/data", ("alice", "houses", None, "")),
    ("competitions/titanic", ("", "", None, "titanic")),
    ("https://www.kaggle.com/competitions/titanic/rules", ("", "", None, "titanic")),
    ("titanic", ("", "", None, "titanic")),
])
def test_handles_and_urls_parse(text, expected):
    ref = parse_ref(text)
    assert (ref.owner, ref.slug, ref.version, ref.competition) == expected


@pytest.mark.parametrize("text", ["", "a/b/versions/x", "https://example.com/datasets/a/b", "a/b/c/d/e"])
def test_bad_handles_are_refused(text):
    with pytest.raises(InvalidInputError):
        parse_ref(text)


def test_credentials_order_and_the_stored_kaggle_json(tmp_path, monkeypatch):
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = tmp_path / "ws"
    assert find_credentials(home) is None
    with pytest.raises(InvalidInputError, match="key"):
        store_kaggle_json(home, b'{"username": "x"}')
    store_kaggle_json(home, json.dumps({"username": USER, "key": KEY}).encode())
    path = kaggle_json_path(home)
    assert path.stat().st_mode & 0o077 == 0
    found = find_credentials(home)
    assert (found.username, found.key, found.source) == (USER, KEY, "the stored kaggle.json")
    assert KEY not in repr(found)
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    assert find_credentials(home).username == "u"
    monkeypatch.setenv("KAGGLE_API_TOKEN", "tok")
    assert find_credentials(home).token == "tok"


def test_list_a_dataset_and_a_competition(kaggle):  # noqa: F811
    kaggle.datasets[("alice", "houses")] = {1: {"old.csv": CSV}, 2: {"houses.csv": CSV, "README.md": b"hi"}}
    kaggle.competitions["titanic"] = (True, {"train.csv": CSV})
    ref, version, files = list_files("alice/houses")
    assert version == 2 and {f.name: f.size for f in files} == {"houses.csv": len(CSV), "README.md": 2}
    assert [f.name for f in list_files("alice/houses/versions/1")[2]] == ["old.csv"]
    assert [f.name for f in list_files("competitions/titanic")[2]] == ["train.csv"]
    assert "datasets.DatasetApiService/ListDatasetFiles" in kaggle.calls


def test_import_a_file_with_provenance_and_no_secret(kaggle, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "houses")] = {4: {"houses.csv": CSV, "README.md": b"hi"}}
    seen = []
    source = read_kaggle("alice/houses", staging_dir=tmp_path / "staging", progress=lambda f, m: seen.append(f))
    assert source.table.num_rows == 3 and source.table.column_names == ["city", "price"]
    prov = source.provenance
    assert (prov["kind"], prov["handle"], prov["version"], prov["file"]) == ("kaggle", "alice/houses", 4, "houses.csv")
    assert "dummy-test-token" not in json.dumps(prov)
    assert seen and max(seen) <= 1.0 and list((tmp_path / "staging").iterdir()) == []


def test_a_zip_member_and_a_competition_file_served_zipped(kaggle, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "bundle")] = {1: {"all.zip": _zip(**{"a.csv": CSV, "b.csv": CSV})}}
    kaggle.competitions["titanic"] = (True, {"train.csv": _zip(**{"train.csv": CSV})})
    with pytest.raises(InvalidInputError, match="2 table files"):
        read_kaggle("alice/bundle", file="all.zip")
    assert read_kaggle("alice/bundle", file="all.zip", member="b.csv").provenance["member"] == "b.csv"
    source = read_kaggle("competitions/titanic", file="train.csv")
    assert source.table.num_rows == 3 and source.provenance["competition"] == "titanic"


def test_a_large_file_streams_in(kaggle, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "big")] = {1: {"big.csv": BIG}}
    source = read_kaggle("alice/big", staging_dir=tmp_path)
    assert source.table.num_rows == BIG_ROWS and source.provenance["size_bytes"] == BIG_SIZE


def test_over_the_size_limit_is_refused_before_reading(kaggle):  # noqa: F811
    kaggle.datasets[("alice", "big")] = {1: {"big.csv": BIG}}
    with pytest.raises(InvalidInputError, match="over the"):
        read_kaggle("alice/big", max_bytes=1 << 20)


def test_a_download_cut_halfway_resumes_or_fails_cleanly(kaggle, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "houses")] = {1: {"houses.csv": CSV * 1000}}
    kaggle.cut.add("houses.csv")
    kaggle.ranges = False  # no Range support: nothing to resume with
    with pytest.raises(StorageError, match="was cut after .*the server does not resume downloads"):
        read_kaggle("alice/houses", staging_dir=tmp_path / "staging")
    assert list((tmp_path / "staging").iterdir()) == []
    kaggle.ranges = True
    whole = read_kaggle("alice/houses", staging_dir=tmp_path / "staging")
    # Every byte arrived once: CSV * 1000 is 4,000 lines, the first the header.
    assert whole.provenance["size_bytes"] == len(CSV) * 1000 and whole.table.num_rows == 3999
    assert list((tmp_path / "staging").iterdir()) == []


def test_errors_say_what_to_do(kaggle, monkeypatch, tmp_path):  # noqa: F811
    kaggle.datasets[("alice", "houses")] = {1: {"houses.csv": CSV}}
    kaggle.competitions["closed"] = (False, {"train.csv": CSV})
    with pytest.raises(InvalidInputError, match="not accepted the rules") as rules:
        read_kaggle("competitions/closed", file="train.csv")
    assert "https://www.kaggle.com/competitions/closed/rules" in rules.value.hint
    with pytest.raises(NotFoundError, match="404"):
        list_files("alice/nothing")
    with pytest.raises(NotFoundError, match="no file 'x.csv'"):
        read_kaggle("alice/houses", file="x.csv")
    with pytest.raises(InvalidInputError, match="no CSV"):
        kaggle.datasets[("alice", "words")] = {1: {"notes.md": b"x"}}
        read_kaggle("alice/words")
    with pytest.raises(InvalidInputError):  # a file that is not a table, named explicitly
        read_kaggle("alice/words", file="notes.md")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "wrong")
    with pytest.raises(InvalidInputError, match="401"):
        list_files("alice/houses")
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    with pytest.raises(InvalidInputError, match="no Kaggle credentials") as missing:
        list_files("alice/houses", home=tmp_path)
    assert "https://www.kaggle.com/settings" in missing.value.hint
    store_kaggle_json(tmp_path, json.dumps({"username": USER, "key": KEY}))
    assert list_files("alice/houses", home=tmp_path)[1] == 1  # basic auth from the stored kaggle.json


def test_a_stored_kaggle_json_can_be_removed_and_other_credentials_stay(tmp_path, monkeypatch):
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = tmp_path / "ws"
    assert remove_kaggle_json(home) is False  # nothing stored yet
    store_kaggle_json(home, json.dumps({"username": USER, "key": KEY}))
    monkeypatch.setenv("KAGGLE_API_TOKEN", "tok")
    assert remove_kaggle_json(home) is True and not kaggle_json_path(home).exists()
    assert find_credentials(home).token == "tok"  # the environment's token is not Atelier's to remove
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    assert find_credentials(home) is None
