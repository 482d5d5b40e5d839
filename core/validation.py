"""Check a batch of new rows against a model's reference before scoring it.

``validate_batch`` compares a frame with the reference statistics stored with
the model (``core.reference``) and lists every problem per column with a
count: missing columns, values of the wrong type (readable or not), categories
never seen in training, values far outside the training range, and missing
values where training had none.  ``error`` issues block scoring, ``warning``
issues do not, ``info`` issues only tell.  ``coerce_batch`` then returns the
model's columns, in training order, converted to the training types.

Large files are checked chunk by chunk: validate each chunk, combine the
reports with ``ValidationReport.merge`` (counts add up, severities are
decided again on the totals), and coerce each chunk with the merged report.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.coercion import MAX_EXAMPLES, Coerced, coerce_column, examples_of
from core.errors import InvalidInputError
from core.reference import datetime_to_ns, iso_to_ns

__all__ = ["ValidationIssue", "ValidationReport", "coerce_batch", "validate_batch"]

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# How far outside the training range a value may lie before it is flagged:
# this many interquartile ranges beyond the training minimum or maximum.
RANGE_IQR_FACTOR = 3.0
_TYPE_WORDS = {"numeric": "numbers", "boolean": "true/false values", "datetime": "dates"}


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in one column of a batch.

    ``count`` is the number of values (rows) concerned; ``examples`` holds up
    to five offending values as text; ``detail`` the plain data behind the
    message, kept so that merged reports can word it again.
    """

    column: str
    kind: str
    severity: str
    count: int
    message: str
    examples: tuple[str, ...] = ()
    detail: dict = field(default_factory=dict, compare=False)


@dataclass
class ValidationReport:
    """Every issue found in a batch, errors first.

    ``max_unparseable`` is the share of a column's values that may be
    unreadable (they become missing) before the column blocks scoring.
    """

    n_rows: int
    issues: list[ValidationIssue]
    max_unparseable: float = 0.01

    @property
    def ok(self) -> bool:
        """True when no issue blocks scoring."""
        return not self.errors

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def to_frame(self) -> pd.DataFrame:
        """One row per issue: column, kind, severity, count, message, examples."""
        rows = [
            {
                "column": i.column,
                "kind": i.kind,
                "severity": i.severity,
                "count": i.count,
                "message": i.message,
                "examples": ", ".join(i.examples),
            }
            for i in self.issues
        ]
        return pd.DataFrame(rows, columns=["column", "kind", "severity", "count", "message", "examples"])

    def raise_for_errors(self) -> None:
        """Raise ``InvalidInputError`` listing the blocking issues, if any."""
        errors = self.errors
        if errors:
            noun = "problem blocks" if len(errors) == 1 else "problems block"
            lines = "\n".join(f"- {i.message}" for i in errors)
            raise InvalidInputError(
                f"The file cannot be scored: {len(errors)} {noun} it.\n{lines}",
                hint="Fix these columns and try again; warnings do not block scoring.",
            )

    def merge(self, *others: ValidationReport) -> ValidationReport:
        """Combine the reports of consecutive chunks of one file.

        Works as ``report.merge(other)`` and ``ValidationReport.merge(a, b, c)``.
        Counts of the same column and kind add up and each issue is worded
        and graded again on the combined row count.
        """
        reports = (self, *others)
        n_rows = sum(r.n_rows for r in reports)
        grouped: dict[tuple[str, str], list[ValidationIssue]] = {}
        for report in reports:
            for issue in report.issues:
                grouped.setdefault((issue.column, issue.kind), []).append(issue)
        issues = []
        for (column, kind), group in grouped.items():
            examples: list[str] = []
            for issue in group:
                examples += [e for e in issue.examples if e not in examples]
            count = sum(i.count for i in group)
            issues.append(_issue(kind, column, count, n_rows, examples, group[0].detail, self.max_unparseable))
        return ValidationReport(n_rows, _sorted(issues), self.max_unparseable)


def validate_batch(reference: dict, df: pd.DataFrame, *, max_unparseable: float = 0.01) -> ValidationReport:
    """Check a batch against the model's reference statistics.

    Parameters
    ----------
    reference : dict
        What ``core.reference.build_reference`` stored with the model.
    df : DataFrame
        The rows to score (or one chunk of them).
    max_unparseable : float, default 0.01
        Largest share of a column's values that may fail to convert to the
        training type; those become missing values (a warning).  More is an
        error.

    Returns
    -------
    ValidationReport

    Raises
    ------
    InvalidInputError
        When ``df`` is not a DataFrame or has no rows.
    """
    _check_share(max_unparseable)
    return _validate(reference, df, max_unparseable)[0]


