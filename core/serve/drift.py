"""Data drift of new rows against a model's reference statistics.

``detect_drift`` tests every feature of a batch against the summary stored
with the model (``core.models.training_stats``); the training rows themselves are not
needed.  Numeric and datetime features get a two-sample Kolmogorov-Smirnov
test read off the stored histogram, categorical and boolean ones a
chi-squared test on the category counts, and every tested feature the
population stability index (PSI) on the reference bins.  Free-text features
are not tested.  ``distribution_figure`` draws one feature's training and new
distributions side by side.

Why significance alone does not decide: with a million rows even a shift of
a hundredth of a standard deviation has p < 1e-10, yet no model notices it.
A feature is drifted when its PSI reaches ``psi_threshold`` (a size-free
measure), or when its test is significant *and* the effect is non-trivial:
KS statistic (largest gap between the two CDFs) or Cramér's V above
``effect_threshold``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from core.data.sources.input_chunks import HEAD_ROWS, read_rows
from core.data.types import datetime_to_ns, iso_to_ns
from core.models.training_stats import OTHER, bin_counts, reference_feature
from core.platform.chart_style import style
from core.platform.errors import InvalidInputError
from core.serve.coercion import category_counts, coerce_column

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["DRIFT_ROWS", "DriftReport", "FeatureDrift", "detect_drift", "distribution_figure", "drift_of_file", "psi"]

# Proportions are clipped here before the PSI's logarithm: an empty bin on
# one side would otherwise make the index infinite (the value Evidently uses).
# Drift of a file is measured on at most this many rows (the first ones), by batch scoring and by
# ``python -m core drift`` alike.
DRIFT_ROWS = HEAD_ROWS
PSI_EPSILON = 1e-4
# Verdict: "Severe drift" once this share of the tested features drifted.
SEVERE_SHARE = 0.3
# scipy's exact kstwo distribution costs ~0.3 s at n = 500,000; beyond this
# effective size the asymptotic Kolmogorov distribution is exact to 3 digits.
_EXACT_KS_MAX_N = 10_000
MISSING = "(missing)"


@dataclass(frozen=True)
class FeatureDrift:
    """The drift test of one feature.

    ``test`` is ``"ks"``, ``"chi2"`` or ``"none"`` (free text);
    ``effect_size`` is the KS statistic or Cramér's V.
    """

    feature: str
    logical_type: str
    test: str
    statistic: float | None
    p_value: float | None
    psi: float | None
    effect_size: float | None
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    """Drift of every feature of one batch, in training order."""

    features: list[FeatureDrift]
    n_rows: int
    psi_threshold: float = 0.2
    p_threshold: float = 0.01
    effect_threshold: float = 0.1

    @property
    def tested(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.test != "none"]

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def share_drifted(self) -> float:
        """Drifted features over tested features (free text is not tested)."""
        tested = self.tested
        return len(self.drifted_features) / len(tested) if tested else 0.0

    @property
    def verdict(self) -> str:
        """``"No drift"``, ``"Some drift: k of n features"`` or, from 30% of them, ``"Severe drift: ..."``."""
        k, n = len(self.drifted_features), len(self.tested)
        if k == 0:
            return "No drift"
        word = "Severe drift" if self.share_drifted >= SEVERE_SHARE else "Some drift"
        return f"{word}: {k} of {n} features"

    def worst(self, k: int = 5) -> list[str]:
        """The ``k`` tested features with the largest PSI, drifted ones first."""
        ranked = sorted(self.tested, key=lambda f: (not f.drifted, -(f.psi or 0.0)))
        return [f.feature for f in ranked[:k]]

    def to_frame(self) -> pd.DataFrame:
        """One row per feature: feature, type, test, statistic, p_value, psi, effect_size, drifted."""
        return pd.DataFrame([f.__dict__ for f in self.features])

    def to_json(self) -> dict:
        """The report as plain JSON types, ready for ``json.dumps`` or a JSON column."""
        return {
            "drifted_features": self.drifted_features,
            "share_drifted": float(self.share_drifted),
            "verdict": self.verdict,
            "features": [
                {
                    "feature": f.feature,
                    "test": f.test,
                    "statistic": f.statistic,
                    "p_value": f.p_value,
                    "psi": f.psi,
                    "drifted": f.drifted,
                }
                for f in self.features
            ],
        }


def detect_drift(
    reference: dict,
    df: pd.DataFrame,
    *,
    psi_threshold: float = 0.2,
    p_threshold: float = 0.01,
    effect_threshold: float = 0.1,
) -> DriftReport:
    """Test every model feature of ``df`` for drift against the reference.

    Numeric and datetime features: KS statistic from the reference's binned
    CDF against the batch's CDF at the same bin edges (plus the training
    minimum and maximum), p-value from the Kolmogorov distribution with the
    effective size ``n_ref * n_new / (n_ref + n_new)``, as
    ``scipy.stats.ks_2samp(method="asymp")`` does.  Comparing at ~20 edges
    instead of at every value can only miss part of the gap, so the
    statistic is a lower bound of the exact two-sample one and the p-value
    errs on the side of "no drift".  Missing values are left out of the KS
    test and counted as a bin of their own in the PSI.

    Categorical and boolean features: chi-squared test of homogeneity on the
    2 x k table of training and batch counts over the stored categories,
    with every other value pooled into ``"__other__"`` and missing values in
    a column of their own.  The training counts are a sample too, so this
    two-sample test is used rather than a goodness-of-fit test against
    frequencies taken as exact (which would also divide by zero for a
    category absent from training).  Effect size: Cramér's V of the table
    with both samples weighted equally, so that it does not shrink when the
    batch is much smaller than the training set.

    Parameters
    ----------
    reference : dict
        What ``core.models.training_stats.build_reference`` stored with the model.
    df : DataFrame
        New rows holding every model feature (extra columns are ignored).
    psi_threshold : float, default 0.2
        PSI from which a feature is drifted whatever its test says.
    p_threshold : float, default 0.01
        Significance level of the tests.
    effect_threshold : float, default 0.1
        Smallest KS statistic or Cramér's V that counts as drift when the
        test is significant.

    Returns
    -------
    DriftReport

    Raises
    ------
    InvalidInputError
        When ``df`` has no rows or lacks a model feature.
    """
    for name, value in (("psi_threshold", psi_threshold), ("p_threshold", p_threshold),
                        ("effect_threshold", effect_threshold)):  # fmt: skip
        if not isinstance(value, int | float) or not value > 0:
            raise InvalidInputError(f"The {name!r} parameter must be a positive number; got {value!r} instead.")
    features = _checked(reference, df)
    columns = {str(c): c for c in df.columns}
    results = []
    for feature in features:
        series = df[columns[feature["name"]]]
        kind = feature["logical_type"]
        if kind in ("numeric", "datetime"):
            result = _ks_drift(feature, series)
        elif kind in ("categorical", "boolean"):
            result = _chi2_drift(feature, series)
        else:
            results.append(FeatureDrift(feature["name"], kind, "none", None, None, None, None, False))
            continue
        test, statistic, p_value, effect, psi_value = result
        significant = p_value is not None and p_value < p_threshold
        drifted = (psi_value is not None and psi_value >= psi_threshold) or (
            significant and effect is not None and effect > effect_threshold
        )
        results.append(FeatureDrift(feature["name"], kind, test, statistic, p_value, psi_value, effect, bool(drifted)))
    return DriftReport(results, len(df), float(psi_threshold), float(p_threshold), float(effect_threshold))


def psi(expected: Any, actual: Any) -> float:
    """Population stability index of two count (or proportion) vectors over the same bins.

    ``sum((a - e) * ln(a / e))`` over the proportions, each clipped at 1e-4
    so that an empty bin does not make it infinite.  About 0.1 is a small
    shift, 0.2 and more a large one.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1 or len(e) == 0:
        raise InvalidInputError(
            f"PSI needs two count vectors of the same length; got shapes {e.shape} and {a.shape} instead."
        )
    if e.sum() <= 0 or a.sum() <= 0:
        raise InvalidInputError("PSI needs counts that add up to more than zero on both sides.")
    p = np.clip(e / e.sum(), PSI_EPSILON, None)
    q = np.clip(a / a.sum(), PSI_EPSILON, None)
    return float(np.sum((q - p) * np.log(q / p)))


