"""A retrained version against the one it would replace, on a common holdout, and the decision.

The holdout is the test split of the newest dataset version as the retrained model's own training
drew it (same settings, same seed: :func:`core.ml.prepared.prepare_data`), so neither model saw those
rows while it was fitted (the older one was trained on an older version of the dataset).  Both are
scored on it with the task's primary metric (``core.ml.fitting.DEFAULT_METRIC``); :func:`decide`
promotes when the new one is better by at least the margin, and writes the numbers into the
promotion's note, which the registry keeps in the model's history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.data import datasets
from core.data.datasets import VersionInfo
from core.ml.config import TrainConfig
from core.ml.evaluate import evaluate
from core.ml.fitting import DEFAULT_METRIC
from core.ml.prepared import prepare_data
from core.models import registry
from core.models.leaderboard import metric_direction
from core.models.registry import ModelVersionInfo
from core.platform.errors import InvalidInputError
from core.platform.workspace import Workspace

__all__ = ["HoldoutComparison", "compare_on_holdout", "decide"]


@dataclass(frozen=True)
class HoldoutComparison:
    metric: str
    new: float
    base: float
    gain: float  # positive: the new version is better (whatever the metric's direction)
    rows: int
    dataset: str
    new_label: str
    base_label: str

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (f"{self.metric} on a common holdout of {self.rows:,} rows of {self.dataset}: {self.new_label} "
                f"{self.new:.4f}, {self.base_label} {self.base:.4f} (gain {self.gain:+.4f})")


def compare_on_holdout(ws: Workspace, new: ModelVersionInfo, base: ModelVersionInfo,
                       data: VersionInfo) -> HoldoutComparison:
    """Score ``new`` and ``base`` on the test split of ``data`` that ``new`` was trained without."""
    kind = new.problem_type
    metric = DEFAULT_METRIC.get(kind)
    if metric is None or kind == "clustering":
        raise InvalidInputError(f"A {kind} model has no holdout score to compare retrained versions on.")
    if base.problem_type != kind or base.target != new.target:
        raise InvalidInputError(f"{base.label} and {new.label} do not predict the same target the same way.")
    config = TrainConfig.from_dict(new.card.config or {})
    prepared = prepare_data(datasets.load_frame(ws, data), config)
    test = prepared.split.test
    frame, y = prepared.X.iloc[test], prepared.y.iloc[test]
    scores = {}
    for mv in (new, base):
        missing = [f for f in mv.card.features if f not in frame.columns]
        if missing:
            raise InvalidInputError(f"{data.label} lacks {', '.join(missing[:5])}, which {mv.label} needs.")
        pipeline = registry.load_pipeline(ws, mv)
        result = evaluate(pipeline, frame[list(mv.card.features)], y, kind, positive_label=config.positive_label,
                          curves=False)
        value = result.metrics.get(metric)
        if value is None:
            raise InvalidInputError(f"{mv.label} has no {metric} on the holdout: {'; '.join(result.notes)}")
        scores[mv.id] = float(value)
    sign = -1.0 if metric_direction(metric) == "min" else 1.0
    gain = sign * (scores[new.id] - scores[base.id])
    return HoldoutComparison(metric, scores[new.id], scores[base.id], gain, len(test), data.label, new.label,
                             base.label)


def decide(ws: Workspace, new: ModelVersionInfo, comparison: HoldoutComparison,
           margin: float | None) -> ModelVersionInfo | None:
    """Promote ``new`` when ``margin`` is given and the gain reaches it; the promoted version, else ``None``."""
    if margin is None or comparison.gain < margin or new.stage == "production":
        return None
    note = f"retrained, promoted: {comparison.describe()} >= margin {margin:g}"
    return registry.promote(ws, new.name, new.version, note=note[:1000])
