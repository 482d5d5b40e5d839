"""Reading uploads: detection, every supported format, and every way a file can be unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from core.data.sources import csvfile, files
from core.data.sources.files import ColumnNameError, read_preview, read_table, sniff, suggest_column_names
from core.data.sources.sniff import Detection
from core.platform.errors import InvalidInputError


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding=encoding, newline="")
    else:
        path.write_bytes(content)
    return path


# ---------------------------------------------------------------- detection and formats


def test_utf8_comma_csv_with_types_and_nulls(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "id,name,age,joined,member\n1,Ann,31,2021-03-04,true\n"
                 "2,,NA,2022-01-02,false\n3,Bob,N/A,,true\n4,null,40,2023-05-06,NaN\n")
    detection = sniff(path)
    assert (detection.format, detection.encoding, detection.delimiter, detection.has_header) == (
        "csv", "utf-8", ",", True)
    result = read_table(path)
    table = result.table
    assert table.column_names == ["id", "name", "age", "joined", "member"]
    assert table.schema.field("age").type == pa.int64()
    assert table.schema.field("joined").type == pa.timestamp("ns")
    assert table.schema.field("member").type == pa.bool_()
    assert table.column("name").to_pylist() == ["Ann", None, "Bob", None]
    assert table.column("age").to_pylist() == [31, None, None, 40]
    assert table.column("member").null_count == 1
    frame = table.to_pandas()
    assert str(frame["joined"].dtype) == "datetime64[ns]"
    assert result.warnings == []


def test_latin1_csv_is_detected_as_cp1252_and_decoded(tmp_path: Path) -> None:
    path = write(tmp_path, "villes.csv", "nom,ville\nJosé,Besançon\nZoë,Orléans\n", encoding="latin-1")
    detection = sniff(path)
    assert detection.encoding == "cp1252"
    table = read_table(path).table
    assert table.column("nom").to_pylist() == ["José", "Zoë"]
    assert table.column("ville").to_pylist() == ["Besançon", "Orléans"]


def test_utf8_bom_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeffcity,n\nZürich,1\n")
    assert sniff(path).encoding == "utf-8-sig"
    table = read_table(path).table
    assert table.column_names == ["city", "n"]  # no BOM glued to the first name
    assert table.column("city").to_pylist() == ["Zürich"]


def test_semicolon_csv_with_decimal_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "eu.csv", "a;b;c\n1;x;2\n3;y;4\n5;z;6\n")
    detection = sniff(path)
    assert detection.delimiter == ";"
    assert "semicolon-separated" in detection.describe()
    table = read_table(path).table
    assert table.column_names == ["a", "b", "c"]
    assert table.column("c").to_pylist() == [2, 4, 6]


def test_tsv_and_pipe(tmp_path: Path) -> None:
    tsv = write(tmp_path, "t.tsv", "a\tb\n1\thello, world\n2\tbye\n")
    detection = sniff(tsv)
    assert (detection.format, detection.delimiter) == ("tsv", "\t")
    assert read_table(tsv).table.column("b").to_pylist() == ["hello, world", "bye"]
    piped = write(tmp_path, "p.txt", "a|b\n1|2\n3|4\n")
    assert sniff(piped).delimiter == "|"
    assert read_table(piped).table.num_rows == 2


def test_quoted_delimiters_and_newlines_inside_values(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'id,comment\n1,"hello, world"\n2,"two\nlines"\n3,plain\n')
    table = read_table(path).table
    assert table.column("comment").to_pylist() == ["hello, world", "two\nlines", "plain"]


def test_csv_without_header_gets_numbered_names(tmp_path: Path) -> None:
    path = write(tmp_path, "nohead.csv", "1,2.5,3\n4,5.5,6\n")
    assert sniff(path).has_header is False
    table = read_table(path).table
    assert table.column_names == ["column_1", "column_2", "column_3"]
    assert table.column("column_2").to_pylist() == [2.5, 5.5]
    # The user can say the first row is a header after all.
    assert read_table(path, {"has_header": True}).table.column_names == ["1", "2.5", "3"]


def test_overrides_encoding_and_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a;b\n1;é\n", encoding="latin-1")
    result = read_table(path, {"encoding": "latin-1", "delimiter": ";"})
    assert result.detection.encoding == "latin-1"
    assert result.table.column("b").to_pylist() == ["é"]
    one_column = read_table(path, {"delimiter": ","}).table
    assert one_column.column_names == ["a;b"]


def test_bad_overrides_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="Unknown file option.*'quote'"):
        read_table(path, {"quote": "'"})
    with pytest.raises(InvalidInputError, match="not a text encoding Python knows"):
        read_table(path, {"encoding": "klingon"})
    with pytest.raises(InvalidInputError, match="delimiter must be a single character"):
        read_table(path, {"delimiter": ";;"})


def test_late_non_utf8_bytes_fall_back_to_cp1252(tmp_path: Path) -> None:
    head = "a,b\n" + "1,plain\n" * 200_000  # more than the sniffed head
    path = write(tmp_path, "late.csv", (head + "2,café\n").encode("cp1252"))
    assert sniff(path).encoding == "utf-8"
    result = read_table(path)
    assert result.detection.encoding == "cp1252"
    assert result.table.column("b").to_pylist()[-1] == "café"
    assert any("read as cp1252" in w for w in result.warnings)


def test_explicit_wrong_encoding_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a,b\n1,café\n", encoding="cp1252")
    with pytest.raises(InvalidInputError, match="is not valid utf-8 text"):
        read_table(path, {"encoding": "utf-8"})


def test_type_change_after_the_first_block_is_reinferred(tmp_path: Path) -> None:
    body = "".join(f"{i},{i * 2}\n" for i in range(400_000))  # > one 4 MB block
    path = write(tmp_path, "late_text.csv", "n,m\n" + body + "x,1\n")
    messages: list[str] = []
    table = read_table(path, progress=lambda _f, m: messages.append(m)).table
    assert table.schema.field("n").type == pa.string()
    assert table.num_rows == 400_001
    assert any("whole file" in m for m in messages)


def test_progress_is_reported_per_block(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "a,b\n" + "123456,abcdef\n" * 700_000)  # about 10 MB
    seen: list[float] = []
    read_table(path, progress=lambda f, _m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert len(seen) >= 4
    assert seen == sorted(seen)


def test_excel_with_two_sheets(tmp_path: Path) -> None:
    workbook = Workbook()
    first = workbook.active
    first.title = "People"
    for row in (["name", "age", 2024], ["Ann", 31, 1.5], ["Bob", None, 2.5]):
        first.append(row)
    second = workbook.create_sheet("Cities")
    for row in (["city", "population"], ["Paris", 2_100_000], ["Lyon", 520_000], ["Nice", 340_000]):
        second.append(row)
    path = tmp_path / "book.xlsx"
    workbook.save(path)

    detection = sniff(path)
    assert (detection.format, detection.sheets, detection.sheet) == ("excel", ["People", "Cities"], "People")
    people = read_table(path).table
    assert people.column_names == ["name", "age", "2024"]  # a numeric header cell becomes text
    assert people.column("age").to_pylist() == [31, None]
    cities = read_table(path, sheet="Cities").table
    assert cities.column("population").to_pylist() == [2_100_000, 520_000, 340_000]
    assert read_table(path, {"sheet": "Cities"}).table.num_rows == 3
    preview = read_preview(path, {"sheet": "Cities"}, n=2)
    assert list(preview["city"]) == ["Paris", "Lyon"]
    with pytest.raises(InvalidInputError, match="no sheet named 'Towns'.*'People', 'Cities'"):
        read_table(path, sheet="Towns")


def test_excel_mixed_column_becomes_text_with_warning(tmp_path: Path) -> None:
    workbook = Workbook()
    for row in (["code", "n"], [1, 1], ["A7", 2], [3, 3]):
        workbook.active.append(row)
    path = tmp_path / "mixed.xlsx"
    workbook.save(path)
    result = read_table(path)
    assert result.table.column("code").to_pylist() == ["1", "A7", "3"]
    assert any("'code' mixes numbers and text" in w for w in result.warnings)


def test_excel_without_worksheets_or_with_an_empty_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    data = workbook.active
    data.append([1])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=1))
    workbook.create_chartsheet("Chart").add_chart(chart)
    workbook.remove(data)  # the chart's data goes with it: only a chart sheet is left
    charts = tmp_path / "charts.xlsx"
    workbook.save(charts)
    with pytest.raises(InvalidInputError, match="has no worksheets"):
        sniff(charts)

    empty = Workbook()
    empty.active.title = "Blank"
    path = tmp_path / "empty.xlsx"
    empty.save(path)
    with pytest.raises(InvalidInputError, match="Sheet 'Blank' of empty.xlsx is empty"):
        read_table(path)


def test_corrupt_excel(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.xlsx", b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInputError, match="cannot be opened as an Excel workbook"):
        sniff(path)
    csv_named_xlsx = write(tmp_path, "data.xlsx", "a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="is not an Excel workbook"):
        sniff(csv_named_xlsx)


def test_json_records_with_nested_objects(tmp_path: Path) -> None:
    records = [{"id": 1, "who": {"name": "Ann", "age": 31}, "tags": ["a", "b"]},
               {"id": 2, "who": {"name": "Bob", "age": None}, "tags": []}]
    path = write(tmp_path, "records.json", json.dumps(records))
    result = read_table(path)
    table = result.table
    assert table.column_names == ["id", "tags", "who.name", "who.age"]
    assert table.column("who.name").to_pylist() == ["Ann", "Bob"]
    assert table.column("tags").to_pylist() == ['["a", "b"]', "[]"]
    assert any("'tags' holds lists" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("document", "columns", "first_row"),
    [
        ({"a": [1, 2], "b": ["x", "y"]}, ["a", "b"], {"a": 1, "b": "x"}),
        ({"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}, ["a", "b"], {"a": 1, "b": "x"}),
        ([["a", "b"], [1, "x"], [2, "y"]], ["a", "b"], {"a": 1, "b": "x"}),
        ({"a": {"0": 1, "1": 2}, "b": {"0": "x", "1": "y"}}, ["a", "b"], {"a": 1, "b": "x"}),
        ({"u1": {"a": 1, "b": "x"}, "u2": {"a": 2, "b": "y"}}, ["key", "a", "b"], {"key": "u1", "a": 1, "b": "x"}),
        ({"data": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]}, ["a", "b"], {"a": 1, "b": "x"}),
    ],
    ids=["columns", "split", "rows-with-header", "pandas-columns", "keyed-records", "wrapped-records"],
)
def test_json_table_layouts(tmp_path: Path, document: object, columns: list[str], first_row: dict) -> None:
    path = write(tmp_path, "doc.json", json.dumps(document))
    table = read_table(path).table
    assert table.column_names == columns
    assert table.slice(0, 1).to_pylist()[0] == first_row


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (42, "not a table: a single number"),
        ("hello", "not a table: a single string"),
        ([1, 2, 3], "an array of single values"),
        ({"config": {"a": {"b": 1}}, "name": "x"}, "an object with the keys 'config', 'name'"),
        ([], "empty JSON array"),
        ({"a": [1, 2], "b": [1]}, "arrays of different lengths \\('a' has 2, 'b' has 1\\)"),
        ([[1, 2], [3]], "row 1 has 2 values, row 2 has 1"),
    ],
)
def test_json_that_is_not_a_table(tmp_path: Path, document: object, message: str) -> None:
    path = write(tmp_path, "bad.json", json.dumps(document))
    with pytest.raises(InvalidInputError, match=message):
        read_table(path)


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", '[{"a": 1},\n {"a": 2,,}]')
    with pytest.raises(InvalidInputError, match="not valid JSON: .* at line 2"):
        read_table(path)


def test_json_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "events.jsonl", '{"a": 1, "b": {"c": "x"}}\n\n{"a": 2, "b": {"c": "y"}, "d": true}\n')
    table = read_table(path).table
    assert table.column_names == ["a", "b.c", "d"]
    assert table.column("d").to_pylist() == [None, True]
    assert read_preview(path, {}, n=1).to_dict("records") == [{"a": 1, "b.c": "x"}]


def test_json_lines_with_changing_types_and_bad_lines(tmp_path: Path) -> None:
    changing = write(tmp_path, "c.jsonl", '{"a": 1}\n{"a": "x"}\n')
    assert read_table(changing).table.column("a").to_pylist() == ["1", "x"]
    broken = write(tmp_path, "b.jsonl", '{"a": 1}\n{"a": 2\n')
    with pytest.raises(InvalidInputError, match="Line 2 of b.jsonl is not valid JSON"):
        read_table(broken)
    scalar = write(tmp_path, "s.jsonl", '{"a": 1}\n[1, 2]\n')
    with pytest.raises(InvalidInputError, match="Line 2 of s.jsonl holds a array, not a JSON object"):
        read_table(scalar)


def test_json_lines_named_json_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "lines.json", '{"a": 1}\n{"a": 2}\n')
    detection = sniff(path)
    assert detection.format == "jsonl"
    result = read_table(path)
    assert result.table.column("a").to_pylist() == [1, 2]
    assert any("JSON Lines" in w for w in result.warnings)


def test_parquet_with_row_groups_and_pandas_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": range(10), "b": list("abcdefghij")}, index=pd.Index(range(100, 110), name=None))
    table = pa.Table.from_pandas(frame, preserve_index=True)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=3)
    steps: list[float] = []
    result = read_table(path, progress=lambda f, _m: steps.append(f))
    assert result.table.column_names == ["a", "b"]
    assert result.table.column("a").to_pylist() == list(range(10))
    assert any("pandas index" in w for w in result.warnings)
    assert len(steps) >= 5  # one per row group, plus start and end
    assert list(read_preview(path, {}, n=4)["a"]) == [0, 1, 2, 3]


def test_preview_reads_only_the_head(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "a,b\n" + "".join(f"{i},x\n" for i in range(1000)) + "oops,1,2\n")
    preview = read_preview(path, {}, n=5)
    assert list(preview["a"]) == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidInputError, match="Line 1002"):
        read_table(path)  # the whole file has a ragged last line


def test_preview_accepts_a_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a;b\n1;2\n")
    detection = Detection.from_dict(sniff(path).to_dict())
    assert read_preview(path, detection).to_dict("records") == [{"a": 1, "b": 2}]


# ---------------------------------------------------------------- unusable files


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", b"")
    with pytest.raises(InvalidInputError, match=r"empty.csv is empty \(0 bytes\)"):
        read_table(path)
    blank = write(tmp_path, "blank.csv", "\n\n  \n")
    with pytest.raises(InvalidInputError, match="is empty"):
        sniff(blank)


def test_header_but_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "head.csv", "a,b,c\n")
    with pytest.raises(InvalidInputError, match=r"has a header \(3 column\(s\): a, b, c\) but no data rows"):
        read_table(path)


def test_binary_junk_named_csv(tmp_path: Path) -> None:
    junk = write(tmp_path, "junk.csv", bytes(range(256)) * 4)
    with pytest.raises(InvalidInputError, match="is not a text file: it contains NUL bytes"):
        read_table(junk)
    workbook = write(tmp_path, "book.csv", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InvalidInputError, match="looks like a ZIP archive or an Excel workbook"):
        read_table(workbook)
    parquet = tmp_path / "real.parquet"
    pq.write_table(pa.table({"a": [1]}), parquet)
    renamed = write(tmp_path, "renamed.csv", parquet.read_bytes())
    with pytest.raises(InvalidInputError, match="looks like a Parquet file"):
        sniff(renamed)


def test_parquet_that_is_not(tmp_path: Path) -> None:
    path = write(tmp_path, "fake.parquet", "a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="fake.parquet is not a Parquet file"):
        read_table(path)
    truncated = tmp_path / "cut.parquet"
    pq.write_table(pa.table({"a": list(range(100))}), truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    with pytest.raises(InvalidInputError, match="cannot be read as Parquet"):
        read_table(truncated)


def test_ragged_rows_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "ragged.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n")
    with pytest.raises(InvalidInputError, match=r"Line 4 of ragged.csv has 2 field\(s\) where the header has 3: '7,8'"):
        read_table(path)
    extra = write(tmp_path, "extra.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInputError, match=r"Line 3 of extra.csv has 3 field\(s\) where the header has 2") as info:
        read_table(extra)
    assert "comma" in info.value.hint


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "a\n" + "1\n" * 600_000)  # 1.2 MB
    with pytest.raises(InvalidInputError, match=r"big.csv is 1.1 MB, over the 1.0 MB upload limit "
                                                r"\(ATELIER_MAX_UPLOAD_MB\)"):
        read_table(path, max_bytes=1024 * 1024)
    assert read_table(path, max_bytes=2 * 1024 * 1024).table.num_rows == 600_000


def test_duplicate_and_empty_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "names.csv", "a,a,,b\n1,2,3,4\n")
    with pytest.raises(ColumnNameError, match=r"column\(s\) 3 have no name; 'a' appear\(s\) more than once") as info:
        read_table(path)
    assert info.value.suggested_names == ["a", "a_2", "column_3", "b"]
    assert "a, a_2, column_3, b" in info.value.hint
    with pytest.raises(ColumnNameError):
        read_preview(path, {})
    result = read_table(path, rename_columns=True)
    assert result.table.column_names == ["a", "a_2", "column_3", "b"]
    assert any("'a' → 'a_2'" in w for w in result.warnings)
    assert read_table(path, {"rename_columns": True}).table.column_names == ["a", "a_2", "column_3", "b"]
    assert list(read_preview(path, {"rename_columns": True}).columns) == ["a", "a_2", "column_3", "b"]


def test_suggest_column_names() -> None:
    assert suggest_column_names(["a", "a", "", "b"]) == ["a", "a_2", "column_3", "b"]
    assert suggest_column_names(["a", "a", "a_2"]) == ["a", "a_3", "a_2"]  # never collides
    assert suggest_column_names([" x ", None, 3]) == ["x", "column_2", "3"]
    assert suggest_column_names(["column_2", ""]) == ["column_2", "column_2_2"]


def test_unsupported_extension_lists_supported_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "data.sav", "whatever")
    with pytest.raises(InvalidInputError, match=r"Files ending in .sav cannot be read; the supported extensions are "
                                                r"\.csv, .*\.xlsx.*\.parquet.*\.jsonl"):
        read_table(path)
    with pytest.raises(InvalidInputError, match=r"Files ending in \(no extension\)"):
        sniff(b"a,b\n1,2\n", "noext")


def test_sniff_bytes_and_describe() -> None:
    detection = sniff(b"a;b\n1;2\n", "upload.csv")
    assert (detection.format, detection.delimiter, detection.size_bytes) == ("csv", ";", 8)
    assert detection.describe() == "CSV · utf-8 · semicolon-separated · header row · 8 bytes"
    assert Detection.from_dict(detection.to_dict()) == detection
    json.dumps(detection.to_dict())  # plain JSON for provenance


def test_supported_extensions_cover_every_format() -> None:
    assert set(files.SUPPORTED_EXTENSIONS.values()) == {"csv", "tsv", "excel", "parquet", "json", "jsonl"}
    assert "xlsx" in files.SUPPORTED_EXTENSIONS and "jsonl" in files.SUPPORTED_EXTENSIONS


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="There is no readable file at"):
        read_table(tmp_path / "nope.csv")


# ---------------------------------------------------------------- large CSV: parsed on every core


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 64 KB, so files of a few hundred KB take the path of a large upload."""
    monkeypatch.setattr(csvfile, "_BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(csvfile, "_PARALLEL_FROM_BYTES", 128 * 1024)


def test_large_csv_reads_the_same_as_pandas_with_progress(tmp_path: Path, small_blocks: None) -> None:
    lines = [f'{i},{i * 0.5},"c{i % 7}",2024-01-{i % 28 + 1:02d} 10:00:00,{"" if i % 9 else "NA"}\n'
             for i in range(20_000)]
    path = write(tmp_path, "big.csv", "n,x,city,when,gap\n" + "".join(lines))
    assert path.stat().st_size > 5 * csvfile._PARALLEL_FROM_BYTES
    seen: list[float] = []
    table = read_table(path, progress=lambda f, _m: seen.append(f)).table
    expected = pd.read_csv(path, keep_default_na=True)
    assert table.num_rows == 20_000
    assert table.column("n").to_pylist() == expected["n"].tolist()
    assert table.column("city").to_pylist()[:3] == ["c0", "c1", "c2"]
    assert table.schema.field("when").type == pa.timestamp("ns")
    assert table.column("gap").null_count == 20_000
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 10  # one step per block read


def test_large_csv_with_a_late_type_change_is_reinferred(tmp_path: Path, small_blocks: None) -> None:
    body = "".join(f"{i},{i * 2}\n" for i in range(30_000))  # about 300 KB: the first block says integers
    path = write(tmp_path, "late.csv", "n,m\n" + body + "x,1\n")
    messages: list[str] = []
    table = read_table(path, progress=lambda _f, m: messages.append(m)).table
    assert table.schema.field("n").type == pa.string() and table.schema.field("m").type == pa.int64()
    assert table.num_rows == 30_001 and table.column("n").to_pylist()[-1] == "x"
    assert any("whole file" in m for m in messages)


def test_large_csv_with_a_ragged_line_names_it(tmp_path: Path, small_blocks: None) -> None:
    body = "".join(f"{i},x\n" for i in range(30_000))
    path = write(tmp_path, "ragged.csv", "a,b\n" + body + "1,2,3\n" + body)
    with pytest.raises(InvalidInputError, match=r"Line 30002 of ragged.csv has 3 field\(s\) where the header has 2"):
        read_table(path)


def test_large_csv_with_late_cp1252_bytes(tmp_path: Path, small_blocks: None) -> None:
    path = write(tmp_path, "late.csv", ("a,b\n" + "1,plain\n" * 40_000 + "2,café\n").encode("cp1252"))
    result = read_table(path)
    assert result.detection.encoding == "cp1252"
    assert result.table.column("b").to_pylist()[-1] == "café"


def test_large_csv_read_stops_when_progress_raises(tmp_path: Path, small_blocks: None) -> None:
    path = write(tmp_path, "big.csv", "a,b\n" + "123456,abcdef\n" * 40_000)

    class Cancelled(Exception):
        pass

    def cancel(fraction: float, _message: str) -> None:
        if fraction > 0.2:
            raise Cancelled

    with pytest.raises(Cancelled):
        read_table(path, progress=cancel)
