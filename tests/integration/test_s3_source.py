"""S3 sources on moto's server over real HTTP: browse, one object in each format, gzip/zip, a
prefix of Parquet parts, and the botocore errors translated."""

from __future__ import annotations

import gzip
import io
import socket
import zipfile

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import datasets
from core.data.remote import import_remote, s3_source, submit_s3_import
from core.data.sources.s3 import list_objects, read_s3
from core.platform import jobs
from core.platform.errors import InvalidInputError, NotFoundError, StorageError

CSV = b"city,price,rooms\nLisbon,350000,3\nPorto,210000,2\nFaro,180000,2\n"


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


@pytest.fixture
def filled(s3_server, s3_bucket):
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("inner/houses.csv", CSV)
        archive.writestr("README.txt", b"not a table")
    frame = pd.DataFrame({"a": range(5), "b": list("vwxyz")})
    objects = {
        "raw/houses.csv": CSV, "raw/houses.csv.gz": gzip.compress(CSV), "raw/houses.zip": zipped.getvalue(),
        "raw/houses.json": b'[{"city": "Lisbon", "price": 1}, {"city": "Porto", "price": 2}]',
        "raw/notes.txt": b"just some words, no table here at all",
        "parts/part-0.parquet": _parquet(frame), "parts/part-1.parquet": _parquet(frame.assign(a=frame.a + 5)),
    }
    for key, body in objects.items():
        client.put_object(Bucket=s3_bucket, Key=key, Body=body)
    return s3_server, s3_bucket


def _import(ws, url, name, endpoint):
    source, options = s3_source(url, endpoint_url=endpoint, region="us-east-1")
    return import_remote(ws, source, name, options=options)


def test_browse_a_bucket_and_a_prefix(filled):
    endpoint, bucket = filled
    top = list_objects(bucket, endpoint_url=endpoint, region="us-east-1")
    assert {o.name for o in top} == {"raw/", "parts/"} and all(o.is_prefix for o in top)
    raw = {o.name: o for o in list_objects(bucket, "raw/", endpoint_url=endpoint, region="us-east-1")}
    assert raw["houses.csv"].size == len(CSV) and raw["houses.csv"].modified is not None


@pytest.mark.parametrize("key", ["raw/houses.csv", "raw/houses.csv.gz", "raw/houses.zip"])
def test_import_one_object_plain_gzip_or_zip(filled, ws, key):
    endpoint, bucket = filled
    version = _import(ws, f"s3://{bucket}/{key}", "houses", endpoint)
    assert (version.n_rows, version.columns) == (3, ["city", "price", "rooms"])
    prov = version.provenance
    assert prov["source"] == "s3" and prov["bucket"] == bucket and prov["key"] == key and prov["etag"]
    assert "testing" not in str(prov)  # the access key never reaches metadata


def test_json_object_and_a_prefix_of_parquet_parts(filled, ws):
    endpoint, bucket = filled
    assert _import(ws, f"s3://{bucket}/raw/houses.json", "j", endpoint).n_rows == 2
    version = _import(ws, f"s3://{bucket}/parts/", "parts", endpoint)
    assert version.n_rows == 10 and len(version.provenance["parts"]) == 2
    assert sorted(datasets.load_frame(ws, version)["a"]) == list(range(10))


def test_errors_say_what_to_fix_and_register_nothing(filled, ws):
    endpoint, bucket = filled
    cases = [
        (f"s3://no-such-bucket-{bucket}/x.csv", NotFoundError, "does not exist"),
        (f"s3://{bucket}/raw/missing.csv", NotFoundError, "no object 'raw/missing.csv'"),
        (f"s3://{bucket}/raw/notes.txt", InvalidInputError, "notes.txt"),
        (f"s3://{bucket}/empty-prefix/", InvalidInputError, "no .parquet parts"),
    ]
    for url, error, match in cases:
        with pytest.raises(error, match=match):
            _import(ws, url, "never", endpoint)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError, match="cannot be reached"):
        read_s3(bucket, "raw/houses.csv", endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1")
    assert datasets.list_datasets(ws) == []


def test_an_object_over_the_limit_is_refused_before_download(filled, ws):
    endpoint, bucket = filled
    with pytest.raises(InvalidInputError, match="over the 0.0 MB limit"):
        read_s3(bucket, "raw/houses.csv", endpoint_url=endpoint, region="us-east-1", max_bytes=10)


def test_import_runs_as_a_job(filled, ws):
    endpoint, bucket = filled
    job = submit_s3_import(ws, f"s3://{bucket}/raw/houses.csv", "houses", endpoint_url=endpoint, region="us-east-1")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "succeeded", info.error
    assert datasets.get_version(ws, "houses").n_rows == 3


def test_a_streamed_download_reports_bytes_and_stops_when_cancelled(filled, ws):
    endpoint, bucket = filled
    rows = b"".join(b"%d,%d.5,name%d\n" % (i, i, i % 7) for i in range(300_000))  # about 6 MB: several chunks
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").put_object(
        Bucket=bucket, Key="big/rows.csv", Body=b"a,b,c\n" + rows)
    seen = []
    source, options = s3_source(f"s3://{bucket}/big/rows.csv", endpoint_url=endpoint, region="us-east-1")
    version = import_remote(ws, source, "rows", options=options, progress=lambda f, m: seen.append((f, m)))
    assert version.n_rows == 300_000
    downloads = [f for f, m in seen if m.startswith("Downloaded")]
    assert len(downloads) > 3 and downloads == sorted(downloads)

    class Cancelled(Exception):
        pass

    def cancel_midway(fraction, message):
        if message.startswith("Downloaded") and fraction > 0.2:
            raise Cancelled

    with pytest.raises(Cancelled):
        import_remote(ws, source, "rows-again", options=options, progress=cancel_midway)
    assert [d.name for d in datasets.list_datasets(ws)] == ["rows"]
    assert not list(ws.settings.staging_dir.glob("s3-*"))  # the partial download is gone


