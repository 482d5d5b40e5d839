"""The overview's column statistics merged from partitions equal the single-process overview's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.data.partitioned import save_partitioned_version
from core.eda import overview_parts
from core.eda.overview import describe_dataset
from core.eda.overview_parts import DISTINCT_ERROR, as_overview, overview_by_partition, quantile_rank_bound
from core.platform.compute import DaskExecutor, LocalExecutor
from tests.support.dask_cluster import local_cluster


def _frame(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    price = rng.lognormal(3, 1, n)
    price[rng.random(n) < 0.1] = np.nan
    price[:3] = np.inf
    when = pd.Timestamp("2024-01-01", tz="Europe/Lisbon") + pd.to_timedelta(rng.integers(0, 10**6, n), "s")
    frame = pd.DataFrame({"price": price, "rooms": rng.integers(1, 9, n),
                          "city": rng.choice(["Lisbon", "Porto", None], n), "sold": rng.random(n) < 0.3,
                          "listed": when.where(rng.random(n) > 0.05)})
    return pd.concat([frame, frame.iloc[n // 2: n // 2 + 40]], ignore_index=True)  # 40 duplicate rows, spread


def _check(merged, whole: pd.DataFrame) -> None:
    single = describe_dataset(whole, sample_rows=len(whole))
    expected = {c.name: c for c in single.column_summaries}
    assert merged.rows == len(whole)
    assert merged.duplicate_rows == single.duplicate_rows >= 40
    for got in merged.table():
        want = expected[got["name"]]
        assert (got["count"], got["missing"], got["unique"]) == (want.count, want.missing, want.unique), got["name"]
        assert got["exact_counts"]
        if want.kind != "datetime":  # same values, counts, shares and order (ties: first appearance)
            assert [tuple(t) for t in got["top"]] == [(t.value, t.count, t.share) for t in want.top], got["name"]
        if want.kind != "numeric":
            continue
        assert (got["min"], got["max"]) == (want.min, want.max)
        assert got["mean"] == pytest.approx(want.mean, rel=1e-12)
        assert got["std"] == pytest.approx(want.std, rel=1e-9)
        assert got["skew"] == pytest.approx(want.skew, rel=1e-9)
        assert got["kurtosis"] == pytest.approx(want.kurtosis, rel=1e-9)
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


def test_varied_columns_get_an_estimated_distinct_count_and_lower_bound_top_values(ws, monkeypatch):
    # Exact counts stop past EXACT_DISTINCT values, and duplicates are counted over 3 hash ranges:
    # lowered here so that 20,000 rows take the paths a 100M-row table takes.
    monkeypatch.setattr(overview_parts, "EXACT_DISTINCT", 1_000)
    monkeypatch.setattr(overview_parts, "TOP_KEEP", 50)
    monkeypatch.setattr(overview_parts, "DUPLICATE_ROWS_PER_PASS", 8_000)
    frame = _frame()
    code = np.random.default_rng(5).zipf(1.3, 20_000).astype(str)  # many values, a few frequent
    frame["code"] = np.concatenate([code, code[10_000:10_040]])  # the duplicated rows stay duplicates
    version = save_partitioned_version(ws, "homes", frame, part_rows=3_000, provenance={})
    files = datasets.parquet_files(ws, version)
    merged = overview_by_partition(files, LocalExecutor())
    whole = datasets.load_frame(ws, version)
    assert merged.duplicate_rows == describe_dataset(whole).duplicate_rows >= 40
    table = {row["name"]: row for row in merged.table()}
    for name in ("price", "code", "listed"):
        truth = whole[name].replace([np.inf], np.nan).nunique()
        assert not table[name]["exact_counts"] and abs(table[name]["unique"] / truth - 1) <= DISTINCT_ERROR, name
    counts = whole["code"].value_counts()
    assert [value for value, _, _ in table["code"]["top"]] == list(counts.index[:5])  # the frequent ones stand out
    assert all(n <= counts[value] for value, n, _ in table["code"]["top"])  # lower bounds
    assert table["rooms"]["exact_counts"] and table["rooms"]["unique"] == 8
    overview = as_overview(merged, files)
    assert overview.duplicate_rows == merged.duplicate_rows and any("HyperLogLog" in note and "'code'" in note
                                                 for note in overview.notes)


@pytest.mark.slow
def test_merged_overview_on_a_cluster_equals_the_whole_table(ws):
    from distributed import Client

    frame = _frame()
    version = save_partitioned_version(ws, "homes", frame, part_rows=5_000, provenance={})
    with local_cluster(2) as cluster, Client(cluster.scheduler_address, set_as_default=False) as client:
        merged = overview_by_partition(datasets.parquet_files(ws, version), DaskExecutor(client),
                                       sample_rows=5_000)
    assert merged.pieces == 5  # 20,040 rows in parts of 5,000
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
        assert (got.unique, got.top, got.earliest, got.latest) == (want.unique, want.top, want.earliest, want.latest)
        if want.kind == "numeric":
            assert (got.min, got.max) == (want.min, want.max)
            assert got.mean == pytest.approx(want.mean, rel=1e-12)
            assert (got.skew, got.kurtosis) == (pytest.approx(want.skew), pytest.approx(want.kurtosis))
    assert (split.duplicate_rows, split.duplicate_rows_pct) == (whole.duplicate_rows, whole.duplicate_rows_pct)
