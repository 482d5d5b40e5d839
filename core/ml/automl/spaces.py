"""What AutoML knows about each catalogue entry, declared as data (FLAML's learners describing themselves).

Per catalogue key, an :class:`AutoMLSpec` gives

* ``start``: the low-cost starting point, tried first (cheap, rarely bad);
* ``portfolio``: strong known defaults, tried before any search;
* ``space``: the search space as :class:`Dim` rows; a bound may grow with the training rows
  (``high_per_row``: the upper bound is ``rows * high_per_row`` clipped to ``[low, high]``), so a
  small table never searches leaves of 500 rows;
* ``early_stopping``: boosting rounds stop on the validation split (the rounds used are recorded);
* ``as_shipped``: configurations fitted exactly as written, never stopped early (a library's own
  defaults: stopped on mpg's folds, LightGBM's kept 56 of their 100 rounds and the refit lost to
  the library untouched, 2.53 against 2.38 test RMSE);
* ``max_rows``: above this many training rows the entry is left out (its cost grows too fast).

Parameters not named keep the catalogue's defaults (:meth:`core.ml.catalogue.Algorithm.make`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LIGHTGBM_DEFAULTS", "SPECS", "AutoMLSpec", "Dim", "spec_for"]


@dataclass(frozen=True)
class Dim:
    """One searched parameter: ``int``, ``float`` or ``cat`` (``choices``), optionally on a log scale."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    high_per_row: float | None = None

    def bounds(self, rows: int) -> tuple[float, float]:
        high = self.high
        if self.high_per_row is not None:
            high = min(self.high, max(self.low * 2, rows * self.high_per_row))
        return self.low, high

    def suggest(self, trial: Any, rows: int) -> Any:
        if self.kind == "cat":
            return trial.suggest_categorical(self.name, list(self.choices))
        low, high = self.bounds(rows)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(low), max(int(high), int(low) + 1), log=self.log)
        return trial.suggest_float(self.name, float(low), float(high), log=self.log)


