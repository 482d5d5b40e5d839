"""A long stream of record batches stored as Parquet parts: with a cluster set (or when asked), the
same rows, schema, roles and quality as the single file; without one, one file as before; and
nothing stored when the stream fails midway."""

from __future__ import annotations

import functools

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from core.data import datasets, remote, streamed
from core.data.remote import import_remote, s3_source, sql_source
from core.platform import parts
from core.platform.errors import InvalidInputError
from tests.support.flats import flats_table

ROWS = 25_000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    # 60 rows repeated exactly, in another part than their first copies
    return flats_table(ROWS - 60, seed=11, price_gap=70, repeated=60, repeat_from=12_000)


def _batches(table: pa.Table, rows: int = 3_333):
    yield from table.to_batches(max_chunksize=rows)


def _save(ws, name, table, **options):
    return streamed.save_version_from_batches(ws, name, table.schema, _batches(table), provenance={"source": "test"},
                                              **options)


def _stored_files(ws) -> set[str]:
    return {str(p.relative_to(ws.store.root)) for p in ws.store.root.rglob("*") if p.is_file()}


def test_parts_hold_the_rows_schema_roles_and_quality_of_the_single_file(ws, table, monkeypatch):
    monkeypatch.setattr(datasets, "_ROW_GROUP_ROWS", 4_000)  # several row groups a part, cut across batches
    whole = datasets.save_version(ws, "whole", table, provenance={"source": "test"})
    single = _save(ws, "single", table)
    split = _save(ws, "split", table, partitioned=True, part_rows=10_000)

    assert not parts.is_partitioned(single.artifact_key)
    assert parts.is_partitioned(split.artifact_key) and split.provenance["parts"] == 3
    assert [p["rows"] for p in parts.manifest(ws, split.artifact_key)["parts"]] == [10_000, 10_000, 5_000]
    groups = [[pq.ParquetFile(f).metadata.row_group(g).num_rows for g in range(pq.ParquetFile(f).num_row_groups)]
              for f in datasets.parquet_files(ws, split)]
    assert groups == [[4_000, 4_000, 2_000], [4_000, 4_000, 2_000], [4_000, 1_000]]  # full groups in each part
    pd.testing.assert_frame_equal(datasets.load_frame(ws, split), datasets.load_frame(ws, single))
    assert (split.n_rows, split.n_columns) == (single.n_rows, single.n_columns) == (ROWS, 7)
    assert split.schema == single.schema == whole.schema
    assert split.roles == single.roles == whole.roles
    assert split.quality == single.quality == whole.quality
    assert {i["check"] for i in split.quality["issues"]} >= {"duplicates", "placeholders", "constant", "missing"}


def test_the_command_line_says_a_version_is_stored_in_parts(ws, table, cli_here):
    _save(ws, "split", table, partitioned=True, part_rows=10_000)
    _save(ws, "single", table)
    assert "split@1: 25,000 rows × 7 columns, stored in 3 Parquet parts" in cli_here(ws.settings.home, "datasets",
                                                                                   "show", "split").stdout
    assert "parts" not in cli_here(ws.settings.home, "datasets", "show", "single").stdout.splitlines()[0]


def test_without_a_cluster_a_long_stream_stays_one_file(ws, table):
    version = _save(ws, "sales", table, part_rows=10_000)
    assert not parts.is_partitioned(version.artifact_key) and "parts" not in version.provenance
    assert len(datasets.parquet_files(ws, version)) == 1 and version.n_rows == ROWS
    with pytest.raises(InvalidInputError, match="at least one row"):
        _save(ws, "empty-parts", table, partitioned=True, part_rows=0)


@pytest.mark.slow
def test_with_a_cluster_a_stream_longer_than_one_part_is_stored_in_parts(cluster_ws, table):
    longer = _save(cluster_ws, "longer", table, part_rows=10_000)
    assert parts.is_partitioned(longer.artifact_key)
    assert [p["rows"] for p in parts.manifest(cluster_ws, longer.artifact_key)["parts"]] == [10_000, 10_000, 5_000]
    exactly_one = _save(cluster_ws, "one-part", table.slice(0, 10_000), part_rows=10_000)
    assert not parts.is_partitioned(exactly_one.artifact_key)
    refused = _save(cluster_ws, "one-file", table, part_rows=10_000, partitioned=False)
    assert not parts.is_partitioned(refused.artifact_key) and refused.n_rows == ROWS


@pytest.mark.slow
def test_an_s3_csv_imported_with_a_cluster_set_is_stored_in_parts(cluster_ws, table, s3_server, s3_bucket,
                                                                  monkeypatch, tmp_path):
    path = tmp_path / "flats.csv"
    pacsv.write_csv(table.drop_columns(["seen"]), path)
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").upload_file(str(path), s3_bucket,
                                                                                    "raw/flats.csv")
    monkeypatch.setattr(remote, "save_version_from_batches",
                        functools.partial(streamed.save_version_from_batches, part_rows=10_000))
    source, options = s3_source(f"s3://{s3_bucket}/raw/flats.csv", endpoint_url=s3_server, region="us-east-1")
    version = import_remote(cluster_ws, source, "flats", options=options)
    assert parts.is_partitioned(version.artifact_key) and version.provenance["parts"] == 3
    assert version.n_rows == ROWS and version.provenance["source"] == "s3"
    frame = datasets.load_frame(cluster_ws, version)
    assert frame["row_id"].tolist() == table.column("row_id").to_pylist()
    assert frame["review"].tolist() == table.column("review").to_pylist()


@pytest.mark.parametrize("options", [{"partitioned": True, "part_rows": 2_000}, {}])
def test_a_stream_that_fails_in_its_third_batch_stores_nothing(ws, table, options):
    _save(ws, "kept", table.slice(0, 100))
    before = _stored_files(ws)

    def failing():
        for i, batch in enumerate(_batches(table, 3_000)):
            if i == 2:
                raise ConnectionError("the database went away")
            yield batch

    with pytest.raises(ConnectionError, match="went away"):
        streamed.save_version_from_batches(ws, "broken", table.schema, failing(), provenance={}, **options)
    assert [d.name for d in datasets.list_datasets(ws)] == ["kept"]
    assert _stored_files(ws) == before
    assert not any(ws.settings.staging_dir.iterdir())


@pytest.mark.slow
def test_a_database_table_read_whole_is_stored_in_parts_with_a_cluster_set(cluster_ws, ws, table, monkeypatch,
                                                                         tmp_path):
    import sqlite3

    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        table.drop_columns(["seen"]).to_pandas().to_sql("flats", conn, index=False)
    monkeypatch.setattr(remote, "PART_ROWS", 10_000)
    monkeypatch.setattr(remote, "save_version_from_batches",
                        functools.partial(streamed.save_version_from_batches, part_rows=10_000))
    source, options = sql_source(f"sqlite:///{db}", table="flats")
    version = import_remote(cluster_ws, source, "flats", options=options)
    assert parts.is_partitioned(version.artifact_key) and version.provenance["parts"] == 3
    alone = import_remote(ws, source, "flats-alone", options=options)  # no cluster: one file, as before
    assert not parts.is_partitioned(alone.artifact_key)
    pd.testing.assert_frame_equal(datasets.load_frame(cluster_ws, version), datasets.load_frame(ws, alone))
    assert version.schema == alone.schema and version.quality == alone.quality
