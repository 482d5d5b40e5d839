"""AutoML benchmark: Atelier AutoML against LightGBM defaults, FLAML and AutoGluon, same split, same budget.

Datasets (bundled samples): adult (binary, 24% positive: the imbalanced one), penguins
(multiclass), seattle_weather (multiclass, imbalanced: the smallest class is under 4%) and mpg
(regression).  Each is split 80/20 (stratified for classification, seed 0); every candidate
trains on the same 80% and is scored on the same 20%.  ``--splits N`` repeats that on N splits
(seeds 0 … N-1; every candidate on the same split each time) and reports each split's score and
their median: mpg's test part is 80 rows, on which one configuration's RMSE moves by several
percent from one split to another, so one split cannot tell a 1% difference:

* Atelier: :func:`core.ml.automl.run_automl` with the budget (refit included; its own internal
  hold-out is 5% of the training rows, unused for the score);
* LightGBM with its defaults (our venv), categoricals as pandas categories;
* FLAML ``AutoML(time_budget=budget)`` with the same metric, in a side virtual environment that
  this benchmark creates at ``$ATELIER_BENCH_VENVS/flaml`` (default ``/tmp/atelier-bench-venvs``)
  with ``pip install flaml[automl]`` (it pins xgboost<3, so never in the app's requirements).
  Without network for pip the FLAML column says why it is missing;
* AutoGluon ``TabularPredictor(...).fit(time_limit=budget, presets="medium_quality")`` with the same
  metric, in ``$ATELIER_BENCH_VENVS/autogluon`` (``pip install torch==2.13.0
  autogluon.tabular[lightgbm,xgboost,catboost]``: it pins pandas<2.4 and pyarrow<25).  Torch is
  pinned to the CPU build this machine keeps on disk (AutoGluon asks for torch>=2.10,<2.14; an
  unpinned install would fetch a CUDA build of several GB), so its PyTorch network runs; fastai
  is not installed, so that one model of ``medium_quality`` is left out.

Reported: test ROC-AUC (binary), log-loss (multiclass), RMSE (regression) and wall seconds.
``python -m benchmarks.bench_automl [--budget 60] [--quick] [--datasets adult,mpg] [--splits 1] [--no-flaml]
[--no-autogluon]`` (``--quick``: 15 s budgets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks.common import ROOT, markdown_table, parse_sized, size_parser

DATASETS = {"adult": ("income", "binary"), "penguins": ("species", "multiclass"),
            "seattle_weather": ("weather", "multiclass"), "mpg": ("Miles_per_Gallon", "regression")}
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
VENVS = Path(os.environ.get("ATELIER_BENCH_VENVS", "/tmp/atelier-bench-venvs"))

FLAML_CODE = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np, pandas as pd
    warnings.filterwarnings("ignore")
    from flaml import AutoML
    from sklearn import metrics
    train, test, target, kind, budget = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    tr, te = pd.read_parquet(train), pd.read_parquet(test)
    def prep(df):
        df = df.copy()
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith(("string", "bool")):
                df[c] = df[c].astype("category")
            elif "datetime" in str(df[c].dtype):
                df[c] = df[c].astype("int64") // 10**9
        return df
    X, y = prep(tr.drop(columns=[target])), tr[target]
    Xt, yt = prep(te.drop(columns=[target])), te[target]
    for c in X.columns:
        if str(X[c].dtype) == "category":
            cats = X[c].cat.categories
            Xt[c] = pd.Categorical(Xt[c].astype(object), categories=cats)
    started = time.perf_counter()
    automl = AutoML()
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[kind]
    automl.fit(X, y, task="classification" if kind != "regression" else "regression", time_budget=budget,
               metric=metric, seed=0, verbose=0, n_jobs=2)
    seconds = time.perf_counter() - started
    if kind == "binary":
        classes = list(automl.classes_)
        score = metrics.roc_auc_score(yt == classes[-1], automl.predict_proba(Xt)[:, -1])
    elif kind == "multiclass":
        score = metrics.log_loss(yt, automl.predict_proba(Xt), labels=list(automl.classes_))
    else:
        score = float(np.sqrt(metrics.mean_squared_error(yt, automl.predict(Xt))))
    print(json.dumps({"score": float(score), "seconds": seconds, "best": automl.best_estimator}))
""")


