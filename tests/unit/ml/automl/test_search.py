"""AutoML in core.ml: recommendations, the search's bad inputs, failures, leak suspects, ensemble, replay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.ml.automl import AutoMLConfig, prepare_search, recommend, replay, run_automl
from core.ml.automl.ensemble import select_ensemble
from core.ml.automl.guard import memory_problem
from core.ml.automl.spaces import SPECS
from core.ml.serialize import dump_model, load_model, sha256_hex
from core.platform.errors import InvalidInputError, ResourceError
from core.platform.progress import Progress

SAMPLES = Path(__file__).resolve().parents[4] / "data" / "samples"
FAST = ("logistic_regression", "lightgbm", "random_forest")


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_parquet(SAMPLES / "penguins.parquet")


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return pd.read_parquet(SAMPLES / "titanic.parquet")


def test_recommendations_are_ranked_from_the_measured_priors(titanic):
    state = prepare_search(titanic, AutoMLConfig(target="survived", budget=30), Progress())
    ranking = recommend(state.profile)
    assert [r.rank for r in ranking] == list(range(1, len(ranking) + 1))
    assert {r.algorithm for r in ranking} <= set(SPECS)
    assert all(r.evidence > 0 and r.why and 0 < r.expected_score <= 1 for r in ranking)
    assert ranking[0].why.startswith(f"{ranking[0].label} first:")
    scores = [r.expected_score for r in ranking]
    # best expected first; scores equal to 3 decimals count as a tie, which the faster one wins
    assert all(a >= b - 0.001 for a, b in zip(scores, scores[1:], strict=False))


def test_a_budget_below_one_cheap_fit_says_so_and_suggests_one(titanic):
    with pytest.raises(ResourceError, match=r"budget of 0.01 s is too small") as caught:
        run_automl(titanic, AutoMLConfig(target="survived", budget=0.01))
    assert "--budget" in caught.value.user_text()


def test_single_class_and_all_missing_targets_are_refused(penguins):
    one = penguins.assign(species="Adelie")
    with pytest.raises(InvalidInputError, match="single class"):
        run_automl(one, AutoMLConfig(target="species", budget=5))
    empty = penguins.assign(species=None)
    with pytest.raises(InvalidInputError, match="missing"):
        run_automl(empty, AutoMLConfig(target="species", budget=5))


def test_a_failing_algorithm_is_in_the_leaderboard_and_the_search_goes_on(penguins):
    def fail(config):
        if config.algorithm == "random_forest":
            raise RuntimeError("forest broke")

    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=FAST, max_trials=5),
                        fail=fail)
    rows = result.receipt.leaderboard()
    failed = [r for r in rows if r["algorithm"] == "random_forest"]
    assert failed and all(r["status"] == "failed" and "forest broke" in r["error"] for r in failed)
    assert any(r["status"] == "ok" for r in rows)
    assert result.receipt.winner is not None
    assert all({"algorithm", "params", "score", "seconds", "status"} <= set(r) for r in rows)


def test_leak_suspects_are_left_out_by_default_and_listed(titanic):
    leaky = titanic.assign(outcome_code=titanic["survived"] * 3 + 1)
    state = prepare_search(leaky, AutoMLConfig(target="survived", budget=5), Progress())
    assert "outcome_code" in {e["feature"] for e in state.excluded}
    assert "outcome_code" not in state.prepared.features
    kept = prepare_search(leaky, AutoMLConfig(target="survived", budget=5, keep_suspects=True), Progress())
    assert kept.excluded == [] and "outcome_code" in kept.prepared.features


def test_memory_guard_skips_what_does_not_fit():
    reason = memory_problem("random_forest", {"n_estimators": 300}, 1_000_000, 8e7, 2, available=2**30)
    assert reason is not None and reason.startswith("skipped: needs about")
    assert memory_problem("logistic_regression", {}, 1000, 1e5, 2, available=2**30) is None


def test_memory_guard_skips_in_the_search_with_the_reason(penguins):
    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression",),
                                               max_trials=3), available_memory=10**12)
    assert result.receipt.winner is not None
    with pytest.raises(ResourceError, match="No trial finished"):
        run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression",),
                                          max_trials=3), available_memory=1000)


def test_greedy_ensemble_needs_to_beat_the_best_single_model():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    a, b = y + np.array([1, -1, 1, -1]), y + np.array([-1, 1, -1, 1])
    choice = select_ensemble([a, b], lambda p: -float(np.sqrt(np.mean((p - y) ** 2))), True)
    assert choice is not None and len(choice.members) == 2 and choice.score == pytest.approx(0.0)
    assert select_ensemble([y, y + 1], lambda p: -float(np.abs(p - y).mean()), True) is None


def test_ensemble_is_saved_loaded_and_predicts(penguins):
    from core.ml.automl.trials import TrialConfig, fit_trial
    from core.ml.ensemble import ensemble_pipeline

    state = prepare_search(penguins, AutoMLConfig(target="species", budget=5), Progress())
    X, y = state.prepared.X_train, state.prepared.y_train
    members = [fit_trial(state.data, TrialConfig("logistic_regression", {"C": 1.0}), X=X, y=y).pipeline,
               fit_trial(state.data, TrialConfig("random_forest", {"n_estimators": 20}), X=X, y=y).pipeline]
    pipeline = ensemble_pipeline(members, [0.25, 0.75], "classification", background=X)
    data = dump_model(pipeline)
    loaded = load_model(data, sha256_hex(data))
    X = state.data.X_val
    assert np.allclose(loaded.predict_proba(X), pipeline.predict_proba(X))
    assert (loaded.predict(X) == pipeline.predict(X)).all()
    expected = 0.25 * members[0].predict_proba(X) + 0.75 * members[1].predict_proba(X)
    assert np.allclose(loaded.predict_proba(X), expected)


def test_replay_reproduces_the_validation_metrics(penguins):
    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=FAST, max_trials=5))
    again = replay(penguins, result.receipt)
    assert again.reproduced, again
    assert again.largest_difference <= 1e-9


def test_cancel_keeps_the_best_model_so_far(penguins):
    from core.platform.errors import JobCancelledError

    checks = {"n": 0}

    def check() -> None:
        checks["n"] += 1
        if checks["n"] > 4:
            raise JobCancelledError("The job was cancelled.")

    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=FAST),
                        callbacks=Progress.of(check_cancelled=check))
    assert result.cancelled and result.receipt.winner is not None
    assert len(result.pipeline.predict(penguins.head(3))) == 3


def test_small_tables_are_cross_validated_and_every_row_validates_once_per_repeat(penguins):
    from core.ml.automl.trials import FOLDS, TrialConfig, fit_trial

    state = prepare_search(penguins, AutoMLConfig(target="species", budget=5), Progress())
    data = state.data
    assert data.cross_validated and len(data.X_fit) == len(state.prepared.X_train)
    for repeat in range(data.repeats):
        held = np.concatenate(data.folds[repeat * FOLDS:(repeat + 1) * FOLDS])
        assert sorted(held.tolist()) == list(range(len(data.X_fit)))  # a partition: each row in one fold
    outcome = fit_trial(data, TrialConfig("lightgbm", dict(SPECS["lightgbm"].portfolio[1])))
    assert outcome.predictions.shape == (len(data.X_fit), data.y_fit.nunique())
    assert np.allclose(outcome.predictions.sum(axis=1), 1.0)
    rounds = outcome.params["n_estimators"]
    assert 1 <= rounds < SPECS["lightgbm"].portfolio[1]["n_estimators"]  # stopped at the folds' common best round
    again = fit_trial(data, TrialConfig("lightgbm", outcome.params), early_stopping=False)
    assert np.allclose(again.predictions, outcome.predictions, rtol=0, atol=1e-12)
    assert len(outcome.pipeline.predict(penguins.head(4))) == 4  # the folds' models averaged


def test_a_few_hundred_rows_repeat_the_folds_and_average_each_rows_repeats(penguins):
    from core.ml.automl.trials import FOLDS, REPEATS, TrialConfig, fit_trial

    data = prepare_search(penguins, AutoMLConfig(target="species", budget=5), Progress()).data
    assert len(data.X_fit) < 1_000 and data.repeats == REPEATS == 2 and len(data.folds) == 2 * FOLDS
    first, second = data.folds[:FOLDS], data.folds[FOLDS:]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second, strict=True))  # another draw, not a copy
    config = TrialConfig("logistic_regression", {"C": 1.0})
    outcome = fit_trial(data, config)
    assert np.allclose(outcome.predictions.sum(axis=1), 1.0)
    each = [fit_trial(replace(data, folds=folds), config).predictions for folds in (first, second)]
    assert np.allclose(outcome.predictions, (each[0] + each[1]) / 2, rtol=0, atol=1e-12)


def test_a_receipt_from_before_repeats_replays_with_one_draw_of_folds(penguins, monkeypatch):
    from core.ml.automl import trials

    config = AutoMLConfig(target="species", budget=30, algorithms=FAST, max_trials=3)
    repeated = run_automl(penguins, config).receipt
    assert repeated.split["cv_repeats"] == 2
    assert repeated.split["validation"] == "5-fold cross-validation, repeated 2 times"
    monkeypatch.setattr(trials, "REPEAT_BELOW", 0)  # the folds drawn once, as before repeats existed
    older = run_automl(penguins, config).receipt
    monkeypatch.undo()
    assert older.split.pop("cv_repeats") == 1 and older.split["validation"] == "5-fold cross-validation"
    assert older.winner.score != repeated.winner.score
    assert replay(penguins, older).reproduced


def test_lightgbm_defaults_are_fitted_as_shipped_without_early_stopping(penguins):
    from core.ml.automl.spaces import LIGHTGBM_DEFAULTS
    from core.ml.automl.trials import TrialConfig, fit_trial

    state = prepare_search(penguins, AutoMLConfig(target="species", budget=5), Progress())
    # stopped early on penguins' folds, these defaults kept fewer than their 100 rounds
    outcome = fit_trial(state.data, TrialConfig("lightgbm", dict(LIGHTGBM_DEFAULTS)))
    assert outcome.params["n_estimators"] == LIGHTGBM_DEFAULTS["n_estimators"]
    assert outcome.pipeline.named_steps["model"].members_[0].steps[-1][1].booster_.current_iteration() == 100
    assert not SPECS["lightgbm"].stops_early(LIGHTGBM_DEFAULTS) and SPECS["lightgbm"].stops_early(
        SPECS["lightgbm"].portfolio[1])


def test_large_tables_keep_one_hold_out_and_replay_it(penguins, monkeypatch):
    import core.ml.automl.state as state

    monkeypatch.setattr(state, "CV_BELOW", 0)
    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=FAST, max_trials=4))
    assert not result.state.data.cross_validated
    assert result.receipt.split["validation"] == "hold-out"
    assert replay(penguins, result.receipt).reproduced


def test_trials_record_the_threads_from_the_thread_budget(penguins, monkeypatch):
    monkeypatch.setenv("ATELIER_THREADS", "1")
    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression",),
                                               max_trials=2))
    assert result.receipt.split["threads"] == 1
    assert all(t.threads == 1 for t in result.receipt.trials if t.status == "ok")
    fixed = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression",),
                                              max_trials=1, n_jobs=2))
    assert fixed.receipt.trials[0].threads == 2


@pytest.mark.parametrize(("sample", "target"), [("titanic", "survived"), ("penguins", "species"),
                                                ("mpg", "Miles_per_Gallon")])
def test_an_ensemble_is_explained_and_its_contributions_add_up_to_its_output(sample, target):
    from core.ml.automl.trials import TrialConfig, fit_trial
    from core.ml.ensemble import ensemble_pipeline
    from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, explain_rows, feature_importances, shap_summary

    frame = pd.read_parquet(SAMPLES / f"{sample}.parquet")
    state = prepare_search(frame, AutoMLConfig(target=target, budget=5), Progress())
    prepared, data = state.prepared, state.data
    X, y = prepared.X_train, prepared.y_train
    members = [fit_trial(data, TrialConfig("lightgbm", {"n_estimators": 30, "num_leaves": 8}), X=X, y=y).pipeline,
               fit_trial(data, TrialConfig("random_forest", {"n_estimators": 20}), X=X, y=y).pipeline]
    built = ensemble_pipeline(members, [0.4, 0.6], data.task, background=X)
    saved = dump_model(built)
    pipeline = load_model(saved, sha256_hex(saved))  # the background survives saving
    rows = prepared.X_test.head(6)
    out = explain_rows(pipeline, rows)
    features = [c for c in out.columns if c not in (BASE_COLUMN, CLASS_COLUMN)]
    assert set(features) == {str(c) for c in X.columns}
    total = out[features].sum(axis=1).to_numpy() + out[BASE_COLUMN].to_numpy()
    if data.task == "regression":
        expected = pipeline.predict(rows)
    else:
        proba = pipeline.predict_proba(rows)
        classes = np.asarray(pipeline.classes_)
        explained = out[CLASS_COLUMN].to_numpy() if CLASS_COLUMN in out else np.repeat(classes[-1], len(rows))
        expected = proba[np.arange(len(rows)), np.searchsorted(classes, explained)]
    assert np.allclose(total, expected, rtol=0, atol=1e-9)
    assert np.abs(out[features].to_numpy()).max() > 1e-6  # not an all-zero answer that trivially adds up
    summary = shap_summary(pipeline, X, prepared.kind)
    assert summary.method.startswith("permutation SHAP over the ensemble") and max(summary.mean_abs.values()) > 0
    importances, method = feature_importances(pipeline, prepared.X_test, prepared.y_test, prepared.kind,
                                              max_rows=100)
    assert method == "permutation" and importances


@pytest.mark.parametrize(("sample", "target", "metric"), [("titanic", "survived", "roc_auc"),
                                                          ("penguins", "species", "log_loss"),
                                                          ("mpg", "Miles_per_Gallon", "rmse"),
                                                          ("penguins", "species", "f1_macro")])
def test_the_single_metric_ensemble_selection_uses_equals_the_full_set(sample, target, metric):
    from core.ml.automl.trials import metric_of, metrics_of

    frame = pd.read_parquet(SAMPLES / f"{sample}.parquet")
    data = prepare_search(frame, AutoMLConfig(target=target, budget=5, metric=metric), Progress()).data
    rng = np.random.default_rng(0)
    if data.task == "regression":
        classes, predictions = None, np.asarray(data.y_val, dtype=float) + rng.normal(0, 3, len(data.y_val))
    else:
        classes = np.unique(np.asarray(data.y_fit))
        raw = rng.random((len(data.y_val), len(classes)))
        predictions = raw / raw.sum(axis=1, keepdims=True)
    assert metric_of(data, predictions, classes) == metrics_of(data, predictions, classes)[metric]


def test_the_refit_grows_an_early_stopped_boosters_rounds_with_the_rows():
    from core.ml.automl.refit import REFIT_GROWTH, refit_config
    from core.ml.automl.spaces import LIGHTGBM_DEFAULTS
    from core.ml.automl.trials import TrialConfig, TrialRecord

    asked = TrialConfig("lightgbm", dict(SPECS["lightgbm"].portfolio[1]))
    cut = TrialRecord(1, TrialConfig("lightgbm", {**asked.params, "n_estimators": 80}), "ok", 0.5, asked=asked.key())
    assert refit_config(cut, 250, 200).params["n_estimators"] == 100  # 80 rounds x 250/200 rows
    assert refit_config(cut, 200_000, 200).params["n_estimators"] == int(80 * REFIT_GROWTH)  # capped
    shipped = TrialConfig("lightgbm", dict(LIGHTGBM_DEFAULTS))  # fitted as asked: refitted as it is
    assert refit_config(TrialRecord(2, shipped, "ok", 0.5, asked=shipped.key()), 250, 200).params == shipped.params
    sampled = replace(cut, config=replace(cut.config, sample_rows=100))  # a sample's rounds say little of all rows
    assert refit_config(sampled, 250, 200).params["n_estimators"] == 80
    assert refit_config(sampled, 250, 200).sample_rows is None


def test_the_final_refit_fits_the_grown_rounds(penguins):
    from core.ml.automl.refit import refit_config

    def no_defaults(config):  # the as-shipped defaults would refit as they are: leave the stopped start to win
        if config.origin == "portfolio":
            raise RuntimeError("not this one")

    result = run_automl(penguins, AutoMLConfig(target="species", budget=30, algorithms=("lightgbm",), max_trials=2,
                                               ensemble=False), fail=no_defaults)
    winner = next(r for r in result.receipt.trials if r.number == result.receipt.winner.trials[0])
    assert winner.config.origin == "start" and result.refitted
    rows = len(result.state.prepared.X_train)
    grown = refit_config(winner, rows, rows - rows // 5).params["n_estimators"]  # five folds: 4/5 of the rows
    assert grown > winner.config.params["n_estimators"]
    assert result.pipeline.steps[-1][1].booster_.current_iteration() == grown
    assert replay(penguins, result.receipt).reproduced  # the receipt keeps the rounds the trial validated
