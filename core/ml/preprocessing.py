"""From raw DataFrame to the matrix an estimator wants, as one fitted pipeline.

``resolve_preprocessing`` turns a :class:`~core.ml.config.PreprocessConfig` with ``auto``
choices into concrete ones for an algorithm family (linear, SVM, kNN and MLP get scaling and
one-hot; trees ordinal codes; boosters keep missing values), ``build_pipeline`` assembles

    prep (ColumnTransformer) → [select] → names (FeatureNamer) → [resample] → model

which takes the raw frame with its original column names at predict time, and
``model_input_origin`` maps each column the model sees back to the input column it came from
(for importances and SHAP).  Numeric columns share one transformer; every other column has its
own, so that mapping is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS
from core.ml.config import PreprocessConfig
from core.ml.steps import (
    CappedSelectKBest,
    CategoryCleaner,
    DatetimeExpander,
    FeatureNamer,
    IndexedOrdinalEncoder,
    NumericCaster,
    SteadyImputer,
    TextHasher,
)
from core.platform.errors import InvalidInputError

__all__ = ["FAMILY_DEFAULTS", "ResolvedPreprocessing", "build_pipeline", "model_input_frame", "model_input_origin",
           "resolve_preprocessing"]

# imputation, missing indicators, scaling, encoding per algorithm family
FAMILY_DEFAULTS: dict[str, tuple[str, bool, str, str]] = {
    "linear": ("median", True, "standard", "onehot"),
    "svm": ("median", True, "standard", "onehot"),
    "knn": ("median", True, "standard", "onehot"),
    "mlp": ("median", True, "standard", "onehot"),
    "naive_bayes": ("median", True, "standard", "onehot"),
    "clustering": ("median", False, "standard", "onehot"),
    "tree": ("median", True, "none", "ordinal"),
    "boosting": ("none", False, "none", "ordinal"),
}
NUMERIC_GROUP = "num"
# auto indicators: a column gets one only when this many training rows miss it (see SteadyImputer)
INDICATOR_MIN_ROWS = 10


@dataclass(frozen=True)
class ResolvedPreprocessing:
    """Concrete preprocessing choices for one algorithm (no ``auto`` left)."""

    imputation: str
    missing_indicators: bool
    scaling: str
    encoding: str
    max_categories: int
    datetime: str
    text: str
    hash_features: int
    selection: str
    k_best: int
    imbalance: str
    indicator_min_rows: int = 1  # missing training rows a column needs for its indicator

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_preprocessing(
    config: PreprocessConfig, family: str, kind: str, handles_missing: bool = False
) -> tuple[ResolvedPreprocessing, list[str]]:
    """Fill ``auto`` choices from the family's defaults and overrule impossible ones.

    Returns
    -------
    (ResolvedPreprocessing, list of str)
        The choices and notes explaining anything overruled.
    """
    imputation, indicators, scaling, encoding = FAMILY_DEFAULTS[family]
    notes: list[str] = []
    if config.imputation != "auto":
        imputation = config.imputation
    if imputation == "none" and not handles_missing:
        if config.imputation == "none":
            notes.append("This algorithm cannot take missing values, so they are filled with the median.")
        imputation = "median"
    min_rows = INDICATOR_MIN_ROWS  # auto: rare gaps get no indicator; asked for: every gap gets one
    if config.missing_indicators is not None:
        indicators = config.missing_indicators and imputation != "none"
        min_rows = 1
    scaling = scaling if config.scaling == "auto" else config.scaling
    encoding = encoding if config.encoding == "auto" else config.encoding
    if encoding == "target" and kind == "clustering":
        notes.append("Target encoding needs a target; clustering uses one-hot encoding instead.")
        encoding = "onehot"
    selection = config.selection
    if selection in ("kbest", "model") and kind == "clustering":
        notes.append(f"Feature selection '{selection}' needs a target; clustering keeps every feature.")
        selection = "none"
    imbalance = config.imbalance
    if imbalance != "none" and kind not in CLASSIFICATION_KINDS:
        notes.append("Class-imbalance handling applies to classification only; it was ignored.")
        imbalance = "none"
    if imputation == "none" and (selection == "kbest" or imbalance == "smote"):
        notes.append(f"{'k-best selection' if selection == 'kbest' else 'SMOTE'} cannot take missing values, "
                     "so they are filled with the median.")
        imputation = "median"
    resolved = ResolvedPreprocessing(
        imputation, bool(indicators), scaling, encoding, config.max_categories, config.datetime, config.text,
        config.hash_features, selection, config.k_best, imbalance, min_rows if indicators else 1,
    )
    return resolved, notes


def _scaler(kind: str) -> Any:
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}[kind]()


def _imputer(strategy: str, indicators: bool, min_rows: int = 1) -> Any:
    from sklearn.impute import SimpleImputer

    # keep_empty_features: a column missing in every training row stays (as zeros) so shapes never shift.
    fill = {"fill_value": 0.0} if strategy == "constant" else {}
    if indicators and min_rows > 1:
        return SteadyImputer(strategy=strategy, add_indicator=True, keep_empty_features=True, min_missing=min_rows,
                             **fill)
    return SimpleImputer(strategy=strategy, add_indicator=indicators, keep_empty_features=True, **fill)


def _encoder(resolved: ResolvedPreprocessing, kind: str, seed: int) -> Any:
    from sklearn.preprocessing import OneHotEncoder, TargetEncoder

    if resolved.encoding == "onehot":
        return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=resolved.max_categories,
                             sparse_output=False, dtype=np.float64)
    if resolved.encoding == "ordinal":
        return IndexedOrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64)
    target_type = str(kind) if kind in CLASSIFICATION_KINDS else "continuous"
    return TargetEncoder(target_type=target_type, random_state=seed)


def _preprocessor(
    types: Mapping[str, str], resolved: ResolvedPreprocessing, kind: str, seed: int
) -> tuple[Any, list[str]]:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    notes: list[str] = []
    impute = resolved.imputation != "none"
    scale = resolved.scaling != "none"
    transformers: list[tuple[str, Any, list[str]]] = []
    numeric = [c for c, t in types.items() if t == "numeric"]
    if numeric:
        steps: list[tuple[str, Any]] = [("cast", NumericCaster())]
        if impute:
            steps.append(("impute", _imputer(resolved.imputation, resolved.missing_indicators,
                                                     resolved.indicator_min_rows)))
        if scale:
            steps.append(("scale", _scaler(resolved.scaling)))
        transformers.append((NUMERIC_GROUP, Pipeline(steps), numeric))
    dropped: list[str] = []
    for i, (column, kind_of_column) in enumerate(types.items()):
        steps = []
        if kind_of_column == "categorical":
            steps = [("clean", CategoryCleaner()), ("encode", _encoder(resolved, kind, seed))]
            if scale and resolved.encoding != "onehot":
                steps.append(("scale", _scaler(resolved.scaling)))
        elif kind_of_column == "datetime" and resolved.datetime == "expand":
            steps = [("expand", DatetimeExpander())]
            if impute:
                steps.append(("impute", _imputer("median", False)))
            if scale:
                steps.append(("scale", _scaler(resolved.scaling)))
        elif kind_of_column == "text" and resolved.text == "hash":
            steps = [("hash", TextHasher(resolved.hash_features))]
        elif kind_of_column != "numeric":
            dropped.append(column)
        if steps:
            transformers.append((f"c{i}", Pipeline(steps), [column]))
    if dropped:
        notes.append(f"Dropped {len(dropped)} free-text or datetime column(s) that preprocessing does not use: "
                     f"{', '.join(map(repr, dropped[:5]))}" + (" …" if len(dropped) > 5 else "") + ".")
    if not transformers:
        raise InvalidInputError(
            "No features are left after preprocessing: every feature is free text or a datetime that is dropped.",
            hint="Choose text='hash' or datetime='expand' in the preprocessing settings, or add other features.",
        )
    prep = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
    return prep.set_output(transform="pandas"), notes


def _selector(resolved: ResolvedPreprocessing, kind: str, seed: int, n_jobs: int) -> Any | None:
    from sklearn.feature_selection import SelectFromModel, VarianceThreshold, f_classif, f_regression

    if resolved.selection == "variance":
        return VarianceThreshold(0.0)
    if resolved.selection == "kbest":
        return CappedSelectKBest(f_regression if kind == "regression" else f_classif, k=resolved.k_best)
    if resolved.selection == "model":
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

        forest = ExtraTreesRegressor if kind == "regression" else ExtraTreesClassifier
        return SelectFromModel(forest(n_estimators=50, random_state=seed, n_jobs=n_jobs), threshold="median")
    return None


def _sampler(resolved: ResolvedPreprocessing, y: pd.Series | None, seed: int) -> tuple[Any | None, list[str]]:
    if resolved.imbalance not in ("oversample", "undersample", "smote") or y is None:
        return None, []
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    if resolved.imbalance == "undersample":
        return RandomUnderSampler(random_state=seed), []
    smallest = int(y.value_counts().min())
    if resolved.imbalance == "smote" and smallest >= 2:
        return SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed), []
    notes = ["SMOTE needs two rows of every class; random oversampling is used instead."] \
        if resolved.imbalance == "smote" else []
    return RandomOverSampler(random_state=seed), notes


def build_pipeline(
    types: Mapping[str, str],
    resolved: ResolvedPreprocessing,
    estimator: Any,
    kind: str,
    *,
    y: pd.Series | None = None,
    seed: int = 0,
    n_jobs: int = 2,
) -> tuple[Any, list[str]]:
    """Assemble the unfitted pipeline for the given column types, choices and estimator.

    Parameters
    ----------
    types : logical type per input column (see :func:`core.ml.problem.column_types`).
    resolved : concrete preprocessing choices.
    estimator : the unfitted model (last step).
    y : training target, used to size SMOTE's neighbourhood.

    Returns
    -------
    (Pipeline, list of str)
        An ``imblearn.pipeline.Pipeline`` when resampling, else a scikit-learn one, and notes.
    """
    prep, notes = _preprocessor(types, resolved, kind, seed)
    steps: list[tuple[str, Any]] = [("prep", prep)]
    selector = _selector(resolved, kind, seed, n_jobs)
    if selector is not None:
        steps.append(("select", selector.set_output(transform="pandas")))
    steps.append(("names", FeatureNamer(random_state=seed).set_output(transform="pandas")))
    sampler, sampler_notes = _sampler(resolved, y, seed)
    notes += sampler_notes
    if sampler is not None:
        from imblearn.pipeline import Pipeline as ImbPipeline

        return ImbPipeline([*steps, ("resample", sampler), ("model", estimator)]), notes
    from sklearn.pipeline import Pipeline

    return Pipeline([*steps, ("model", estimator)]), notes


def model_input_frame(pipeline: Any, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` transformed exactly as the model sees it at predict time (resampling skipped)."""
    out: Any = X
    for _, step in pipeline.steps[:-1]:
        if hasattr(step, "transform"):
            out = step.transform(out)
    return out


def model_input_origin(pipeline: Any) -> dict[str, str]:
    """Map each column the fitted model sees to the input column it was derived from."""
    prep = pipeline.named_steps["prep"]
    width = sum(s.stop - s.start for s in prep.output_indices_.values())
    origin: list[str] = [""] * width
    for name, transformer, columns in prep.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        block = prep.output_indices_[name]
        if name == NUMERIC_GROUP:
            known = set(columns)
            for offset, out in enumerate(transformer.get_feature_names_out()):
                origin[block.start + offset] = out if out in known else str(out).removeprefix("missingindicator_")
        else:
            for position in range(block.start, block.stop):
                origin[position] = columns[0]
    if "select" in pipeline.named_steps:
        support = pipeline.named_steps["select"].get_support()
        origin = [o for o, keep in zip(origin, support, strict=True) if keep]
    names = pipeline.named_steps["names"].names_
    return dict(zip(names, origin, strict=True))
