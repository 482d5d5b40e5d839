"""Check a batch of new rows against a model's reference before scoring it.

``validate_batch`` compares a frame with the reference statistics stored with
the model (``core.models.training_stats``) and lists every problem per column with a
count: missing columns, values of the wrong type (readable or not), categories
never seen in training, values far outside the training range, and missing
values where training had none.  ``error`` issues block scoring, ``warning``
issues do not, ``info`` issues only tell.  ``coerce_batch`` then returns the
model's columns, in training order, converted to the training types.

Large files are checked chunk by chunk: validate each chunk, combine the
reports with ``ValidationReport.merge`` (counts add up, severities are
decided again on the totals), and coerce each chunk with the merged report;
``validate_and_coerce`` does both for a chunk in one pass (the batch scorer
converts each chunk as it checks it).  ``validate_row`` is the one-row case
(the Predict page's form) without building a frame first.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from core.data.types import datetime_to_ns, iso_to_ns
from core.platform.errors import InvalidInputError
from core.serve.coercion import Coerced, coerce_column, coerce_value, examples_of
from core.serve.validation_report import ValidationIssue, ValidationReport, errors_first, make_issue

__all__ = ["ValidationIssue", "ValidationReport", "coerce_batch", "validate_and_coerce", "validate_batch",
           "validate_row"]

# How far outside the training range a value may lie before it is flagged:
# this many interquartile ranges beyond the training minimum or maximum.
RANGE_IQR_FACTOR = 3.0


def validate_batch(reference: dict, df: pd.DataFrame, *, max_unparseable: float = 0.01) -> ValidationReport:
    """Check a batch against the model's reference statistics.

    Parameters
    ----------
    reference : dict
        What ``core.models.training_stats.build_reference`` stored with the model.
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


def validate_and_coerce(
    reference: dict, df: pd.DataFrame, *, file_columns: Iterable[Hashable] | None = None,
    max_unparseable: float = 0.01,
) -> tuple[ValidationReport, pd.DataFrame | None]:
    """``validate_batch`` and ``coerce_batch`` in one pass over the columns.

    Parameters
    ----------
    reference : dict
        The model's reference statistics.
    df : DataFrame
        The rows to score (or one chunk of them).
    file_columns : iterable, optional
        Every column name of the file when ``df`` holds only the columns that
        were read (the model's): missing, repeated and extra columns are
        judged on these names.  By default, ``df``'s own columns.
    max_unparseable : float, default 0.01
        As in ``validate_batch``.

    Returns
    -------
    (ValidationReport, DataFrame or None)
        The report and the converted columns, unless a feature is missing or
        repeated.  Values that could not be read are missing in the frame even
        when there are too many of them for this chunk alone: whether they
        block scoring is for the report of the whole file to decide.  Columns
        that needed no conversion share ``df``'s memory (no copy is made): do
        not change one frame in place while the other is in use.
    """
    _check_share(max_unparseable)
    report, coerced = _validate(reference, df, max_unparseable, keep=True, file_columns=file_columns)
    complete = len(coerced) == len(_features(reference))
    return report, (_frame(coerced, df.index, copy=False) if complete else None)


