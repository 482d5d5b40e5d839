"""Which algorithms to try first for this data, and why: a ranking calibrated on measured runs.

The priors (``priors.json`` beside this module, written by ``benchmarks/calibrate_automl.py``)
hold, per benchmark dataset and algorithm, the measured validation score relative to the best
algorithm on that dataset (1.0 = the best), seconds per 1,000 training rows and peak memory.
For a new table, the expected relative score of an algorithm is the mean over the benchmark
datasets of the same task, weighted by how similar their meta-features are
(:meth:`DataProfile.features`); time and memory scale the measured rates to this table's rows.
The ranking is by expected relative score, then by time; nothing is ordered by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.ml.automl.profile import DataProfile
from core.ml.automl.spaces import SPECS
from core.ml.catalogue import get_algorithm

__all__ = ["Recommendation", "load_priors", "prior_seconds", "recommend"]

PRIORS = Path(__file__).with_name("priors.json")
_SCALES = {"log_rows": 1.0, "log_columns": 0.7, "categorical_share": 0.5, "missing_share": 0.3,
           "minority_share": 0.4}


@dataclass(frozen=True)
class Recommendation:
    """One ranked algorithm: expected relative score, seconds, memory, interpretability and why."""

    rank: int
    algorithm: str
    label: str
    expected_score: float  # share of the best algorithm's score on similar benchmark data (1.0 = best)
    seconds: float
    memory_mb: float
    interpretability: int
    why: str
    evidence: int  # benchmark datasets behind the estimate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def load_priors() -> dict[str, Any]:
    return json.loads(PRIORS.read_text(encoding="utf-8"))


def prior_seconds(algorithm: str, task: str, rows: int) -> float | None:
    """Seconds one fit of ``algorithm``'s portfolio default should take on ``rows`` rows of ``task``.

    From the benchmark dataset nearest in rows: linear in rows above it; below it, fixed costs
    dominate, so time shrinks only as ``rows ** 0.3``.
    """
    measured = [r for r in load_priors()["results"] if r["algorithm"] == algorithm and r["task"] == task]
    if not measured:
        return None
    near = min(measured, key=lambda r: abs(math.log(max(rows, 1)) - math.log(max(r["rows"], 1))))
    ratio = rows / max(near["rows"], 1)
    return float(near["seconds"] * (ratio if ratio >= 1 else ratio ** 0.3))


def recommend(profile: DataProfile, algorithms: list[str] | None = None) -> list[Recommendation]:
    """Rank the AutoML algorithms for ``profile`` (or only ``algorithms``), best expected first."""
    results = [r for r in load_priors()["results"] if r["task"] == profile.task]
    datasets = {r["dataset"]: r["meta"] for r in results}
    mine = profile.features()
    weights = {name: math.exp(-sum(((mine[k] - meta[k]) / s) ** 2 for k, s in _SCALES.items()))
               for name, meta in datasets.items()}
    nearest = max(weights, key=weights.get) if weights else None
    keys = [k for k, s in SPECS.items() if profile.task in s.tasks and (algorithms is None or k in algorithms)
            and (s.max_rows is None or profile.rows <= s.max_rows)]
    rows = []
    for key in keys:
        mine_results = [r for r in results if r["algorithm"] == key]
        total = sum(weights[r["dataset"]] for r in mine_results)
        expected = sum(weights[r["dataset"]] * r["relative_score"] for r in mine_results) / total if total else 0.0
        per_row_mb = sum(weights[r["dataset"]] * r["peak_mb_per_1k_rows"] for r in mine_results) / total \
            if total else 1.0
        seconds = prior_seconds(key, profile.task, profile.rows) or 0.0
        memory = per_row_mb * profile.rows / 1000 + profile.data_bytes * 3 / 2**20
        rows.append((key, expected, seconds, memory, len(mine_results)))
    rows.sort(key=lambda r: (-round(r[1], 3), r[2]))
    out = []
    for rank, (key, expected, seconds, memory, evidence) in enumerate(rows, start=1):
        entry = get_algorithm(key)
        out.append(Recommendation(rank, key, entry.label, round(expected, 4), round(seconds, 3), round(memory, 1),
                                  entry.interpretability, _why(rank, len(rows), entry, profile, expected, nearest),
                                  evidence))
    return out


def _why(rank: int, total: int, entry: Any, p: DataProfile, expected: float, nearest: str | None) -> str:
    shape = f"{p.rows:,} rows with {p.categorical} categorical and {p.numeric} numeric columns"
    facts = []
    if p.missing_share > 0:
        facts.append(f"{p.missing_share:.0%} missing" + (" (handled natively)" if entry.handles_missing else
                                                           " (imputed first)"))
    if p.imbalanced:
        facts.append(f"smallest class {p.minority_share:.0%} (class weights tried)")
    extra = f"; {', '.join(facts)}" if facts else ""
    like = f", closest benchmark: {nearest}" if nearest else ""
    if rank == 1:
        return f"{entry.label} first: {shape}{extra}; on similar benchmark data it scored best{like}."
    growth = ""
    if entry.predict_exponent > 1:
        growth = "; its predict cost grows with rows"
    elif entry.family == "linear":
        growth = "; fast and transparent, but misses interactions"
    place = "last" if rank == total else f"#{rank}"
    return f"{entry.label} {place}: expected {expected:.1%} of the best score on similar data{growth}{like}."
