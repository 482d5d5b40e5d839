"""The same store behaviour on every backend: a local folder and S3 over HTTP (moto)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.platform.config import Settings
from core.platform.errors import IntegrityError, InvalidInputError, NotFoundError, StorageError
from core.platform.storage import LocalArtifactStore, S3ArtifactStore, open_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    endpoint = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3ArtifactStore(bucket, "team/atelier", endpoint_url=endpoint, region="us-east-1")


def test_round_trip_records_checksum_and_size(store, tmp_path):
    ref = store.put_bytes("models/a.bin", b"hello")
    assert ref.size_bytes == 5
    assert ref.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert store.get_bytes("models/a.bin", ref.sha256) == b"hello"
    assert store.exists("models/a.bin") and not store.exists("models/b.bin")
    assert store.list("models/") == ["models/a.bin"]


def test_overwrite_replaces_whole_file(store):
    store.put_bytes("k.txt", b"first version, longer")
    store.put_bytes("k.txt", b"second")
    assert store.get_bytes("k.txt") == b"second"


def test_checksum_mismatch_is_refused(store):
    store.put_bytes("d.parquet", b"original")
    wrong = store.put_bytes("other", b"other").sha256
    with pytest.raises(IntegrityError, match="does not match its recorded checksum"):
        store.get_bytes("d.parquet", wrong)


def test_missing_key_and_bad_keys(store):
    with pytest.raises(NotFoundError, match="has no file"):
        store.get_bytes("nope/missing.bin")
    with pytest.raises(InvalidInputError, match="not a relative path"):
        store.put_bytes("../escape", b"x")
    store.delete("nope/missing.bin")  # deleting what is not there is fine


def test_delete(store):
    store.put_bytes("x/y.bin", b"1")
    store.delete("x/y.bin")
    assert store.list("x/") == []


def test_local_writes_leave_no_temp_files(tmp_path):
    store = LocalArtifactStore(tmp_path / "a")
    store.put_bytes("one/two.bin", b"x" * 1000)
    assert [p.name for p in (tmp_path / "a" / "one").iterdir()] == ["two.bin"]


def test_open_store_by_scheme(tmp_path):
    assert isinstance(open_store(Settings(home=tmp_path)), LocalArtifactStore)
    with pytest.raises(InvalidInputError, match="Unknown artifact store scheme 'ftp'"):
        open_store(Settings(home=tmp_path, artifacts_url="ftp://host/x"))
    with pytest.raises(InvalidInputError, match="names no bucket"):
        open_store(Settings(home=tmp_path, artifacts_url="s3:///x"))


def test_unreachable_s3_says_which_store(tmp_path):
    store = S3ArtifactStore("bucket", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with pytest.raises(StorageError, match=r"artifact store at s3://bucket .*could not write"):
        store.check()


def test_s3_missing_bucket_is_a_storage_error(s3_server):
    store = S3ArtifactStore("no-such-bucket", endpoint_url=s3_server, region="us-east-1")
    with pytest.raises(StorageError, match="no-such-bucket"):
        store.put_bytes("a", b"b")


def test_local_store_file_url(tmp_path):
    target = tmp_path / "my store"
    store = open_store(Settings(home=tmp_path, artifacts_url=target.as_uri()))
    store.put_bytes("a.bin", b"1")
    assert (Path(target) / "a.bin").read_bytes() == b"1"
