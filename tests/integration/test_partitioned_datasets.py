"""A dataset version stored as many Parquet parts reads exactly as the same data in one file."""

from __future__ import annotations

import pandas as pd

from core.data import datasets
from core.data.partitioned import save_partitioned_version
from core.platform import parts


def frame(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame({"id": range(n), "city": ["Lisbon", "Porto", "Faro"] * (n // 3),
                         "price": [float(i) * 1.5 for i in range(n)], "sold": [i % 2 == 0 for i in range(n)]})


def test_partitioned_version_reads_as_the_single_file(any_ws):
    single = datasets.save_version(any_ws, "one", frame(), provenance={"source": "test"})
    split = save_partitioned_version(any_ws, "split", frame(), part_rows=7, provenance={"source": "test"})
    assert parts.is_partitioned(split.artifact_key) and not parts.is_partitioned(single.artifact_key)
    assert len(datasets.parquet_files(any_ws, split)) == 5 and len(datasets.parquet_files(any_ws, single)) == 1
    assert (split.n_rows, split.schema, split.roles, split.quality) == \
        (single.n_rows, single.schema, single.roles, single.quality)
    pd.testing.assert_frame_equal(datasets.load_frame(any_ws, split), datasets.load_frame(any_ws, single))
    pd.testing.assert_frame_equal(datasets.load_frame(any_ws, split, ["price"]),
                                  datasets.load_frame(any_ws, single, ["price"]))
    pd.testing.assert_frame_equal(datasets.preview(any_ws, split, 10), datasets.preview(any_ws, single, 10))
    joined = pd.read_parquet(datasets.parquet_path(any_ws, split))  # single-file consumers get one file
    pd.testing.assert_frame_equal(joined, datasets.load_frame(any_ws, single))


def test_roles_clone_and_delete_keep_or_remove_the_parts(ws):
    v1 = save_partitioned_version(ws, "split", frame(), part_rows=10, provenance={})
    v2 = datasets.set_roles(ws, v1, {**v1.roles, "sold": "target"})
    assert v2.artifact_key == v1.artifact_key and v2.target == "sold"
    datasets.clone_dataset(ws, "split", "copy")
    datasets.delete_dataset(ws, "split")
    assert datasets.load_frame(ws, datasets.get_version(ws, "copy")).shape == (30, 4)  # the clone keeps the parts
    datasets.delete_dataset(ws, "copy")
    assert [k for k in ws.artifact_keys("projects/1/datasets/")] == []
    assert not any((ws.settings.home / "artifacts" / "projects" / "1" / "datasets" / "parts").glob("*.parquet"))
