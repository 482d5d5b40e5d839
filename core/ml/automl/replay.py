"""Replay: refit a receipt's winner on the same rows and check its validation metrics to 1e-9.

A cross-validated run is replayed fold by fold (the folds are seeded, so they are the same rows, drawn
as often as the receipt says), with the threads each member was fitted with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.ml.automl.receipt import Receipt, receipt_repeats
from core.ml.automl.state import AutoMLConfig, prepare_search
from core.ml.automl.trials import fit_trial, metrics_of
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress

__all__ = ["TOLERANCE", "ReplayResult", "replay"]

TOLERANCE = 1e-9


@dataclass(frozen=True)
class ReplayResult:
    reproduced: bool
    recorded: dict[str, float]
    replayed: dict[str, float]
    largest_difference: float

    def to_dict(self) -> dict[str, Any]:
        return {"reproduced": self.reproduced, "recorded": self.recorded, "replayed": self.replayed,
                "largest_difference": self.largest_difference}


def replay(df: pd.DataFrame, receipt: Receipt, callbacks: Progress | None = None) -> ReplayResult:
    """Refit every member of the winner exactly as the search did and compare validation metrics.

    Raises
    ------
    InvalidInputError
        The receipt has no winner.
    """
    if receipt.winner is None:
        raise InvalidInputError(f"AutoML run {receipt.run_id} has no finished model to replay.")
    cb = callbacks or Progress()
    config = AutoMLConfig.from_dict(receipt.settings)
    state = prepare_search(df, config, cb, receipt.excluded, repeats=receipt_repeats(receipt))
    data = state.data
    threads = {r.number: r.threads for r in receipt.trials}
    blended: Any = 0.0
    classes = None
    for number, member, weight in zip(receipt.winner.trials, receipt.winner.configs, receipt.winner.weights,
                                      strict=True):
        cb.log(f"refitting {member.algorithm} {member.params}")
        fitted_with = replace(data, n_jobs=threads.get(number) or data.n_jobs)  # the same threads add up alike
        outcome = fit_trial(fitted_with, replace(member), early_stopping=False)
        if classes is None and data.task == "classification":
            classes = np.unique(np.asarray(data.y_fit)) if data.cross_validated else \
                np.asarray(outcome.pipeline.classes_)
        blended = blended + weight * outcome.predictions if len(receipt.winner.configs) > 1 else outcome.predictions
    replayed = metrics_of(data, np.asarray(blended), classes)
    recorded = {k: float(v) for k, v in receipt.winner.val_metrics.items()}
    names = sorted(set(recorded) | set(replayed))
    gaps = [abs(recorded.get(k, np.nan) - replayed.get(k, np.nan)) for k in names]
    largest = float(max(gaps)) if gaps else 0.0
    reproduced = bool(gaps) and all(g <= TOLERANCE for g in gaps)
    return ReplayResult(reproduced, recorded, {k: float(v) for k, v in replayed.items()},
                        largest if np.isfinite(largest) else float("inf"))