def coerce_batch(
    reference: dict, df: pd.DataFrame, report: ValidationReport | None = None, *, max_unparseable: float = 0.01
) -> pd.DataFrame:
    """Return the model's columns of ``df``, in training order, as training types.

    Values that cannot be converted become missing, which ``report`` allows
    only up to its ``max_unparseable`` share; numeric columns are float64
    (the training integer dtype when nothing is missing), datetimes keep the
    training time zone, categorical values are matched to the training
    categories by their text (``"1"`` matches ``1``).

    Parameters
    ----------
    reference : dict
        The model's reference statistics.
    df : DataFrame
        The rows to score (or one chunk of them).
    report : ValidationReport, optional
        A report covering ``df``, e.g. the merged report of all chunks of a
        file; ``df`` is validated when it is not given.
    max_unparseable : float, default 0.01
        As in ``validate_batch``; used only when ``report`` is not given.

    Raises
    ------
    InvalidInputError
        When the report has blocking issues.
    """
    if report is None:
        _check_share(max_unparseable)
        report, coerced = _validate(reference, df, max_unparseable, keep=True)
        report.raise_for_errors()
        return _frame(coerced, df.index)
    report.raise_for_errors()
    features = _features(reference)
    _check_frame(df)
    columns = {str(c): c for c in df.columns}
    missing = [f["name"] for f in features if f["name"] not in columns]
    if missing:  # a report from another file: it cannot vouch for this one
        raise InvalidInputError(
            f"Column {missing[0]!r} is missing from the file: the report given does not describe this data.",
            hint="Validate this data (or all its chunks) and pass that report.",
        )
    coerced = {f["name"]: coerce_column(f, df[columns[f["name"]]]).values for f in features}
    return _frame(coerced, df.index)


