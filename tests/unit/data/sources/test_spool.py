"""RowSpool: batches of Python rows to one memory-mapped Arrow table, types widened across batches."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from core.data.sources.spool import RowSpool, UnsupportedValueError


def test_types_settle_across_batches_and_the_files_are_gone(tmp_path):
    spool = RowSpool(["a", "b", "c", "d", "e"], tmp_path)
    spool.append([(None, 1, decimal.Decimal("1.5"), {"x": 1}, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
                  (None, 2, None, None, None)])
    spool.append([(1, 2.5, decimal.Decimal("1.25"), [1], None), (None, 3, None, None, None)])
    spool.append([(2, "x", None, None, None)])
    table = spool.finish()
    assert table.schema.field("a").type == pa.int64() and table.column("a").to_pylist() == [None, None, 1, None, 2]
    assert table.schema.field("b").type == pa.string()  # ints, then floats, then text: text, with a warning
    assert table.schema.field("c").type == pa.decimal128(38, 2)
    assert table.column("d").to_pylist() == ['{"x": 1}', None, "[1]", None, None]
    assert table.schema.field("e").type == pa.timestamp("us", tz="UTC")
    assert any("'b'" in w for w in spool.warnings)
    assert list(tmp_path.iterdir()) == []


def test_a_value_without_a_table_type_is_refused_with_the_column_name(tmp_path):
    spool = RowSpool(["shape"], tmp_path)
    with pytest.raises(UnsupportedValueError, match="Column 'shape' holds values of a type"):
        spool.append([(object(),)])
    spool.discard()
    assert list(tmp_path.iterdir()) == []


def test_floats_among_integers_are_never_truncated(tmp_path):
    spool = RowSpool(["n"], tmp_path)
    spool.append([(1,), (2,)])
    spool.append([(3,), (2.5,)])
    spool.append([(2**70,)])
    table = spool.finish()
    # ints, then a float (the column widens to double), then a number beyond 64 bits: text, said so
    assert table.column("n").to_pylist() == ["1", "2", "3", "2.5", str(2**70)]
    assert "kept as text" in spool.warnings[0]


def test_arrow_batches_widen_like_rows_and_turn_to_text_with_a_warning(tmp_path):
    spool = RowSpool(["n", "v"], tmp_path)
    spool.append_batch(pa.record_batch({"n": pa.array([1, 2], pa.int64()), "v": pa.array([1.5, None])}))
    spool.append_batch(pa.record_batch({"n": pa.array([2.5], pa.float64()), "v": pa.array(["x"])}))
    table = spool.finish()
    assert table.schema.field("n").type == pa.float64() and table.column("n").to_pylist() == [1.0, 2.0, 2.5]
    assert table.schema.field("v").type == pa.string() and table.column("v").to_pylist() == ["1.5", None, "x"]
    assert len(spool.warnings) == 1 and "'v' mixes values" in spool.warnings[0]
    assert list(tmp_path.iterdir()) == []
