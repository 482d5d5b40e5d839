"""The algorithm catalogue: one self-describing entry per algorithm, in a registry by key.

An :class:`Algorithm` says which problem kinds it serves, which estimator class implements each,
its default parameters, its Optuna search space, and the facts the UI ranks and warns with
(relative speed, interpretability, missing/categorical handling, GPU support, how cost grows with
rows).  The same key maps to a classifier or a regressor by problem kind.  Estimator classes are
named by import path so that listing the catalogue never imports XGBoost or LightGBM.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.data.target import CLASSIFICATION_KINDS, ProblemKind
from core.platform.display import humanize
from core.platform.errors import InvalidInputError

__all__ = ["ALGORITHMS", "Algorithm", "algorithm_label", "algorithms_for", "get_algorithm", "task_of"]

CLASSIFICATION = CLASSIFICATION_KINDS
REGRESSION = frozenset({ProblemKind.REGRESSION})
SUPERVISED = CLASSIFICATION | REGRESSION
CLUSTERING = frozenset({ProblemKind.CLUSTERING})
_WRAPPED = {"xgboost.sklearn:XGBClassifier": "label", "sklearn.cluster:DBSCAN": "inductive",
            "sklearn.cluster:AgglomerativeClustering": "inductive"}


def task_of(kind: str) -> str:
    """``classification``, ``regression`` or ``clustering`` for a problem kind (:attr:`ProblemKind.task`)."""
    try:
        return ProblemKind(kind).task
    except ValueError:
        return kind  # not a problem kind: callers say which kinds there are


@dataclass(frozen=True)
class Algorithm:
    """One catalogue entry (FLAML-style: the learner describes itself).

    ``speed`` and ``interpretability`` run from 1 (slow / opaque) to 5 (fast / transparent).
    ``fit_exponent`` and ``predict_exponent`` say how time grows with rows (1: linear, 2: quadratic);
    ``memory_exponent`` the same for peak memory.  ``handles_categorical`` means ordinal codes
    suffice (trees split on them), so categories need no one-hot columns.  ``defaults`` apply to
    every task, ``task_defaults`` to one task (``classification``, ``regression`` or ``clustering``).
    ``size_defaults(rows)`` gives defaults that depend on the training rows (boosters: smaller
    trees and larger leaves on small data); ``params`` passed to :meth:`make` win over all of them.
    """

    key: str
    label: str
    kinds: frozenset[str]
    family: str
    estimators: Mapping[str, str]
    space: Callable[[Any, str], dict[str, Any]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    task_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    speed: int = 3
    interpretability: int = 3
    handles_missing: bool = False
    handles_categorical: bool = False
    gpu: bool = False
    fit_exponent: float = 1.0
    predict_exponent: float = 1.0
    memory_exponent: float = 1.0
    description: str = ""
    uses_n_jobs: bool = True
    size_defaults: Callable[[int], dict[str, Any]] | None = None

    def supports(self, kind: str) -> bool:
        return kind in self.kinds

    def search_space(self, trial: Any, kind: str = "binary") -> dict[str, Any]:
        """Estimator parameters drawn from an Optuna ``trial`` (or ``optuna.trial.FixedTrial``)."""
        return self.space(trial, task_of(kind))

    def default_params(self, kind: str, n_rows: int | None = None) -> dict[str, Any]:
        """The defaults for ``kind``; with ``n_rows`` (training rows) also those scaled to the data."""
        sized = self.size_defaults(n_rows) if self.size_defaults is not None and n_rows else {}
        return {**self.defaults, **self.task_defaults.get(task_of(kind), {}), **sized}

    def estimator_class(self, kind: str) -> type:
        self._check_kind(kind)
        module, name = self.estimators[task_of(kind)].split(":")
        return getattr(importlib.import_module(module), name)

    def make(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        seed: int = 0,
        n_jobs: int = 2,
        use_gpu: bool = False,
        balanced: bool = False,
        n_rows: int | None = None,
    ) -> Any:
        """A fresh unfitted estimator for ``kind`` with defaults, then ``params``, applied.

        ``seed`` and ``n_jobs`` are set wherever the class takes them; ``use_gpu`` switches XGBoost
        and LightGBM to CUDA; ``balanced`` sets ``class_weight='balanced'`` where the class takes it;
        ``n_rows`` (the training rows) adds the defaults scaled to the data (:attr:`size_defaults`).
        """
        cls = self.estimator_class(kind)
        accepted = set(cls().get_params())
        values: dict[str, Any] = self.default_params(kind, n_rows)
        if "random_state" in accepted:
            values["random_state"] = seed
        if "n_jobs" in accepted and self.uses_n_jobs:
            values["n_jobs"] = n_jobs
        if balanced and "class_weight" in accepted:
            values["class_weight"] = "balanced"
        if use_gpu and self.gpu:
            values.update({"device": "cuda"} if self.key == "xgboost" else {"device_type": "gpu"})
        values.update(params or {})
        takes_any = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())
        unknown = [] if takes_any else sorted(set(values) - accepted)
        if unknown:
            raise InvalidInputError(
                f"{self.label} ({cls.__name__}) has no parameter {unknown[0]!r}.",
                hint=f"Valid parameters: {', '.join(sorted(accepted))}.",
            )
        estimator = cls(**values)
        wrapper = _WRAPPED.get(self.estimators[task_of(kind)])
        if wrapper == "label":
            from core.ml.steps import LabelEncodedClassifier

            return LabelEncodedClassifier(estimator)
        if wrapper == "inductive":
            from core.ml.steps import InductiveClusterer

            return InductiveClusterer(estimator)
        return estimator

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description for a page's algorithm picker."""
        return {
            "key": self.key, "label": self.label, "kinds": sorted(self.kinds), "family": self.family,
            "speed": self.speed, "interpretability": self.interpretability,
            "handles_missing": self.handles_missing, "handles_categorical": self.handles_categorical,
            "gpu": self.gpu, "description": self.description,
        }

    def _check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            valid = ", ".join(a.key for a in algorithms_for(kind)) if kind in SUPERVISED | CLUSTERING else ""
            raise InvalidInputError(
                f"{self.label} ({self.key!r}) does not do {kind} problems; it does {', '.join(sorted(self.kinds))}.",
                hint=f"Algorithms for {kind}: {valid}." if valid else None,
            )


