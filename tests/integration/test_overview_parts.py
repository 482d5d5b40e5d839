"""The overview's column statistics merged from partitions equal the single-process overview's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.data.partitioned import save_partitioned_version
from core.eda.overview import describe_dataset
from core.eda.overview_parts import overview_by_partition, quantile_rank_bound
from core.platform.compute import DaskExecutor, LocalExecutor
from tests.support.dask_cluster import local_cluster


def _frame(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    price = rng.lognormal(3, 1, n)
    price[rng.random(n) < 0.1] = np.nan
    price[:3] = np.inf
    return pd.DataFrame({"price": price, "rooms": rng.integers(1, 9, n),
                         "city": rng.choice(["Lisbon", "Porto", None], n), "sold": rng.random(n) < 0.3})


def _check(merged, whole: pd.DataFrame) -> None:
    expected = {c.name: c for c in describe_dataset(whole, sample_rows=len(whole)).column_summaries}
    assert merged.rows == len(whole)
    for got in merged.table():
        want = expected[got["name"]]
        assert (got["count"], got["missing"]) == (want.count, want.missing), got["name"]
        if want.kind != "numeric":
            continue
        assert (got["min"], got["max"]) == (want.min, want.max)
        assert got["mean"] == pytest.approx(want.mean, rel=1e-12)
        assert got["std"] == pytest.approx(want.std, rel=1e-9)
        values = np.sort(whole[got["name"]].to_numpy(dtype=float))
        values = values[np.isfinite(values)]
        bound = merged.quantile_rank_error
        for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):  # the reported quartile's true rank
            low, high = np.searchsorted(values, got[key], "left"), np.searchsorted(values, got[key], "right")
            assert low / len(values) - bound <= q <= high / len(values) + bound, (got["name"], key)


def test_merged_overview_in_process_equals_the_whole_table(ws):
    frame = _frame()
    version = save_partitioned_version(ws, "homes", frame, part_rows=3_000, provenance={})
    merged = overview_by_partition(datasets.parquet_files(ws, version), LocalExecutor(), sample_rows=5_000)
    assert merged.pieces == 7 and 0 < merged.quantile_rank_error == quantile_rank_bound(merged.sampled_rows)
    assert 4_000 < merged.sampled_rows < 6_000
    _check(merged, datasets.load_frame(ws, version))


@pytest.mark.slow
def test_merged_overview_on_a_cluster_equals_the_whole_table(ws):
    from distributed import Client

    frame = _frame()
    version = save_partitioned_version(ws, "homes", frame, part_rows=5_000, provenance={})
    with local_cluster(2) as cluster, Client(cluster.scheduler_address, set_as_default=False) as client:
        merged = overview_by_partition(datasets.parquet_files(ws, version), DaskExecutor(client),
                                       sample_rows=5_000)
    assert merged.pieces == 4
    _check(merged, datasets.load_frame(ws, version))


def test_version_overview_is_merged_for_a_partitioned_version_and_whole_otherwise(ws):
    from core.data.datasets import save_version
    from core.eda.overview_parts import version_overview

    frame = _frame(6_000)
    split = version_overview(ws, save_partitioned_version(ws, "homes", frame, part_rows=2_000, provenance={}),
                             executor=LocalExecutor())
    whole = version_overview(ws, save_version(ws, "flat", frame, provenance={}), executor=LocalExecutor())
    assert "partitions merged" in split.notes[0] and not any("partitions merged" in n for n in whole.notes)
    assert (split.rows, split.columns, split.missing_cells) == (whole.rows, whole.columns, whole.missing_cells)
    assert split.missing_cells_pct == pytest.approx(whole.missing_cells_pct)
    for got, want in zip(split.column_summaries, whole.column_summaries, strict=True):
        assert (got.name, got.count, got.missing) == (want.name, want.count, want.missing)
        assert got.missing_pct == pytest.approx(want.missing_pct)
        if want.kind == "numeric":
            assert (got.min, got.max) == (want.min, want.max)
            assert got.mean == pytest.approx(want.mean, rel=1e-12)
