"""Training benchmarks: our explanation and tuning paths against the plain baselines.

(2) Global SHAP importance of a 300-tree LightGBM on 200,000 rows: ``core.ml.explain.shap_summary``
    (a 1,000-row sample, LightGBM's native contributions) against ``shap.TreeExplainer`` on every
    row.  Reports the speed ratio (target ≥ 50×) and the Spearman correlation of the two
    per-feature importance vectors (target ≥ 0.95).
(3) Optuna, 50 trials of LightGBM with 3-fold cross-validation, with the MedianPruner against
    without: wall-time ratio and the best score of each.

Run ``python benchmarks/bench_train.py [--quick] [--repeats N]`` from the repository root; it
prints a markdown table.  ``--quick`` uses smaller data (and one repeat) for a run of a few
minutes; the full run takes tens of minutes on two cores.  Timings on a shared machine swing
widely with its load (LightGBM's OpenMP threads suffer most): compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def _data(n: int, seed: int = 0) -> tuple[Any, Any]:
    """A binary problem with 16 numeric features of graded strength and 2 categorical ones."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 16)), columns=[f"x{i:02d}" for i in range(16)])
    X["region"] = rng.choice(["north", "south", "east", "west"], n)
    X["plan"] = rng.choice(["basic", "pro", "team"], n)
    weights = 1.5 * 0.75 ** np.arange(16)
    score = X.iloc[:, :16].to_numpy() @ weights + 0.6 * (X["region"] == "north") - 0.4 * (X["plan"] == "basic")
    score += 0.5 * X["x00"] * X["x01"] + rng.normal(0, 1.0, n)
    X.loc[rng.random(n) < 0.02, "x03"] = np.nan
    return X, pd.Series(np.where(score > 0, "yes", "no"), name="y")


def _pipeline(key: str, X: Any, y: Any, params: dict[str, Any]) -> Any:
    from core.ml.catalogue import get_algorithm
    from core.ml.config import PreprocessConfig
    from core.ml.fitting import fit_pipeline, make_pipeline
    from core.ml.preprocessing import resolve_preprocessing
    from core.ml.problem import column_types

    entry = get_algorithm(key)
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, "binary", column_types(X), resolved, params, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    return pipeline


