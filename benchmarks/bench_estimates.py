"""First-run time estimates against the time the real Train job takes, per algorithm.

    python -m benchmarks.bench_estimates [--repeat 3] [--quick] [--rows 50000] [--algorithms a,b]

Two datasets: the bundled titanic sample (1,309 rows, its suggested roles) and an adult-like table of
``--rows`` rows (the bundled adult census sample drawn with replacement).  For each algorithm, with the
Train page's defaults (5-fold CV, test share 0.2, explanations on):

* the estimate the page shows on a first run (no finished runs to learn from): ``estimate_cost`` on the
  page's sample, as :mod:`components.estimates` calls it, in this warm process;
* the actual: the ``train`` job with that one algorithm through the warm worker (as the app runs it), its
  result row's ``total_seconds`` (what the results table shows beside the estimate).

The "stages" column compares the last repeat stage by stage, estimated / taken (the model card's
timings): CV, the final fit, SHAP, and the rest (evaluation, saving, importances: what the job's
total leaves after those three).

Medians of ``--repeat``.  Target (issue 11): every estimate within 1.5× of the actual either way.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import markdown_table, median, parse_sized, size_parser
from core.data import datasets
from core.data.sources import samples
from core.ml.config import SplitConfig, TrainConfig
from core.ml.estimate import estimate_cost
from core.ml.problem import select_features
from core.models import registry
from core.platform import jobs
from core.platform.config import Settings
from core.platform.jobs import worker
from core.platform.workspace import Workspace

ALGORITHMS = ("logistic_regression", "random_forest", "knn", "lightgbm", "xgboost")
TARGET = 1.5


def _datasets(rows: int) -> list[tuple[str, object, str, dict]]:
    titanic = samples.load_sample("titanic")
    adult = samples.load_sample("adult")
    adult = adult.sample(rows, replace=len(adult) < rows, random_state=0).reset_index(drop=True)
    return [("titanic", titanic, "survived", samples.suggested_roles("titanic")),
            (f"adult-like {rows:,}", adult, "income", {})]


def main() -> None:
    parser = size_parser(50_000, 10_000)
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS))
    args = parse_sized(parser)
    algorithms = [a for a in args.algorithms.split(",") if a]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Settings(home=Path(tmp)))
        worker.start(Path(tmp) / "logs")
        assert worker.ready(60), "the warm worker did not start"
        try:
            for name, frame, target, roles in _datasets(args.rows):
                version = datasets.save_version(ws, name.split()[0], frame, provenance={"source": "benchmark"},
                                                roles=roles)
                sample = datasets.sample_rows(frame)  # the page's sample (components.data_cache.sample)
                features = select_features(sample, target, None, roles, drop_text=True)
                config = TrainConfig(target=target, features=features, split=SplitConfig(cv_folds=5))
                kind = None
                # The page's server has run estimates before: one throwaway so imports are not timed.
                estimate_cost("decision_tree", sample[features].head(200), sample[target].head(200), 200,
                              cv_folds=0, explain=True)
                for algorithm in algorithms:
                    estimated, actual = [], []
                    for _ in range(args.repeat):
                        e = estimate_cost(algorithm, sample[features], sample[target], len(frame), kind=kind,
                                          cv_folds=5, test_size=0.2, explain=True)
                        estimated.append(e.seconds)
                        job_id = jobs.submit(ws, "train", {"dataset_version_id": version.id,
                                                           "config": config.to_dict(), "algorithms": [algorithm]})
                        info = jobs.wait(ws, job_id, timeout=1200, poll=0.05)
                        assert info.status == "succeeded", info.error
                        [row] = info.result["results"]
                        actual.append(float(row["total_seconds"]))
                    [model] = [m for m in registry.list_versions(ws) if m.label == row["model"]]
                    split = _stages(e.stages or {}, model.card.timings)
                    est, act = median(estimated), median(actual)
                    ratio = est / act
                    ok = 1 / TARGET <= ratio <= TARGET
                    rows.append({"dataset": name, "algorithm": algorithm, "estimated s": f"{est:.2f}",
                                 "actual s": f"{act:.2f}", "estimate ÷ actual": f"{ratio:.2f}",
                                 f"within {TARGET}×": "✓" if ok else "✗", "stages (est / taken s)": split})
                    print(rows[-1], flush=True)
        finally:
            worker.stop()
            ws.db.dispose()
    print(f"\nFirst-run estimates vs the train job's total_seconds (5-fold CV, explanations), median of "
          f"{args.repeat}\n")
    print(markdown_table(rows))


def _stages(estimated: dict, taken: dict) -> str:
    """``CV 0.23/0.27 · fit … · SHAP … · rest …``: each stage's estimate beside the job's own timing."""
    pairs = {"CV": (estimated.get("cv", 0.0), taken.get("cv_seconds", 0.0)),
             "fit": (estimated.get("fit", 0.0), taken.get("train_seconds", 0.0)),
             "SHAP": (estimated.get("explain", 0.0), taken.get("explain_seconds", 0.0))}
    named = sum(t for _, t in pairs.values())
    pairs["rest"] = (sum(estimated.values()) - sum(e for e, _ in pairs.values()),
                     taken.get("total_seconds", 0.0) - named)
    return " · ".join(f"{k} {e:.2f}/{t:.2f}" for k, (e, t) in pairs.items())


if __name__ == "__main__":
    main()
