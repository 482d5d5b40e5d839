"""Drift of 1,000,000 rows x 20 columns against stored reference statistics.

    python -m benchmarks.bench_drift [--rows 1000000] [--repeat 3] [--quick]

Times Atelier's three steps on the same frames (median of ``--repeat``):
``build_reference`` on the training rows, ``validate_batch`` and
``detect_drift`` on the new rows (target: drift in 2 s or less), and, when
they can be imported, Evidently's ``DataDriftPreset`` and nannyml's
univariate drift on the raw training rows vs the new rows.  Three features
are shifted on purpose (``num_0`` by half a standard deviation, ``num_1``
spread 1.5x, ``cat_0`` reweighted); the last column says what each tool
flags.

Neither Evidently nor nannyml is in the project's venv: ``pip install
--dry-run`` shows Evidently 0.7 would downgrade plotly 7.1 to 5.24 and
nannyml 0.13 also lightgbm and xgboost.  To compare, install one into a
throwaway venv that sees the project's packages and run this file with that
interpreter (see the note printed under the table).
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import markdown_table, median, parse_sized, size_parser
from core.models.training_stats import build_reference
from core.serve.drift import detect_drift
from core.serve.validation import validate_batch

SHIFTED = ["num_0", "num_1", "cat_0"]


def make_frame(rows: int, seed: int, *, shifted: bool = False) -> pd.DataFrame:
    """12 float, 3 int, 4 categorical (text) and 1 boolean column."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i in range(12):
        kind = i % 3
        if kind == 0:
            cols[f"num_{i}"] = rng.normal(50 + i, 5 + i, rows)
        elif kind == 1:
            cols[f"num_{i}"] = rng.lognormal(1.0, 0.5, rows)
        else:
            cols[f"num_{i}"] = rng.gamma(2.0, 3.0, rows)
    for i in range(3):
        cols[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), rows)
    for i in range(4):
        labels = np.array([f"label_{j}" for j in range(5 + 8 * i)])
        weights = np.linspace(1.0, 3.0, len(labels))
        if shifted and i == 0:
            weights = weights[::-1]
        cols[f"cat_{i}"] = labels[rng.choice(len(labels), rows, p=weights / weights.sum())]
    cols["flag"] = rng.random(rows) < 0.3
    df = pd.DataFrame(cols)
    if shifted:
        df["num_0"] += 0.5 * 5  # half a standard deviation
        df["num_1"] = df["num_1"].mean() + 1.5 * (df["num_1"] - df["num_1"].mean())
    return df


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return median(times), result


def _no_telemetry() -> None:
    # Both libraries report usage to a web service by default; this machine has no network and wants none.
    for key in ("DO_NOT_TRACK", "EVIDENTLY_DISABLE_TELEMETRY", "NML_DISABLE_USAGE_LOGGING"):
        os.environ[key] = "1"


def evidently_drift(train: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    categorical = [c for c in train.columns if c.startswith("cat_") or c == "flag"]
    numerical = [c for c in train.columns if c not in categorical]
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(new, data_definition=definition),
        reference_data=Dataset.from_pandas(train, data_definition=definition),
    )
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        # p-value tests drift below the threshold, distances (used above 1,000 rows) at or above it
        is_drift = value < threshold if "p_value" in config["method"] else value >= threshold
        if is_drift:
            drifted.append(config["column"])
    return drifted


def nannyml_drift(train: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    import nannyml as nml
    from nannyml.thresholds import ConstantThreshold

    columns = list(train.columns)
    # One chunk each side, so nannyml's default thresholds (3 std of the
    # reference chunks' values) are degenerate: fixed ones instead, the same
    # effect size Atelier uses for KS and Evidently for Jensen-Shannon.
    calc = nml.UnivariateDriftCalculator(
        column_names=columns,
        treat_as_categorical=[c for c in columns if c.startswith("cat_") or c == "flag"],
        continuous_methods=["kolmogorov_smirnov"],
        categorical_methods=["jensen_shannon"],
        thresholds={
            "kolmogorov_smirnov": ConstantThreshold(upper=0.1),
            "jensen_shannon": ConstantThreshold(upper=0.1),
        },
        chunk_number=1,
    )
    with warnings.catch_warnings(action="ignore"):  # "number of chunks is too low": one is what we want
        calc.fit(train)
        result = calc.calculate(new).filter(period="analysis").to_df()
    drifted = []
    for column in columns:
        alerts = [c for c in result.columns if c[0] == column and c[-1] == "alert"]
        if any(bool(result[c].iloc[0]) for c in alerts):
            drifted.append(column)
    return drifted


def version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    return str(getattr(__import__(module), "__version__", "?"))


def main() -> None:
    parser = size_parser(1_000_000, 100_000)
    args = parse_sized(parser)
    _no_telemetry()
    train = make_frame(args.rows, seed=0)
    new = make_frame(args.rows, seed=1, shifted=True)
    shape = f"{args.rows:,} × {train.shape[1]}"

    t_ref, reference = timed(lambda: build_reference(train, list(train.columns)), args.repeat)
    t_val, report = timed(lambda: validate_batch(reference, new), args.repeat)
    t_drift, drift = timed(lambda: detect_drift(reference, new), args.repeat)
    rows = [
        {"step": "reference statistics (build_reference)", "tool": "Atelier", "median s": f"{t_ref:.2f}",
         "target": "≤ 1 s", "flags": "—"},
        {"step": "batch validation (validate_batch)", "tool": "Atelier", "median s": f"{t_val:.2f}",
         "target": "—", "flags": f"{len(report.errors)} errors, {len(report.warnings)} warnings"},
        {"step": "drift vs stored statistics (detect_drift)", "tool": "Atelier", "median s": f"{t_drift:.2f}",
         "target": "≤ 2 s", "flags": ", ".join(drift.drifted_features) or "none"},
    ]  # fmt: skip
    for name, module, fn in (
        ("Evidently DataDriftPreset", "evidently", evidently_drift),
        ("nannyml UnivariateDriftCalculator", "nannyml", nannyml_drift),
    ):
        found = version(module)
        if found is None:
            rows.append({"step": "drift vs raw training rows", "tool": name, "median s": "not installed",
                         "target": "—", "flags": "—"})  # fmt: skip
            continue
        t_other, flagged = timed(lambda fn=fn: fn(train, new), args.repeat)
        rows.append({"step": "drift vs raw training rows", "tool": f"{name} {found}", "median s": f"{t_other:.2f}",
                     "target": "—", "flags": ", ".join(flagged) or "none"})  # fmt: skip
    print(f"\nDrift of {shape} new rows against a {shape} training set, median of {args.repeat}\n")
    print(markdown_table(rows))
    print(f"\nShifted on purpose: {', '.join(SHIFTED)}. Verdict: {drift.verdict}.")
    if any(r["median s"] == "not installed" for r in rows):
        print(
            "Not installed tools were left out of the project venv (their pins would downgrade plotly). To compare:\n"
            "  python -m venv /tmp/bench && echo $(.venv/bin/python -c 'import site;print(site.getsitepackages()[0])')"
            " > /tmp/bench/lib/python3.11/site-packages/project.pth\n"
            "  /tmp/bench/bin/pip install evidently && /tmp/bench/bin/python -m benchmarks.bench_drift"
        )


if __name__ == "__main__":
    main()