def _put_big_csv(endpoint, bucket, key, tail=b""):
    rows = b"".join(b"%d,%d.5,name%d\n" % (i, i, i % 7) for i in range(300_000))  # about 6 MB: many blocks
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").put_object(
        Bucket=bucket, Key=key, Body=b"a,b,c\n" + rows + tail)
    return s3_source(f"s3://{bucket}/{key}", endpoint_url=endpoint, region="us-east-1")


def test_a_big_csv_streams_into_the_same_version_a_whole_read_makes(filled, ws):
    endpoint, bucket = filled
    source, options = _put_big_csv(endpoint, bucket, "big/rows.csv")
    seen = []
    version = import_remote(ws, source, "rows", options=options, progress=lambda f, m: seen.append((f, m)))
    reads = [f for f, m in seen if m.startswith("Read ") and " rows (" in m]
    assert len(reads) > 3 and reads == sorted(reads)  # streamed: the parse reports block by block
    fractions = [f for f, _m in seen]
    assert fractions == sorted(fractions) and fractions[-1] < 1.0
    whole = read_s3(bucket, "big/rows.csv", endpoint_url=endpoint, region="us-east-1")
    reference = datasets.save_version(ws, "reference", whole.table, provenance={})
    assert version.n_rows == 300_000 and version.schema == reference.schema
    assert version.quality == reference.quality and version.roles == reference.roles
    assert datasets.load_frame(ws, version).equals(datasets.load_frame(ws, reference))
    assert version.provenance["etag"] and version.provenance["refresh"]["url"] == source


def test_a_late_value_that_breaks_the_first_blocks_types_falls_back_to_a_whole_read(filled, ws):
    endpoint, bucket = filled
    source, options = _put_big_csv(endpoint, bucket, "big/late-text.csv", tail=b"not a number,1.5,x\n")
    version = import_remote(ws, source, "late", options=options)
    assert version.n_rows == 300_001
    assert {c["name"]: c["logical_type"] for c in version.schema}["a"] != "numeric"  # typed from the whole file
    assert [d.name for d in datasets.list_datasets(ws)] == ["late"]  # one version, no half one
    assert not list(ws.settings.staging_dir.glob("s3-*"))


def test_a_ragged_row_deep_in_a_big_csv_names_the_line_and_saves_nothing(filled, ws):
    endpoint, bucket = filled
    source, options = _put_big_csv(endpoint, bucket, "big/ragged.csv", tail=b"1,2,3,4\n")
    with pytest.raises(InvalidInputError, match="Line 300002"):
        import_remote(ws, source, "ragged", options=options)
    assert datasets.list_datasets(ws) == []
    assert not list(ws.settings.staging_dir.iterdir())


def test_a_cancel_while_the_rows_stream_leaves_nothing(filled, ws):
    endpoint, bucket = filled
    source, options = _put_big_csv(endpoint, bucket, "big/rows.csv")

    class Cancelled(Exception):
        pass

    reads = []

    def cancel_while_reading(fraction, message):
        reads.extend([message] if message.startswith("Read ") and " rows (" in message else [])
        if len(reads) == 2:  # some blocks parsed and written, more to come
            raise Cancelled

    with pytest.raises(Cancelled):
        import_remote(ws, source, "rows", options=options, progress=cancel_while_reading)
    assert datasets.list_datasets(ws) == []
    assert not list(ws.settings.staging_dir.iterdir())  # neither the download nor a partial Parquet file
