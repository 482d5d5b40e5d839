"""What makes an AutoML run repeatable, as plain JSON: the receipt.

Dataset version and sha256, target, features left out as leak suspects, seed, split sizes,
every session's budget and elapsed time, library versions, a hardware summary, every trial
(configuration, validation score and metrics, seconds, status) and the winner (one trial or an
ensemble of several, with weights) with its validation metrics.  ``replay`` refits the winner
from this alone; ``resume`` continues the search without repeating a trial.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

from core.ml.automl.trials import TrialConfig, TrialRecord

__all__ = ["Receipt", "Winner", "hardware_summary", "receipt_repeats"]


@dataclass
class Winner:
    """The chosen model: trial numbers, their configurations as run, weights, validation metrics."""

    trials: list[int]
    configs: list[TrialConfig]
    weights: list[float]
    val_metrics: dict[str, float]
    score: float

    @property
    def is_ensemble(self) -> bool:
        return len(self.trials) > 1

    @property
    def algorithm(self) -> str:
        return "ensemble" if self.is_ensemble else self.configs[0].algorithm

    def to_dict(self) -> dict[str, Any]:
        return {"trials": self.trials, "configs": [c.to_dict() for c in self.configs], "weights": self.weights,
                "val_metrics": self.val_metrics, "score": self.score, "algorithm": self.algorithm}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Winner:
        return cls(list(data["trials"]), [TrialConfig.from_dict(c) for c in data["configs"]],
                   [float(w) for w in data["weights"]], dict(data["val_metrics"]), float(data["score"]))


@dataclass
class Receipt:
    run_id: str
    dataset: dict[str, Any]  # label, version_id, sha256, n_rows
    target: str
    kind: str
    metric: str
    maximise: bool
    seed: int
    split: dict[str, Any]
    features: list[str]
    excluded: list[dict[str, str]]  # leak suspects left out: feature, reason
    settings: dict[str, Any]
    sessions: list[dict[str, Any]] = field(default_factory=list)  # budget, elapsed per run/resume
    library_versions: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    trials: list[TrialRecord] = field(default_factory=list)
    winner: Winner | None = None
    recommendations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trials"] = [t.to_dict() for t in self.trials]
        data["winner"] = None if self.winner is None else self.winner.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        values = dict(data)
        values["trials"] = [TrialRecord.from_dict(t) for t in values.get("trials", [])]
        values["winner"] = None if not values.get("winner") else Winner.from_dict(values["winner"])
        return cls(**values)

    def leaderboard(self) -> list[dict[str, Any]]:
        """Every trial as a public row, best first (failed and skipped ones last)."""
        sign = -1.0 if self.maximise else 1.0
        return [t.row() for t in sorted(self.trials, key=lambda t: (
            t.score is None, sign * (t.score if t.score is not None else 0.0), t.number))]


def hardware_summary() -> dict[str, Any]:
    try:
        import psutil

        memory = int(psutil.virtual_memory().total)
    except Exception:  # the summary is informative only
        memory = None
    return {"cpus": os.cpu_count(), "memory_bytes": memory, "machine": platform.machine(),
            "system": platform.system(), "python": platform.python_version()}


def receipt_repeats(receipt: Receipt | None) -> int | None:
    """How often ``receipt``'s run drew its folds (older receipts drew them once); ``None`` without a receipt."""
    return None if receipt is None else int(receipt.split.get("cv_repeats", 1) or 1)
