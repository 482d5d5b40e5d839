"""Settings of one training run, as plain frozen dataclasses, and the callbacks a run reports through.

Every choice a page offers lives here with its default, so a run is fully described by a
``TrainConfig`` (``to_dict`` gives the JSON stored on the model card).  ``"auto"`` means
"pick per algorithm family" (see :func:`core.ml.preprocessing.resolve_preprocessing`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.data.target import ProblemKind
from core.platform.errors import InvalidInputError

PROBLEM_KINDS = tuple(kind.value for kind in ProblemKind)  # as text: the choices pages and the CLI list
SPLIT_KINDS = ("auto", "random", "stratified", "time", "group")
IMPUTATIONS = ("auto", "mean", "median", "most_frequent", "constant", "none")
SCALINGS = ("auto", "standard", "minmax", "robust", "none")
ENCODINGS = ("auto", "onehot", "ordinal", "target")
TEXT_HANDLING = ("drop", "hash")
DATETIME_HANDLING = ("expand", "drop")
SELECTIONS = ("none", "variance", "kbest", "model")
IMBALANCE = ("none", "class_weight", "oversample", "undersample", "smote")


def _check_choice(owner: str, name: str, value: object, allowed: Sequence[object]) -> None:
    if value not in allowed:
        raise InvalidInputError(
            f"The {name!r} parameter of {owner} must be one of {', '.join(map(repr, allowed))}. Got {value!r} instead."
        )


@dataclass(frozen=True)
class SplitConfig:
    """How rows are divided into train and test, and how cross-validation folds are made.

    Parameters
    ----------
    kind : ``auto`` (stratified for classification, random otherwise), ``random``, ``stratified``,
        ``time`` (train on the past, test on the future of ``time_column``) or ``group`` (no value of
        ``group_column`` on both sides).
    test_size : fraction of rows held out for the test metrics.
    cv_folds : number of cross-validation folds on the training rows; 0 or 1 skips cross-validation.
    seed : shuffling seed.
    """

    kind: str = "auto"
    test_size: float = 0.2
    cv_folds: int = 0
    seed: int = 0
    time_column: str | None = None
    group_column: str | None = None

    def __post_init__(self) -> None:
        _check_choice("SplitConfig", "kind", self.kind, SPLIT_KINDS)
        if not 0.0 < float(self.test_size) < 1.0:
            raise InvalidInputError(
                f"The test fraction must lie strictly between 0 and 1 (0.2 holds out a fifth). Got {self.test_size}."
            )
        if self.cv_folds < 0 or self.cv_folds > 20:
            raise InvalidInputError(f"Cross-validation takes between 2 and 20 folds (0 skips it). Got {self.cv_folds}.")
        if self.kind == "time" and not self.time_column:
            raise InvalidInputError("A time-based split needs a time column: name the datetime column to split on.")
        if self.kind == "group" and not self.group_column:
            raise InvalidInputError(
                "A grouped split needs a group column: name the id column whose rows belong together."
            )


@dataclass(frozen=True)
class PreprocessConfig:
    """Preprocessing choices; ``auto`` picks what suits the algorithm's family.

    Parameters
    ----------
    imputation : how missing numbers are filled (``none`` leaves them to the model).
    missing_indicators : add a 0/1 column per numeric column that had missing values (``None``: auto, which
        adds one only where at least ten training rows were missing: from fewer a model learns their labels by heart).
    scaling : numeric scaling.
    encoding : categorical encoding (``target`` uses scikit-learn's cross-fitted TargetEncoder).
    max_categories : one-hot cap; rarer categories share one "infrequent" column.
    datetime : expand datetime columns into year/month/day/dayofweek(/hour) or drop them.
    text : free-text columns are dropped or hashed into ``hash_features`` columns.
    selection : feature selection after encoding: variance threshold, k-best, or model-based.
    imbalance : ``class_weight`` (balanced weights) or resampling with imbalanced-learn.
    column_types : override the detected logical type of some columns (numeric/categorical/datetime/text).
    """

    imputation: str = "auto"
    missing_indicators: bool | None = None
    scaling: str = "auto"
    encoding: str = "auto"
    max_categories: int = 20
    datetime: str = "expand"
    text: str = "drop"
    hash_features: int = 32
    selection: str = "none"
    k_best: int = 20
    imbalance: str = "none"
    column_types: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_choice("PreprocessConfig", "imputation", self.imputation, IMPUTATIONS)
        _check_choice("PreprocessConfig", "scaling", self.scaling, SCALINGS)
        _check_choice("PreprocessConfig", "encoding", self.encoding, ENCODINGS)
        _check_choice("PreprocessConfig", "datetime", self.datetime, DATETIME_HANDLING)
        _check_choice("PreprocessConfig", "text", self.text, TEXT_HANDLING)
        _check_choice("PreprocessConfig", "selection", self.selection, SELECTIONS)
        _check_choice("PreprocessConfig", "imbalance", self.imbalance, IMBALANCE)
        for column, kind in self.column_types.items():
            _check_choice(f"PreprocessConfig (column {column!r})", "column type", kind,
                          ("numeric", "categorical", "datetime", "text"))
        if self.max_categories < 2 or self.hash_features < 1 or self.k_best < 1:
            raise InvalidInputError(
                "max_categories must be at least 2, and hash_features and k_best at least 1; "
                f"got {self.max_categories}, {self.hash_features} and {self.k_best}."
            )


@dataclass(frozen=True)
class TuningConfig:
    """Hyperparameter search with Optuna.

    Parameters
    ----------
    n_trials : most trials to run (``None``: until ``timeout``).
    timeout : time budget in seconds (``None``: until ``n_trials``).
    cv_folds : folds of the cross-validated objective.
    metric : metric to optimise (default: roc_auc for binary, f1_macro for multiclass, rmse for
        regression, silhouette for clustering).
    pruning : stop unpromising trials after their first folds (MedianPruner).
    """

    n_trials: int | None = 20
    timeout: float | None = None
    cv_folds: int = 3
    metric: str | None = None
    pruning: bool = True

    def __post_init__(self) -> None:
        if self.n_trials is None and self.timeout is None:
            raise InvalidInputError("Tuning needs a trial count, a time budget, or both; both were empty.")
        if self.n_trials is not None and self.n_trials < 1:
            raise InvalidInputError(f"Tuning needs at least one trial. Got n_trials={self.n_trials}.")
        if self.timeout is not None and self.timeout <= 0:
            raise InvalidInputError(f"The tuning time budget must be a positive number of seconds. Got {self.timeout}.")
        if not 2 <= self.cv_folds <= 20:
            raise InvalidInputError(f"The tuning objective takes between 2 and 20 folds. Got {self.cv_folds}.")


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs besides the data.

    Parameters
    ----------
    target : target column; ``None`` means clustering.
    features : feature columns; ``None`` takes every column but the target and those whose role is
        id, datetime or ignore.
    roles : column roles as stored on the dataset version (``target``, ``id``, ``datetime``, ``ignore``).
    problem_kind : override of the detected problem kind.
    params : estimator parameters on top of the catalogue defaults.
    n_jobs : threads per fit; ``None`` asks :func:`core.platform.cores.thread_budget` when the fit starts
        (one thread on small data, else the cores other processes leave free).
    positive_label : the class treated as positive in binary metrics (default: the second sorted label).
    explain : compute feature importances and the SHAP summary.
    distributed : train through the Dask cluster (``core.ml.train_dask``): ``None`` when one is set and the
        version is stored in parts or has at least a million rows; ``True`` always (an error without one);
        ``False`` never.
    """

    algorithm: str = "random_forest"
    target: str | None = None
    features: Sequence[str] | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    problem_kind: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    split: SplitConfig = field(default_factory=SplitConfig)
    preprocessing: PreprocessConfig = field(default_factory=PreprocessConfig)
    tuning: TuningConfig | None = None
    seed: int = 0
    n_jobs: int | None = None
    use_gpu: bool = False
    positive_label: Any = None
    explain: bool = True
    shap_rows: int = 1000
    importance_rows: int = 2000
    distributed: bool | None = None

    def __post_init__(self) -> None:
        if self.problem_kind is not None:
            _check_choice("TrainConfig", "problem_kind", self.problem_kind, PROBLEM_KINDS)
        if self.n_jobs is not None and self.n_jobs < 1:
            raise InvalidInputError(f"n_jobs must be at least 1. Got {self.n_jobs}.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Rebuild a configuration from :meth:`to_dict` output (a job's JSON parameters)."""
        values = dict(data)
        try:
            split = SplitConfig(**(values.pop("split", None) or {}))
            preprocessing = PreprocessConfig(**(values.pop("preprocessing", None) or {}))
            tuning = values.pop("tuning", None)
            return cls(split=split, preprocessing=preprocessing, tuning=TuningConfig(**tuning) if tuning else None,
                       **values)
        except TypeError as exc:
            raise InvalidInputError(f"The training settings cannot be read: {exc}.") from exc

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-able data (for the model card)."""
        data = asdict(self)
        data["features"] = list(self.features) if self.features is not None else None
        data["roles"] = dict(self.roles)
        data["params"] = {k: _jsonable(v) for k, v in self.params.items()}
        data["preprocessing"]["column_types"] = dict(self.preprocessing.column_types)
        data["positive_label"] = _jsonable(self.positive_label)
        return data


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
