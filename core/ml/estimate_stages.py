"""Seconds per stage of a training job, from one timed sample fit: arithmetic only, nothing is fitted here.

:func:`job_stages` follows :func:`core.ml.train.fit_candidate` stage by stage (tuning, cross-validation,
the final fit, evaluation, saving, explanations); :func:`model_growth` says how a row's prediction grows
with the rows a model was fitted on.  :mod:`core.ml.estimate` measures the :class:`SampleFit` these read and
explains the result to the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.ml.catalogue import Algorithm

__all__ = ["SampleFit", "fold_sampling", "job_stages", "model_growth"]


@dataclass(frozen=True)
class SampleFit:
    """What the timed fit on a sample measured: the part of an estimate that costs seconds.

    The run's settings that leave the fitted model as it is (folds, the tuning budget, the test share
    within one size of the estimator's defaults: :func:`sample_fit_inputs`) turn it into an
    :class:`Estimate` by arithmetic alone (:func:`estimate_from`), so asking again with other folds or
    tuning fits nothing again.
    """

    algorithm: str
    kind: str
    n_rows: int  # the full row count measured for
    sample_rows: int
    fit_seconds: float
    predict_seconds: float
    traced: bool  # whether memory was traced (see the module docstring)
    peak: int  # traced bytes over the sample fit; 0 untraced
    data_bytes: float  # the full data's copies
    available_bytes: int
    evaluation_seconds: float | None = None  # the test-set evaluation; None: measured without stages
    fold_slots: int = 1  # folds the job would fit side by side now (core.ml.cross_validation.fold_workers)
    # (seconds, rows, the job's row cap if it permutes else 0); None: not explained
    importance: tuple[float, int, int] | None = None
    shap_seconds: float = 0.0
    fold_evaluation_seconds: float | None = None  # a fold's scores (no curves) on the sample; None: not measured
    save_seconds: float = 0.0  # writing the fitted sample pipeline as the job writes its model
    # A booster's full-rounds fits on two sizes, (rows, seconds) each (see measure_sample); None: not measured
    sized_fits: tuple[tuple[int, float], tuple[int, float]] | None = None
    # k-NN's predictions by models of two sizes, (model rows, pipeline seconds, the model's own seconds) each
    # (see measure_sample); None: not measured
    sized_predicts: tuple[tuple[int, float, float], tuple[int, float, float]] | None = None
    score_passes: int = 1  # predictions a fold's scores make (core.ml.evaluate: scores, then labels unless argmax)
    # Seconds the job's first fold waits while core.platform.cores samples the load (see cores_sampling)
    fold_sampling: float = 0.0


def job_stages(fit: SampleFit, entry: Algorithm, *, cv_folds: int, test_size: float,
            tuning: Mapping[str, Any] | None) -> dict[str, float]:
    """Seconds per stage of :func:`core.ml.train.fit_candidate`, from the sample fit of ``fit.sample_rows`` rows."""
    n = fit.sample_rows
    supervised = fit.kind != "clustering"
    train_rows = fit.n_rows * (1.0 - test_size) if supervised else float(fit.n_rows)
    test_rows = fit.n_rows - train_rows if supervised else float(fit.n_rows)

    def fitted(rows: float) -> float:
        if fit.sized_fits is not None and rows > n:
            # The line through two timed sizes (a fixed part and a part per row: core.ml.estimate_sizes).
            (small_rows, small), (big_rows, big) = fit.sized_fits
            per_row = max(big - small, 0.0) / max(big_rows - small_rows, 1)
            return max(small + per_row * (rows - small_rows), fit.fit_seconds)
        # Below the sample's size a fit costs about what the sample's did: fixed overhead dominates it.
        return fit.fit_seconds * max(rows / n, 1.0) ** entry.fit_exponent

    def evaluation(rows: float, model_rows: float, curves: bool = True) -> float:
        if curves or fit.fold_evaluation_seconds is None:
            seconds = fit.evaluation_seconds if curves else fit.predict_seconds * 2  # a fold: predictions and scores
            return seconds * max(rows / n, 0.1) * model_growth(fit, entry, model_rows, 0.1)
        if entry.predict_exponent > 1.0:
            # k-NN's scores are its predictions, each row compared with every training row, even on small data:
            # titanic's folds score 209 rows against 838, a tenth of the sample's 1,309 against 1,309 (counted as
            # the sample's, five folds read 2.5x the job).
            return fit.fold_evaluation_seconds * max(rows / n, 0.1) * model_growth(fit, entry, model_rows, 0.1)
        # A fold's scores cost what the sample's did, plus the predictions' growth on more rows than it has: each
        # of its passes (scores, then labels unless the labels are the scores' argmax).
        return fit.fold_evaluation_seconds + fit.score_passes * fit.predict_seconds * (
            max(rows / n, 1.0) * model_growth(fit, entry, model_rows, 1.0) - 1)

    def fold(rows: float, held: float) -> tuple[float, float]:
        """One fold as (the sample-sized part, the growth beyond it).  The first is per-call Python work
        that holds the GIL, so folds on threads do not overlap it: on titanic five folds took as long two
        at a time as one after another (LR 0.19 s against 0.18 s, random forest 0.65 against 0.67)."""
        whole = fitted(rows) + evaluation(held, rows, curves=False)
        fixed = min(whole, fit.fit_seconds + (fit.fold_evaluation_seconds or 0.0))
        return fixed, whole - fixed

    stages: dict[str, float] = {}
    trials, tuning_folds = int((tuning or {}).get("n_trials") or 0), int((tuning or {}).get("cv_folds") or 3)
    if trials and supervised:
        share = (tuning_folds - 1) / tuning_folds
        stages["tuning"] = trials * tuning_folds * (fitted(train_rows * share)
                                                    + evaluation(train_rows / tuning_folds, train_rows * share,
                                                                 curves=False))
    elif (tuning or {}).get("timeout"):
        stages["tuning"] = float(tuning["timeout"])  # bounded by time: it takes what it is given
    if cv_folds >= 2 and supervised:
        share = (cv_folds - 1) / cv_folds
        rounds = -(-cv_folds // min(cv_folds, fit.fold_slots))  # rounds of side-by-side folds
        fixed, growth = fold(train_rows * share, train_rows / cv_folds)
        stages["cv"] = cv_folds * fixed + rounds * growth + fit.fold_sampling
    stages["fit"] = fitted(train_rows)
    # The evaluation on the test rows, then the prediction-speed probe (twice over 1,000 rows).
    model_rows = train_rows if supervised else float(fit.n_rows)
    probe = min(1000.0, test_rows) / n * model_growth(fit, entry, model_rows, 0.0)
    stages["evaluation"] = evaluation(test_rows, model_rows) + 2 * fit.predict_seconds * probe
    # k-NN (and a kernel SVM) predicts by comparing each row with the training rows (or support vectors): a row's
    # prediction costs in proportion to the rows the model was fitted on.  The explanations predict a fixed number
    # of rows, so their cost follows the model's size alone: the sample's 2,000-row k-NN put permutation importance
    # and SHAP on 40,000 training rows at a twentieth of the job.
    per_row = model_growth(fit, entry, model_rows, 0.1)
    per_row_model = model_growth(fit, entry, model_rows, 0.1, own=True)  # permutation SHAP calls the model itself
    # Unpruned trees (a decision tree, random forest, extra trees) grow leaves in proportion to the rows they
    # learn from, and TreeSHAP and the model file grow with the leaves: the sample's forest, grown on more or
    # fewer rows than the job's training share, put SHAP at 2x the job on titanic (1,309 rows against 1,047)
    # and at a fifth of it on 8,000 training rows (2,000 sampled).  Other models' size does not follow the rows.
    grown = train_rows / n if entry.family == "tree" else 1.0
    if fit.save_seconds:
        # k-NN's file holds its training rows
        stages["save"] = fit.save_seconds * grown * max(model_rows / n, 0.1) ** (entry.predict_exponent - 1.0)
    if fit.importance is not None and supervised:
        seconds, rows, cap = fit.importance
        # Permutation importance is many predict calls, each mostly fixed overhead: fewer test rows than the
        # sample's cost about the same; more cost proportionally more.  A native importance costs nothing more.
        # k-NN's calls, as its scores, are per-row work: fewer rows cost less (titanic: 262 test rows, 1,309 sampled).
        fewest = 0.1 if entry.predict_exponent > 1.0 else 1.0
        permuted = seconds * max(min(test_rows, cap) / rows, fewest) * per_row if cap else seconds
        stages["explain"] = permuted + fit.shap_seconds * grown * per_row_model
    return stages


def fold_sampling(train_rows: int) -> float:
    """The seconds a job on ``train_rows`` training rows spends, at its first fold, sampling other processes' load.

    Below :data:`core.platform.cores.SMALL_ROWS` a fit gets one thread unmeasured, so deciding how many folds run
    side by side (:func:`core.ml.cross_validation.fold_workers`) is the job's first look at the free cores:
    :data:`SAMPLE_SECONDS` of waiting inside its cross-validation, in a job process that has measured nothing yet.
    The page's process, which times the sample, has a fresh measurement at hand.  On titanic that wait was most of
    the gap between logistic regression's estimated folds and the job's (0.22 s against 0.35 s).  Larger data is
    measured before the fits (:func:`core.platform.cores.thread_budget`), an ``ATELIER_THREADS`` override or one CPU
    not at all.
    """
    import os

    from core.platform.cores import SAMPLE_SECONDS, SMALL_ROWS, THREADS_ENV, usable_cpus

    if train_rows >= SMALL_ROWS or usable_cpus() == 1 or os.environ.get(THREADS_ENV, "").strip():
        return 0.0
    return SAMPLE_SECONDS


def model_growth(fit: SampleFit, entry: Algorithm, model_rows: float, floor: float, own: bool = False) -> float:
    """How many times the sample model's a row's prediction costs with a model fitted on ``model_rows`` rows.

    ``predict_exponent`` is the growth when both the predicted rows and the training rows grow: a row's cost
    follows the model's size to the power ``predict_exponent - 1`` (k-NN's and kernel SVMs' 2: rows × training
    rows; a tree's or a linear model's 1: not at all).  Where two model sizes were timed (k-NN,
    :mod:`core.ml.estimate_sizes`) it is the line through them instead; ``own``: the model's own predictions rather
    than the pipeline's.
    """
    n = fit.sample_rows
    if fit.sized_predicts is not None and model_rows > n:
        (small_rows, *small), (big_rows, *big) = fit.sized_predicts
        which = 1 if own else 0
        slope = max(big[which] - small[which], 0.0) / max(big_rows - small_rows, 1)
        return (small[which] + slope * (model_rows - small_rows)) / max(small[which], 1e-9)
    return max(model_rows / n, floor) ** (entry.predict_exponent - 1.0)