AUTOGLUON_CODE = textwrap.dedent("""
    import json, sys, tempfile, time, warnings
    import numpy as np, pandas as pd
    warnings.filterwarnings("ignore")
    from autogluon.tabular import TabularPredictor
    from sklearn import metrics
    train, test, target, kind, budget = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    tr, te = pd.read_parquet(train), pd.read_parquet(test)
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "root_mean_squared_error"}[kind]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as where:
        predictor = TabularPredictor(label=target, problem_type=kind, eval_metric=metric, path=where,
                                     verbosity=0).fit(tr, time_limit=budget, presets="medium_quality")
        seconds = time.perf_counter() - started
        X = te.drop(columns=[target])
        yt = te[target]
        if kind == "regression":
            score = float(np.sqrt(metrics.mean_squared_error(yt, predictor.predict(X))))
        else:
            proba = predictor.predict_proba(X)
            labels = sorted(proba.columns)
            proba = proba[labels]
            if kind == "binary":
                score = metrics.roc_auc_score(yt == labels[-1], proba[labels[-1]])
            else:
                score = metrics.log_loss(yt, proba.to_numpy(), labels=labels)
        best = predictor.model_best
    print(json.dumps({"score": float(score), "seconds": seconds, "best": best}))
""")


def split(name: str, seed: int = 0):
    import pandas as pd
    from sklearn.model_selection import train_test_split

    target, kind = DATASETS[name]
    frame = pd.read_parquet(ROOT / "data" / "samples" / f"{name}.parquet").dropna(subset=[target])
    if "date" in frame.columns:
        frame = frame.assign(date=pd.to_datetime(frame["date"]))
    stratify = frame[target] if kind != "regression" else None
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True), target, kind


def score(kind: str, y, model) -> float:
    import numpy as np
    from sklearn import metrics

    def run(X):
        if kind == "binary":
            classes = list(model.classes_)
            return metrics.roc_auc_score(np.asarray(y) == classes[-1], model.predict_proba(X)[:, -1])
        if kind == "multiclass":
            return metrics.log_loss(y, model.predict_proba(X), labels=list(model.classes_))
        return float(np.sqrt(metrics.mean_squared_error(y, model.predict(X))))
    return run


def atelier(train, test, target, kind, budget: float) -> dict:
    from core.ml.automl import AutoMLConfig, run_automl

    started = time.perf_counter()
    result = run_automl(train, AutoMLConfig(target=target, budget=budget, test_size=0.05), started=started)
    seconds = time.perf_counter() - started
    value = score(kind, test[target], result.pipeline)(test.drop(columns=[target]))
    return {"score": value, "seconds": seconds, "best": result.receipt.winner.algorithm}


def lightgbm_defaults(train, test, target, kind) -> dict:
    import lightgbm as lgb
    import pandas as pd

    def prep(df, like=None):
        df = df.drop(columns=[target]).copy()
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith(("string", "bool")):
                cats = None if like is None else like[c].cat.categories
                df[c] = pd.Categorical(df[c].astype(object), categories=cats)
            elif "datetime" in str(df[c].dtype):
                df[c] = df[c].astype("int64") // 10**9
        return df

    started = time.perf_counter()
    X = prep(train)
    model = (lgb.LGBMRegressor if kind == "regression" else lgb.LGBMClassifier)(verbose=-1, n_jobs=2, random_state=0)
    model.fit(X, train[target])
    seconds = time.perf_counter() - started
    return {"score": score(kind, test[target], model)(prep(test, X)), "seconds": seconds, "best": "lightgbm"}


