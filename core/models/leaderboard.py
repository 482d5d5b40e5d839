"""The leaderboard: every model version as one row of a table, and what to read off it.

Fed by :func:`core.models.registry.list_versions`; pure pandas, no database.  Each
metric becomes its own column; a cross-validation summary such as
``metrics["cv"]["roc_auc"] = {"mean": .91, "std": .02}`` becomes a text
column ``cv_roc_auc`` ("0.910 ± 0.020") plus numeric ``cv_roc_auc_mean`` and
``cv_roc_auc_std``.  :func:`metric_direction` knows which way is better.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.models.card import ModelCard
from core.models.registry import ModelVersionInfo
from core.platform.errors import InvalidInputError

BASE_COLUMNS = ["name", "version", "stage", "dataset", "algorithm", "problem_type"]
COST_COLUMNS = ["train_seconds", "size_bytes", "predict_ms_per_1k", "created_at", "id"]

HIGHER_IS_BETTER = (
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "average_precision", "r2",
    "explained_variance", "silhouette", "calinski_harabasz", "mcc", "matthews_corrcoef",
)
LOWER_IS_BETTER = (
    "log_loss", "rmse", "mse", "mae", "mape", "rmsle", "median_absolute_error", "max_error", "brier",
    "davies_bouldin",
)
_PREFIXES = ("cv_", "test_", "val_", "valid_", "validation_", "holdout_", "train_")


def metric_direction(column: str) -> str | None:
    """``'max'`` when higher is better, ``'min'`` when lower is, ``None`` when not a known metric.

    ``cv_``/``test_`` prefixes, a ``_mean`` suffix and variants such as
    ``f1_macro`` or ``roc_auc_ovr`` are understood; a ``_std`` is no score.
    """
    name = str(column).lower()
    if name.endswith("_std"):
        return None
    name = name.removesuffix("_mean")
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name, stripped = name[len(prefix):], True
    for direction, names in (("max", HIGHER_IS_BETTER), ("min", LOWER_IS_BETTER)):
        if any(name == base or name.startswith(base + "_") for base in names):
            return direction
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3f}"


def flatten_metrics(metrics: Mapping[str, Any], *, depth: int = 2) -> dict[str, float | str]:
    """One flat ``{column: value}`` per version.

    Numbers up to ``depth`` levels deep become ``parent_child`` columns;
    ``{"mean", "std"}`` summaries become a text column plus ``_mean`` and
    ``_std``; lists (confusion matrices, curves) and deeper levels are left out.
    """
    flat: dict[str, float | str] = {}

    def walk(prefix: str, value: Any, level: int) -> None:
        if isinstance(value, Mapping):
            if prefix and _is_number(value.get("mean")):
                mean, std = float(value["mean"]), value.get("std")
                flat[prefix] = f"{_fmt(mean)} ± {_fmt(float(std))}" if _is_number(std) else _fmt(mean)
                flat[f"{prefix}_mean"] = mean
                if _is_number(std):
                    flat[f"{prefix}_std"] = float(std)
            elif level < depth:
                for key, inner in value.items():
                    walk(f"{prefix}_{key}" if prefix else str(key), inner, level + 1)
        elif _is_number(value) and prefix:
            flat[prefix] = float(value)

    walk("", metrics, 0)
    return flat


def summary_parts(columns: Iterable[str]) -> list[str]:
    """The ``_mean`` / ``_std`` columns that :func:`flatten_metrics` adds beside a ``mean ± std`` column."""
    columns = list(columns)
    names = set(columns)
    return [c for c in columns if c.endswith(("_mean", "_std")) and c.rsplit("_", 1)[0] in names]


def shown_as(column: str, columns: Iterable[str]) -> str:
    """The column a metric is shown under: a ``_mean`` shows in its ``mean ± std`` column when there is one."""
    base = column.removesuffix("_mean")
    return base if base != column and base in set(columns) else column


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _moment(value: dt.datetime | dt.date | str, *, end_of_day: bool) -> pd.Timestamp:
    whole_day = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and len(value.strip()) == 10)
    try:
        moment = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"{value!r} is not a date or a moment in time.",
                                hint="Use a date such as 2026-01-31 or a datetime.") from exc
    if whole_day and end_of_day:
        moment = moment + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # the whole day is included
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def leaderboard(
    versions: Sequence[ModelVersionInfo],
    *,
    dataset: str | Iterable[str] | None = None,
    algorithm: str | Iterable[str] | None = None,
    problem_type: str | Iterable[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
) -> pd.DataFrame:
    """One row per model version, metrics as columns, filtered.

    Parameters
    ----------
    versions : from :func:`core.models.registry.list_versions`.
    dataset : a dataset label (``'titanic@2'``) or name (``'titanic'``: every version of it), or several.
    algorithm, problem_type : one value or several.
    since, until : creation moments (inclusive); a date without a time covers the whole day; naive means UTC.

    Returns
    -------
    DataFrame
        Columns ``name, version, stage, dataset, algorithm, problem_type``,
        then one per metric, then ``train_seconds, size_bytes,
        predict_ms_per_1k, created_at, id``; in the order given.
    """
    datasets, algorithms, problems = _as_set(dataset), _as_set(algorithm), _as_set(problem_type)
    start = None if since is None else _moment(since, end_of_day=False)
    end = None if until is None else _moment(until, end_of_day=True)
    rows, metric_columns = [], {}
    for mv in versions:
        if datasets is not None and mv.dataset_label not in datasets and \
                mv.dataset_label.rpartition("@")[0] not in datasets:
            continue
        if algorithms is not None and mv.algorithm not in algorithms:
            continue
        if problems is not None and mv.problem_type not in problems:
            continue
        created = pd.Timestamp(mv.created_at)
        created = created.tz_localize("UTC") if created.tzinfo is None else created.tz_convert("UTC")
        if (start is not None and created < start) or (end is not None and created > end):
            continue
        flat = flatten_metrics(mv.metrics)
        metric_columns.update(dict.fromkeys(flat))
        rows.append({
            "name": mv.name, "version": mv.version, "stage": mv.stage, "dataset": mv.dataset_label,
            "algorithm": mv.algorithm, "problem_type": mv.problem_type, **flat,
            "train_seconds": mv.train_seconds, "size_bytes": mv.size_bytes,
            "predict_ms_per_1k": np.nan if mv.predict_ms_per_1k is None else mv.predict_ms_per_1k,
            "created_at": created, "id": mv.id,
        })
    columns = BASE_COLUMNS + list(metric_columns) + COST_COLUMNS
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric columns of ``frame`` that are scores with a known direction."""
    return [c for c in frame.columns
            if c not in BASE_COLUMNS and metric_direction(c) and pd.api.types.is_numeric_dtype(frame[c])]