def _frame(columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    # The arrays, not the Series: no alignment, so repeated index labels are fine.
    return pd.DataFrame({name: values.array for name, values in columns.items()}, index=index)


def _check_share(max_unparseable: Any) -> None:
    if (
        isinstance(max_unparseable, bool)
        or not isinstance(max_unparseable, int | float)
        or not (0.0 <= max_unparseable <= 1.0)
    ):
        raise InvalidInputError(
            f"The 'max_unparseable' parameter must be a share between 0 and 1; got {max_unparseable!r} instead."
        )


# ------------------------------------------------------------- checks


def _features(reference: Any) -> list[dict]:
    if not isinstance(reference, dict) or not isinstance(reference.get("features"), list):
        raise InvalidInputError(
            "The reference must be the dict that build_reference returned; "
            f"got {type(reference).__name__} without a 'features' list instead."
        )
    return reference["features"]


def _check_frame(df: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"A batch must be a pandas DataFrame; got {type(df).__name__} instead.")
    if len(df) == 0:
        raise InvalidInputError(
            "The file has no rows: there is nothing to score.", hint="Check that the file is the one you meant."
        )


def _validate(
    reference: dict, df: pd.DataFrame, max_unparseable: float, keep: bool = False
) -> tuple[ValidationReport, dict[str, pd.Series]]:
    features = _features(reference)
    _check_frame(df)
    n = len(df)
    names = [f["name"] for f in features]
    columns: dict[str, Hashable] = {}
    repeated: dict[str, int] = {}
    for c in df.columns:
        if str(c) in columns:
            repeated[str(c)] = repeated.get(str(c), 1) + 1
        columns.setdefault(str(c), c)
    present = [name for name in names if name in columns]
    context = {"n_features": len(names), "n_present": len(present)}
    issues: list[ValidationIssue] = []
    coerced: dict[str, pd.Series] = {}
    for feature in features:
        name = feature["name"]
        if name not in columns:
            issues.append(_issue("missing_column", name, n, n, [], context, max_unparseable))
            continue
        if name in repeated:
            issues.append(_issue("duplicate_column", name, n, n, [], {"copies": repeated[name]}, max_unparseable))
            continue
        result = coerce_column(feature, df[columns[name]])
        issues += _column_issues(feature, result, n, str(df[columns[name]].dtype), max_unparseable)
        if keep:
            coerced[name] = result.values
    known = set(names)
    for extra in columns:
        if extra not in known:
            issues.append(_issue("extra_column", extra, n, n, [], {}, max_unparseable))
    return ValidationReport(n, _sorted(issues), max_unparseable), coerced


def _column_issues(feature: dict, result: Coerced, n: int, found: str, max_unparseable: float) -> list[ValidationIssue]:
    name, kind = feature["name"], feature["logical_type"]
    detail = {"logical_type": kind, "found_dtype": found}
    issues = []
    if result.n_converted:
        issues.append(_issue("type_coercible", name, result.n_converted, n, [], detail, max_unparseable))
    if result.n_failed:
        issues.append(
            _issue("type_not_coercible", name, result.n_failed, n, result.failed_examples, detail, max_unparseable)
        )
    if result.unseen:
        truncated = {"max_categories": len(feature["categories"]), "truncated": feature.get("other_count", 0) > 0}
        issues.append(
            _issue("unseen_category", name, result.unseen, n, result.unseen_examples, truncated, max_unparseable)
        )
    if kind in ("numeric", "datetime"):
        issue = _range_issue(feature, result.values, n, max_unparseable)
        if issue is not None:
            issues.append(issue)
    if result.n_missing and feature["n_missing"] == 0:
        issues.append(_issue("missing_values", name, result.n_missing, n, [], {}, max_unparseable))
    return issues


def _range_issue(feature: dict, values: pd.Series, n: int, max_unparseable: float) -> ValidationIssue | None:
    stats = feature["stats"]
    if stats.get("min") is None:
        return None
    if feature["logical_type"] == "datetime":
        x = datetime_to_ns(values)
        stamps = [stats["min"], stats["max"], stats["quantiles"]["p25"], stats["quantiles"]["p75"]]
        low, high, p25, p75 = iso_to_ns(stamps)
        iqr = p75 - p25
    else:
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        low, high = stats["min"], stats["max"]
        iqr = stats["quantiles"]["p75"] - stats["quantiles"]["p25"]
    width = iqr if iqr > 0 else high - low
    lo, hi = low - RANGE_IQR_FACTOR * width, high + RANGE_IQR_FACTOR * width
    outside = (x < lo) | (x > hi)
    count = int(outside.sum())
    if not count:
        return None
    bad = x[outside]
    if feature["logical_type"] == "datetime":
        far = values[outside]
        examples = examples_of([far.min().isoformat(), far.max().isoformat()])
        detail = {"low": stats["min"], "high": stats["max"]}
    else:
        examples = examples_of([_number(float(bad.min())), _number(float(bad.max()))])
        detail = {"low": _number(low), "high": _number(high)}
    return _issue("out_of_range", feature["name"], count, n, examples, detail, max_unparseable)


def _number(value: float) -> str:
    return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"


# ------------------------------------------------------------- wording


def _share(count: int, n: int) -> str:
    share = 100.0 * count / n if n else 0.0
    return f"{share:.2g}%" if share < 10 else f"{share:.0f}%"


def _values(count: int) -> str:
    return f"{count:,} value" + ("" if count == 1 else "s")


def _eg(examples: list[str] | tuple[str, ...]) -> str:
    return (", e.g. " + ", ".join(repr(e) for e in examples[:3])) if examples else ""


def _issue(
    kind: str, column: str, count: int, n: int, examples: list[str], detail: dict, max_unparseable: float
) -> ValidationIssue:
    severity = {
        "missing_column": "error",
        "duplicate_column": "error",
        "extra_column": "info",
        "type_coercible": "info",
        "unseen_category": "warning",
        "out_of_range": "warning",
        "missing_values": "warning",
    }.get(kind)
    if kind == "missing_column":
        message = (
            f"Column {column!r} is missing from the file: the model was trained on {detail['n_features']} columns, "
            f"this file has {detail['n_present']} of them."
        )
    elif kind == "duplicate_column":
        message = f"Column {column!r} appears {detail['copies']} times in the file: keep one of them."
    elif kind == "extra_column":
        message = f"Column {column!r} is not one of the model's features: it is ignored."
    elif kind == "type_coercible":
        words = _TYPE_WORDS.get(detail["logical_type"], "categories")
        stored = "text" if detail["found_dtype"] in ("object", "string", "str") else detail["found_dtype"]
        message = f"Column {column!r} holds {words} stored as {stored} ({_values(count)}): they are converted."
    elif kind == "type_not_coercible":
        words = _TYPE_WORDS.get(detail["logical_type"], "values")
        blocking = count > max_unparseable * n
        severity = "error" if blocking else "warning"
        message = f"Column {column!r} should hold {words}, but {_values(count)} ({_share(count, n)}) cannot be read"
        message += f" as {words}{_eg(examples)}"
        message += (
            f": fix them or empty those cells (at most {max_unparseable:.0%} of a column may be unreadable)."
            if blocking
            else ": they are treated as missing."
        )
    elif kind == "unseen_category":
        where = (
            f"among the {detail['max_categories']} most frequent categories of training"
            if detail.get("truncated")
            else "in training"
        )
        message = f"Column {column!r} has {_values(count)} ({_share(count, n)}) never seen {where}{_eg(examples)}."
    elif kind == "out_of_range":
        message = (
            f"Column {column!r} has {_values(count)} ({_share(count, n)}) far outside the training range "
            f"{detail['low']} to {detail['high']}{_eg(examples)}."
        )
    elif kind == "missing_values":
        message = (
            f"Column {column!r} has {count:,} missing value{'s' if count != 1 else ''} ({_share(count, n)}); "
            "training had none, so the model never learnt what they mean."
        )
    else:  # pragma: no cover - every kind is listed above
        raise ValueError(f"Unknown issue kind {kind!r}.")
    return ValidationIssue(column, kind, severity, int(count), message, tuple(examples[:MAX_EXAMPLES]), dict(detail))


def _sorted(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    return sorted(issues, key=lambda i: SEVERITY_ORDER[i.severity])