def side_python(name: str, packages: list[str], probe: str) -> tuple[Path | None, str]:
    """The interpreter of the side virtual environment ``name`` (created with ``packages`` when missing)."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    ready = python.exists() and subprocess.run([str(python), "-c", f"import {probe}"],
                                               capture_output=True).returncode == 0
    if ready:
        return python, ""
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"pip install {packages[0]} failed: {done.stderr.strip().splitlines()[-1:]}"
    return python, ""


def flaml_python() -> tuple[Path | None, str]:
    return side_python("flaml", ["flaml[automl]", "pandas", "pyarrow"], "flaml.automl")


def autogluon_python() -> tuple[Path | None, str]:
    return side_python("autogluon", ["torch==2.13.0", "autogluon.tabular[lightgbm,xgboost,catboost]", "pyarrow"],
                       "autogluon.tabular, torch")


def side_run(code: str, python: Path | None, why: str, train, test, target, kind, budget: float) -> dict:
    if python is None:
        return {"score": None, "seconds": None, "best": why}
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "train.parquet", Path(tmp) / "test.parquet"]
        train.to_parquet(paths[0])
        test.to_parquet(paths[1])
        script = Path(tmp) / "run_side.py"
        script.write_text(code)
        done = subprocess.run([str(python), str(script), str(paths[0]), str(paths[1]), target, kind, str(budget)],
                              capture_output=True, text=True)
    if done.returncode != 0:
        return {"score": None, "seconds": None, "best": f"failed: {done.stderr.strip()[-200:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = size_parser(0, 0, "Atelier AutoML vs LightGBM defaults and FLAML")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--splits", type=int, default=1, help="train/test splits per dataset (seeds 0 … N-1)")
    parser.add_argument("--no-flaml", action="store_true")
    parser.add_argument("--no-autogluon", action="store_true")
    args = parse_sized(parser, argv)
    budget = 15.0 if args.quick else args.budget
    python, why = (None, "not run (--no-flaml)") if args.no_flaml else flaml_python()
    ag_python, ag_why = (None, "not run (--no-autogluon)") if args.no_autogluon else autogluon_python()
    rows, medians = [], []
    for name in args.datasets.split(","):
        runs = []
        for seed in range(args.splits):
            train, test, target, kind = split(name, seed)
            results = {"atelier": atelier(train, test, target, kind, budget),
                       "lightgbm": lightgbm_defaults(train, test, target, kind),
                       "flaml": side_run(FLAML_CODE, python, why, train, test, target, kind, budget),
                       "autogluon": side_run(AUTOGLUON_CODE, ag_python, ag_why, train, test, target, kind, budget)}
            row = {"dataset": name, "split": seed, "task": kind, "metric": METRIC[kind], "budget s": budget}
            for who, r in results.items():
                row[who] = "—" if r["score"] is None else f"{r['score']:.4f}"
                row[f"{who} s"] = "—" if r["seconds"] is None else f"{r['seconds']:.1f}"
            for who in ("atelier", "flaml", "autogluon"):
                row[f"{who} best"] = results[who]["best"]
            rows.append(row)
            runs.append(results)
            print(json.dumps(row), flush=True)
        if args.splits > 1:
            medians.append(_medians(name, runs))
    print(markdown_table(rows))
    if medians:
        print(f"\nMedian over {args.splits} splits (each candidate's own median; every split shared by all):\n")
        print(markdown_table(medians))
    return 0


def _medians(name: str, runs: list[dict]) -> dict:
    from statistics import median

    row = {"dataset": name, "metric": METRIC[DATASETS[name][1]]}
    for who in runs[0]:
        scores = [r[who]["score"] for r in runs if r[who]["score"] is not None]
        row[who] = f"{median(scores):.4f}" if scores else "—"
        seconds = [r[who]["seconds"] for r in runs if r[who]["seconds"] is not None]
        row[f"{who} s (max)"] = f"{max(seconds):.1f}" if seconds else "—"
    return row


if __name__ == "__main__":
    raise SystemExit(main())
