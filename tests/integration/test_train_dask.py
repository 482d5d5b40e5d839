"""Training on a real two-worker Dask cluster: LightGBM and XGBoost on every part, the others on a sample.

The distributed fit's test metrics stay within a small tolerance of the single-process fit on the
same data, and the registered model is a plain local model that the normal scoring path serves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.data.partitioned import save_partitioned_version
from core.ml.config import TrainConfig, TuningConfig
from core.ml.train import train_candidate
from core.models import registry
from core.models.training import train_version
from core.platform.compute import DaskExecutor
from core.platform.errors import InvalidInputError
from core.serve.loaded import load_model

pytestmark = pytest.mark.slow


def _frame(n: int = 16_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    colour = rng.choice(["red", "green", "blue"], n)
    logit = 1.2 * X[:, 0] - 0.8 * X[:, 1] + X[:, 2] * X[:, 3] + (colour == "red") * 0.7
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame.loc[rng.random(n) < 0.05, "x4"] = np.nan
    frame["colour"] = colour
    frame["bought"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["answer"] = np.where(frame["bought"] == 1, "yes", "no")  # text labels: XGBoost learns codes 0..k-1
    frame["spend"] = 10 + 3 * X[:, 0] + 2 * X[:, 1] ** 2 + rng.normal(size=n)
    return frame


@pytest.mark.parametrize(("algorithm", "target", "metric", "tolerance"),
                         [("lightgbm", "bought", "roc_auc", 0.02), ("xgboost", "answer", "roc_auc", 0.02),
                          ("lightgbm", "spend", "r2", 0.03)])
def test_distributed_fit_matches_the_single_process_fit_and_serves_as_usual(cluster_ws, algorithm, target, metric,
                                                                             tolerance):
    ws = cluster_ws
    frame = _frame()
    features = [c for c in frame.columns if c not in ("bought", "answer", "spend")]
    config = TrainConfig(algorithm=algorithm, target=target, features=features, explain=False)
    single = train_candidate(frame, config)
    version = save_partitioned_version(ws, "shop", frame, part_rows=4_000, provenance={})
    rows = train_version(ws, version, config, [algorithm], model_name="shop-model")
    assert rows[0]["status"] == "ok", rows[0]["error"]
    assert any("Trained on the cluster" in n for n in rows[0]["notes"]), rows[0]["notes"]
    assert rows[0]["metrics"][metric] == pytest.approx(single.metrics[metric], abs=tolerance)

    model = load_model(ws, "shop-model")  # the registry's ordinary load and scorer
    inner = model.pipeline.steps[-1][1]
    inner = getattr(inner, "estimator_", inner)
    assert type(inner).__module__.split(".")[0] == algorithm and "Dask" not in type(inner).__name__
    fresh = _frame(500, seed=9)
    predicted = model.pipeline.predict(fresh[features])
    if target != "spend":
        assert set(np.unique(predicted)) <= set(frame[target])
        accuracy = float(np.mean(predicted == fresh[target].to_numpy()))
        assert accuracy == pytest.approx(float(np.mean(single.pipeline.predict(fresh[features])
                                                       == fresh[target].to_numpy())), abs=0.05)
    else:
        assert np.corrcoef(predicted, fresh["spend"])[0, 1] > 0.9


def test_lightgbm_on_the_cluster_fits_the_rounds_the_survey_sample_stopped_at_and_records_them(cluster_ws):
    # LightGBM's Dask interface cannot stop early: the round count comes from an early-stopped fit on the
    # survey sample (here every row, 16,000 < SAMPLE_ROWS), which is the single-process fit on this data
    ws = cluster_ws
    frame = _frame()
    features = [c for c in frame.columns if c not in ("bought", "answer", "spend")]
    config = TrainConfig(algorithm="lightgbm", target="bought", features=features, explain=False,
                         params={"learning_rate": 0.3})  # a fast rate: this data then stops near round 50
    single = train_candidate(frame, config)
    expected = single.pipeline.steps[-1][1].best_iteration_
    assert 0 < expected < 100  # well before the configured 200 rounds
    version = save_partitioned_version(ws, "shop", frame, part_rows=4_000, provenance={})
    [row] = train_version(ws, version, config, ["lightgbm"], model_name="rounds-model")
    assert row["status"] == "ok", row["error"]
    booster = load_model(ws, "rounds-model").pipeline.steps[-1][1]
    assert booster.booster_.num_trees() == expected  # binary: one tree per round, every one of them fitted
    card = registry.get_version(ws, f"{row['model_name']}:{row['version']}").card
    assert card.params["n_estimators"] == expected
    assert any(f"Boosting rounds: {expected}" in n and "survey sample" in n for n in card.notes), card.notes


def test_xgboost_on_the_cluster_stops_early_itself_and_records_the_rounds(cluster_ws):
    ws = cluster_ws
    frame = _frame()
    features = [c for c in frame.columns if c not in ("bought", "answer", "spend")]
    config = TrainConfig(algorithm="xgboost", target="answer", features=features, explain=False,
                         params={"learning_rate": 0.3})
    version = save_partitioned_version(ws, "shop", frame, part_rows=4_000, provenance={})
    [row] = train_version(ws, version, config, ["xgboost"], model_name="xgb-rounds")
    assert row["status"] == "ok", row["error"]
    inner = load_model(ws, "xgb-rounds").pipeline.steps[-1][1].estimator_
    kept = inner.best_iteration + 1
    assert kept < 100 and inner.get_booster().num_boosted_rounds() < 200  # it stopped well before the 200 configured
    card = registry.get_version(ws, f"{row['model_name']}:{row['version']}").card
    assert card.params["n_estimators"] == kept
    assert any(f"Boosting rounds: {kept}" in n and "held-out 10%" in n for n in card.notes), card.notes


def test_other_algorithms_train_on_a_sample_with_a_notice(cluster_ws, monkeypatch):
    from core.ml import train_dask

    ws = cluster_ws
    monkeypatch.setattr(train_dask, "SAMPLE_ROWS", 3_000)
    frame = _frame(8_000)
    version = save_partitioned_version(ws, "shop", frame, part_rows=2_000, provenance={})
    config = TrainConfig(target="bought", features=["x0", "x1", "x2", "colour"], explain=False)
    rows = train_version(ws, version, config, ["logistic_regression"])
    assert rows[0]["status"] == "ok", rows[0]["error"]
    assert any("no Dask interface" in n and "8,000 rows" in n for n in rows[0]["notes"]), rows[0]["notes"]
    card = registry.get_version(ws, f"{rows[0]['model_name']}:{rows[0]['version']}").card
    assert 2_000 < card.split["n_train"] + card.split["n_test"] < 4_000  # the sample's rows


def test_tuning_trials_run_in_parallel_on_the_workers(cluster):
    from distributed import Client

    from core.ml import tuning
    from core.ml.catalogue import get_algorithm
    from core.ml.preprocessing import resolve_preprocessing
    from core.ml.splits import Split, cv_folds

    frame = _frame(2_000)
    X, y = frame[["x0", "x1", "x2", "x3"]], frame["bought"]
    entry = get_algorithm("lightgbm")
    resolved, _ = resolve_preprocessing(TrainConfig().preprocessing, entry.family, "binary", entry.handles_missing)
    folds = cv_folds(Split("random", np.arange(len(X)), np.array([], dtype=int)), y, 3, 0)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        executor = DaskExecutor(client)
        result = tuning.tune(entry, X, y, "binary", folds, {c: "numeric" for c in X}, resolved,
                             TuningConfig(n_trials=6, cv_folds=3), executor=executor)
        ran_on = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert result.n_complete == 6 and len(result.trials) == 6
    assert 0.6 < result.best_score <= 1.0
    assert sum(1 for n in ran_on.values() if n > 0) == 2  # both workers ran trials


def test_distributed_training_without_a_cluster_is_refused(ws):
    version = save_partitioned_version(ws, "shop", _frame(2_000), part_rows=1_000, provenance={})
    with pytest.raises(InvalidInputError, match="needs a Dask cluster"):
        train_version(ws, version, TrainConfig(algorithm="lightgbm", target="bought", distributed=True), ["lightgbm"])
    assert datasets.get_version(ws, "shop").n_rows == 2_000


def _count_and_split(item: int, folder: str) -> tuple[pd.DataFrame, int]:
    from pathlib import Path

    (Path(folder) / f"call-{item}-{np.random.default_rng().integers(1 << 40)}").touch()  # one file per call
    return pd.DataFrame({"n": [item] * (item + 1)}), item * 10


def test_a_frame_with_sides_runs_each_item_once_and_keeps_the_sides_in_order(cluster, tmp_path):
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        executor = DaskExecutor(client)
        frame, sides = executor.frame(_count_and_split, [0, 1, 2, 3], shared=str(tmp_path),
                                      meta=pd.DataFrame({"n": pd.Series([], dtype="int64")}), sides=True)
        executor.wait(frame)
        assert executor.gather(sides) == [0, 10, 20, 30]
        assert executor.compute(frame["n"].sum()) == 0 * 1 + 1 * 2 + 2 * 3 + 3 * 4
        executor.release(frame)
        executor.release(sides)
    calls = sorted(p.name.split("-")[1] for p in tmp_path.iterdir())
    assert calls == ["0", "1", "2", "3"]  # the partition and its side came from one call


def test_a_part_that_cannot_be_prepared_fails_that_algorithm_and_names_the_part(cluster, tmp_path):
    from distributed import Client

    from core.ml.train_dask import train_many_partitioned

    frame = _frame(4_000)
    first, second = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    frame.iloc[:2_000].to_parquet(first)
    frame.iloc[2_000:].drop(columns=["x3"]).to_parquet(second)  # the sample has x3 (from the first part)
    config = TrainConfig(target="bought", features=["x0", "x1", "x3"], explain=False)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        [result] = train_many_partitioned([first, second], DaskExecutor(client), config, ["lightgbm"])
    assert not result.ok
    assert "Part 2 of 2 could not be prepared" in result.error, result.error
