"""Placeholders for missing values ('?', 'NA', '-', blank, " ?") are found and fixed in a new version."""

import pandas as pd
import pyarrow as pa
import pytest

from core.data import datasets
from core.data.cleanup import fix_placeholders
from core.data.ingest import import_file
from core.data.placeholders import clean_table, find_placeholders
from core.data.quality import quality_report
from core.platform.errors import InvalidInputError

ADULT_LIKE = (
    "age,workclass,occupation,income\n"
    "39, State-gov, Adm-clerical, <=50K\n"
    "50, ?, Exec-managerial, <=50K\n"
    "38, Private, ?, >50K\n"
    "53, Private, -, <=50K\n"
    "28, ?, Prof-specialty, >50K\n"
)


def test_every_placeholder_spelling_is_found_with_counts():
    frame = pd.DataFrame({
        "a": ["?", "NA", "n/a", "N/A", "-", "null", "none", "  ", "", "ok", "ok", " ?"],
        "clean": ["x", "y"] * 6,
        "number": range(12),
    })
    found = {f.column: f for f in find_placeholders(frame)}
    assert set(found) == {"a"}
    assert found["a"].n_placeholders == 10
    assert found["a"].placeholders["?"] == 1 and found["a"].placeholders[" ?"] == 1
    assert found["a"].padded == 0


def test_reading_stays_faithful_and_the_report_flags_padding_and_question_marks(ws, tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_LIKE)
    version = import_file(ws, path, "adult")
    frame = datasets.load_frame(ws, version)
    assert (frame["workclass"] == " ?").sum() == 2  # the file as written: nothing guessed away

    issues = {i["column"]: i for i in version.quality["issues"] if i["check"] == "placeholders"}
    assert {"workclass", "occupation"} <= set(issues)
    assert "' ?' ×2" in issues["workclass"]["detail"]
    assert "spaces before or after" in issues["workclass"]["detail"]
    assert "' ?' ×1, ' -' ×1" in issues["occupation"]["detail"]
    assert issues["income"]["detail"] == "5 value(s) have spaces before or after the text."
    assert "age" not in issues  # read as numbers: the padding is gone already


def test_the_fix_makes_a_new_version_and_leaves_the_old_one(ws, tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_LIKE)
    version = import_file(ws, path, "adult")
    fixed = fix_placeholders(ws, version)
    assert fixed.version == version.version + 1 and fixed.parent_id == version.id
    frame = datasets.load_frame(ws, fixed)
    assert frame["workclass"].isna().sum() == 2
    assert frame["workclass"].dropna().tolist() == ["State-gov", "Private", "Private"]
    assert frame["occupation"].isna().sum() == 2
    assert frame["income"].tolist() == ["<=50K", "<=50K", ">50K", "<=50K", ">50K"]
    assert not [i for i in fixed.quality["issues"] if i["check"] == "placeholders"]
    old = datasets.load_frame(ws, datasets.get_version_by_id(ws, version.id))
    assert (old["workclass"] == " ?").sum() == 2
    with pytest.raises(InvalidInputError, match="no placeholder"):
        fix_placeholders(ws, fixed)


def test_a_numeric_column_with_question_marks_becomes_numeric():
    table = pa.table({"n": ["1", "?", " 3", "4"], "t": ["a", "b", "c", "d"]})
    cleaned, changed = clean_table(table)
    assert changed == ["n"]
    assert pa.types.is_integer(cleaned.schema.field("n").type)
    assert cleaned.column("n").to_pylist() == [1, None, 3, 4]
    assert cleaned.column("t").to_pylist() == ["a", "b", "c", "d"]


def test_a_clean_table_has_no_placeholder_findings():
    report = quality_report(pd.DataFrame({"a": ["x", "y", "z"] * 5, "b": range(15)}))
    assert not report.by_check("placeholders")
