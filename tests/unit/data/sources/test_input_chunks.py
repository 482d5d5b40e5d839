"""Reading a data file in chunks: its columns and rows up front, only some columns when asked."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.sources.input_chunks import InputFile


def _frame(n: int = 25) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n), "b": [f"t{i}" for i in range(n)], "c": [i / 2 for i in range(n)]})


def test_parquet_columns_and_rows_come_before_any_chunk(tmp_path):
    frame = _frame().set_index(pd.Index([f"r{i}" for i in range(25)], name="row"))
    frame.to_parquet(tmp_path / "f.parquet")
    source = InputFile.open(tmp_path / "f.parquet")
    assert pq.ParquetFile(tmp_path / "f.parquet").schema_arrow.names == ["a", "b", "c", "row"]
    assert (source.columns, source.rows) == (["a", "b", "c"], 25)  # the stored index is not a column
    chunks = list(source.chunks(10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    pd.testing.assert_frame_equal(pd.concat(chunks), frame)


def test_only_the_columns_asked_are_read(tmp_path):
    _frame().to_parquet(tmp_path / "f.parquet")
    _frame().to_csv(tmp_path / "f.csv", index=False)
    for name in ("f.parquet", "f.csv"):
        source = InputFile.open(tmp_path / name)
        only = source.columns_to_read(["c", "a", "z"])
        assert only == ["c", "a"]
        [chunk] = list(source.chunks(100, only))
        assert list(chunk.columns) == ["c", "a"] and chunk["a"].tolist() == list(range(25))


def test_every_column_is_read_when_names_repeat_or_none_is_wanted(tmp_path):
    table = pa.table([[1, 2], [3, 4], [5, 6]], names=["a", "a", "b"])
    pq.write_table(table, tmp_path / "dup.parquet")
    assert InputFile.open(tmp_path / "dup.parquet").columns_to_read(["b"]) is None
    _frame().to_parquet(tmp_path / "f.parquet")
    assert InputFile.open(tmp_path / "f.parquet").columns_to_read(["x", "y"]) is None


def test_an_empty_parquet_file_has_columns_and_no_chunk(tmp_path):
    _frame(0).to_parquet(tmp_path / "empty.parquet")
    source = InputFile.open(tmp_path / "empty.parquet")
    assert (source.columns, source.rows, list(source.chunks(10))) == (["a", "b", "c"], 0, [])
