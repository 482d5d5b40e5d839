"""Atelier's machine-learning core: pure functions and classes on pandas DataFrames.

No page, database or job system here: :func:`train_candidate` takes a DataFrame and a
:class:`TrainConfig` and returns a :class:`TrainResult`; the job that calls it passes its
``progress``, ``log`` and ``check_cancelled`` callables.  Modules:

* ``config`` – the run's settings (split, preprocessing, tuning) and the callbacks;
* ``problem`` – feature choice, target cleaning, column types, feature warnings (problem kinds and their
  detection live in :mod:`core.data.target`);
* ``steps`` / ``preprocessing`` – the pipeline from raw frame to model input;
* ``catalogue`` – self-describing algorithm entries by key;
* ``splits`` – train/test splits and folds (random, stratified, time, group);
* ``fitting`` / ``tuning`` – fitting with captured warnings; Optuna search with pruning;
* ``evaluate`` / ``explain`` – metrics, curves, importances, SHAP;
* ``estimate`` – time and memory forecasts; ``serialize`` – safe save and load;
* ``train`` – the end-to-end entry points.
"""

from core.ml.catalogue import ALGORITHMS, Algorithm, algorithms_for, get_algorithm
from core.ml.config import PreprocessConfig, SplitConfig, TrainConfig, TuningConfig
from core.ml.estimate import Estimate, estimate_cost
from core.ml.evaluate import Evaluation, evaluate
from core.ml.explain import ShapSummary, explain_rows, feature_importances, shap_summary, top_contributions
from core.ml.prepared import PreparedData, prepare_data
from core.ml.preprocessing import build_pipeline, model_input_frame, model_input_origin, resolve_preprocessing
from core.ml.problem import clean_target, column_types, feature_warnings, select_features
from core.ml.serialize import TRUSTED_TYPES, check_versions, dump_model, library_versions, load_model, sha256_hex
from core.ml.splits import Split, cv_folds, split_rows
from core.ml.train import TrainResult, fit_candidate, train_candidate, train_many
from core.ml.tuning import TuningResult, tune
from core.platform.progress import Progress

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Progress",
    "Estimate",
    "Evaluation",
    "PreparedData",
    "PreprocessConfig",
    "ShapSummary",
    "Split",
    "SplitConfig",
    "TRUSTED_TYPES",
    "TrainConfig",
    "TrainResult",
    "TuningConfig",
    "TuningResult",
    "algorithms_for",
    "build_pipeline",
    "check_versions",
    "clean_target",
    "column_types",
    "cv_folds",
    "dump_model",
    "estimate_cost",
    "evaluate",
    "explain_rows",
    "feature_importances",
    "feature_warnings",
    "fit_candidate",
    "get_algorithm",
    "library_versions",
    "load_model",
    "model_input_frame",
    "model_input_origin",
    "prepare_data",
    "resolve_preprocessing",
    "select_features",
    "sha256_hex",
    "shap_summary",
    "split_rows",
    "top_contributions",
    "train_candidate",
    "train_many",
    "tune",
]
