"""The small scikit-learn steps Atelier's pipelines are built from.

Each is an ordinary estimator (constructor stores arguments, ``fit`` learns attributes ending
in ``_``) so pipelines clone, tune and serialise like any scikit-learn object.  Saved models name
these classes by their import path and :mod:`core.ml.serialize` trusts them by that path:
renaming or moving one makes earlier models unloadable, so don't.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, ClusterMixin, TransformerMixin, clone
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

MISSING = "(missing)"
# days_since_1970: the moment as one number, so a tree finds a change of regime (a sensor swapped, labels
# recorded differently from some date on) with one split rather than a year-and-month pair
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "hour", "days_since_1970")
_UNSAFE = re.compile(r"[^0-9A-Za-z_]+")
_PREFIX = re.compile(r"^(num|c[0-9]+)__")


def _frame(X: Any, columns: Sequence[str]) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=list(columns))


class _ColumnwiseTransformer(TransformerMixin, BaseEstimator):
    """Shared fit bookkeeping: remember the input column names."""

    def fit(self, X: Any, y: Any = None) -> _ColumnwiseTransformer:
        self.feature_names_in_ = np.asarray([str(c) for c in _frame(X, range(np.shape(X)[1])).columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        return np.asarray(self.feature_names_in_, dtype=object)


class NumericCaster(_ColumnwiseTransformer):
    """Cast to float64; unreadable values and ±inf become NaN (so a text "n/a" at predict time is missing)."""

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        frame = _frame(X, self.feature_names_in_)
        # One float64 block filled column by column: no per-column arrays for pandas to consolidate.
        out = np.empty((len(frame), frame.shape[1]), dtype=np.float64, order="F")  # columns contiguous
        for i, column in enumerate(frame.columns):
            values = frame[column]
            if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
                values = pd.to_numeric(values.astype(object).where(values.notna(), np.nan), errors="coerce")
            if values.dtype == np.float64:
                out[:, i] = values.to_numpy()
            else:  # integers, nullable Int64/Float64 (pd.NA becomes NaN)
                out[:, i] = values.to_numpy(dtype=np.float64, na_value=np.nan)
        out[np.isinf(out)] = np.nan
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)


class CategoryCleaner(_ColumnwiseTransformer):
    """Categories as text, missing as ``"(missing)"``: encoders then never see mixed types or NaN."""

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        frame = _frame(X, self.feature_names_in_)
        out = {}
        for column in frame.columns:
            values = frame[column]
            if factorizes_like_cleaner(values):  # text each distinct value once
                codes, uniques = pd.factorize(values, use_na_sentinel=True)
                labels = np.append(_category_text(pd.Series(uniques, dtype=values.dtype)), MISSING)
                out[column] = labels[codes]  # code -1 (missing) picks the last label
                continue
            missing = values.isna().to_numpy()
            text = _category_text(values.astype(object).where(~missing, None))
            out[column] = np.where(missing, MISSING, text).astype(object)
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def factorizes_like_cleaner(series: pd.Series) -> bool:
    """Whether equal values of ``series`` (as ``pd.factorize`` finds them) are one category to the cleaner.

    ``pd.factorize`` takes ``1``, ``1.0`` and ``True`` for one value, which ``CategoryCleaner``
    writes ``"1"``, ``"1.0"`` and ``"True"``: an object column qualifies only when its values
    are all text, all whole numbers or all true/false.
    """
    kind = series.dtype.kind
    if kind in "iufb":
        return isinstance(series.dtype, np.dtype)
    if kind == "O":
        return pd.api.types.infer_dtype(series, skipna=True) in ("string", "integer", "boolean", "empty")
    return False


def _category_text(values: pd.Series) -> np.ndarray:
    """Each value as category text (missing values stay missing)."""
    if pd.api.types.is_float_dtype(values.dtype):
        # 3.0 and 3 are one category whether the file had a gap (floats) or not (ints).
        text = values.map(lambda v: str(int(v)) if float(v).is_integer() else str(v), na_action="ignore")
    else:
        text = values.map(str, na_action="ignore")
    return text.to_numpy(dtype=object)


class DatetimeExpander(_ColumnwiseTransformer):
    """Year, month, day, day of week (and hour when the training times have one), and days since 1970 per
    datetime column (models fitted before that part existed keep the parts they were fitted with)."""

    def fit(self, X: Any, y: Any = None) -> DatetimeExpander:
        super().fit(X, y)
        frame = _frame(X, self.feature_names_in_)
        has_hour = any(bool((_moments(frame[c]).dt.hour.fillna(0) != 0).any()) for c in frame.columns)
        self.parts_ = [p for p in DATETIME_PARTS if p != "hour" or has_hour]
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "parts_")
        frame = _frame(X, self.feature_names_in_)
        out = {}
        for column in frame.columns:
            moments = _moments(frame[column])
            for part in self.parts_:
                out[f"{column}_{part}"] = _datetime_part(moments, part)
        return pd.DataFrame(out, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "parts_")
        return np.asarray([f"{c}_{p}" for c in self.feature_names_in_ for p in self.parts_], dtype=object)


def _datetime_part(moments: pd.Series, part: str) -> np.ndarray:
    if part == "days_since_1970":  # fractional days; NaT stays missing
        origin = pd.Timestamp(0, tz=moments.dt.tz)
        return ((moments - origin) / pd.Timedelta(days=1)).astype(np.float64).to_numpy()
    return getattr(moments.dt, part).astype(np.float64).to_numpy()


def _moments(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    return pd.to_datetime(values, errors="coerce", format="mixed")


class TextHasher(_ColumnwiseTransformer):
    """Bag of words hashed into ``n_features`` columns per text column (stateless, so no vocabulary to store)."""

    def __init__(self, n_features: int = 32) -> None:
        self.n_features = n_features

    def transform(self, X: Any) -> pd.DataFrame:
        from sklearn.feature_extraction.text import HashingVectorizer

        check_is_fitted(self, "feature_names_in_")
        frame = _frame(X, self.feature_names_in_)
        hasher = HashingVectorizer(n_features=self.n_features, alternate_sign=False)
        blocks = [hasher.transform(frame[c].fillna("").astype(str)).toarray() for c in frame.columns]
        data = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
        return pd.DataFrame(data, index=frame.index, columns=self.get_feature_names_out())

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        names = [f"{c}_hash{i}" for c in self.feature_names_in_ for i in range(self.n_features)]
        return np.asarray(names, dtype=object)


class FeatureNamer(_ColumnwiseTransformer):
    """Rename encoded columns to ``[0-9A-Za-z_]`` names every library accepts (LightGBM refuses ``:"[]``...).

    It also keeps a small ``background_`` sample and the column ``mean_`` of the model's input, which
    the explainers need later when only the saved pipeline is at hand.
    """

    def __init__(self, background_rows: int = 100, random_state: int = 0) -> None:
        self.background_rows = background_rows
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> FeatureNamer:
        super().fit(X, y)
        names, seen = [], set()
        for original in self.feature_names_in_:
            # Drop the ColumnTransformer's "num__" / "c3__" prefix: the names then read like the data.
            base = _UNSAFE.sub("_", _PREFIX.sub("", str(original), count=1))
            base = re.sub("__+", "_", base).strip("_") or "feature"
            name, k = base, 1
            while name in seen:
                k += 1
                name = f"{base}_{k}"
            seen.add(name)
            names.append(name)
        self.names_ = np.asarray(names, dtype=object)
        frame = _frame(X, self.feature_names_in_)
        rng = np.random.default_rng(self.random_state)
        take = rng.choice(len(frame), size=min(self.background_rows, len(frame)), replace=False)
        self.background_ = frame.iloc[np.sort(take)].to_numpy(dtype=np.float64, na_value=np.nan)
        # Column by column: a float64 copy of every training row (a million rows: over a hundred MB and
        # half a second) only to average it would cost more than the rest of the step.
        means = [_column_mean(frame.iloc[:, i]) for i in range(frame.shape[1])]
        self.mean_ = np.asarray(means, dtype=np.float64)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "names_")
        frame = _frame(X, self.feature_names_in_)
        # A shallow copy renamed: the encoded values are this step's input, fresh from the column
        # transformer, so sharing them is safe, and copying them cost a quarter of a second per million rows.
        renamed = frame.copy(deep=False)
        renamed.columns = list(self.names_)
        return renamed

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "names_")
        return np.asarray(self.names_, dtype=object)


def _column_mean(values: pd.Series) -> float:
    """The mean of a column's readable values (NaN and ±inf left out as missing); 0 when it has none."""
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    readable = np.isfinite(numbers)
    if not readable.any():
        return 0.0
    return float(numbers.mean() if readable.all() else numbers[readable].mean())


class IndexedOrdinalEncoder(OrdinalEncoder):
    """OrdinalEncoder whose ``transform`` finds each value in a hash index of its column's categories.

    scikit-learn looks text values up in a Python dict one by one: half a second for four text columns
    of 800k rows, in the fit and again in every ``pipeline.predict`` (batch scoring builds its model
    input itself, :mod:`core.serve.scoring`).  ``pd.Index.get_indexer`` gives the same codes (Python's
    equality, unknown values ``unknown_value``) in C.  Encoders that group rare categories, encode
    missing values or reject unknown ones keep scikit-learn's own path, as do numeric categories.
    """

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "categories_")
        plain = (self.handle_unknown == "use_encoded_value" and not getattr(self, "_infrequent_enabled", True)
                 and not getattr(self, "_missing_indices", True) and hasattr(self, "_check_X")
                 and all(c.dtype == object for c in self.categories_))
        if not plain:
            return super().transform(X)
        columns, rows, width = self._check_X(X, ensure_all_finite="allow-nan")
        validate_data(self, X=X, reset=False, skip_check_array=True)  # the fitted columns' names and count
        out = np.empty((rows, width), dtype=self.dtype)
        for i, (values, categories) in enumerate(zip(columns, self.categories_, strict=True)):
            codes = pd.Index(categories, dtype=object).get_indexer(np.asarray(values, dtype=object))
            out[:, i] = np.where(codes < 0, self.unknown_value, codes)
        return out