# -- search spaces: (trial, task) -> estimator params ------------------------------------------
def _none(trial: Any, task: str) -> dict[str, Any]:
    return {}


def _logistic(trial: Any, task: str) -> dict[str, Any]:
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


def _linear_svm(trial: Any, task: str) -> dict[str, Any]:
    return {"C": trial.suggest_float("C", 1e-3, 1e1, log=True)}


def _svm(trial: Any, task: str) -> dict[str, Any]:
    params = {"C": trial.suggest_float("C", 1e-2, 1e2, log=True),
              "gamma": trial.suggest_float("gamma", 1e-4, 1.0, log=True)}
    if task == "regression":
        params["epsilon"] = trial.suggest_float("epsilon", 1e-3, 1.0, log=True)
    return params


def _knn(trial: Any, task: str) -> dict[str, Any]:
    return {"n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
            "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
            "p": trial.suggest_int("p", 1, 2)}


def _naive_bayes(trial: Any, task: str) -> dict[str, Any]:
    return {"var_smoothing": trial.suggest_float("var_smoothing", 1e-12, 1e-2, log=True)}


def _decision_tree(trial: Any, task: str) -> dict[str, Any]:
    return {"max_depth": trial.suggest_int("max_depth", 2, 20),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 50, log=True)}


def _forest(trial: Any, task: str) -> dict[str, Any]:
    return {"n_estimators": trial.suggest_int("n_estimators", 50, 400, log=True),
            "max_depth": trial.suggest_int("max_depth", 3, 30, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
            "max_features": trial.suggest_float("max_features", 0.1, 1.0)}


def _hgb(trial: Any, task: str) -> dict[str, Any]:
    return {"learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "max_iter": trial.suggest_int("max_iter", 50, 500, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 100, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True)}


def _xgboost(trial: Any, task: str) -> dict[str, Any]:
    return {"n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 20.0, log=True),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True)}


def _lightgbm(trial: Any, task: str) -> dict[str, Any]:
    return {"n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True)}


# -- defaults scaled to the training rows: (rows) -> estimator params ---------------------------
# On small tables the libraries' defaults (LightGBM: 31 leaves of at least 20 rows, 200 rounds)
# memorise the training rows: on Titanic's 1,047 training rows LightGBM gave the median test
# passenger 7% survival (logistic regression 29%) and a Brier score 14% worse.  Fewer leaves on
# small data and leaves that grow with the rows (plus early stopping, core.ml.fitting) bring it
# level with logistic regression: median 19%, Brier 0.130 against 0.135.
EARLY_STOPPING_ROWS = 200  # fewer rows: a 10% validation split is too few rows to stop on


def _leaves(rows: int) -> int:
    return 8 if rows < 2_000 else 15 if rows < 20_000 else 31


def _min_leaf(rows: int) -> int:
    return int(min(100, max(20, rows // 200)))


def _lightgbm_sized(rows: int) -> dict[str, Any]:
    return {"num_leaves": _leaves(rows), "min_child_samples": _min_leaf(rows)}


def _xgboost_sized(rows: int) -> dict[str, Any]:
    return {"max_depth": 3 if rows < 2_000 else 4 if rows < 20_000 else 6,
            "min_child_weight": float(max(1, _min_leaf(rows) // 4))}


def _hgb_sized(rows: int) -> dict[str, Any]:
    # scikit-learn stops early by itself only above 10,000 rows; small data needs it most.
    return {"max_leaf_nodes": _leaves(rows), "min_samples_leaf": _min_leaf(rows),
            "early_stopping": rows >= EARLY_STOPPING_ROWS}


def _mlp(trial: Any, task: str) -> dict[str, Any]:
    units = trial.suggest_int("n_units", 16, 256, log=True)
    layers = trial.suggest_int("n_layers", 1, 3)
    return {"hidden_layer_sizes": (units,) * layers,
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True)}


def _ridge(trial: Any, task: str) -> dict[str, Any]:
    return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}


def _lasso(trial: Any, task: str) -> dict[str, Any]:
    return {"alpha": trial.suggest_float("alpha", 1e-4, 10.0, log=True)}


def _elastic_net(trial: Any, task: str) -> dict[str, Any]:
    return {"alpha": trial.suggest_float("alpha", 1e-4, 10.0, log=True),
            "l1_ratio": trial.suggest_float("l1_ratio", 0.05, 0.95)}


def _kmeans(trial: Any, task: str) -> dict[str, Any]:
    return {"n_clusters": trial.suggest_int("n_clusters", 2, 12)}


def _minibatch(trial: Any, task: str) -> dict[str, Any]:
    return {"n_clusters": trial.suggest_int("n_clusters", 2, 12),
            "batch_size": trial.suggest_int("batch_size", 256, 4096, log=True)}


def _dbscan(trial: Any, task: str) -> dict[str, Any]:
    return {"eps": trial.suggest_float("eps", 0.05, 5.0, log=True),
            "min_samples": trial.suggest_int("min_samples", 2, 20)}


def _agglomerative(trial: Any, task: str) -> dict[str, Any]:
    return {"n_clusters": trial.suggest_int("n_clusters", 2, 12),
            "linkage": trial.suggest_categorical("linkage", ["ward", "complete", "average"])}


def _gmm(trial: Any, task: str) -> dict[str, Any]:
    return {"n_components": trial.suggest_int("n_components", 2, 12),
            "covariance_type": trial.suggest_categorical("covariance_type", ["full", "diag", "tied", "spherical"])}


_SK = "sklearn."
_ENTRIES = [
    Algorithm("logistic_regression", "Logistic regression", CLASSIFICATION, "linear",
              {"classification": _SK + "linear_model:LogisticRegression"}, _logistic, {"max_iter": 1000},
              speed=5, interpretability=5, uses_n_jobs=False,  # n_jobs is deprecated there (scikit-learn 1.8)
              description="Linear log-odds; a strong, transparent baseline."),
    Algorithm("linear_svm", "Linear SVM", CLASSIFICATION, "linear", {"classification": _SK + "svm:LinearSVC"},
              _linear_svm, {"max_iter": 5000}, speed=5, interpretability=4,
              description="Maximum-margin linear classifier; scores instead of probabilities."),
    Algorithm("svc", "Support vector machine (RBF)", CLASSIFICATION, "svm", {"classification": _SK + "svm:SVC"},
              _svm, {"cache_size": 200}, speed=1, interpretability=1, fit_exponent=2.0, predict_exponent=2.0,
              description="Kernel SVM; accurate on small data, slow beyond ~50k rows."),
    Algorithm("svr", "Support vector regression (RBF)", REGRESSION, "svm", {"regression": _SK + "svm:SVR"},
              _svm, {"cache_size": 200}, speed=1, interpretability=1, fit_exponent=2.0, predict_exponent=2.0,
              description="Kernel SVM for numbers; slow beyond ~50k rows."),
    Algorithm("knn", "k-nearest neighbours", SUPERVISED, "knn",
              {"classification": _SK + "neighbors:KNeighborsClassifier",
               "regression": _SK + "neighbors:KNeighborsRegressor"},
              _knn, speed=3, interpretability=3, predict_exponent=2.0,
              description="Answers like the most similar training rows; prediction slows as data grows."),
    Algorithm("naive_bayes", "Naive Bayes (Gaussian)", CLASSIFICATION, "naive_bayes",
              {"classification": _SK + "naive_bayes:GaussianNB"}, _naive_bayes, speed=5, interpretability=4,
              description="Very fast probabilistic baseline assuming independent features."),
    Algorithm("decision_tree", "Decision tree", SUPERVISED, "tree",
              {"classification": _SK + "tree:DecisionTreeClassifier", "regression": _SK + "tree:DecisionTreeRegressor"},
              _decision_tree, {"max_depth": 8}, speed=5, interpretability=5, handles_categorical=True,
              fit_exponent=1.1,
              description="A readable set of if-then rules."),
    Algorithm("random_forest", "Random forest", SUPERVISED, "tree",
              {"classification": _SK + "ensemble:RandomForestClassifier",
               "regression": _SK + "ensemble:RandomForestRegressor"},
              _forest, {"n_estimators": 100}, speed=3, interpretability=2, handles_categorical=True,
              fit_exponent=1.1,
              description="Many deep trees on bootstrap samples; robust with little tuning."),
    Algorithm("extra_trees", "Extra trees", SUPERVISED, "tree",
              {"classification": _SK + "ensemble:ExtraTreesClassifier",
               "regression": _SK + "ensemble:ExtraTreesRegressor"},
              _forest, {"n_estimators": 100}, speed=3, interpretability=2, handles_categorical=True,
              fit_exponent=1.1,
              description="Like a random forest with random split points; faster to fit."),
    Algorithm("hist_gradient_boosting", "Histogram gradient boosting", SUPERVISED, "boosting",
              {"classification": _SK + "ensemble:HistGradientBoostingClassifier",
               "regression": _SK + "ensemble:HistGradientBoostingRegressor"},
              _hgb, speed=4, interpretability=2, handles_missing=True, handles_categorical=True,
              size_defaults=_hgb_sized, description="scikit-learn's LightGBM-style booster; handles missing values."),
    Algorithm("xgboost", "XGBoost", SUPERVISED, "boosting",
              {"classification": "xgboost.sklearn:XGBClassifier", "regression": "xgboost.sklearn:XGBRegressor"},
              _xgboost, {"n_estimators": 200, "learning_rate": 0.1, "max_depth": 6, "tree_method": "hist"},
              speed=4, interpretability=2, handles_missing=True, handles_categorical=True, gpu=True,
              size_defaults=_xgboost_sized, description="Gradient-boosted trees; often the most accurate on tables."),
    Algorithm("lightgbm", "LightGBM", SUPERVISED, "boosting",
              {"classification": "lightgbm.sklearn:LGBMClassifier", "regression": "lightgbm.sklearn:LGBMRegressor"},
              _lightgbm, {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 31, "verbose": -1},
              speed=5, interpretability=2, handles_missing=True, handles_categorical=True, gpu=True,
              size_defaults=_lightgbm_sized,
              description="Fast leaf-wise gradient boosting; the quickest booster on large tables."),
    Algorithm("mlp", "Neural network (MLP)", SUPERVISED, "mlp",
              {"classification": _SK + "neural_network:MLPClassifier",
               "regression": _SK + "neural_network:MLPRegressor"},
              _mlp, {"hidden_layer_sizes": (64,), "max_iter": 300}, speed=2, interpretability=1,
              description="A small fully connected network; needs scaled inputs."),
    Algorithm("linear_regression", "Linear regression", REGRESSION, "linear",
              {"regression": _SK + "linear_model:LinearRegression"}, _none, speed=5, interpretability=5,
              uses_n_jobs=False,
              description="Ordinary least squares; the transparent baseline."),
    Algorithm("ridge", "Ridge regression", REGRESSION, "linear", {"regression": _SK + "linear_model:Ridge"},
              _ridge, speed=5, interpretability=5, description="Least squares with an L2 penalty."),
    Algorithm("lasso", "Lasso regression", REGRESSION, "linear", {"regression": _SK + "linear_model:Lasso"},
              _lasso, {"max_iter": 5000}, speed=5, interpretability=5,
              description="Least squares with an L1 penalty; sets weak features to zero."),
    Algorithm("elastic_net", "Elastic net", REGRESSION, "linear", {"regression": _SK + "linear_model:ElasticNet"},
              _elastic_net, {"max_iter": 5000}, speed=5, interpretability=5,
              description="Mix of ridge and lasso penalties."),
    Algorithm("kmeans", "k-means", CLUSTERING, "clustering", {"clustering": _SK + "cluster:KMeans"}, _kmeans,
              {"n_clusters": 3, "n_init": "auto"}, speed=4, interpretability=4,
              description="k round clusters around centroids."),
    Algorithm("minibatch_kmeans", "Mini-batch k-means", CLUSTERING, "clustering",
              {"clustering": _SK + "cluster:MiniBatchKMeans"}, _minibatch, {"n_clusters": 3, "n_init": "auto"},
              speed=5, interpretability=4, description="k-means on mini-batches; for large tables."),
    Algorithm("dbscan", "DBSCAN", CLUSTERING, "clustering", {"clustering": _SK + "cluster:DBSCAN"}, _dbscan,
              {"eps": 0.5, "min_samples": 5}, speed=3, interpretability=3, fit_exponent=1.5, memory_exponent=1.5,
              description="Dense regions become clusters; finds the count itself and marks noise as -1."),
    Algorithm("agglomerative", "Agglomerative clustering", CLUSTERING, "clustering",
              {"clustering": _SK + "cluster:AgglomerativeClustering"}, _agglomerative, {"n_clusters": 3},
              speed=1, interpretability=3, fit_exponent=2.0, memory_exponent=2.0,
              description="Merges the closest groups step by step; memory grows with rows squared."),
    Algorithm("gaussian_mixture", "Gaussian mixture", CLUSTERING, "clustering",
              {"clustering": _SK + "mixture:GaussianMixture"}, _gmm, {"n_components": 3}, speed=3,
              interpretability=3, description="Soft clusters shaped as Gaussians."),
]
ALGORITHMS: dict[str, Algorithm] = {entry.key: entry for entry in _ENTRIES}


def get_algorithm(key: str) -> Algorithm:
    """The catalogue entry for ``key``; an unknown key lists the valid ones."""
    try:
        return ALGORITHMS[key]
    except (KeyError, TypeError):
        raise InvalidInputError(
            f"Unknown algorithm {key!r}. Valid algorithms: {', '.join(sorted(ALGORITHMS))}."
        ) from None


def algorithm_label(key: str | None) -> str:
    """An algorithm's name in words (``"logistic_regression"`` → ``"Logistic regression"``).

    Unknown keys (an ensemble, an older catalogue's entry) are put in words from the key itself.
    """
    entry = ALGORITHMS.get(key) if isinstance(key, str) else None
    if entry is not None:
        return entry.label
    return humanize(key or "") or "model"


# What a user who has not chosen trains first: a fast linear baseline, then strong trees.
_DEFAULT_PICKS = ("logistic_regression", "ridge", "kmeans", "random_forest", "lightgbm")


def default_algorithms(kind: str, n: int = 3) -> list[str]:
    """The catalogue keys a run of ``kind`` starts with when nobody chose (at most ``n``)."""
    served = {a.key for a in algorithms_for(kind)}
    return [k for k in _DEFAULT_PICKS if k in served][:n]


def algorithms_for(kind: str) -> list[Algorithm]:
    """Entries serving ``kind``, fastest first (then most interpretable)."""
    return sorted((a for a in _ENTRIES if a.supports(kind)), key=lambda a: (-a.speed, -a.interpretability, a.key))
