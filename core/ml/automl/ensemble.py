"""Greedy weighted ensemble selection (Caruana et al., 2004) on validation predictions.

Start from the best single model, then repeatedly add (with replacement) whichever finished
model most improves the validation score of the running average; weights are how often each
model was picked.  The ensemble is kept only when it beats the best single model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["EnsembleChoice", "select_ensemble"]

ROUNDS = 25
CANDIDATES = 12


@dataclass(frozen=True)
class EnsembleChoice:
    """Member indices into the candidates given, their weights, and the ensemble's score."""

    members: tuple[int, ...]
    weights: tuple[float, ...]
    score: float


def select_ensemble(predictions: Sequence[np.ndarray], score: Callable[[np.ndarray], float], maximise: bool,
                    rounds: int = ROUNDS) -> EnsembleChoice | None:
    """Pick members by greedy forward selection; ``None`` when fewer than two models help.

    ``predictions`` are validation probabilities or values, best model first; ``score`` maps
    averaged predictions to the metric.
    """
    if len(predictions) < 2:
        return None
    sign = 1.0 if maximise else -1.0
    singles = [sign * score(p) for p in predictions]
    best_single = int(np.argmax(singles))
    counts = np.zeros(len(predictions))
    counts[best_single] = 1
    total = predictions[best_single].copy()
    current = singles[best_single]
    for _ in range(rounds - 1):
        n = counts.sum()
        trials = [sign * score((total + p) / (n + 1)) for p in predictions]
        pick = int(np.argmax(trials))
        if trials[pick] < current - 1e-12:
            break
        counts[pick] += 1
        total += predictions[pick]
        current = trials[pick]
    used = np.flatnonzero(counts)
    if len(used) < 2 or current <= singles[best_single] + 1e-12:
        return None
    weights = counts[used] / counts.sum()
    return EnsembleChoice(tuple(int(i) for i in used), tuple(float(w) for w in weights), float(sign * current))
