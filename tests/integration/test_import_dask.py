"""A CSV imported by byte range on a real two-worker cluster: the same table as the single-process import, in parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.data.ingest import import_file
from core.data.partitioned_csv import import_csv_partitioned
from core.platform import parts
from core.platform.compute import DaskExecutor
from core.platform.errors import InvalidInputError
from core.platform.workspace import Workspace
from tests.support.dask_cluster import local_cluster

pytestmark = pytest.mark.slow


def _csv(path, n: int = 30_000):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "amount": rng.integers(0, 1_000, n).astype(object),  # whole numbers, then decimals far down the file
        "city": rng.choice(["Lisbon", "Porto", "Faro"], n),
        "score": rng.normal(size=n).round(4),
    })
    frame.loc[n - 100:, "amount"] = rng.normal(size=100).round(2)
    frame.loc[rng.random(n) < 0.05, "score"] = np.nan
    frame.loc[:5_000, "city"] = None  # the first range sees no text in it at all
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as local:
        yield local


def test_by_range_on_the_cluster_equals_the_single_process_import(ws, tmp_path, cluster):
    from distributed import Client

    path = _csv(tmp_path / "sales.csv")
    whole = import_file(ws, path, "sales")
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        split = import_csv_partitioned(ws, path, "sales-parts", DaskExecutor(client), range_bytes=64 * 1024)
    assert parts.is_partitioned(split.artifact_key)
    assert len(parts.manifest(ws, split.artifact_key)["parts"]) > 5
    assert (split.n_rows, split.n_columns) == (whole.n_rows, whole.n_columns)
    pd.testing.assert_frame_equal(datasets.load_frame(ws, split), datasets.load_frame(ws, whole))
    assert [c["name"] for c in split.schema] == [c["name"] for c in whole.schema]
    assert [c["logical_type"] for c in split.schema] == [c["logical_type"] for c in whole.schema]


def test_import_file_uses_the_cluster_when_asked_and_a_bad_range_stores_nothing(ws, tmp_path, cluster):
    cluster_ws = Workspace.open(ws.settings.with_(dask_scheduler=cluster.scheduler_address))
    path = _csv(tmp_path / "sales.csv", 6_000)
    version = import_file(cluster_ws, path, "sales", options={"partitioned": True})
    assert parts.is_partitioned(version.artifact_key) and version.n_rows == 6_000

    lines = path.read_text().splitlines()
    lines[4_000] += ",1,2,3"  # a ragged row deep in the file: its range fails on a worker
    path.write_text("\n".join(lines) + "\n")
    artifacts = ws.artifact_keys()
    with pytest.raises(InvalidInputError, match="could not be read"):
        import_file(cluster_ws, path, "broken", options={"partitioned": True})
    assert "broken" not in [d.name for d in datasets.list_datasets(cluster_ws)]
    assert ws.artifact_keys() == artifacts
    assert not any(ws.settings.staging_dir.iterdir())
    cluster_ws.db.dispose()


def test_a_partitioned_import_without_a_cluster_is_refused(ws, tmp_path):
    with pytest.raises(InvalidInputError, match="needs a Dask cluster"):
        import_file(ws, _csv(tmp_path / "sales.csv", 100), "sales", options={"partitioned": True})
