"""The model card as a typed, read-only object: what one trained model version says about itself.

A card is stored as JSON on its registry row (built at training time by
:func:`core.models.training.model_card` from :meth:`core.ml.train.TrainResult.to_dict` plus
the dataset it came from and its reference statistics).  Everything that reads a card goes
through :class:`ModelCard`, never through string keys, so a renamed or missing part fails in
one place.

Cards already stored by older versions must keep loading: :meth:`ModelCard.from_dict` gives
every missing part its default (an empty dict, list or text, ``None`` where "not recorded" is
meaningful), and a part of the wrong shape reads as its default too.  Keys this version does
not know are **kept** in :attr:`ModelCard.extra` and written back last by
:meth:`ModelCard.to_dict`, so nothing a newer version (or another tool) stored is lost on a
round trip.  For a card written by this version ``ModelCard.from_dict(d).to_dict() == d``,
keys in the same order, so the stored JSON is byte-for-byte what it was.

The large parts (``curves``, ``reference``, ``shap``, ``tuning``, ``cv``, ``config``) stay
plain JSON: their shapes belong to :mod:`core.ml.evaluate`, :mod:`core.ml.explain`,
:mod:`core.ml.tuning` and :mod:`core.models.training_stats`.  Treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from core.data.target import CLASSIFICATION_KINDS
from core.platform.errors import InvalidInputError

__all__ = ["CardDataset", "CardProblem", "ModelCard"]


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _optional_dict(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class CardProblem:
    """The problem kind training used and why (``"2 distinct numeric values → binary"``)."""

    kind: str = ""
    reason: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CardProblem:
        return cls(_text(data.get("kind")), _text(data.get("reason")))

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class CardDataset:
    """The dataset version a model was trained on: ``label`` (``NAME@VERSION``), row id and checksum."""

    label: str = ""
    version_id: int | None = None
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CardDataset:
        version_id = data.get("version_id")
        return cls(_text(data.get("label")), version_id if isinstance(version_id, int) else None,
                   _optional_text(data.get("sha256")))

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "version_id": self.version_id, "sha256": self.sha256}


@dataclass(frozen=True)
class ModelCard:
    """Everything stored about one trained model version.

    Parameters
    ----------
    algorithm, label : str
        The catalogue key (``"logistic_regression"``) and its display name.
    kind : str
        ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"clustering"``; ``""`` when unknown.
    problem : CardProblem or None
        The kind with the reason it was detected or chosen.
    status, error : str, str or None
        ``"ok"``, or ``"failed"`` with the message.
    params, preprocessing : dict
        The algorithm's parameters and the resolved preprocessing settings.
    features : tuple of str
        The input columns, in the order the pipeline takes them.
    feature_types : dict
        ``{feature: logical type}`` (``"numeric"``, ``"categorical"``, ``"text"``, …).
    target : str or None
        The target column (``None`` for clustering).
    classes : tuple or None
        The class labels of a classifier, in the model's order.
    split : dict
        How rows were split (kind, sizes, seed, folds).
    metrics : dict
        Test-set metrics, ``{name: value}``.
    cv : dict
        Cross-validation summaries, ``{name: {"mean", "std", "folds"}}``.
    curves : dict
        Figure data (confusion matrix, ROC, PR, calibration, thresholds, scatter, projection, …).
    importances : dict or list
        ``{feature: importance}``; older cards may hold ``[{"feature", "importance"}]``.
    importance_method : str
        How importances were measured (``"native"``, ``"permutation"``, ``"none"``).
    shap, tuning : dict or None
        The SHAP summary and the tuning result, when they were run.
    timings : dict
        Seconds per stage (``train_seconds``, ``predict_seconds_per_1000``, …).
    model_sha256, model_size_bytes : str or None, int
        The saved pipeline's checksum and size.
    notes, warnings : tuple of str
        What training noted, and what the reader should know.
    library_versions : dict
        Versions of the libraries the model was saved with (checked on load).
    config : dict
        The :class:`~core.ml.config.TrainConfig` as JSON (what a retrain reuses).
    dataset : CardDataset or None
        Where the training rows came from.
    reference : dict or None
        Training statistics per feature (:mod:`core.models.training_stats`).
    extra : dict
        Keys this version does not know, kept as they were.
    """

    algorithm: str = ""
    label: str = ""
    kind: str = ""
    problem: CardProblem | None = None
    status: str = "ok"
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    feature_types: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    classes: tuple[Any, ...] | None = None
    split: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    importances: dict[str, float] | list[dict[str, Any]] = field(default_factory=dict)
    importance_method: str = "none"
    shap: dict[str, Any] | None = None
    tuning: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    model_sha256: str | None = None
    model_size_bytes: int = 0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    library_versions: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    dataset: CardDataset | None = None
    reference: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- reading and writing ------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ModelCard:
        """A card from its stored JSON; missing or malformed parts get their defaults, unknown keys go to ``extra``."""
        d = data or {}
        problem, dataset, classes = d.get("problem"), d.get("dataset"), d.get("classes")
        importances = d.get("importances")
        size = d.get("model_size_bytes")
        return cls(
            algorithm=_text(d.get("algorithm")), label=_text(d.get("label")), kind=_text(d.get("kind")),
            problem=CardProblem.from_dict(problem) if isinstance(problem, Mapping) else None,
            status=_text(d.get("status"), "ok"), error=_optional_text(d.get("error")),
            params=_dict(d.get("params")), preprocessing=_dict(d.get("preprocessing")),
            features=_tuple(d.get("features")), feature_types=_dict(d.get("feature_types")),
            target=_optional_text(d.get("target")),
            classes=None if classes is None else _tuple(classes),
            split=_dict(d.get("split")), metrics=_dict(d.get("metrics")), cv=_dict(d.get("cv")),
            curves=_dict(d.get("curves")),
            importances=list(importances) if isinstance(importances, list) else _dict(importances),
            importance_method=_text(d.get("importance_method"), "none"),
            shap=_optional_dict(d.get("shap")), tuning=_optional_dict(d.get("tuning")),
            timings=_dict(d.get("timings")), model_sha256=_optional_text(d.get("model_sha256")),
            model_size_bytes=size if isinstance(size, int) else 0,
            notes=_tuple(d.get("notes")), warnings=_tuple(d.get("warnings")),
            library_versions=_dict(d.get("library_versions")), config=_dict(d.get("config")),
            dataset=CardDataset.from_dict(dataset) if isinstance(dataset, Mapping) else None,
            reference=_optional_dict(d.get("reference")),
            extra={str(k): v for k, v in d.items() if k not in _KNOWN},
        )

    @classmethod
    def of(cls, card: ModelCard | Mapping[str, Any]) -> ModelCard:
        """``card`` itself, or read from its stored JSON (for builders that also take plain dicts)."""
        if isinstance(card, ModelCard):
            return card
        if isinstance(card, Mapping):
            return cls.from_dict(card)
        raise InvalidInputError(f"A model card must be a dict or a ModelCard; got {type(card).__name__} instead.")

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON: every known part in the stored order, then the ``extra`` keys."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, CardProblem | CardDataset):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return {**out, **self.extra}

    # -- derived ------------------------------------------------------------------------
    @property
    def is_classification(self) -> bool:
        return self.kind in CLASSIFICATION_KINDS

    @property
    def is_clustering(self) -> bool:
        return self.kind == "clustering"

    @property
    def title(self) -> str:
        """The display name, else the algorithm key; ``""`` when the card names neither."""
        return self.label or self.algorithm

    @property
    def dataset_label(self) -> str:
        """``NAME@VERSION`` of the training data; ``""`` when the card does not say."""
        return self.dataset.label if self.dataset else ""

    @property
    def positive_label(self) -> Any:
        """The class a binary model's scores and thresholds refer to; ``None`` when not recorded."""
        return self.curves.get("positive_label")

    @property
    def has_shap(self) -> bool:
        return bool((self.shap or {}).get("mean_abs"))

    @property
    def drops_text(self) -> bool:
        """Whether the preprocessing dropped free-text columns (the model never reads them)."""
        return self.preprocessing.get("text") == "drop"


_KNOWN = frozenset(f.name for f in fields(ModelCard)) - {"extra"}
