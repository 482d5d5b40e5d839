"""Saving a version from a stream of record batches: the same schema, roles, quality and rows as
``save_version`` on the whole table, and nothing stored when the stream fails midway."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from core.data import datasets, streamed
from core.data.sources.csvstream import StreamBroken, open_csv_stream
from tests.support.flats import flats_table


@pytest.fixture
def table() -> pa.Table:
    return flats_table(5_000, seed=3, price_gap=50, repeated=40)  # 40 rows repeated exactly


def _batches(table: pa.Table, rows: int):
    yield from table.to_batches(max_chunksize=rows)


def test_a_stream_saves_what_save_version_saves(ws, table, monkeypatch):
    monkeypatch.setattr(datasets, "_ROW_GROUP_ROWS", 1_000)  # several row groups, cut across batches
    whole = datasets.save_version(ws, "whole", table, provenance={"source": "test"})
    stream = streamed.save_version_from_batches(ws, "stream", table.schema, _batches(table, 333),
                                                provenance={"source": "test"})
    assert (stream.n_rows, stream.n_columns) == (whole.n_rows, whole.n_columns) == (5_040, 7)
    assert stream.schema == whole.schema
    assert stream.roles == whole.roles
    assert stream.quality == whole.quality
    assert {i["check"] for i in stream.quality["issues"]} >= {"duplicates", "placeholders", "constant", "missing"}
    # (the bytes may differ: dictionary pages are chosen on the first batch, not on the whole table)
    assert datasets.load_frame(ws, stream).equals(datasets.load_frame(ws, whole))


def test_a_stream_that_fails_midway_stores_nothing(ws, table):
    def failing():
        yield from table.slice(0, 2_000).to_batches(max_chunksize=500)
        raise ConnectionError("the endpoint went away")

    with pytest.raises(ConnectionError, match="went away"):
        streamed.save_version_from_batches(ws, "broken", table.schema, failing(), provenance={})
    assert datasets.list_datasets(ws) == []
    assert not list(ws.settings.staging_dir.iterdir())


def test_a_csv_streams_and_a_later_block_that_breaks_its_types_says_so(tmp_path):
    rows = 400_000  # past the 4 MB first block
    good = pa.table({"n": np.arange(rows), "x": np.arange(rows) * 0.5})
    path = tmp_path / "rows.csv"
    pacsv.write_csv(good, path)
    stream = open_csv_stream(path)
    assert stream is not None and stream.schema.names == ["n", "x"]
    assert sum(b.num_rows for b in stream.batches) == rows

    with open(path, "a") as f:
        f.write("not a number,1.5\n")
    stream = open_csv_stream(path)
    with pytest.raises(StreamBroken):
        for _ in stream.batches:
            pass