def bench_shap(n_rows: int, repeats: int) -> dict[str, Any]:
    import numpy as np
    import shap
    from scipy.stats import spearmanr

    from core.ml.explain import _to_inputs, shap_summary
    from core.ml.preprocessing import model_input_frame

    X, y = _data(n_rows)
    pipeline = _pipeline("lightgbm", X, y, {"n_estimators": 300})
    ours, summary = [], None
    for _ in range(max(repeats, 3)):  # cheap: always the median of at least 3
        started = time.perf_counter()
        summary = shap_summary(pipeline, X, "binary", max_rows=1000, seed=0)
        ours.append(time.perf_counter() - started)
    baseline, full = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        Xm = model_input_frame(pipeline, X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shap notes its LightGBM output format changed
            values = np.asarray(shap.TreeExplainer(pipeline.steps[-1][1]).shap_values(Xm))
        values = values[:, :, -1] if values.ndim == 3 else values
        inputs, matrix = _to_inputs(pipeline, list(Xm.columns))
        full = dict(zip(inputs, np.abs(values @ matrix).mean(axis=0), strict=True))
        baseline.append(time.perf_counter() - started)
    features = list(full)
    rho = float(spearmanr([summary.mean_abs[f] for f in features], [full[f] for f in features]).statistic)
    return {"ours": statistics.median(ours), "baseline": statistics.median(baseline), "rho": rho,
            "n_rows": n_rows, "repeats": repeats}


def bench_tuning(n_rows: int, n_trials: int, repeats: int) -> dict[str, Any]:
    from core.ml.catalogue import get_algorithm
    from core.ml.config import PreprocessConfig, SplitConfig, TuningConfig
    from core.ml.preprocessing import resolve_preprocessing
    from core.ml.problem import column_types
    from core.ml.splits import cv_folds, split_rows
    from core.ml.tuning import tune

    X, y = _data(n_rows, seed=1)
    split = split_rows(X, y, "binary", SplitConfig(seed=0))
    X_train, y_train = X.iloc[split.train], y.iloc[split.train]
    folds = cv_folds(split, y, 3)
    entry = get_algorithm("lightgbm")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    results: dict[bool, list[Any]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for repeat in range(repeats):
        # alternate the order: on a shared machine the load drifts between the two runs
        for pruning in (True, False) if repeat % 2 == 0 else (False, True):
            started = time.process_time()
            result = tune(entry, X_train, y_train, "binary", folds, column_types(X_train), resolved,
                          TuningConfig(n_trials=n_trials, cv_folds=3, pruning=pruning), seed=repeat)
            cpu[pruning].append(time.process_time() - started)
            results[pruning].append(result)

    def median(pruning: bool, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in results[pruning])

    return {"pruned_seconds": median(True, "seconds"), "full_seconds": median(False, "seconds"),
            "pruned_cpu": statistics.median(cpu[True]), "full_cpu": statistics.median(cpu[False]),
            "pruned_best": median(True, "best_score"), "full_best": median(False, "best_score"),
            "n_pruned": median(True, "n_pruned"), "n_rows": n_rows, "n_trials": n_trials, "repeats": repeats,
            "metric": results[True][0].metric}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and one repeat")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per measurement (median reported)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    # The sample path costs the same at any size, so the SHAP ratio grows with rows: --quick keeps 50k
    # rows to stay meaningful (the ratio is about rows / 1,000 × the native-vs-shap speed-up).
    shap_rows, tuning_rows = (50_000, 4_000) if args.quick else (200_000, 20_000)

    print(f"Running: SHAP on {shap_rows:,} rows, Optuna 50 trials on {tuning_rows:,} rows, {repeats} repeat(s)…",
          file=sys.stderr)
    shap_result = bench_shap(shap_rows, repeats)
    tuning_result = bench_tuning(tuning_rows, 50, repeats)

    from benchmarks.common import markdown_table

    speedup = shap_result["baseline"] / shap_result["ours"]
    tuning_ratio = tuning_result["full_seconds"] / tuning_result["pruned_seconds"]
    metric = tuning_result["metric"]
    rho = shap_result["rho"]
    print(markdown_table([
        {"benchmark": f"(2) global SHAP, 300-tree LightGBM, {shap_rows:,} rows",
         "ours": f"{shap_result['ours']:.2f} s (1,000-row sample, native contributions)",
         "baseline": f"{shap_result['baseline']:.1f} s (TreeExplainer, all rows)",
         "ratio": f"{speedup:.0f}×", "target": f"≥ 50× {'✓' if speedup >= 50 else '✗'}",
         "quality": f"Spearman ρ {rho:.3f} (≥ 0.95 {'✓' if rho >= 0.95 else '✗'})"},
        {"benchmark": f"(3) Optuna 50 trials, LightGBM, 3-fold CV, {tuning_rows:,} rows",
         "ours": f"{tuning_result['pruned_seconds']:.1f} s wall, {tuning_result['pruned_cpu']:.1f} s CPU "
                 f"(MedianPruner, {tuning_result['n_pruned']:.0f} pruned)",
         "baseline": f"{tuning_result['full_seconds']:.1f} s wall, {tuning_result['full_cpu']:.1f} s CPU (no pruning)",
         "ratio": f"{tuning_ratio:.2f}× (CPU {tuning_result['full_cpu'] / tuning_result['pruned_cpu']:.2f}×)",
         "target": "—",
         "quality": f"best {metric} {tuning_result['pruned_best']:.4f} vs {tuning_result['full_best']:.4f}"},
    ]))
    print(f"\nMedian of {repeats} run(s) (SHAP sample path: median of {max(repeats, 3)}).")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
