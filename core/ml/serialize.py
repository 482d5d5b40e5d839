"""Save and load fitted pipelines without ever unpickling bytes we cannot vouch for.

``dump_model`` writes skops bytes.  ``load_model`` first checks the sha256 recorded when the
model was saved, then asks skops which non-default types the file contains and refuses the file
if any is outside ``TRUSTED_TYPES``, a fixed list kept here (never the file's own list).  The
library versions a model was trained with are recorded by ``library_versions`` and compared by
``check_versions``: a model saved by a newer library than the one installed is refused.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from typing import Any

from core.platform.errors import IntegrityError, InvalidInputError

__all__ = ["TRUSTED_TYPES", "check_versions", "dump_model", "library_versions", "load_model", "sha256_hex"]

# Every type beyond skops' own defaults that an Atelier pipeline may hold.  Add a type here only
# with the catalogue entry or pipeline step that needs it (see /work/shared/FIELD-NOTES.md).
TRUSTED_TYPES: tuple[str, ...] = (
    "collections.OrderedDict",
    "numpy.dtype",
    # our own steps (core/ml/steps.py) and AutoML's ensemble (core/ml/ensemble.py)
    "core.ml.ensemble.WeightedEnsemble",
    "core.ml.steps.CappedSelectKBest",
    "core.ml.steps.CategoryCleaner",
    "core.ml.steps.DatetimeExpander",
    "core.ml.steps.FeatureNamer",
    "core.ml.steps.IndexedOrdinalEncoder",
    "core.ml.steps.InductiveClusterer",
    "core.ml.steps.LabelEncodedClassifier",
    "core.ml.steps.NumericCaster",
    "core.ml.steps.SteadyImputer",
    "core.ml.steps.TextHasher",
    # imbalanced-learn resampling
    "imblearn.over_sampling._random_over_sampler.RandomOverSampler",
    "imblearn.over_sampling._smote.base.SMOTE",
    "imblearn.pipeline.Pipeline",
    "imblearn.under_sampling._prototype_selection._random_under_sampler.RandomUnderSampler",
    # scikit-learn internals of fitted models
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.tree._tree.Tree",
    # boosters
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
)
VERSIONED_LIBRARIES = ("scikit-learn", "xgboost", "lightgbm", "imbalanced-learn", "skops", "numpy", "pandas", "shap")


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``: record it next to the saved model."""
    return hashlib.sha256(data).hexdigest()


def dump_model(pipeline: Any) -> bytes:
    """The fitted pipeline as skops bytes."""
    import skops.io as sio

    return sio.dumps(pipeline)


def load_model(data: bytes, expected_sha256: str) -> Any:
    """Load a pipeline saved by :func:`dump_model`, after checking its checksum and its types.

    Raises
    ------
    IntegrityError
        The bytes do not match ``expected_sha256``, cannot be read, or contain a type outside
        ``TRUSTED_TYPES``.
    """
    import skops.io as sio

    if sha256_hex(data) != str(expected_sha256).lower():
        raise IntegrityError(
            "checksum mismatch: the model file was changed after it was saved; refusing to load",
            hint="Retrain the model, or restore the original file from a backup.",
        )
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises zipfile/json/key errors for anything it cannot parse
        raise IntegrityError(f"The model file cannot be read as a skops file ({exc}); refusing to load.") from exc
    unknown = sorted(set(found) - set(TRUSTED_TYPES))
    if unknown:
        raise IntegrityError(
            f"The model file contains the type {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + ", which Atelier does not trust; refusing to load.",
            hint="Only models trained by Atelier can be loaded.",
        )
    return sio.loads(data, trusted=list(found))


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a saved model depends on (absent ones are left out)."""
    versions = {}
    for name in VERSIONED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def check_versions(recorded: dict[str, str]) -> None:
    """Refuse a model saved by a newer library version than the one installed.

    Raises
    ------
    InvalidInputError
        Naming the library and both versions.
    """
    from packaging.version import InvalidVersion, Version

    installed = library_versions()
    for name, saved in recorded.items():
        if name not in installed:
            continue
        try:
            newer = Version(str(saved)) > Version(installed[name])
        except InvalidVersion:
            continue
        if newer:
            raise InvalidInputError(
                f"This model was saved with {name} {saved}, newer than the installed {name} {installed[name]}; "
                "it may not load or predict correctly.",
                hint=f"Upgrade {name} to {saved} or later, or retrain the model here.",
            )
