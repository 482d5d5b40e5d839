"""Permutation SHAP values of any function of a frame, against a few background rows.

The estimator of ``shap.PermutationExplainer`` (antithetic permutations: each pass adds the
columns of one random order in turn, then in the reverse order), written in numpy: shap's own
compiles numba code on first use, seconds per process that a one-row explanation cannot afford.
Every pass adds up exactly, so for each row ``base + values.sum(axis=1) == f(row)``; more passes
only lower the variance.  One function serves a single model on its numeric model columns
(:mod:`core.ml.explain`) and a weighted ensemble on its raw, mixed-type input columns
(:mod:`core.ml.ensemble`): states are built by taking whole rows' values, so every column keeps
its dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["PERMUTATIONS", "STATE_ROWS", "permutation_shap", "state_count"]

PERMUTATIONS = 2  # antithetic pairs
STATE_ROWS = 50_000  # rows one batch of masked states may hold


def state_count(rows: int, width: int, background: int, permutations: int = PERMUTATIONS) -> int:
    """How many rows :func:`permutation_shap` asks ``f`` about: what its time is proportional to."""
    return 2 * permutations * rows * (width + 1) * background


def permutation_shap(f: Callable[[pd.DataFrame], np.ndarray], rows: pd.DataFrame, background: pd.DataFrame,
                     seed: int = 0, permutations: int = PERMUTATIONS) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values ``(n, columns, K)`` and the base value ``(K,)`` (the mean of ``f`` over ``background``).

    ``f`` maps a frame with ``rows``' columns to an ``(m, K)`` array (probabilities, or values as
    one column); ``background`` has the same columns.
    """
    columns = list(rows.columns)
    rows = rows.reset_index(drop=True)
    background = background[columns].reset_index(drop=True)
    n, width, b = len(rows), len(columns), len(background)
    base = _output(f, background).mean(axis=0)
    values = np.zeros((n, width, base.shape[0]))
    rng = np.random.default_rng(seed)
    chunk = max(1, STATE_ROWS // ((width + 1) * b))
    for _ in range(permutations):
        order = rng.permutation(width)
        for direction in (order, order[::-1]):
            # state t takes the row's value for the first t columns of the order, the background's for the rest
            mask = np.zeros((width + 1, width), dtype=bool)
            for t in range(1, width + 1):
                mask[t:, direction[t - 1]] = True
            for start in range(0, n, chunk):
                part = rows.iloc[start:start + chunk]
                out = _output(f, _states(part, background, mask)).reshape(len(part), width + 1, b, -1)
                values[start:start + len(part), direction, :] += np.diff(out.mean(axis=2), axis=1)
    values /= 2 * permutations
    return values, base


def _output(f: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame) -> np.ndarray:
    out = np.asarray(f(frame), dtype=np.float64)
    return out.reshape(len(frame), -1)


def _states(rows: pd.DataFrame, background: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Every (row, state, background row) as one frame: column j from the row where ``mask[state, j]``."""
    n, b = len(rows), len(background)
    combined = pd.concat([rows.reset_index(drop=True), background], ignore_index=True)
    row_of = np.broadcast_to(np.arange(n)[:, None, None], (n, mask.shape[0], b))
    background_of = np.broadcast_to(n + np.arange(b)[None, None, :], (n, mask.shape[0], b))
    states = {}
    for j, column in enumerate(combined.columns):
        take = np.where(mask[None, :, None, j], row_of, background_of).ravel()
        states[column] = combined[column].iloc[take].reset_index(drop=True)
    return pd.DataFrame(states)
