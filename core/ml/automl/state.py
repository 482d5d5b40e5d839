"""What an AutoML search starts from: the user's :class:`AutoMLConfig` and the prepared :class:`SearchState`.

:func:`prepare_search` does everything before the first trial: the leakage screen (suspects left
out unless kept, and listed), the features, the test split, the validation rows (a hold-out, or
under :data:`~.trials.CV_BELOW` training rows repeated cross-validation over all of them), the
dataset's profile and the calibrated ranking.  The test rows are never seen by the search.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS, detect_problem
from core.eda.leakage_memo import screen_features
from core.ml.automl.profile import DataProfile, profile_data
from core.ml.automl.recommend import Recommendation, recommend
from core.ml.automl.spaces import SPECS
from core.ml.automl.trials import CV_BELOW, SearchData, cv_repeats, make_folds
from core.ml.config import SplitConfig, TrainConfig
from core.ml.fitting import check_metric, greater_is_better, quietly
from core.ml.prepared import PreparedData, prepare_data
from core.ml.problem import select_features
from core.ml.splits import split_rows
from core.platform.cores import thread_budget
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress

__all__ = ["AUTOML_METRIC", "AutoMLConfig", "SearchState", "prepare_search", "recommend_for"]

AUTOML_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


@dataclass(frozen=True)
class AutoMLConfig:
    """What the user chose: target, budget in seconds, metric, seed, and the search's switches.

    ``keep_suspects`` keeps the features the leakage screen suspects (left out by default);
    ``algorithms`` limits the search to some catalogue keys; ``reserve`` is the share of the budget
    kept for the final refit, evaluation and registration; ``n_jobs`` (threads per fit) defaults to
    :func:`core.platform.cores.thread_budget` of the fitting rows, measured once when the run starts.
    """

    target: str
    budget: float
    metric: str | None = None
    seed: int = 0
    algorithms: Sequence[str] | None = None
    keep_suspects: bool = False
    features: Sequence[str] | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    n_jobs: int | None = None
    test_size: float = 0.2
    validation_size: float = 0.2
    ensemble: bool = True
    refit: bool = True
    reserve: float = 0.12
    max_trials: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.budget, int | float) and math.isfinite(self.budget) and self.budget > 0):
            raise InvalidInputError(f"The time budget must be a positive number of seconds. Got {self.budget!r}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise InvalidInputError(f"n_jobs must be at least 1. Got {self.n_jobs}.")
        unknown = sorted(set(self.algorithms or ()) - set(SPECS))
        if unknown:
            raise InvalidInputError(f"AutoML does not search {unknown[0]!r}.",
                                    hint=f"It searches: {', '.join(sorted(SPECS))}.")

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "budget": float(self.budget), "metric": self.metric, "seed": self.seed,
                "algorithms": None if self.algorithms is None else list(self.algorithms),
                "keep_suspects": self.keep_suspects, "features": None if self.features is None else list(self.features),
                "roles": dict(self.roles), "n_jobs": self.n_jobs, "test_size": self.test_size,
                "validation_size": self.validation_size, "ensemble": self.ensemble, "refit": self.refit,
                "reserve": self.reserve, "max_trials": self.max_trials}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AutoMLConfig:
        return cls(**dict(data))


@dataclass
class SearchState:
    """The data side of a run: prepared rows, the validation split, the profile and the ranking."""

    prepared: PreparedData
    data: SearchData
    profile: DataProfile
    recommendations: list[Recommendation]
    excluded: list[dict[str, str]]
    fit_rows: np.ndarray  # positions in the training rows
    val_rows: np.ndarray


def prepare_search(df: pd.DataFrame, config: AutoMLConfig, cb: Progress,
                   excluded: list[dict[str, str]] | None = None, *,
                   screen_key: Hashable | None = None, repeats: int | None = None) -> SearchState:
    """Leakage screen, features, split, validation rows, profile and ranking: all before the first trial.

    ``excluded`` (from a receipt) replaces the screen so a resumed or replayed run uses the same features;
    ``repeats`` (from a receipt) how often the cross-validation drew its folds (default: by the rows,
    :func:`~.trials.cv_repeats`).
    ``screen_key`` names ``df``'s data, so the screen here, the one in the data preparation and the
    Train page's warnings are one (:func:`core.eda.leakage_memo.screen_features`).
    """
    if config.target not in df.columns:
        raise InvalidInputError(f"The target column {config.target!r} is not in the data; its columns are "
                                f"{', '.join(map(str, df.columns[:20]))}.")
    features = select_features(df, config.target, config.features, config.roles)
    if excluded is None:
        excluded = []
        y_raw = df[config.target]
        if y_raw.notna().any():
            kind = detect_problem(y_raw).kind
            if kind in CLASSIFICATION_KINDS or kind == "regression":
                checks, _ = quietly(lambda: screen_features(df, config.target, kind, features, key=screen_key,
                                                            seed=config.seed))
                excluded = [{"feature": str(c.feature), "reason": c.short_message} for c in checks if c.suspect]
        if config.keep_suspects:
            for item in excluded:
                cb.log(f"kept although suspected of leakage: {item['reason']}")
            excluded = []
    for item in excluded:
        cb.log(f"left out as a leak suspect: {item['reason']}")
    dropped = {item["feature"] for item in excluded}
    kept = [f for f in features if str(f) not in dropped]
    if not kept:
        raise InvalidInputError("Every feature is a leak suspect, so nothing is left to learn from.",
                                hint="Keep the suspects (--keep-suspects) if you are sure they are known in time.")
    train_config = TrainConfig(target=config.target, features=kept, roles=dict(config.roles),
                               split=SplitConfig(test_size=config.test_size, seed=config.seed), seed=config.seed,
                               n_jobs=config.n_jobs, explain=False)
    prepared = prepare_data(df, train_config, cb, screen_key=screen_key)
    if prepared.kind == "clustering":
        raise InvalidInputError("AutoML needs a target to predict; clustering is not searched.")
    X_train, y_train = prepared.X_train, prepared.y_train
    metric = check_metric(config.metric or AUTOML_METRIC.get(prepared.kind), prepared.kind)
    task = "classification" if prepared.kind in CLASSIFICATION_KINDS else "regression"
    if len(X_train) < CV_BELOW:  # small: every row validates once a repeat (seeded folds: a replay sees the same)
        folds = make_folds(y_train, task, config.seed + 1,
                           repeats=cv_repeats(len(X_train)) if repeats is None else repeats)
        fit_rows = val_rows = np.arange(len(X_train))
        data = SearchData(X_train, y_train, X_train, y_train, prepared.kind, dict(prepared.types), metric,
                          greater_is_better(metric), config.seed, config.n_jobs or thread_budget(len(X_train)),
                          folds=folds)
    else:
        inner = split_rows(X_train, y_train, prepared.kind, SplitConfig(test_size=config.validation_size,
                                                                        seed=config.seed + 1))
        fit_rows, val_rows = inner.train, inner.test
        data = SearchData(X_train.iloc[fit_rows], y_train.iloc[fit_rows], X_train.iloc[val_rows],
                          y_train.iloc[val_rows], prepared.kind, dict(prepared.types), metric,
                          greater_is_better(metric), config.seed, config.n_jobs or thread_budget(len(fit_rows)))
    profile = profile_data(data.X_fit, data.y_fit, prepared.kind, prepared.types)
    ranking = recommend(profile, list(config.algorithms) if config.algorithms else None)
    if not ranking:
        raise InvalidInputError(f"No algorithm AutoML searches suits this {prepared.kind} problem with "
                                f"{profile.rows:,} rows.", hint="Allow more algorithms.")
    return SearchState(prepared, data, profile, ranking, excluded, fit_rows, val_rows)


def recommend_for(df: pd.DataFrame, config: AutoMLConfig, total_rows: int | None = None, *,
                  screen_key: Hashable | None = None) -> tuple[list[Recommendation], list[dict[str, str]]]:
    """The ranking (and the leak suspects) for ``df``, a sample of a table of ``total_rows`` rows.

    ``screen_key`` names ``df``'s data: its leakage screen is then kept for the next feature set.
    """
    state = prepare_search(df, config, Progress(), screen_key=screen_key)
    profile = state.profile
    if total_rows and total_rows > len(df):
        scale = total_rows / len(df)
        profile = replace(profile, rows=int(profile.rows * scale), data_bytes=int(profile.data_bytes * scale))
    return recommend(profile, list(config.algorithms) if config.algorithms else None), state.excluded
