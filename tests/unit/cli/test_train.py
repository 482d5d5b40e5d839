"""``python -m core train``: the Train page's default features and warnings, and the terminal's hygiene."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.cli import CLOSED_PIPE, main
from core.data import datasets
from core.ml.problem import feature_warnings, select_features
from core.platform.config import Settings
from core.platform.workspace import Workspace


@pytest.fixture
def cli_ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    ws = Workspace.open(Settings.load())
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n), "leak": y * 10 + rng.normal(size=n) / 10,
                          "row_id": np.arange(n), "y": y})
    datasets.save_version(ws, "toy", frame, provenance={"kind": "test"}, roles={"row_id": "id", "y": "target"})
    yield ws
    ws.db.dispose()


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_default_features_are_the_train_pages_and_leak_suspects_are_left_out_and_named(cli_ws, capsys):
    version = datasets.get_version(cli_ws, "toy")
    frame = datasets.load_frame(cli_ws, version)
    page_features = select_features(frame, "y", None, version.roles, drop_text=True)
    page_warnings = feature_warnings(frame, "y", page_features)
    assert page_features == ["x", "z", "leak"] and len(page_warnings) == 1  # what the page would show
    code, out, err = _run(capsys, "train", "--dataset", "toy", "--target", "y", "--algorithms",
                          "logistic_regression", "--json")
    assert code == 0, err
    assert "Features (2): x, z" in err
    assert f"left out as a leak suspect (keep it with --keep-suspects): {page_warnings[0]}" in err  # with --json too
    assert json.loads(out)[0]["status"] == "ok"


def test_keep_suspects_keeps_them_with_the_pages_warning(cli_ws, capsys):
    version = datasets.get_version(cli_ws, "toy")
    [page_warning] = feature_warnings(datasets.load_frame(cli_ws, version), "y", ["x", "z", "leak"])
    code, out, err = _run(capsys, "train", "--dataset", "toy", "--target", "y", "--algorithms",
                          "logistic_regression", "--keep-suspects")
    assert code == 0, err
    assert "Features (3): x, z, leak" in err and f"warning: {page_warning}" in err and "left out" not in err


def test_free_text_is_left_out_of_the_default_as_on_the_page(cli_ws, capsys):
    rng = np.random.default_rng(1)
    words = ["alpha beta gamma", "delta epsilon zeta eta", "theta iota kappa lambda mu", "nu xi omicron pi rho"]
    notes = [f"{words[i % 4]} {i} {rng.integers(1_000_000)}" for i in range(200)]
    frame = datasets.load_frame(cli_ws, datasets.get_version(cli_ws, "toy")).assign(notes=notes)
    version = datasets.save_version(cli_ws, "notes", frame, provenance={"kind": "test"},
                                    roles={"row_id": "id", "y": "target"})
    assert select_features(frame, "y", None, version.roles, drop_text=True) == ["x", "z", "leak"]
    code, out, err = _run(capsys, "train", "--dataset", "notes", "--target", "y", "--algorithms",
                          "logistic_regression")
    assert code == 0, err
    assert "Features (2): x, z" in err


def test_exclude_leaves_a_suspect_out(cli_ws, capsys):
    code, out, err = _run(capsys, "train", "--dataset", "toy", "--target", "y", "--algorithms",
                          "logistic_regression", "--exclude", "leak")
    assert code == 0, err
    assert "Features (2): x, z" in err and "warning:" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--exclude", "nope"], "--exclude names 'nope', which is not a column of toy@1"),
    (["--exclude", "x,z,leak"], "--exclude leaves no feature: the default features were x, z, leak"),
    (["--features", "x", "--exclude", "z"], "Give either --features or --exclude, not both"),
    (["--features", "x,y"], "The target 'y' is also listed as a feature"),
])
def test_bad_feature_choices_are_refused(cli_ws, capsys, argv, message):
    code, out, err = _run(capsys, "train", "--dataset", "toy", "--target", "y", *argv)
    assert code == 1 and message in err and out == ""


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_quietly(cli_ws, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = main(["datasets", "list"])
    assert code == CLOSED_PIPE
    assert capsys.readouterr().err == ""


def test_library_noise_stays_off_the_terminal():
    script = ("import logging, warnings; from core.cli import quiet_terminal; quiet_terminal(); "
              "logging.getLogger('matplotlib.style.core').warning(\"In classic.mplstyle: 'parseString' deprecated\"); "
              "warnings.warn('old', DeprecationWarning); warnings.warn('noisy', UserWarning); "
              "logging.getLogger('core.ml').warning('ours'); logging.getLogger('lib').error('a real error')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["ours", "a real error"]