def best_per_metric(frame: pd.DataFrame) -> dict[str, Hashable]:
    """``{metric: index of the best row}`` for every metric column with a known direction.

    Ties go to the first row; columns with no value are left out.
    """
    best: dict[str, Hashable] = {}
    for column in metric_columns(frame):
        values = frame[column].dropna()
        if values.empty:
            continue
        best[column] = values.idxmax() if metric_direction(column) == "max" else values.idxmin()
    return best


def best_within(frame: pd.DataFrame, groups: Sequence[Hashable]) -> dict[str, list[Hashable]]:
    """``{metric: [index of the best row of each group]}``: a best per task, never one across unrelated tasks.

    ``groups`` gives each row's group (its dataset and target), in the frame's order; rows of
    a group compete only with each other.  Ties go to a group's first row.
    """
    keys = pd.Series(list(groups), index=frame.index)
    best: dict[str, list[Hashable]] = {}
    for _, part in frame.groupby(keys, sort=False):
        for column, index in best_per_metric(part).items():
            best.setdefault(column, []).append(index)
    return best


def pareto_front(frame: pd.DataFrame, score: str, cost: str = "train_seconds", *,
                 higher_is_better: bool | None = None) -> pd.Series:
    """``True`` for rows no other row beats on both ``score`` and ``cost``.

    A row is dominated when another is at least as good on both and better
    on one.  Rows missing either value are never on the front.  A text
    summary column such as ``cv_roc_auc`` is read through ``cv_roc_auc_mean``.
    """
    for column in (score, cost):
        if column not in frame.columns:
            raise InvalidInputError(f"The leaderboard has no column {column!r}.",
                                    hint=f"Choose one of: {', '.join(map(str, frame.columns))}.")
    if not pd.api.types.is_numeric_dtype(frame[score]) and f"{score}_mean" in frame.columns:
        score = f"{score}_mean"
    if higher_is_better is None:
        direction = metric_direction(score)
        if direction is None:
            raise InvalidInputError(f"Which way is better for {score!r} is not known.",
                                    hint="Pass higher_is_better=True or False.")
        higher_is_better = direction == "max"
    s = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(frame[cost], errors="coerce").to_numpy(dtype=float)
    s = s if higher_is_better else -s
    valid = ~(np.isnan(s) | np.isnan(c))
    # dominated[i] = some j is at least as good on both and strictly better on one
    ge = (s[None, :] >= s[:, None]) & (c[None, :] <= c[:, None])
    gt = (s[None, :] > s[:, None]) | (c[None, :] < c[:, None])
    dominated = (ge & gt & valid[None, :]).any(axis=1)
    return pd.Series(valid & ~dominated, index=frame.index, name="pareto")


