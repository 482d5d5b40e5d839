"""Measure the priors AutoML ranks algorithms by, and write ``core/ml/automl/priors.json``.

For each bundled dataset (``data/samples``) and each of scikit-learn's bundled ones, every AutoML
algorithm's first portfolio default (its starting point if it has none) is fitted on the same
fitting rows and scored on the same validation rows (or folds) as a search would; recorded per dataset and
algorithm: the score relative to the best algorithm there (1.0 = best), seconds per 1,000 fitting
rows, Python-visible peak memory per 1,000 rows, and the dataset's meta-features.

Run ``python -m benchmarks.calibrate_automl`` from the repository root (about two minutes on two cores).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core" / "ml" / "automl" / "priors.json"
SAMPLES = {"titanic": "survived", "adult": "income", "penguins": "species", "mpg": "Miles_per_Gallon",
           "seattle_weather": "weather"}


def datasets() -> dict[str, tuple[pd.DataFrame, str]]:
    from sklearn import datasets as sk

    out = {name: (pd.read_parquet(ROOT / "data" / "samples" / f"{name}.parquet"), target)
           for name, target in SAMPLES.items()}
    for name, loader in (("breast_cancer", sk.load_breast_cancer), ("wine", sk.load_wine),
                         ("digits", sk.load_digits), ("diabetes", sk.load_diabetes)):
        frame = loader(as_frame=True).frame
        frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
        out[name] = (frame, "target")
    return out


def _relative(score: float, best: float, metric: str) -> float:
    """1.0 for the best; log-loss by its gap in nats (a ratio of tiny losses says nothing), RMSE by ratio."""
    import math

    if metric == "log_loss":
        return math.exp(best - score)
    if metric in ("rmse", "mae"):
        return best / max(score, 1e-12)
    return score / best if best else 0.0


def main() -> int:
    from core.ml.automl.spaces import SPECS
    from core.ml.automl.state import AutoMLConfig, prepare_search
    from core.ml.automl.trials import TrialConfig, fit_trial
    from core.platform.progress import Progress

    results = []
    for name, (frame, target) in datasets().items():
        if name == "digits":
            frame = frame.assign(target=frame["target"].astype(str))
        state = prepare_search(frame, AutoMLConfig(target=target, budget=60), Progress())
        data, profile = state.data, state.profile
        rows = []
        for key, spec in SPECS.items():
            if data.task not in spec.tasks:
                continue
            params = dict(spec.portfolio[0] if spec.portfolio else spec.start)
            tracemalloc.start()
            started = time.perf_counter()
            try:
                outcome = fit_trial(data, TrialConfig(key, params))
            except Exception as exc:  # a failing algorithm gets no prior; say so
                print(f"{name} {key}: failed: {exc}")
                tracemalloc.stop()
                continue
            fits = len(data.folds) or 1  # a cross-validated trial fits once per fold: the priors time one fit
            seconds = (time.perf_counter() - started) / fits
            fitted_rows = len(data.X_fit) * (fits - 1) // fits if fits > 1 else len(data.X_fit)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rows.append({"dataset": name, "task": data.task, "algorithm": key,
                         "score": outcome.metrics[data.metric], "metric": data.metric,
                         "seconds": seconds, "seconds_per_1k_rows": seconds / fitted_rows * 1000,
                         "peak_mb_per_1k_rows": peak / 2**20 / fitted_rows * 1000,
                         "meta": profile.features(), "rows": fitted_rows})
        scores = [r["score"] for r in rows]
        for r in rows:
            best = max(scores) if data.maximise else min(scores)
            r["relative_score"] = round(_relative(r["score"], best, data.metric), 5)
            print(f"{name:16} {r['algorithm']:24} {r['metric']} {r['score']:.4f} rel {r['relative_score']:.4f} "
                  f"{r['seconds_per_1k_rows']:.3f} s/1k rows")
        results += rows
    OUT.write_text(json.dumps({"about": "Measured by benchmarks/calibrate_automl.py; see core/ml/automl/recommend.py.",
                               "results": results}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(results)} results to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