class SteadyImputer(SimpleImputer):
    """SimpleImputer whose missing indicators keep only columns missing in ``min_missing`` training rows or more.

    An indicator seen set in a handful of training rows is learnt from those rows alone: a model
    then ties "measurement missing" to their labels (penguins: one training row with every
    measurement missing, an Adelie, made a logistic regression call a Gentoo with the same gaps
    Adelie with probability 1).  Ten rows per learnt coefficient is the usual floor for a
    logistic model (Peduzzi et al., 1996); rarer gaps are still filled, without an indicator.
    """

    _parameter_constraints: dict = {**SimpleImputer._parameter_constraints,
                                    "min_missing": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, *, missing_values: Any = np.nan, strategy: str = "mean", fill_value: Any = None,
                 copy: bool = True, add_indicator: bool = False, keep_empty_features: bool = False,
                 min_missing: int = 10) -> None:
        super().__init__(missing_values=missing_values, strategy=strategy, fill_value=fill_value, copy=copy,
                         add_indicator=add_indicator, keep_empty_features=keep_empty_features)
        self.min_missing = min_missing

    def fit(self, X: Any, y: Any = None) -> SteadyImputer:
        super().fit(X, y)
        if self.add_indicator and self.indicator_ is not None:
            counts = np.asarray(pd.isna(pd.DataFrame(X)).sum(axis=0))
            features = self.indicator_.features_
            # MissingIndicator reads features_ in transform and in its feature names: both shrink alike
            self.indicator_.features_ = features[counts[features] >= self.min_missing]
        return self


