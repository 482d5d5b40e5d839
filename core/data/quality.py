"""Data-quality checks on a table, each finding with a one-line suggested action.

Checks: missing values per column, duplicate rows, constant columns,
high-cardinality categoricals and free text, columns mixing numbers and text
(or mostly numbers with a few text markers), suspected identifiers, placeholders
for missing values (``?``, ``NA``, ``-``, blank) and whitespace-padded text
(:mod:`core.data.placeholders`), and column names that LightGBM or XGBoost refuse.  Counts come from the schema
(:func:`core.data.schema.infer_schema`), so the report adds only a duplicate-row
pass and the mixed-type check on an evenly spaced sample of 10,000 values.
An Arrow table is checked as it is, never converted to pandas: its duplicate
rows are counted from 64-bit row hashes (:mod:`core.data.duplicates`).  The report
is stored as plain JSON (:func:`report_to_json`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.data.duplicates import duplicate_row_count, duplicate_row_count_by_column
from core.data.placeholders import ColumnPlaceholders, find_placeholders
from core.data.schema import ColumnInfo, infer_schema
from core.data.types import MAX_CATEGORIES, SAMPLE_SIZE, arrow_sample

__all__ = ["SEVERITIES", "QualityIssue", "QualityReport", "column_name_problems", "quality_report",
           "quality_report_by_column", "quality_report_json", "report_from_json", "report_to_json", "safe_column_name"]

SEVERITIES = ("info", "warning", "error")
# LightGBM 4.7 stops with "Do not support special JSON characters in feature name" on these, and
# with "Wrong size of feature_names" on line breaks or an empty name; XGBoost 3.2 refuses [ ] <.
_LIGHTGBM_CHARS = set('",:[]{}')
_XGBOOST_CHARS = set("[]<")
_LINE_BREAKS = set("\r\n")
_UNSAFE = re.compile(r'[",:\[\]{}<\r\n]+')
_MISSING_WARNING_SHARE = 0.05
_MISSING_DROP_SHARE = 0.5
_MOSTLY_NUMERIC_SHARE = 0.9


@dataclass
class QualityIssue:
    """One finding.

    Attributes
    ----------
    check : which check found it (``missing``, ``duplicates``, ``constant``, ``high_cardinality``,
        ``free_text``, ``mixed_types``, ``id_like``, ``column_name``, ``placeholders``).
    column : the column, or None for a finding about the whole table.
    severity : ``info``, ``warning`` or ``error``.
    detail : what was found, with numbers.
    suggestion : what to do, in one line.
    """

    check: str
    column: str | None
    severity: str
    detail: str
    suggestion: str


@dataclass
class QualityReport:
    """The findings plus a summary (rows, columns, duplicate rows, missing cells, issue counts).

    Iterating over a report yields its issues.
    """

    summary: dict[str, Any]
    issues: list[QualityIssue] = field(default_factory=list)

    def __iter__(self) -> Iterator[QualityIssue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def by_check(self, check: str) -> list[QualityIssue]:
        return [i for i in self.issues if i.check == check]


def quality_report(
    df: pd.DataFrame | pa.Table,
    schema: Sequence[ColumnInfo | Mapping[str, Any]] | None = None,
    *,
    max_categories: int = MAX_CATEGORIES,
) -> QualityReport:
    """Run every check on ``df``.

    Parameters
    ----------
    df : the table; an Arrow table is checked without converting it to pandas.
    schema : its :func:`~core.data.schema.infer_schema` result (objects or their JSON); inferred when omitted.
    max_categories : categoricals with more distinct values are flagged.

    Returns
    -------
    QualityReport
        Issues ordered by severity (errors first), then by column order.
    """
    columns = [c if isinstance(c, ColumnInfo) else ColumnInfo(**c) for c in (schema or infer_schema(df))]
    rows = df.num_rows if isinstance(df, pa.Table) else len(df)
    duplicates = duplicate_row_count(df, columns) if rows else 0
    placeholders = {p.column: p for p in find_placeholders(df)} if rows else {}
    return _assemble(rows, columns, duplicates, placeholders,
                     lambda info: _column_issues(df, info, rows, max_categories))


def quality_report_by_column(
    arrow_schema: pa.Schema,
    rows: int,
    schema: Sequence[ColumnInfo | Mapping[str, Any]],
    load: Callable[[str], pa.Table],
    *,
    max_categories: int = MAX_CATEGORIES,
) -> QualityReport:
    """:func:`quality_report` of a table too big to hold at once, with the same findings.

    ``load(name)`` reads one column as a one-column table (from the version's Parquet file).
    Only the columns whose checks look at values are read (text, categories: placeholders and
    mixed types), one at a time; duplicate rows are counted column by column.
    """
    columns = [c if isinstance(c, ColumnInfo) else ColumnInfo(**c) for c in schema]
    names = [c.name for c in columns]
    duplicates = (duplicate_row_count_by_column(rows, names, lambda name: load(name).column(0), columns)
                  if rows else 0)
    placeholders: dict[str, ColumnPlaceholders] = {}
    per_column: dict[str, list[QualityIssue]] = {}
    for info in columns:
        kind = arrow_schema.field(info.name).type
        kind = kind.value_type if pa.types.is_dictionary(kind) else kind
        textual = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if not rows or not (textual or info.logical_type in ("categorical", "text")):
            per_column[info.name] = _column_issues(pa.table({}), info, rows, max_categories)  # counts suffice
            continue
        column = load(info.name)
        per_column[info.name] = _column_issues(column, info, rows, max_categories)
        placeholders |= {p.column: p for p in find_placeholders(column)}
    return _assemble(rows, columns, duplicates, placeholders, lambda info: per_column[info.name])


def _assemble(rows: int, columns: list[ColumnInfo], duplicates: int, placeholders: Mapping[str, ColumnPlaceholders],
              column_issues: Callable[[ColumnInfo], list[QualityIssue]]) -> QualityReport:
    issues: list[QualityIssue] = []
    if duplicates:
        issues.append(QualityIssue(
            "duplicates", None, "warning",
            f"{duplicates:,} row(s) ({_pct(duplicates, rows)}) repeat an earlier row exactly.",
            "Remove the duplicates unless repeated rows are real observations; they can leak between train and test.",
        ))
    names = [c.name for c in columns]
    for info in columns:
        issues.extend(column_issues(info))
        if info.name in placeholders:
            issues.append(_placeholder_issue(placeholders[info.name]))
        issues.extend(_name_issues(info.name, names))
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    issues.sort(key=lambda i: order[i.severity])  # stable: column order kept within a severity
    missing_cells = sum(c.n_missing for c in columns)
    summary = {
        "rows": rows,
        "columns": len(columns),
        "duplicate_rows": duplicates,
        "missing_cells": missing_cells,
        "missing_share": round(missing_cells / (rows * len(columns)), 6) if rows and columns else 0.0,
        "issues": {s: sum(1 for i in issues if i.severity == s) for s in SEVERITIES},
    }
    return QualityReport(summary, issues)


def quality_report_json(df: pd.DataFrame | pa.Table, schema: Sequence[Any] | None = None) -> dict[str, Any]:
    """:func:`quality_report` as plain JSON, for the metadata store."""
    return report_to_json(quality_report(df, schema))


def report_to_json(report: QualityReport) -> dict[str, Any]:
    """``{"summary": {...}, "issues": [{check, column, severity, detail, suggestion}, ...]}``."""
    return {"summary": dict(report.summary), "issues": [asdict(i) for i in report.issues]}


def report_from_json(data: Mapping[str, Any]) -> QualityReport:
    """The inverse of :func:`report_to_json`."""
    return QualityReport(dict(data.get("summary", {})), [QualityIssue(**i) for i in data.get("issues", [])])


def column_name_problems(name: str, others: Sequence[str] = ()) -> list[str]:
    """Why LightGBM or XGBoost would refuse ``name`` as a feature name (empty when they accept it).

    ``others`` are the table's other names: LightGBM turns spaces into underscores,
    so 'a b' next to 'a_b' becomes a duplicate.
    """
    problems = []
    if not name.strip():
        problems.append("it is empty")
    if _LIGHTGBM_CHARS & set(name):
        problems.append('LightGBM refuses the characters " , : [ ] { } in feature names')
    if _LINE_BREAKS & set(name):
        problems.append("LightGBM refuses line breaks in feature names")
    if _XGBOOST_CHARS & set(name) - _LIGHTGBM_CHARS:
        problems.append("XGBoost refuses the characters [ ] < in feature names")
    if " " in name and name.replace(" ", "_") in set(others) - {name}:
        twin = name.replace(" ", "_")
        problems.append(f"LightGBM turns spaces into underscores, which makes it the same as {twin!r}")
    return problems


def safe_column_name(name: str) -> str:
    """``name`` with the characters LightGBM and XGBoost refuse replaced by underscores."""
    safe = _UNSAFE.sub("_", name).strip()
    return safe or "column"


# ---------------------------------------------------------------- checks


def _column_issues(
    data: pd.DataFrame | pa.Table, info: ColumnInfo, rows: int, max_categories: int
) -> list[QualityIssue]:
    name, issues = info.name, []
    if rows and info.n_missing == rows:
        return [QualityIssue("missing", name, "error", f"All {rows:,} values are missing.",
                             "Remove the column (or set its role to 'ignore'): it holds no data.")]
    if info.n_missing:
        share = info.n_missing / rows
        if share >= _MISSING_DROP_SHARE:
            severity, action = "warning", "Consider removing it, unless being missing itself means something."
        elif share >= _MISSING_WARNING_SHARE:
            severity, action = "warning", "Models will impute them; check whether missing means something (e.g. 0)."
        else:
            severity, action = "info", "Models will impute them (median or most frequent value)."
        issues.append(QualityIssue("missing", name, severity,
                                   f"{info.n_missing:,} of {rows:,} values ({_pct(info.n_missing, rows)}) are missing.",
                                   action))
    if info.n_unique == 1:
        value = info.examples[0] if info.examples else None
        also = f", apart from {info.n_missing:,} missing" if info.n_missing else ""
        issues.append(QualityIssue("constant", name, "warning", f"Every value is {value!r}{also}.",
                                   "Set its role to 'ignore': a single value tells a model nothing."))
    mixed = None
    if info.logical_type in ("categorical", "text"):
        present = _present_sample(data, name)
        mixed = _mixed_types(present, info) if present is not None else None
    if mixed is not None:
        issues.append(mixed)  # numbers stored as text: how many distinct strings is beside the point
    elif info.logical_type == "categorical" and info.n_unique > max_categories:
        issues.append(QualityIssue(
            "high_cardinality", name, "warning",
            f"{info.n_unique:,} distinct categories: one-hot encoding would add {info.n_unique:,} columns.",
            "Group rare values into 'other', or use a target or hashing encoder for it.",
        ))
    elif info.logical_type == "text":
        issues.append(QualityIssue(
            "free_text", name, "info",
            f"Free text: {info.n_unique:,} distinct values, long or mostly unique, so not a category.",
            "Set its role to 'ignore', or derive features from it (length, keywords) first.",
        ))
    elif info.logical_type == "id":
        issues.append(QualityIssue(
            "id_like", name, "info",
            f"Every value is different ({info.n_unique:,} values): it looks like an identifier.",
            "Keep the role 'id' so models do not learn from it.",
        ))
    return issues


def _present_sample(data: pd.DataFrame | pa.Table, name: str) -> pd.Series | None:
    """Up to ``SAMPLE_SIZE`` present values of a column, evenly spaced; None where the check does not apply."""
    if isinstance(data, pa.Table):
        # Duplicate names are judged by the name check; dictionaries are categories by construction.
        found = data.schema.get_all_field_indices(name)
        if len(found) != 1 or pa.types.is_dictionary(data.schema.field(found[0]).type):
            return None
        values = data.column(found[0])
        present_count = len(values) - values.null_count
        if present_count == 0:
            return None
        return arrow_sample(values, present_count).to_pandas()
    if name not in data.columns:
        return None
    series = data[name]
    if isinstance(series, pd.DataFrame) or isinstance(series.dtype, pd.CategoricalDtype):
        return None
    present = series.dropna()
    if present.empty:
        return None
    if len(present) > SAMPLE_SIZE:
        present = present.iloc[np.linspace(0, len(present) - 1, SAMPLE_SIZE).astype(np.int64)]
    return present


def _mixed_types(present: pd.Series, info: ColumnInfo) -> QualityIssue | None:
    text = present.astype(str)
    numeric = pd.to_numeric(text.str.strip(), errors="coerce").notna()
    share = float(numeric.mean())
    others = text[~numeric].value_counts().index[:3].tolist()
    shown = ", ".join(repr(v[:30]) for v in others)
    if info.note == "mixes numbers and text" or pd.api.types.infer_dtype(present, skipna=True) in (
        "mixed", "mixed-integer"
    ):
        return QualityIssue(
            "mixed_types", info.name, "warning",
            f"Mixes numbers and text values ({share:.0%} numbers; text such as {shown}).",
            "Make it one type: turn the text markers into missing values, or treat every value as a category.",
        )
    if _MOSTLY_NUMERIC_SHARE <= share < 1.0:
        return QualityIssue(
            "mixed_types", info.name, "warning",
            f"{share:.1%} of the values are numbers, but some are text such as {shown}.",
            "Turn those text markers into missing values so the column becomes numeric.",
        )
    return None


def _placeholder_issue(found: ColumnPlaceholders) -> QualityIssue:
    if found.placeholders:
        action = ("Use 'Turn placeholders into missing values': a new version gets them as missing values "
                  "(models then impute them) and the spaces stripped.")
    else:
        action = "Use 'Turn placeholders into missing values' to strip the spaces in a new version."
    return QualityIssue("placeholders", found.column, "warning", found.describe(), action)


def _name_issues(name: str, names: list[str]) -> list[QualityIssue]:
    problems = column_name_problems(name, names)
    if not problems:
        return []
    stem = safe_column_name(name).replace(" ", "_")
    candidate, k = stem, 2
    while candidate in names:
        candidate, k = f"{stem}_{k}", k + 1
    return [QualityIssue("column_name", name, "warning", f"The column name {name!r} will fail: {'; '.join(problems)}.",
                         f"Rename it, for example to {candidate!r}.")]


def _pct(part: int, whole: int) -> str:
    share = 100 * part / whole if whole else 0.0
    return f"{share:.1f}%" if share >= 0.1 or part == 0 else "<0.1%"