def distribution_figure(reference: dict, df: pd.DataFrame, feature: str) -> go.Figure:
    """Bars of the training and the new distribution of one feature over the reference bins.

    Numeric and datetime features use the stored quantile bins (the outer
    ones open-ended), categorical ones the stored categories plus
    ``"__other__"``; both show a missing-values bar when either side has any.
    """
    import plotly.graph_objects as go  # plotly is only needed to draw

    spec = reference_feature(reference, feature)
    _checked({"features": [spec]}, df)
    series = df[{str(c): c for c in df.columns}[feature]]
    kind = spec["logical_type"]
    if kind in ("numeric", "datetime"):
        labels, ref_counts, new_counts = _binned(spec, series)
    elif kind in ("categorical", "boolean"):
        labels, ref_counts, new_counts = _categorised(spec, series)
    else:
        raise InvalidInputError(f"Feature {feature!r} is free text: it has no distribution to draw.")
    ref_share = ref_counts / max(ref_counts.sum(), 1)
    new_share = new_counts / max(new_counts.sum(), 1)
    value = psi(ref_counts, new_counts) if ref_counts.sum() and new_counts.sum() else float("nan")
    fig = go.Figure(
        [
            go.Bar(name="Training", x=labels, y=ref_share, marker_color="#7f8c9a"),
            go.Bar(name="New data", x=labels, y=new_share, marker_color="#e4572e"),
        ]
    )
    fig.update_layout(
        title=f"{feature}: training vs new data (PSI {value:.3f})",
        barmode="group",
        yaxis={"title": "share of rows", "tickformat": ".0%"},
        xaxis={"title": feature, "type": "category"},
        legend={"orientation": "h", "y": 1.1},
    )
    return style(fig)  # text at least 14 px: legible on a projector