@dataclass(frozen=True)
class AutoMLSpec:
    key: str
    start: Mapping[str, Any]
    portfolio: tuple[Mapping[str, Any], ...] = ()
    space: tuple[Dim, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    early_stopping: bool = False
    as_shipped: tuple[Mapping[str, Any], ...] = ()
    max_rows: int | None = None
    tasks: frozenset[str] = frozenset({"classification", "regression"})

    def stops_early(self, params: Mapping[str, Any]) -> bool:
        """Whether a trial of ``params`` stops its boosting rounds on the validation rows."""
        return self.early_stopping and not any(dict(params) == dict(c) for c in self.as_shipped)

    def sample(self, trial: Any, rows: int) -> dict[str, Any]:
        """Parameters for an Optuna trial (ask/tell), ``fixed`` ones included."""
        return {**self.fixed, **{d.name: d.suggest(trial, rows) for d in self.space}}

    def distributions(self, rows: int) -> dict[str, Any]:
        """Optuna distributions of the space (to hand finished trials back to a study on resume)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, Any] = {}
        for d in self.space:
            if d.kind == "cat":
                out[d.name] = CategoricalDistribution(list(d.choices))
                continue
            low, high = d.bounds(rows)
            out[d.name] = IntDistribution(int(low), max(int(high), int(low) + 1), log=d.log) if d.kind == "int" \
                else FloatDistribution(float(low), float(high), log=d.log)
        return out


_ROUNDS = 3000  # with early stopping on the validation split, an upper bound rather than a choice
LIGHTGBM_DEFAULTS = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
                     "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 0.0, "reg_alpha": 0.0}
SPECS: dict[str, AutoMLSpec] = {s.key: s for s in (
    AutoMLSpec(
        "lightgbm",
        start={"n_estimators": 300, "learning_rate": 0.2, "num_leaves": 8, "min_child_samples": 10},
        portfolio=(
            # LightGBM's own defaults, spelled out (the catalogue's size-aware defaults differ): the search
            # tries this first of all, so AutoML never ends below what a user gets from the library untouched
            LIGHTGBM_DEFAULTS,
            {"n_estimators": _ROUNDS, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20,
             "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0},
            {"n_estimators": _ROUNDS, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 10,
             "colsample_bytree": 0.5, "reg_lambda": 0.1},
            {"n_estimators": _ROUNDS, "learning_rate": 0.05, "num_leaves": 63, "min_child_samples": 40,
             "subsample": 0.7, "subsample_freq": 1, "colsample_bytree": 0.6, "reg_lambda": 5.0},
            # small tables: few, well-regularised leaves that a few hundred rows can fill
            {"n_estimators": _ROUNDS, "learning_rate": 0.05, "num_leaves": 8, "min_child_samples": 5,
             "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0},
            {"n_estimators": _ROUNDS, "learning_rate": 0.03, "num_leaves": 16, "min_child_samples": 3,
             "colsample_bytree": 0.6, "reg_lambda": 3.0, "extra_trees": True},
        ),
        space=(Dim("learning_rate", "float", 0.01, 0.3, log=True),
               Dim("num_leaves", "int", 4, 256, log=True, high_per_row=0.02),
               Dim("min_child_samples", "int", 2, 200, log=True, high_per_row=0.01),
               Dim("subsample", "float", 0.5, 1.0), Dim("colsample_bytree", "float", 0.3, 1.0),
               Dim("reg_lambda", "float", 1e-3, 30.0, log=True), Dim("reg_alpha", "float", 1e-3, 10.0, log=True)),
        fixed={"n_estimators": _ROUNDS, "subsample_freq": 1},
        early_stopping=True,
        as_shipped=(LIGHTGBM_DEFAULTS,),
    ),
    AutoMLSpec(
        "xgboost",
        start={"n_estimators": 100, "learning_rate": 0.2, "max_depth": 4},
        portfolio=({"n_estimators": 400, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8,
                    "colsample_bytree": 0.8, "min_child_weight": 1.0},
                   {"n_estimators": 300, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.8,
                    "colsample_bytree": 0.8, "min_child_weight": 1.0, "reg_lambda": 1.0}),
        space=(Dim("n_estimators", "int", 50, 800, log=True), Dim("learning_rate", "float", 0.01, 0.3, log=True),
               Dim("max_depth", "int", 2, 10), Dim("subsample", "float", 0.5, 1.0),
               Dim("colsample_bytree", "float", 0.3, 1.0), Dim("min_child_weight", "float", 0.5, 20.0, log=True),
               Dim("reg_lambda", "float", 1e-3, 10.0, log=True)),
    ),
    AutoMLSpec(
        "hist_gradient_boosting",
        start={"max_iter": 100, "learning_rate": 0.2, "max_leaf_nodes": 15},
        portfolio=({"max_iter": 500, "learning_rate": 0.05, "max_leaf_nodes": 31, "early_stopping": True,
                    "validation_fraction": 0.1, "n_iter_no_change": 30},),
        space=(Dim("learning_rate", "float", 0.01, 0.3, log=True), Dim("max_iter", "int", 50, 600, log=True),
               Dim("max_leaf_nodes", "int", 4, 128, log=True, high_per_row=0.02),
               Dim("min_samples_leaf", "int", 2, 100, log=True, high_per_row=0.01),
               Dim("l2_regularization", "float", 1e-6, 10.0, log=True)),
    ),
    AutoMLSpec(
        "random_forest",
        start={"n_estimators": 50, "max_features": "sqrt"},
        portfolio=({"n_estimators": 300, "max_features": "sqrt", "min_samples_leaf": 1},
                   {"n_estimators": 300, "max_features": 0.5, "min_samples_leaf": 2}),
        space=(Dim("n_estimators", "int", 50, 400, log=True), Dim("max_features", "float", 0.1, 1.0),
               Dim("min_samples_leaf", "int", 1, 30, log=True, high_per_row=0.01)),
        max_rows=400_000,
    ),
    AutoMLSpec(
        "extra_trees",
        start={"n_estimators": 50, "max_features": "sqrt"},
        portfolio=({"n_estimators": 300, "max_features": 0.7, "min_samples_leaf": 1},
                   {"n_estimators": 300, "max_features": "sqrt", "min_samples_leaf": 1},
                   {"n_estimators": 300, "max_features": 1.0, "min_samples_leaf": 2}),
        space=(Dim("n_estimators", "int", 50, 400, log=True), Dim("max_features", "float", 0.1, 1.0),
               Dim("min_samples_leaf", "int", 1, 30, log=True, high_per_row=0.01)),
        max_rows=400_000,
    ),
    AutoMLSpec(
        "logistic_regression", start={"C": 1.0}, portfolio=({"C": 0.1}, {"C": 10.0}),
        space=(Dim("C", "float", 1e-3, 1e2, log=True),), tasks=frozenset({"classification"}),
    ),
    AutoMLSpec(
        "ridge", start={"alpha": 1.0}, portfolio=({"alpha": 10.0}, {"alpha": 0.1}),
        space=(Dim("alpha", "float", 1e-3, 1e3, log=True),), tasks=frozenset({"regression"}),
    ),
    AutoMLSpec(
        "knn", start={"n_neighbors": 15, "weights": "distance"},
        space=(Dim("n_neighbors", "int", 2, 60, log=True), Dim("weights", "cat", choices=("uniform", "distance"))),
        max_rows=100_000,
    ),
)}


def spec_for(key: str) -> AutoMLSpec | None:
    """The AutoML declaration of a catalogue entry, ``None`` when AutoML does not use it."""
    return SPECS.get(key)
