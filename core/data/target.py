"""What kind of problem a target poses: :class:`ProblemKind` and :func:`detect_problem`.

The four kinds live here once.  ``ProblemKind`` is a ``StrEnum``, so ``ProblemKind.BINARY ==
"binary"``: kinds stored as text (model cards, job parameters, database rows) compare equal to
the members and read back with ``ProblemKind(text)``.  ``detect_problem`` reads the target alone
and explains its verdict in words ("12 distinct integer values → multiclass").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from core.platform.errors import InvalidInputError

__all__ = ["CLASSIFICATION_KINDS", "MAX_CLASSES_FROM_INTEGERS", "ProblemDetection", "ProblemKind", "detect_problem"]

# An integer target with at most this many distinct values is read as classes.
MAX_CLASSES_FROM_INTEGERS = 20


class ProblemKind(StrEnum):
    """binary, multiclass, regression or clustering (no target)."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    CLUSTERING = "clustering"

    @property
    def is_classification(self) -> bool:
        """True for binary and multiclass."""
        return self in CLASSIFICATION_KINDS

    @property
    def task(self) -> str:
        """``classification`` (binary or multiclass), ``regression`` or ``clustering``."""
        return "classification" if self.is_classification else self.value


# For kinds held as plain text: ``kind in CLASSIFICATION_KINDS`` works for "binary" and ProblemKind.BINARY alike.
CLASSIFICATION_KINDS = frozenset({ProblemKind.BINARY, ProblemKind.MULTICLASS})


@dataclass(frozen=True)
class ProblemDetection:
    """The detected (or chosen) problem kind and the reason in words.

    ``kind`` may be given as text ("binary"); it is kept as a :class:`ProblemKind`.
    """

    kind: ProblemKind
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ProblemKind(self.kind))

    @property
    def is_classification(self) -> bool:
        return self.kind.is_classification

    @property
    def evidence(self) -> str:
        """The reason without its ``→ kind`` ending, for text that already names the kind (no "binary … → binary")."""
        return self.reason.removesuffix(f" → {self.kind.value}").strip()

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "reason": self.reason}


def detect_problem(y: pd.Series | None) -> ProblemDetection:
    """Guess binary / multiclass / regression / clustering from the target values.

    Parameters
    ----------
    y : Series or None
        The target column (missing values are ignored); ``None`` means there is no target.

    Returns
    -------
    ProblemDetection
        ``kind`` and a one-line ``reason`` such as ``"float values with 412 distinct → regression"``.

    Raises
    ------
    InvalidInputError
        When every value of the target is missing.
    """
    if y is None:
        return ProblemDetection(ProblemKind.CLUSTERING, "no target → clustering")
    values = y.dropna()
    if values.empty:
        raise InvalidInputError(
            f"Every value of the target {y.name!r} is missing, so there is nothing to learn from.",
            hint="Choose another target column, or fill the target in the data first.",
        )
    n_distinct = int(values.nunique())
    if pd.api.types.is_bool_dtype(values.dtype):
        return ProblemDetection(ProblemKind.BINARY, f"true/false values ({n_distinct} distinct) → binary")
    if not pd.api.types.is_numeric_dtype(values.dtype):
        kind = ProblemKind.BINARY if n_distinct <= 2 else ProblemKind.MULTICLASS
        return ProblemDetection(kind, f"{n_distinct} distinct text values → {kind}")
    numbers = values.to_numpy(dtype=np.float64)
    integral = pd.api.types.is_integer_dtype(values.dtype) or bool(np.all(np.mod(numbers, 1) == 0))
    if n_distinct <= 2:
        return ProblemDetection(ProblemKind.BINARY, f"{n_distinct} distinct numeric values → binary")
    if integral and n_distinct <= MAX_CLASSES_FROM_INTEGERS:
        return ProblemDetection(ProblemKind.MULTICLASS, f"{n_distinct} distinct integer values → multiclass")
    if integral:
        return ProblemDetection(
            ProblemKind.REGRESSION,
            f"{n_distinct} distinct integer values (more than {MAX_CLASSES_FROM_INTEGERS}) → regression",
        )
    return ProblemDetection(ProblemKind.REGRESSION, f"float values with {n_distinct} distinct → regression")
