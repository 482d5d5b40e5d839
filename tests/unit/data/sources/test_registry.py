"""Sources by URL scheme: files and samples through one reader contract, unknown schemes refused."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from core.data.sources import registry
from core.data.sources.registry import SourceTable, read_source, register_reader
from core.platform.errors import InvalidInputError


def test_a_file_reads_the_same_by_path_and_by_file_url(tmp_path):
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_csv(tmp_path / "t.csv", index=False)
    by_path = read_source(tmp_path / "t.csv")
    by_url = read_source((tmp_path / "t.csv").as_uri())
    assert by_path.table.equals(by_url.table) and by_path.table.num_rows == 3
    assert by_url.provenance["source"] == "file" and by_url.provenance["filename"] == "t.csv"
    assert by_url.provenance["detected"]["format"] == "csv"


def test_a_sample_comes_with_its_roles_and_provenance():
    source = read_source("sample:titanic")
    assert source.roles["survived"] == "target"
    assert source.provenance["source"] == "sample" and source.provenance["sample"] == "titanic"
    assert source.table.num_rows == 1309


def test_an_unknown_scheme_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match=r"cannot read sources of the kind 'ftp'") as caught:
        read_source("ftp://example.org/data.csv")
    assert "file" in caught.value.hint and "sample" in caught.value.hint


def test_a_registered_reader_gets_the_location_and_options(monkeypatch):
    seen = {}

    def reader(location, options, progress, max_bytes):
        seen.update(location=location, options=options)
        progress(1.0, "done")
        return SourceTable(pa.table({"a": [1]}), {"source": "memo"})

    monkeypatch.setattr(registry, "READERS", dict(registry.READERS))  # the registration ends with the test
    register_reader("memo", reader)
    assert read_source("memo://shelf/one", {"k": 1}).provenance == {"source": "memo"}
    assert seen == {"location": "shelf/one", "options": {"k": 1}}