# ---------------------------------------------------------------- internals


def _checked(reference: dict, df: Any) -> list[dict]:
    if not isinstance(reference, dict) or not isinstance(reference.get("features"), list):
        raise InvalidInputError(
            "The reference must be the dict that build_reference returned; "
            f"got {type(reference).__name__} without a 'features' list instead."
        )
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"Drift needs a pandas DataFrame; got {type(df).__name__} instead.")
    if len(df) == 0:
        raise InvalidInputError("The data has no rows: drift needs at least one.")
    features = reference["features"]
    names = [str(c) for c in df.columns]
    repeated = sorted({n for n, k in Counter(names).items() if k > 1} & {f["name"] for f in features})
    if repeated:
        raise InvalidInputError(f"Column {repeated[0]!r} appears more than once in the data: keep one of them.")
    present = set(names)
    absent = [f["name"] for f in features if f["name"] not in present]
    if absent:
        raise InvalidInputError(
            f"Column {absent[0]!r} is missing from the data: drift is measured on all {len(features)} model features, "
            f"this data has {len(features) - len(absent)} of them.",
            hint="Check the data with validate_batch first.",
        )
    return features


def _as_float(feature: dict, series: pd.Series) -> np.ndarray:
    values = coerce_column(feature, series).values
    if feature["logical_type"] == "datetime":
        return datetime_to_ns(values)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _edges(feature: dict) -> tuple[np.ndarray, float | None, float | None]:
    edges, low, high = feature["histogram"]["edges"], feature["stats"]["min"], feature["stats"]["max"]
    if feature["logical_type"] != "datetime":
        return np.asarray(edges, dtype=np.float64), low, high
    if low is None:
        return np.empty(0), None, None
    stamps = iso_to_ns([*edges, low, high])
    return stamps[:-2], float(stamps[-2]), float(stamps[-1])


def _ks_drift(feature: dict, series: pd.Series) -> tuple[str, float | None, float | None, float | None, float | None]:
    x = _as_float(feature, series)
    finite = np.sort(x[np.isfinite(x)])
    n_missing = len(x) - len(finite)
    edges, low, high = _edges(feature)
    ref_counts = np.asarray(feature["histogram"]["counts"], dtype=np.float64)
    new_counts = bin_counts(finite, edges).astype(np.float64)
    psi_value = _psi_with_missing(ref_counts, feature["n_missing"], new_counts, n_missing)
    n_ref, n_new = ref_counts.sum(), float(len(finite))
    if n_ref == 0 or n_new == 0:
        return "ks", None, None, None, psi_value
    gaps = np.abs(np.cumsum(ref_counts)[:-1] / n_ref - np.cumsum(new_counts)[:-1] / n_new)
    # The training minimum and maximum are two more points where the
    # reference CDF is known exactly (0 just below, 1 at the top): they catch
    # new values beyond the training range, which the open outer bins hide.
    below = np.searchsorted(finite, low, side="left") / n_new
    above = (n_new - np.searchsorted(finite, high, side="right")) / n_new
    statistic = float(max(gaps.max(initial=0.0), below, above))
    n_eff = n_ref * n_new / (n_ref + n_new)
    if n_eff <= _EXACT_KS_MAX_N:
        p_value = float(stats.kstwo.sf(statistic, max(int(round(n_eff)), 1)))
    else:
        p_value = float(stats.kstwobign.sf(statistic * math.sqrt(n_eff)))
    return "ks", statistic, min(max(p_value, 0.0), 1.0), statistic, psi_value