class CappedSelectKBest(SelectKBest):
    """SelectKBest that keeps every column when there are fewer than ``k`` (instead of warning)."""

    def _check_params(self, X: Any, y: Any) -> None:
        if not (self.k == "all" or (isinstance(self.k, int) and self.k >= 0)):
            raise ValueError(f"k must be a non-negative integer or 'all'; got {self.k!r}.")

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self)
        n = len(self.scores_)
        k = n if self.k == "all" else min(int(self.k), n)
        mask = np.zeros(n, dtype=bool)
        if k:
            scores = np.nan_to_num(np.asarray(self.scores_, dtype=np.float64), nan=-np.inf)
            mask[np.argsort(scores, kind="mergesort")[-k:]] = True
        return mask


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classifier that only takes labels 0..k-1 (XGBoost) and answer in the original labels."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> LabelEncodedClassifier:
        """Fit on codes 0..k-1; ``fit_params`` go to the estimator, an ``eval_set``'s labels encoded the same way."""
        self.classes_ = np.unique(np.asarray(y))
        codes = np.searchsorted(self.classes_, np.asarray(y))
        self.estimator_ = clone(self.estimator)
        if "eval_set" in fit_params:
            self._encode_eval_set(fit_params)
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        self.estimator_.fit(X, codes, **fit_params)
        self.n_features_in_ = getattr(self.estimator_, "n_features_in_", np.shape(X)[1])
        return self

    def _encode_eval_set(self, fit_params: dict[str, Any]) -> None:
        # A held-out row of a class the fit rows lack has no code: it is left out (with its weight).
        sets, weights = [], fit_params.get("sample_weight_eval_set")
        kept_weights = []
        for i, (Xe, ye) in enumerate(fit_params["eval_set"]):
            labels = np.asarray(ye)
            known = np.isin(labels, self.classes_)
            rows = Xe[known] if not hasattr(Xe, "iloc") else Xe.iloc[np.flatnonzero(known)]
            sets.append((rows, np.searchsorted(self.classes_, labels[known])))
            if weights is not None:
                kept_weights.append(np.asarray(weights[i])[known])
        fit_params["eval_set"] = sets
        if weights is not None:
            fit_params["sample_weight_eval_set"] = kept_weights

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.classes_[np.asarray(self.estimator_.predict(X)).astype(np.int64)]

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @property
    def feature_importances_(self) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.feature_importances_


class InductiveClusterer(ClusterMixin, BaseEstimator):
    """Give a clusterer without ``predict`` (DBSCAN, agglomerative) one: the nearest training row's cluster."""

    def __init__(self, clusterer: Any = None, n_neighbors: int = 1) -> None:
        self.clusterer = clusterer
        self.n_neighbors = n_neighbors

    def fit(self, X: Any, y: Any = None) -> InductiveClusterer:
        from sklearn.neighbors import KNeighborsClassifier

        self.clusterer_ = clone(self.clusterer)
        self.labels_ = np.asarray(self.clusterer_.fit_predict(X))
        self.classifier_ = KNeighborsClassifier(n_neighbors=self.n_neighbors).fit(X, self.labels_)
        self.n_features_in_ = np.shape(X)[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict(X)
