"""The scratch folder of cluster tasks goes away even while a cancelled task still writes into it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.platform import compute
from core.platform.compute import task_folder


def test_the_folder_is_removed_with_what_was_written_into_it(tmp_path):
    with task_folder(tmp_path / "staging") as folder:
        (Path(folder) / "part-00000.parquet").write_bytes(b"x" * 100)
        assert Path(folder).parent == tmp_path / "staging"
    assert not any((tmp_path / "staging").iterdir())


def test_a_part_written_during_the_removal_is_removed_too(tmp_path, monkeypatch):
    real_rmtree, calls = shutil.rmtree, []

    def racing_rmtree(path, ignore_errors=False):
        calls.append(path)
        if len(calls) == 1:  # a cancelled task writes its part between rmtree's listing and its rmdir
            real_rmtree(path, ignore_errors=ignore_errors)
            Path(path).mkdir()
            (Path(path) / "part-00007.parquet").write_bytes(b"late")
            return
        real_rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(compute.shutil, "rmtree", racing_rmtree)
    with task_folder(tmp_path / "staging") as folder:
        (Path(folder) / "part-00000.parquet").write_bytes(b"x")
    assert len(calls) == 2
    assert not any((tmp_path / "staging").iterdir())
    with pytest.raises(FileNotFoundError):  # a task later still fails: nothing creates the folder again
        (Path(folder) / "part-00008.parquet").write_bytes(b"later")