# -- export ----------------------------------------------------------------------------
def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV, without the index."""
    return frame.to_csv(index=False).encode("utf-8")


def to_excel_bytes(frame: pd.DataFrame, sheet_name: str = "Leaderboard") -> bytes:
    """The table as an .xlsx workbook (Excel has no time zones: times are written as UTC)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        out.to_excel(writer, index=False, sheet_name=sheet_name[:31])
    return buffer.getvalue()


# -- two versions side by side ----------------------------------------------------------
def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def _flat_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(_flat_params(value, name))
        else:
            flat[name] = _show(value)
    return flat


def _importances(card: ModelCard) -> dict[str, float]:
    """Importances from a card: ``{feature: value}`` (what training stores) or a list of records."""
    stored = card.importances or {}
    pairs = stored.items() if isinstance(stored, Mapping) else (
        (item.get("feature"), item.get("importance")) for item in stored if isinstance(item, Mapping))
    return {str(f): float(v) for f, v in pairs if f is not None and _is_number(v)}


def compare(mv_a: ModelVersionInfo, mv_b: ModelVersionInfo, *, top: int = 10) -> dict[str, Any]:
    """Two versions side by side.

    Returns
    -------
    dict
        ``labels``: the two column names (``NAME:VERSION``);
        ``overview``: algorithm, dataset, stage, cost (text);
        ``parameters``: ``card.params`` flattened, as text, with ``same``;
        ``metrics``: numeric metrics with ``difference`` (B − A) and ``better``
        (the label of the better one, ``'tie'``, or ``''`` when unknown);
        ``importances``: the union of each one's ``top`` features.
    """
    la, lb = mv_a.label, mv_b.label
    if la == lb:
        la, lb = f"{la} (A)", f"{lb} (B)"

    def facts(mv: ModelVersionInfo) -> dict[str, str]:
        return {
            "algorithm": mv.algorithm, "problem type": mv.problem_type, "target": str(mv.target or ""),
            "dataset": mv.dataset_label, "stage": mv.stage, "train seconds": f"{mv.train_seconds:.2f}",
            "size (bytes)": f"{mv.size_bytes:,}",
            "predict ms per 1k rows": "" if mv.predict_ms_per_1k is None else f"{mv.predict_ms_per_1k:.2f}",
            "created": f"{mv.created_at:%Y-%m-%d %H:%M}",
        }

    fa, fb = facts(mv_a), facts(mv_b)
    overview = pd.DataFrame({"item": list(fa), la: list(fa.values()), lb: list(fb.values())})

    pa, pb = _flat_params(mv_a.card.params), _flat_params(mv_b.card.params)
    names = sorted(set(pa) | set(pb))
    parameters = pd.DataFrame({"parameter": names, la: [pa.get(n, "") for n in names],
                               lb: [pb.get(n, "") for n in names],
                               "same": [pa.get(n) == pb.get(n) for n in names]})

    ma = {k: v for k, v in flatten_metrics(mv_a.metrics).items() if isinstance(v, float)}
    mb = {k: v for k, v in flatten_metrics(mv_b.metrics).items() if isinstance(v, float)}
    keys = list(dict.fromkeys([*ma, *mb]))
    metrics = pd.DataFrame({"metric": keys, la: [ma.get(k, np.nan) for k in keys],
                            lb: [mb.get(k, np.nan) for k in keys]})
    metrics["difference"] = metrics[lb] - metrics[la]
    metrics["better"] = [_better(k, ma.get(k), mb.get(k), la, lb) for k in keys]

    ia, ib = _importances(mv_a.card), _importances(mv_b.card)
    chosen = list(dict.fromkeys([*sorted(ia, key=ia.get, reverse=True)[:top],
                                 *sorted(ib, key=ib.get, reverse=True)[:top]]))
    importances = pd.DataFrame({"feature": chosen, la: [ia.get(f, np.nan) for f in chosen],
                                lb: [ib.get(f, np.nan) for f in chosen]})
    if not importances.empty:
        order = importances[[la, lb]].max(axis=1).sort_values(ascending=False).index
        importances = importances.loc[order].reset_index(drop=True)
    return {"labels": [la, lb], "overview": overview, "parameters": parameters, "metrics": metrics,
            "importances": importances}


def _better(metric: str, a: float | None, b: float | None, la: str, lb: str) -> str:
    direction = metric_direction(metric)
    if direction is None or a is None or b is None:
        return ""
    if a == b:
        return "tie"
    return (la if a > b else lb) if direction == "max" else (la if a < b else lb)


__all__ = [
    "best_per_metric", "best_within", "compare", "flatten_metrics", "leaderboard", "metric_columns", "metric_direction",
    "pareto_front", "to_csv_bytes", "to_excel_bytes",
]
