"""What a validation finds: issues per column, worded for the user, and the report that holds them.

Each issue keeps the plain data behind its message (``detail``), so that the
reports of a file's chunks can be merged and every issue worded and graded
again on the totals (:meth:`ValidationReport.merge`).  The checks themselves
live in :mod:`core.serve.validation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.platform.errors import InvalidInputError
from core.serve.coercion import MAX_EXAMPLES

__all__ = ["SEVERITY_ORDER", "ValidationIssue", "ValidationReport", "errors_first", "make_issue"]

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
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
            issues.append(make_issue(kind, column, count, n_rows, examples, group[0].detail, self.max_unparseable))
        return ValidationReport(n_rows, errors_first(issues), self.max_unparseable)


def _share(count: int, n: int) -> str:
    share = 100.0 * count / n if n else 0.0
    return f"{share:.2g}%" if share < 10 else f"{share:.0f}%"


def _values(count: int) -> str:
    return f"{count:,} value" + ("" if count == 1 else "s")


def _eg(examples: list[str] | tuple[str, ...]) -> str:
    return (", e.g. " + ", ".join(repr(e) for e in examples[:3])) if examples else ""


def make_issue(
    kind: str, column: str, count: int, n: int, examples: list[str], detail: dict, max_unparseable: float
) -> ValidationIssue:
    """The issue of ``kind`` in ``column``: ``count`` of ``n`` values, graded and worded."""
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


def errors_first(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """Errors, then warnings, then notes; the order within each is kept."""
    return sorted(issues, key=lambda i: SEVERITY_ORDER[i.severity])