def _chi2_drift(feature: dict, series: pd.Series) -> tuple[str, float | None, float | None, float | None, float | None]:
    ref, new = _category_table(feature, series)
    keep = (ref + new) > 0
    ref, new = ref[keep], new[keep]
    psi_value = psi(ref, new) if ref.sum() and new.sum() else None
    if ref.sum() == 0 or new.sum() == 0:
        return "chi2", None, None, None, psi_value
    if len(ref) < 2:  # one category on both sides: nothing can differ
        return "chi2", 0.0, 1.0, 0.0, psi_value
    table = np.vstack([ref, new])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    p_value = float(stats.chi2.sf(statistic, len(ref) - 1))
    p, q = ref / ref.sum(), new / new.sum()
    # Cramér's V of the 2 x k table with both rows scaled to the same total:
    # sqrt(sum((p - q)^2 / (2 (p + q)))), 0 for equal shares, 1 for disjoint ones.
    cramers_v = float(math.sqrt(np.sum((p - q) ** 2 / (2 * (p + q)))))
    return "chi2", statistic, p_value, cramers_v, psi_value


def _category_table(feature: dict, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    counts, n_missing, _, _ = category_counts(series, feature)
    ref = np.array([c["count"] for c in feature["categories"]] + [feature["other_count"]], dtype=np.float64)
    ref = np.append(ref, feature["n_missing"])
    new = np.append(counts.astype(np.float64), n_missing)
    return ref, new


def _psi_with_missing(ref: np.ndarray, ref_missing: int, new: np.ndarray, new_missing: int) -> float | None:
    if ref_missing or new_missing:
        ref, new = np.append(ref, ref_missing), np.append(new, new_missing)
    return psi(ref, new) if ref.sum() and new.sum() else None


def _bin_label(low: Any, high: Any, fmt: Any) -> str:
    if low is None:
        return f"< {fmt(high)}"
    if high is None:
        return f"≥ {fmt(low)}"
    return f"[{fmt(low)}, {fmt(high)})"


def _binned(feature: dict, series: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    x = _as_float(feature, series)
    finite = np.sort(x[np.isfinite(x)])
    edges, _, _ = _edges(feature)
    ref = np.asarray(feature["histogram"]["counts"], dtype=np.float64)
    new = bin_counts(finite, edges).astype(np.float64)
    if feature["logical_type"] == "datetime":
        shown: list[Any] = list(feature["histogram"]["edges"])

        def fmt(v: Any) -> str:
            return str(v)[:16].replace("T", " ")
    else:
        shown = list(edges)

        def fmt(v: Any) -> str:
            return f"{v:.4g}"

    if len(shown) == 0:
        labels = ["all values"]
    else:
        bounds = [None, *shown, None]
        labels = [_bin_label(bounds[i], bounds[i + 1], fmt) for i in range(len(shown) + 1)]
    n_missing = len(x) - len(finite)
    if feature["n_missing"] or n_missing:
        labels.append(MISSING)
        ref, new = np.append(ref, feature["n_missing"]), np.append(new, n_missing)
    return labels, ref, new


def _categorised(feature: dict, series: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    ref, new = _category_table(feature, series)
    labels = [str(c["value"]) for c in feature["categories"]] + [OTHER, MISSING]
    keep = (ref + new) > 0
    return [label for label, k in zip(labels, keep, strict=True) if k], ref[keep], new[keep]


def drift_of_file(reference: dict[str, Any], path: str | Path, limit: int = DRIFT_ROWS) -> DriftReport:
    """Drift of the first ``limit`` rows of ``path`` against a model's reference statistics."""
    return detect_drift(reference, read_rows(path, limit))
