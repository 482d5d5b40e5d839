"""The dataset catalogue on every backend: SQLite + local folder, PostgreSQL + S3."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data import datasets
from core.data.ingest import import_sample
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError


def frame(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame({
        "id": range(n),
        "city": ["Lisbon", "Porto", "Faro"] * (n // 3),
        "price": [float(i) * 1.5 for i in range(n)],
        "sold": [i % 2 == 0 for i in range(n)],
    })


def test_versions_are_immutable_and_all_readable(any_ws):
    v1 = datasets.save_version(any_ws, "houses", frame(), provenance={"source": "test"})
    assert (v1.label, v1.n_rows, v1.n_columns) == ("houses@1", 30, 4)
    assert v1.roles["price"] == "feature"
    v2 = datasets.save_version(any_ws, "houses", frame(60), provenance={"source": "test"}, if_exists="new_version")
    assert v2.version == 2
    roles = {**v2.roles, "sold": "target"}
    v3 = datasets.set_roles(any_ws, v2, roles)
    assert v3.version == 3 and v3.target == "sold" and v3.artifact_key == v2.artifact_key
    assert datasets.get_version(any_ws, "houses@1").n_rows == 30
    assert datasets.load_frame(any_ws, datasets.get_version(any_ws, "houses@1")).equals(frame())
    assert datasets.get_version(any_ws, "houses").version == 3  # latest by default
    assert datasets.get_version(any_ws, "houses@2").target is None  # the older version kept its roles
    assert len(datasets.preview(any_ws, v3, rows=5)) == 5


def test_list_search_clone_and_delete(any_ws):
    datasets.save_version(any_ws, "houses", frame(), provenance={"source": "test"})
    datasets.save_version(any_ws, "cars", frame(9), provenance={"source": "test"})
    assert [d.name for d in datasets.list_datasets(any_ws, "hou")] == ["houses"]
    clone = datasets.clone_dataset(any_ws, "houses", "houses-copy")
    assert clone.label == "houses-copy@1" and clone.provenance["cloned_from"] == "houses@1"
    assert datasets.delete_dataset(any_ws, "houses") == 1
    # the clone shares the Parquet file, which must survive the original's deletion
    assert datasets.load_frame(any_ws, datasets.get_version(any_ws, "houses-copy")).shape == (30, 4)
    assert sorted(d.name for d in datasets.list_datasets(any_ws)) == ["cars", "houses-copy"]
    with pytest.raises(NotFoundError, match="no dataset named 'houses'"):
        datasets.get_version(any_ws, "houses")


def test_derive_drops_rows_and_columns(any_ws):
    v1 = datasets.save_version(any_ws, "houses", frame(), provenance={"source": "test"},
                               roles={"id": "id", "sold": "target"})
    v2 = datasets.derive_version(any_ws, v1, drop_columns=["city"], drop_rows=[0, 1, 2])
    assert (v2.n_rows, v2.columns, v2.parent_id) == (27, ["id", "price", "sold"], v1.id)
    assert v2.roles == {"id": "id", "price": "feature", "sold": "target"}
    assert datasets.load_frame(any_ws, v2)["id"].tolist()[:2] == [3, 4]
    with pytest.raises(InvalidInputError, match="not in houses@1: 'nope'"):
        datasets.derive_version(any_ws, v1, drop_columns=["nope"])
    with pytest.raises(InvalidInputError, match="Nothing to remove"):
        datasets.derive_version(any_ws, v1)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name is empty"), ("   ", "name is empty"), ("x" * 101, "101 characters long; the limit is 100"),
     ("a@b", "characters that are not allowed")],
)
def test_bad_names_store_nothing(ws, name, message):
    with pytest.raises(InvalidInputError, match=message):
        datasets.save_version(ws, name, frame(), provenance={})
    assert datasets.list_datasets(ws) == []


def test_taken_name_is_refused_and_nothing_changes(ws):
    datasets.save_version(ws, "houses", frame(), provenance={})
    with pytest.raises(ConflictError, match="A dataset named 'houses' already exists"):
        datasets.save_version(ws, "houses", frame(60), provenance={})
    assert [v.n_rows for v in datasets.list_versions(ws, "houses")] == [30]
    with pytest.raises(ConflictError, match="already exists"):
        datasets.clone_dataset(ws, "houses", "houses")


def test_duplicate_and_empty_column_names_offer_renamed_ones(ws):
    import pyarrow as pa

    table = pa.table([[1], [2], [3]], names=["a", "a", ""])
    with pytest.raises(InvalidInputError, match=r"column\(s\) 3 have no name; .* more than once: 'a'") as info:
        datasets.save_version(ws, "bad", table, provenance={})
    assert "a_2" in info.value.hint
    assert datasets.list_datasets(ws) == []


def test_missing_versions_and_refs(ws):
    datasets.save_version(ws, "houses", frame(), provenance={})
    with pytest.raises(NotFoundError, match="has no version 7; it has versions 1"):
        datasets.get_version(ws, "houses@7")
    with pytest.raises(InvalidInputError, match="does not name a version"):
        datasets.get_version(ws, "houses@latest")


def test_tampered_parquet_is_refused(ws):
    version = datasets.save_version(ws, "houses", frame(), provenance={})
    path = ws.store.local_path(version.artifact_key)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    from core.platform.errors import IntegrityError

    with pytest.raises(IntegrityError, match="does not match its recorded checksum"):
        datasets.load_frame(ws, version)


def test_every_sample_loads_with_its_roles(ws):
    from core.data.sources import samples

    for info in samples.list_samples():
        version = import_sample(ws, info.key)
        assert version.n_rows == info.rows and version.target == info.target
    again = import_sample(ws, "titanic")
    assert again.version == 1  # loading a sample twice never fails, nor makes an identical second version
    assert [v.version for v in datasets.list_versions(ws, "titanic")] == [1]
    changed = datasets.set_roles(ws, again, {**again.roles, "name": "ignore"})
    assert import_sample(ws, "titanic").version == changed.version + 1  # the latest differs: a new version


def test_a_table_is_described_without_pandas_and_written_compactly(ws):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.platform.storage import sha256_file

    n = 3000
    table = pa.table({
        "price": pa.array([i * 1.37 for i in range(n)]),                       # all different: plain pages
        "city": pa.array(["Lisbon", "Porto", None] * (n // 3)),               # repeats: dictionary pages
        "rooms": pa.array([None if i % 10 == 0 else i % 4 for i in range(n)]),  # integers with missing values
    })
    version = datasets.save_version(ws, "houses", table, provenance={})
    schema = {c["name"]: c for c in version.schema}
    # Stored dtypes are pandas' names, as when the table was converted to pandas first.
    assert [schema[c]["dtype"] for c in ("price", "city", "rooms")] == ["float64", "object", "float64"]
    assert (schema["rooms"]["n_missing"], schema["rooms"]["n_unique"]) == (300, 4)
    assert version.quality["summary"]["duplicate_rows"] == 0
    meta = pq.ParquetFile(datasets.parquet_path(ws, version)).metadata
    encodings = {meta.schema.column(i).name: set(meta.row_group(0).column(i).encodings) for i in range(3)}
    assert "RLE_DICTIONARY" in encodings["city"] and "RLE_DICTIONARY" not in encodings["price"]
    assert meta.row_group(0).column(0).compression == "LZ4"
    assert datasets.load_table(ws, version).equals(table)
    # The checksum taken while the file was being written names it, and matches the stored bytes.
    assert version.artifact_key == f"projects/1/datasets/{version.sha256}.parquet"  # the default project
    assert sha256_file(datasets.parquet_path(ws, version)) == version.sha256


def test_a_failure_while_describing_stores_nothing(ws, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(datasets, "quality_report_json", broken)  # the catalogue's own reference
    with pytest.raises(RuntimeError, match="boom"):
        datasets.save_version(ws, "houses", frame(), provenance={})
    assert datasets.list_datasets(ws) == [] and ws.artifact_keys() == []
    assert not any(ws.settings.staging_dir.rglob("*.parquet"))  # the writer finished and its file is gone


def test_quick_samples_are_seeded_and_never_larger_than_the_frame():
    import pandas as pd

    from core.data.datasets import sample_rows

    frame = pd.DataFrame({"a": range(100)})
    assert sample_rows(frame, 200) is frame
    taken = sample_rows(frame, 10)
    assert len(taken) == 10 and taken.index.equals(sample_rows(frame, 10).index)
    assert not taken.index.equals(sample_rows(frame, 10, seed=1).index)