def validate_row(
    reference: dict, row: Mapping[str, Any], *, max_unparseable: float = 0.01
) -> tuple[ValidationReport, pd.DataFrame | None]:
    """``validate_batch`` and ``coerce_batch`` of the one-row frame ``pd.DataFrame([row])``, without the frame.

    The report and the converted row are the same as those two calls give
    (``validate_and_coerce`` of that frame); common values (numbers,
    categories, true/false, missing) are converted in plain Python, others
    as a one-value column.  The converted row is ``None`` when a feature is
    missing from ``row``.
    """
    _check_share(max_unparseable)
    features = _features(reference)
    if not isinstance(row, Mapping):
        raise InvalidInputError(f"A row must be a mapping of column names to values; got {type(row).__name__} instead.")
    keys = {str(k): k for k in row}
    if len(keys) < len(row):  # names that read the same: the frame's own checks word it
        return validate_and_coerce(reference, pd.DataFrame([row]), max_unparseable=max_unparseable)
    names = [f["name"] for f in features]
    context = {"n_features": len(names), "n_present": sum(name in keys for name in names)}
    issues: list[ValidationIssue] = []
    coerced: dict[str, pd.Series] = {}
    for feature in features:
        name = feature["name"]
        if name not in keys:
            issues.append(make_issue("missing_column", name, 1, 1, [], context, max_unparseable))
            continue
        value = row[keys[name]]
        fast = coerce_value(feature, value)
        if fast is None:
            series = pd.Series([value])
            result, found = coerce_column(feature, series), str(series.dtype)
        else:
            result, found = fast
        issues += _column_issues(feature, result, 1, found, max_unparseable)
        coerced[name] = result.values
    known = set(names)
    issues += [make_issue("extra_column", extra, 1, 1, [], {}, max_unparseable) for extra in keys if extra not in known]
    report = ValidationReport(1, errors_first(issues), max_unparseable)
    return report, (_frame(coerced, pd.RangeIndex(1)) if len(coerced) == len(features) else None)


def _frame(columns: dict[str, pd.Series], index: pd.Index, copy: bool = True) -> pd.DataFrame:
    # The arrays, not the Series: no alignment, so repeated index labels are fine.  NumPy arrays
    # bare (wrapped, pandas scans object columns for missing values on the way in), others as
    # extension arrays, which keep their dtype (time zones).  Without a copy, pandas keeps each
    # column as it is rather than gathering them into one block.
    arrays = {name: values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
              for name, values in columns.items()}
    return pd.DataFrame(arrays, index=index, copy=copy)


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
    reference: dict, df: pd.DataFrame, max_unparseable: float, keep: bool = False,
    file_columns: Iterable[Hashable] | None = None,
) -> tuple[ValidationReport, dict[str, pd.Series]]:
    features = _features(reference)
    _check_frame(df)
    n = len(df)
    names = [f["name"] for f in features]
    columns: dict[str, Hashable] = {}
    repeated: dict[str, int] = {}
    data = None if file_columns is None else {str(c): c for c in df.columns}  # the columns read, by name
    for c in df.columns if file_columns is None else file_columns:
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
            issues.append(make_issue("missing_column", name, n, n, [], context, max_unparseable))
            continue
        if name in repeated:
            issues.append(make_issue("duplicate_column", name, n, n, [], {"copies": repeated[name]}, max_unparseable))
            continue
        series = df[columns[name] if data is None else data[name]]
        result = coerce_column(feature, series)
        issues += _column_issues(feature, result, n, str(series.dtype), max_unparseable)
        if keep:
            coerced[name] = result.values
    known = set(names)
    for extra in columns:
        if extra not in known:
            issues.append(make_issue("extra_column", extra, n, n, [], {}, max_unparseable))
    return ValidationReport(n, errors_first(issues), max_unparseable), coerced


def _column_issues(feature: dict, result: Coerced, n: int, found: str, max_unparseable: float) -> list[ValidationIssue]:
    name, kind = feature["name"], feature["logical_type"]
    detail = {"logical_type": kind, "found_dtype": found}
    issues = []
    if result.n_converted:
        issues.append(make_issue("type_coercible", name, result.n_converted, n, [], detail, max_unparseable))
    if result.n_failed:
        issues.append(
            make_issue("type_not_coercible", name, result.n_failed, n, result.failed_examples, detail, max_unparseable)
        )
    if result.unseen:
        truncated = {"max_categories": len(feature["categories"]), "truncated": feature.get("other_count", 0) > 0}
        issues.append(
            make_issue("unseen_category", name, result.unseen, n, result.unseen_examples, truncated, max_unparseable)
        )
    if kind in ("numeric", "datetime"):
        issue = _range_issue(feature, result.values, n, max_unparseable)
        if issue is not None:
            issues.append(issue)
    if result.n_missing and feature["n_missing"] == 0:
        issues.append(make_issue("missing_values", name, result.n_missing, n, [], {}, max_unparseable))
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
    return make_issue("out_of_range", feature["name"], count, n, examples, detail, max_unparseable)


def _number(value: float) -> str:
    return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"
