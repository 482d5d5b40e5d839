"""The Train page's "Train on the cluster" switch, against a real two-worker Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.partitioned import save_partitioned_version
from core.models import registry
from tests.app.conftest import open_on, texts
from tests.app.test_train_page import run_training, workspace
from tests.support.dask_cluster import local_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as local:
        yield local


def _frame(n: int = 6_000) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, 3))
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    frame["bought"] = np.where(rng.random(n) < 1 / (1 + np.exp(-2 * X[:, 0] + X[:, 1])), "yes", "no")
    return frame


def test_a_partitioned_version_trains_on_the_cluster_from_the_page(app_home, cluster, monkeypatch):
    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", cluster.scheduler_address)
    save_partitioned_version(workspace(), "shop", _frame(), part_rows=2_000, provenance={}, roles={"bought": "target"})
    at = open_on("views/train.py", timeout=120)
    [switch] = [t for t in at.toggle if t.label == "Train on the cluster"]
    assert switch.value is True  # offered, and on: the version is stored in parts and a cluster is set
    info = run_training(at, ["lightgbm", "logistic_regression"], "binary")
    assert "LightGBM trains on all 6,000 rows through the Dask interface" in texts(at.caption)
    assert "Logistic regression has no Dask interface: trained in one task on all 6,000 rows" in texts(at.caption)
    assert info.status == "succeeded", info.error
    assert info.params["config"]["distributed"] is True
    rows = {r["algorithm"]: r for r in info.result["results"]}
    assert [rows[k]["status"] for k in ("lightgbm", "logistic_regression")] == ["ok", "ok"], rows
    assert any("Trained on the cluster" in n for n in rows["lightgbm"]["notes"]), rows["lightgbm"]["notes"]
    assert len(registry.list_versions(workspace())) == 2


def test_the_switch_off_trains_in_one_process_and_small_flat_data_gets_no_switch(app_home, cluster, monkeypatch):
    from core.data.datasets import save_version

    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", cluster.scheduler_address)
    save_version(workspace(), "flat", _frame(500), provenance={}, roles={"bought": "target"})
    save_partitioned_version(workspace(), "shop", _frame(), part_rows=2_000, provenance={}, roles={"bought": "target"})
    at = open_on("views/train.py", timeout=120)
    at.selectbox(key="train.dataset").set_value("flat").run()
    assert not [t for t in at.toggle if t.label == "Train on the cluster"]  # 500 rows in one file: nothing offered
    at.selectbox(key="train.dataset").set_value("shop").run()
    [switch] = [t for t in at.toggle if t.label == "Train on the cluster"]
    switch.set_value(False).run()
    info = run_training(at, ["lightgbm"], "binary")
    assert info.status == "succeeded", info.error
    assert info.params["config"]["distributed"] is False
    assert not any("Trained on the cluster" in n for n in info.result["results"][0]["notes"])
