"""A booster's, a forest's or k-NN's cost timed at two sizes, for estimates of a job on more rows than the sample.

At the sample's 2,000 rows most of a booster's round, a forest's tree or a k-NN prediction costs the same
whatever the rows (split finding over the bins, per-tree and per-call work), so scaling one timed fit by the
rows is wrong.
:mod:`core.ml.estimate` times a second, larger fit from the page's sample with these helpers and draws
the line through the two.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from core.ml.fitting import fit_pipeline

__all__ = ["BOOSTER_SIZES", "bigger_fit", "fit_at_two_sizes", "sized_booster_fits", "sized_knn_predicts"]

BOOSTER_SIZES = 4  # the larger of a booster's two timed fits has up to this many times the sample's rows


def sized_booster_fits(pipeline: Any, X_sample: pd.DataFrame, y_sample: pd.Series, kind: str, n: int,
                        train_rows: int, seed: int, n_jobs: int) -> tuple[tuple[tuple[int, float], tuple[int, float]],
                                                                            float]:
    """A booster's fit on more rows than the sample, timed as two full-rounds fits: on the sample's ``n`` rows and on
    up to :data:`BOOSTER_SIZES` times as many (more of the page's sample), and the prediction time of the second.

    Scaling one 2,000-row fit by the rows was wrong twice over (adult, 40,000 training rows).  Each round costs a
    fixed part (split finding over the bins, per-round calls) besides its per-row part, and at 2,000 rows the fixed
    part is most of it: XGBoost's folds and fit read 2.5x the job.  And the sample's booster stopped early (54 and
    103 of 200 rounds, 14 leaves a tree) where the job's, on twenty times the rows, grew all 200 rounds of 31 leaves:
    its predictions and SHAP cost several times the sample model's.  So the job is taken to grow every round (on
    more rows than the sample it stops later, if at all: the safe side) and its time is the line through the two
    sizes.  The second model, nearer the job's in size, is the one the evaluation and SHAP are timed on.
    """
    from threadpoolctl import threadpool_limits

    X_big, y_big = _bigger_sample(X_sample, y_sample, kind, n, train_rows, seed)
    X_small, y_small = X_big.iloc[:n], y_big.iloc[:n]
    timed = []
    with warnings.catch_warnings(), threadpool_limits(n_jobs):
        warnings.simplefilter("ignore")
        for X_part, y_part in ((X_small, y_small), (X_big, y_big)):
            started = time.perf_counter()
            fit_pipeline(pipeline, X_part, y_part, early_stopping=False)
            timed.append((len(X_part), time.perf_counter() - started))
        started = time.perf_counter()
        pipeline.predict(X_small)
        predict_seconds = time.perf_counter() - started
    return (timed[0], timed[1]), predict_seconds


def fit_at_two_sizes(entry: Any) -> bool:
    """Whether a fit on more rows than the sample is drawn through two sizes (:func:`bigger_fit`): a bagged forest
    (random forest, extra trees: many trees, each with its own fixed cost).  Not a linear model: its solver's
    iterations change with the rows, and the line through 2,000 rows (0.05 s) and 8,000 (0.60 s) put logistic
    regression's fit on 40,000 at 3.5 s against 1.35 s taken; scaled by the rows it reads 1.07 s."""
    return entry.family == "tree" and "n_estimators" in entry.defaults


def bigger_fit(pipeline: Any, X_sample: pd.DataFrame, y_sample: pd.Series, kind: str, n: int, train_rows: int,
               seed: int, n_jobs: int) -> tuple[int, float]:
    """A copy of the sample's pipeline fitted on up to :data:`BOOSTER_SIZES` times its ``n`` rows (more of the page's
    sample), as ``(rows, seconds)``: with the sample fit, the two sizes a forest's fit is drawn through.

    A forest's 2,000-row fit is mostly per-tree work (joblib's dispatch, each tree's setup: 0.17 s for 100 trees on
    adult), so scaling it by the rows put the fit of 40,000 rows at 4x the job's (4.49 s against 1.06 s).  The copy
    leaves the sample's model as it is: the evaluation, the file and SHAP are timed on it and grown by its rows.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    X_big, y_big = _bigger_sample(X_sample, y_sample, kind, n, train_rows, seed)
    with warnings.catch_warnings(), threadpool_limits(n_jobs):
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        fit_pipeline(clone(pipeline), X_big, y_big)
        return len(X_big), time.perf_counter() - started


def sized_knn_predicts(pipeline: Any, X: pd.DataFrame, X_sample: pd.DataFrame, y_sample: pd.Series, kind: str,
                        n: int, train_rows: int, seed: int, n_jobs: int) -> tuple[
        tuple[int, float], tuple[tuple[int, float, float], tuple[int, float, float]]]:
    """k-NN's prediction of the sample's rows timed with the sample's model and with one fitted on up to
    :data:`BOOSTER_SIZES` times its rows (more of the page's sample): the whole pipeline's (the evaluation and the
    permutation importance call it) and the model's own on its input columns (what permutation SHAP calls), with
    the bigger model's fit time as ``(rows, seconds)``.

    A row's prediction compares it with every training row, but at 2,000 rows most of its cost does not grow
    with them (the preprocessing, the per-call work): on adult, 40,000 training rows made the pipeline's
    predictions 5.5 times the sample model's, not 20, and permutation SHAP's 12 times.  Scaling by the rows put
    the job at 2.2x; the line through two sizes is measured, not assumed.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    X_big, y_big = _bigger_sample(X_sample, y_sample, kind, n, train_rows, seed)
    big = clone(pipeline)
    timed = []
    with warnings.catch_warnings(), threadpool_limits(n_jobs):
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        fit_pipeline(big, X_big, y_big)
        big_fit = (len(X_big), time.perf_counter() - started)
        for model, model_rows in ((pipeline, n), (big, len(X_big))):
            last = model.steps[-1][1]
            output = last.predict_proba if hasattr(last, "predict_proba") else last.predict
            Xm = model[:-1].transform(X)
            # the faster of two each: the difference between the sizes is what is scaled, and noise in it grows
            whole, own = _fastest(lambda m=model: m.predict(X)), _fastest(lambda o=output, x=Xm: o(x))
            timed.append((int(model_rows), whole, own))
    return big_fit, (timed[0], timed[1])


def _bigger_sample(X_sample: pd.DataFrame, y_sample: pd.Series, kind: str, n: int, train_rows: int,
                   seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Up to :data:`BOOSTER_SIZES` times the sample's ``n`` rows of the page's sample (never more than the job
    trains on), seeded, in their order, labelled rows only, the target cleaned as training cleans it."""
    from core.ml.problem import clean_target

    bigger = int(min(len(X_sample), BOOSTER_SIZES * n, train_rows))
    rows = np.sort(np.random.default_rng(seed + 1).choice(len(X_sample), bigger, replace=False))
    y_big = y_sample.iloc[rows]
    keep = y_big.notna().to_numpy()
    y_big, _ = clean_target(y_big[keep], kind)
    return X_sample.iloc[rows][keep], y_big


def _fastest(call: Any, times: int = 2) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best
