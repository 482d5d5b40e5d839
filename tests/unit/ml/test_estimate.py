"""Time and memory estimates from a sample fit (core.ml.estimate)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.ml.estimate import estimate_cost
from core.platform.errors import InvalidInputError


def _sample(n: int = 400):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)})
    y = pd.Series(np.where(X["a"] + rng.normal(0, 1, n) > 0, "pos", "neg"))
    return X, y


def test_estimate_scales_a_sample_fit():
    X, y = _sample()
    estimate = estimate_cost("decision_tree", X, y, 400_000, available_bytes=64 * 2**30)
    assert estimate.sample_rows == 400 and estimate.n_rows == 400_000
    assert estimate.seconds > estimate.sample_seconds * 100
    assert estimate.peak_bytes > X.memory_usage(deep=True).sum() * 1000
    assert estimate.fits_in_memory
    assert estimate.reason.startswith("A fit on 400 rows took")
    assert "within the 64.0 GB available" in estimate.reason
    json.dumps(estimate.to_dict())


def test_quadratic_algorithms_grow_faster_than_linear_ones():
    X, y = _sample()
    ratio = 40_000 / 400
    kernel = estimate_cost("svc", X, y, 40_000)
    linear = estimate_cost("logistic_regression", X, y, 40_000)
    # sample fit time × ratio² for the kernel SVM, × ratio for the linear model (plus predict time)
    assert kernel.seconds >= kernel.sample_seconds * ratio**2
    assert linear.sample_seconds * ratio <= linear.seconds < linear.sample_seconds * ratio**1.5
    assert "quadratically" in kernel.reason and "linearly" in linear.reason


def test_memory_that_does_not_fit_is_flagged():
    X, y = _sample()
    estimate = estimate_cost("agglomerative", X, None, 1_000_000, available_bytes=2**30)
    assert not estimate.fits_in_memory
    assert "more than 80% of the 1.0 GB available: sample the data or pick a lighter algorithm" in estimate.reason


def test_estimate_takes_at_most_the_sample_size_and_drops_missing_targets():
    X, y = _sample(2500)
    y = y.astype(object)
    y.iloc[:10] = None
    estimate = estimate_cost("lightgbm", X, y, 10_000, n_fits=4)
    assert estimate.sample_rows < 2000
    assert "not counted" in estimate.reason


def test_estimate_errors():
    X, y = _sample(10)
    with pytest.raises(InvalidInputError, match="at least 2 sample rows and a positive full row count"):
        estimate_cost("ridge", X, y, 0)
    with pytest.raises(InvalidInputError, match="Unknown algorithm 'nope'"):
        estimate_cost("nope", X, y, 100)


def test_the_fits_of_a_run_count_the_final_fit_the_folds_and_each_trials_folds():
    from core.ml.estimate import fits_in_run

    assert fits_in_run(0) == 1
    assert fits_in_run(5) == 6
    assert fits_in_run(5, {"n_trials": 10, "cv_folds": 3}) == 36
    assert fits_in_run(0, {"n_trials": None, "timeout": 60}) == 1  # bounded by time: counted as none


def test_by_stages_the_estimate_counts_folds_on_the_training_share_evaluation_and_explanations(monkeypatch):
    from core.ml.estimate import estimate_cost, estimate_from, measure_sample

    monkeypatch.setenv("ATELIER_THREADS", "1")  # one core: folds one after another, as the job would fit them
    X, y = _sample(1_000)
    # plain and tuned come from one measured fit, so comparing them does not compare two timings
    fit = measure_sample("decision_tree", X, y, 100_000)
    plain = estimate_from(fit, cv_folds=0)
    folds = estimate_cost("decision_tree", X, y, 100_000, cv_folds=5, explain=True)
    assert set(plain.stages) == {"fit", "evaluation", "save"}
    assert set(folds.stages) == {"cv", "fit", "evaluation", "save", "explain"}
    assert folds.seconds == pytest.approx(sum(folds.stages.values()))
    # five fits on 4/5 of the training rows (80% of all): about four final fits, never six full ones
    assert 3.0 * folds.stages["fit"] <= folds.stages["cv"] <= 6.0 * folds.stages["fit"]
    assert folds.stages["explain"] > 0 and "cross-validation" in folds.reason
    tuned = estimate_from(fit, cv_folds=0, tuning={"n_trials": 4, "cv_folds": 3})
    assert tuned.stages["tuning"] > 4 * plain.stages["fit"]
    json.dumps(folds.to_dict())


def test_the_correction_is_the_median_ratio_of_finished_runs_within_bounds():
    from core.ml.estimate import corrected, correction_factor

    assert correction_factor([]) is None
    assert correction_factor([(10.0, 25.0), (4.0, 10.0), (2.0, 100.0)]) == pytest.approx(2.5)  # median, not mean
    assert correction_factor([(1.0, 60.0)]) == 4.0 and correction_factor([(60.0, 1.0)]) == 0.25
    assert correction_factor([(0.01, 3.0)]) is None  # timer noise says nothing
    shown = corrected({"seconds": 10.0, "reason": "A fit took 1 s."}, 2.5, runs=3)
    assert shown["seconds"] == 25.0 and shown["raw_seconds"] == 10.0
    assert "Multiplied by 2.50: what 3 finished run(s)" in shown["reason"]
    assert corrected({"seconds": 10.0, "reason": ""}, None)["seconds"] == 10.0


def test_the_stage_summary_fits_its_cell_however_many_stages_a_slow_machine_shows():
    """A loaded machine lifts small stages over 0.05 s (CI's was "CV 2.8 s · fit 0.5 s · eval 0.1 s · save 0.3 s ·
    SHAP 1.9 s", 59 characters): with a width the smallest go first, the biggest stay, in their order."""
    from core.ml.estimate import stage_summary

    stages = {"cv": 2.8, "fit": 0.5, "evaluation": 0.1, "save": 0.3, "explain": 1.9}
    assert len(stage_summary(stages)) == 59
    assert stage_summary(stages, max_chars=56) == "CV 2.8 s · fit 0.5 s · save 0.3 s · SHAP 1.9 s"
    assert stage_summary(stages, max_chars=21) == "CV 2.8 s · SHAP 1.9 s"
    assert stage_summary(stages, max_chars=5) == "CV 2.8 s"  # one stage always shows


def test_the_stage_summary_is_a_few_words_for_a_table_cell():
    from core.ml.estimate import stage_summary

    assert stage_summary({"cv": 3.14, "fit": 0.62, "evaluation": 0.01, "explain": 95.0}) == \
        "CV 3.1 s · fit 0.6 s · SHAP 2 min"
    assert stage_summary({}) == "under 0.1 s"


def test_one_sample_fit_serves_every_fold_count_and_tuning_budget(monkeypatch):
    from core.ml.estimate import estimate_from, measure_sample, sample_fit_inputs

    monkeypatch.setenv("ATELIER_THREADS", "1")
    X, y = _sample(1_000)
    fit = measure_sample("decision_tree", X, y, 100_000, explain=True)
    plain = estimate_from(fit, cv_folds=0)
    folds = estimate_from(fit, cv_folds=5)
    tuned = estimate_from(fit, cv_folds=5, tuning={"n_trials": 4, "cv_folds": 3})
    assert set(plain.stages) == {"fit", "evaluation", "save", "explain"} and "cv" in folds.stages
    assert tuned.stages["tuning"] > 0 and tuned.seconds > folds.seconds > plain.seconds
    assert plain.sample_seconds == folds.sample_seconds == fit.fit_seconds  # one fit behind all three
    assert estimate_from(fit, cv_folds=0, test_size=0.5).stages["fit"] < plain.stages["fit"]  # fewer train rows
    # The test share changes the fit itself only where it moves the estimator's size defaults.
    assert sample_fit_inputs("lightgbm", "binary", 1_000_000, 0.2) == sample_fit_inputs("lightgbm", "binary",
                                                                                         1_000_000, 0.3)
    assert sample_fit_inputs("lightgbm", "binary", 10_000, 0.1) != sample_fit_inputs("lightgbm", "binary",
                                                                                     10_000, 0.5)


def _measured(algorithm: str, n_rows: int, **overrides):
    from core.ml.estimate import SampleFit

    fields = {"algorithm": algorithm, "kind": "binary", "n_rows": n_rows, "sample_rows": 1_000, "fit_seconds": 0.1,
              "predict_seconds": 0.01, "traced": False, "peak": 0, "data_bytes": 1e6, "available_bytes": 2**34,
              "evaluation_seconds": 0.05, "fold_slots": 2, "importance": (0.0, 1_000, 0), "shap_seconds": 1.0,
              "fold_evaluation_seconds": 0.02, "save_seconds": 0.1}
    return SampleFit(**{**fields, **overrides})


def test_on_small_data_each_fold_costs_a_sample_fit_and_its_scores_even_side_by_side():
    from core.ml.estimate import estimate_from

    # Fewer rows than the sample: each fold is the sample fit and a fold's measured scores, and folds on threads
    # do not overlap that per-call work (titanic: as long two at a time as one after another).
    small = estimate_from(_measured("logistic_regression", 800), cv_folds=5)
    assert small.stages["cv"] == pytest.approx(5 * (0.1 + 0.02))
    # Far more rows: the growth beyond the sample's size is what two folds at a time share.
    big = estimate_from(_measured("logistic_regression", 100_000), cv_folds=5)
    alone = estimate_from(_measured("logistic_regression", 100_000, fold_slots=1), cv_folds=5)
    assert big.stages["cv"] < 0.7 * alone.stages["cv"]


def test_a_forests_shap_and_file_follow_its_training_rows_a_linear_models_do_not():
    from core.ml.estimate import estimate_from

    forest = estimate_from(_measured("random_forest", 10_000), cv_folds=0, test_size=0.2)
    linear = estimate_from(_measured("logistic_regression", 10_000), cv_folds=0, test_size=0.2)
    assert forest.stages["explain"] == pytest.approx(1.0 * 8_000 / 1_000)  # 8,000 training rows, 1,000 sampled
    assert forest.stages["save"] == pytest.approx(0.1 * 8)
    assert linear.stages["explain"] == pytest.approx(1.0) and linear.stages["save"] == pytest.approx(0.1)
    fewer = estimate_from(_measured("random_forest", 1_000), cv_folds=0, test_size=0.2)  # titanic-like: 800 < 1,000
    assert fewer.stages["explain"] == pytest.approx(0.8)


def test_the_sample_fit_holds_blas_to_the_fits_threads_as_the_job_does(monkeypatch):
    from threadpoolctl import threadpool_info

    from core.ml import estimate

    monkeypatch.setenv("ATELIER_THREADS", "1")
    seen: list[int] = []
    real = estimate.fit_pipeline

    def watching(pipeline, X, y, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return real(pipeline, X, y, **kwargs)

    monkeypatch.setattr(estimate, "fit_pipeline", watching)
    X, y = _sample(500)
    estimate.measure_sample("logistic_regression", X, y, 10_000)
    assert seen and set(seen) == {1}


def test_knn_predictions_and_explanations_grow_with_the_rows_it_was_fitted_on():
    from core.ml.estimate import estimate_from

    # k-NN compares each predicted row with every training row: 8,000 training rows against the sample's 1,000
    # make each row's prediction 8 times the sample model's (a fixed-row explanation too), and the 2,000 test rows
    # twice as many rows on top.
    knn = estimate_from(_measured("knn", 10_000, importance=(1.0, 1_000, 2_000)), cv_folds=0, test_size=0.2)
    assert knn.stages["explain"] == pytest.approx(1.0 * 2 * 8 + 1.0 * 8)
    assert knn.stages["evaluation"] == pytest.approx(0.05 * 2 * 8 + 2 * 0.01 * 1 * 8)
    linear = estimate_from(_measured("logistic_regression", 10_000, importance=(1.0, 1_000, 2_000)), cv_folds=0)
    assert linear.stages["explain"] == pytest.approx(1.0 * 2 + 1.0)  # a linear model's row costs the same


def test_knn_growth_is_the_line_through_two_timed_model_sizes_when_measured():
    from core.ml.estimate import estimate_from

    # pipeline: 0.1 s with a 1,000-row model, 0.25 s with 4,000 rows, so 0.45 s with 8,000: 4.5x; the model's own
    # predictions (permutation SHAP): 0.05 s then 0.2 s, so 0.4 s: 8x.
    sized = ((1_000, 0.1, 0.05), (4_000, 0.25, 0.2))
    knn = estimate_from(_measured("knn", 10_000, importance=(1.0, 1_000, 2_000), sized_predicts=sized), cv_folds=0)
    assert knn.stages["explain"] == pytest.approx(1.0 * 2 * 4.5 + 1.0 * 8)


def test_a_boosters_fit_is_the_line_through_two_timed_sizes_not_the_sample_fit_times_the_rows():
    from core.ml.estimate import estimate_from

    # 0.3 s on 1,000 rows and 0.45 s on 4,000: a fixed 0.25 s and 0.05 s a thousand rows, so 0.65 s on 8,000
    # training rows (scaling the 0.1 s sample fit by the rows would say 0.8 s; by the 0.3 s one, 2.4 s).
    sized = ((1_000, 0.3), (4_000, 0.45))
    booster = estimate_from(_measured("lightgbm", 10_000, sized_fits=sized), cv_folds=5)
    assert booster.stages["fit"] == pytest.approx(0.65)
    # Each fold fits 6,400 rows (0.57 s on the line) and scores 1,600: the sample-sized part (its 0.1 s fit and
    # 0.02 s scores) once a fold, the rest in three rounds of two folds side by side.
    fold = 0.3 + 0.05 * 5.4 + 0.02 + 0.01 * 0.6
    assert booster.stages["cv"] == pytest.approx(5 * 0.12 + 3 * (fold - 0.12))


def test_a_booster_on_more_rows_than_the_sample_is_timed_at_two_sizes_with_every_round():
    from core.ml.estimate import measure_sample

    X, y = _sample(6_000)
    big = measure_sample("lightgbm", X, y, 100_000)
    assert big.sized_fits is not None
    (small_rows, small), (big_rows, _) = big.sized_fits
    assert (small_rows, big_rows) == (2_000, 6_000) and small > 0
    # No data beyond the sample (titanic-sized): nothing more is fitted, the estimate stays cheap.
    assert measure_sample("lightgbm", X.head(1_500), y.head(1_500), 1_500).sized_fits is None
    assert measure_sample("naive_bayes", X, y, 100_000).sized_fits is None


def test_the_jobs_explanations_hold_blas_to_the_fits_threads_as_the_estimate_times_them(monkeypatch):
    from threadpoolctl import threadpool_info

    from core.ml import train
    from core.ml.config import SplitConfig, TrainConfig
    from core.ml.prepared import prepare_data

    monkeypatch.setenv("ATELIER_THREADS", "1")
    seen: list[int] = []
    real = train.feature_importances

    def watching(*args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "feature_importances", watching)
    X, y = _sample(300)
    frame = X.assign(label=y)
    config = TrainConfig(target="label", split=SplitConfig(cv_folds=0))
    train.fit_candidate(prepare_data(frame, config), "knn")
    assert seen and set(seen) == {1}


def test_a_folds_scores_grow_by_each_prediction_pass_they_make():
    from core.ml.estimate import estimate_from

    # 100,000 rows: 80,000 training, folds of 64,000 scoring 16,000 (16x the sample's 1,000 rows, on a
    # linear model). Labels and scores are two predictions, each 0.01 s on the sample's rows.
    one = estimate_from(_measured("logistic_regression", 100_000, fold_slots=1), cv_folds=5)
    two = estimate_from(_measured("logistic_regression", 100_000, fold_slots=1, score_passes=2), cv_folds=5)
    assert two.stages["cv"] - one.stages["cv"] == pytest.approx(5 * 0.01 * (16 - 1))


def test_knn_on_fewer_rows_than_the_sample_scores_and_permutes_for_less():
    from core.ml.estimate import estimate_from

    # 1,000 rows, all sampled: folds fit 640 rows and score 160 against them, a 0.16 x 0.64 share of the sample's
    # 1,000 x 1,000 comparisons; the importance permutes the 200 test rows, not the sample's 1,000.
    knn = estimate_from(_measured("knn", 1_000, importance=(1.0, 1_000, 2_000)), cv_folds=5)
    assert knn.stages["cv"] == pytest.approx(5 * (0.1 + 0.02 * 0.16 * 0.64))
    assert knn.stages["explain"] == pytest.approx(1.0 * 0.2 * 0.8 + 1.0 * 0.8)
    # A linear model's fold scores are mostly fixed metric calls: the sample's, whatever the rows.
    linear = estimate_from(_measured("logistic_regression", 1_000, importance=(1.0, 1_000, 2_000)), cv_folds=5)
    assert linear.stages["cv"] == pytest.approx(5 * (0.1 + 0.02))
    assert linear.stages["explain"] == pytest.approx(1.0 + 1.0)


def test_the_sample_fit_is_timed_with_the_threads_the_jobs_fits_will_get(monkeypatch):
    from threadpoolctl import threadpool_info

    from core.ml import estimate

    # As core.platform.cores decides on a quiet two-core machine: one thread for a small table, both cores for a
    # big one. The job trains on 80,000 rows, so its fits get two threads, and so must the 1,000-row sample's.
    monkeypatch.setattr(estimate, "thread_budget",
                        lambda rows=None, fresh=True: 1 if rows is not None and rows < 20_000 else 2)
    seen: list[int] = []
    real = estimate.fit_pipeline

    def watching(pipeline, X, y, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        seen.append(pipeline.steps[-1][1].n_jobs)
        return real(pipeline, X, y, **kwargs)

    monkeypatch.setattr(estimate, "fit_pipeline", watching)
    X, y = _sample(1_000)
    estimate.measure_sample("random_forest", X, y, 100_000)
    assert seen and set(seen) == {2}
    seen.clear()
    estimate.measure_sample("random_forest", X, y, 1_000)  # titanic-sized: the job's fits get one thread too
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("algorithm", ["random_forest", "extra_trees"])
def test_a_forest_on_more_rows_than_the_sample_is_timed_at_two_sizes(algorithm):
    from core.ml.estimate import measure_sample

    X, y = _sample(6_000)
    big = measure_sample(algorithm, X, y, 100_000)
    assert big.sized_fits is not None
    (small_rows, small), (big_rows, _) = big.sized_fits
    assert (small_rows, small) == (2_000, big.fit_seconds) and big_rows == 6_000
    # No data beyond the sample (titanic-sized): nothing more is fitted, the estimate stays cheap.
    assert measure_sample(algorithm, X.head(1_500), y.head(1_500), 1_500).sized_fits is None
    # A linear model's fit is scaled from the sample's by the rows: its solver's iterations at 8,000 rows
    # drew a line that put 40,000 at 2.6x the job's fit.
    assert measure_sample("logistic_regression", X, y, 100_000).sized_fits is None


def test_a_forests_fit_follows_the_line_and_its_shap_the_sample_models_rows():
    from core.ml.estimate import estimate_from

    # 0.3 s on 1,000 rows (mostly per-tree work) and 0.45 s on 4,000: 0.65 s on 8,000 training rows, where the
    # sample fit times the rows said 0.3 * 8 ** 1.1. SHAP and the file are still the sample model's, grown by its rows.
    sized = ((1_000, 0.3), (4_000, 0.45))
    forest = estimate_from(_measured("random_forest", 10_000, fit_seconds=0.3, sized_fits=sized), cv_folds=0)
    assert forest.stages["fit"] == pytest.approx(0.65)
    assert forest.stages["explain"] == pytest.approx(1.0 * 8) and forest.stages["save"] == pytest.approx(0.1 * 8)


def test_the_importances_are_timed_on_as_many_rows_as_the_job_permutes(monkeypatch):
    from core.ml.estimate import estimate_from, measure_sample

    monkeypatch.setenv("ATELIER_THREADS", "1")
    X, y = _sample(1_000)
    # All 1,000 rows sampled, 200 of them the job's test rows: those are what its permutation importance predicts.
    fit = measure_sample("knn", X, y, 1_000, test_size=0.2, explain=True)
    seconds, rows, cap = fit.importance
    assert rows == 200 and cap == 2_000
    # timed on the job's rows, the timing is the stage's, grown only by the model's 800 training rows against 1,000
    stages = estimate_from(fit, cv_folds=0, test_size=0.2).stages
    assert stages["explain"] == pytest.approx(seconds * 0.8 + fit.shap_seconds * 0.8)


def test_a_small_jobs_folds_wait_once_for_the_free_cores_to_be_measured(monkeypatch):
    from core.ml.estimate import estimate_from, measure_sample
    from core.platform.cores import SAMPLE_SECONDS, usable_cpus

    # On small data the first fold is where the job first samples the load (core.ml.cross_validation.fold_workers).
    waited = estimate_from(_measured("logistic_regression", 800, fold_sampling=0.1), cv_folds=5)
    assert waited.stages["cv"] == pytest.approx(5 * (0.1 + 0.02) + 0.1)
    assert estimate_from(_measured("logistic_regression", 800, fold_sampling=0.1), cv_folds=0).stages.get("cv") is None
    monkeypatch.delenv("ATELIER_THREADS", raising=False)
    X, y = _sample(1_000)
    expected = SAMPLE_SECONDS if usable_cpus() > 1 else 0.0
    assert measure_sample("logistic_regression", X, y, 1_000).fold_sampling == expected
    # Bigger data is measured before the fits, an override not at all: no wait inside the folds.
    assert measure_sample("logistic_regression", X, y, 100_000).fold_sampling == 0.0
    monkeypatch.setenv("ATELIER_THREADS", "1")
    assert measure_sample("logistic_regression", X, y, 1_000).fold_sampling == 0.0
