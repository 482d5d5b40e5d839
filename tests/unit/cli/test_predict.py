"""``python -m core predict`` and ``python -m core drift``: exact forms, outputs and error exits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.data import datasets
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import prediction_runs
from core.serve.loaded import load_model
from core.serve.validation import coerce_batch
from tests.support.models import copy_home, template_home, train_sample

NAME = registry.default_model_name("titanic", "survived")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("cli-predict"), lambda ws: train_sample(ws, "titanic"))


@pytest.fixture
def cli_ws(template, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = copy_home(template, tmp_path / "home")
    monkeypatch.setenv("ATELIER_HOME", str(home))
    ws = Workspace.open(Settings.load())
    yield ws
    ws.db.dispose()


@pytest.fixture
def rows(cli_ws) -> pd.DataFrame:
    """60 titanic rows, shuffled, without the target."""
    frame = datasets.load_frame(cli_ws, datasets.get_version(cli_ws, "titanic"))
    return frame.sample(60, random_state=1).drop(columns=["survived"]).reset_index(drop=True)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _expected(ws, frame: pd.DataFrame) -> np.ndarray:
    model = load_model(ws, NAME)
    return model.pipeline.predict(coerce_batch(model.reference, frame))


def test_predict_csv_writes_one_row_per_input_row_in_order(cli_ws, rows, tmp_path, capsys):
    rows.to_csv(tmp_path / "in.csv", index=False)
    code, out, err = _run(capsys, "predict", "--model", NAME, "--input", tmp_path / "in.csv",
                          "--output", tmp_path / "out.csv")
    assert code == 0, err
    assert err == ""  # stderr is not a terminal here: no progress line
    assert out == f"Scored 60 rows of in.csv with {NAME}:1; wrote {tmp_path / 'out.csv'}.\n"
    written = pd.read_csv(tmp_path / "out.csv")
    assert list(written.columns) == ["prediction", "probability_0", "probability_1"]
    assert written["prediction"].tolist() == _expected(cli_ws, rows).tolist()
    assert np.allclose(written["probability_0"] + written["probability_1"], 1.0)
    [run] = prediction_runs.list_runs(cli_ws, NAME)
    assert (run.n_rows, run.source) == (60, "in.csv")


def test_predict_with_inputs_copies_every_input_column_before_the_predictions(cli_ws, rows, tmp_path, capsys):
    rows.to_csv(tmp_path / "in.csv", index=False)
    for flag in ("--with-inputs", "--keep-columns"):  # the old name still works
        code, _, err = _run(capsys, "predict", "--model", NAME, "--input", tmp_path / "in.csv",
                            "--output", tmp_path / "out.csv", flag)
        assert code == 0, err
        written = pd.read_csv(tmp_path / "out.csv")
        assert list(written.columns) == [*rows.columns, "prediction", "probability_0", "probability_1"]
        assert written["name"].tolist() == rows["name"].tolist()


def test_predict_parquet_by_extension_and_a_versioned_reference(cli_ws, rows, tmp_path, capsys):
    rows.to_parquet(tmp_path / "in.parquet")
    code, _, err = _run(capsys, "predict", "--model", f"{NAME}:1", "--input", tmp_path / "in.parquet",
                        "--output", tmp_path / "out.parquet", "--contributions")
    assert code == 0, err
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert len(written) == 60 and written["prediction"].tolist() == _expected(cli_ws, rows).tolist()
    assert {"feature_1", "contribution_1", "feature_3"} <= set(written.columns)


def test_predict_at_production_needs_a_production_version(cli_ws, rows, tmp_path, capsys):
    rows.to_csv(tmp_path / "in.csv", index=False)
    argv = ["predict", "--model", f"{NAME}@production", "--input", tmp_path / "in.csv", "--output",
            tmp_path / "out.csv"]
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: Model {NAME!r} has no version in production; its versions are: 1 (none).")
    registry.promote(cli_ws, NAME, 1)
    assert _run(capsys, *argv)[0] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "nobody", "--input", "in.csv", "--output", "out.csv"], "There is no model named 'nobody'"),
    (["--model", NAME, "--input", "absent.csv", "--output", "out.csv"], "There is no file at 'absent.csv'"),
    (["--model", NAME, "--input", "in.csv", "--output", "out.xlsx"],
     "Cannot write predictions to 'out.xlsx': the output must end in .csv or .parquet."),
    (["--model", NAME, "--input", "in.csv", "--output", "nowhere/out.csv"], "The folder 'nowhere' of the output"),
    (["--model", f"{NAME}:7", "--input", "in.csv", "--output", "out.csv"], f"Model {NAME!r} has no version 7"),
])
def test_predict_errors_are_one_message_and_exit_1(cli_ws, rows, capsys, args, message):
    rows.to_csv("in.csv", index=False)
    code, out, err = _run(capsys, "predict", *args)
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert prediction_runs.list_runs(cli_ws, NAME) == []  # nothing was scored


def test_predict_refuses_a_file_without_a_model_column(cli_ws, rows, capsys):
    rows.drop(columns=["sex"]).to_csv("in.csv", index=False)
    code, _, err = _run(capsys, "predict", "--model", NAME, "--input", "in.csv", "--output", "out.csv")
    assert code == 1
    assert "The file cannot be scored: 1 problem blocks it." in err
    assert "Column 'sex' is missing from the file: the model was trained on 11 columns, this file has 10" in err


def test_predict_refuses_a_tampered_model(cli_ws, rows, capsys):
    mv = registry.get_version(cli_ws, NAME)
    path = cli_ws.settings.home / "artifacts" / mv.artifact_key
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    rows.to_csv("in.csv", index=False)
    code, _, err = _run(capsys, "predict", "--model", NAME, "--input", "in.csv", "--output", "out.csv")
    assert code == 1 and "Traceback" not in err
    assert "does not match its recorded checksum" in err and "Refusing to use it" in err
    assert not (cli_ws.settings.home.parent / "out.csv").exists()


@pytest.fixture
def shifted(cli_ws, tmp_path) -> pd.DataFrame:
    """A random sample of the training rows with 'fare' multiplied by 5."""
    frame = datasets.load_frame(cli_ws, datasets.get_version(cli_ws, "titanic")).sample(500, random_state=3)
    frame["fare"] = frame["fare"] * 5
    frame.to_parquet(tmp_path / "shifted.parquet")
    return frame


def test_drift_json_has_the_promised_shape(cli_ws, shifted, tmp_path, capsys):
    code, out, err = _run(capsys, "drift", "--model", f"{NAME}:1", "--input", tmp_path / "shifted.parquet", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["drifted_features"] == ["fare"]
    features = {f["feature"]: f for f in report["features"]}
    assert set(features) == set(load_model(cli_ws, NAME).features)
    assert set(features["fare"]) == {"feature", "test", "statistic", "p_value", "psi", "drifted"}
    assert features["fare"]["test"] == "ks" and features["fare"]["drifted"] is True
    assert features["sex"]["test"] == "chi2" and features["sex"]["drifted"] is False
    assert features["name"]["test"] == "none"  # free text is not tested


def test_drift_text_says_the_verdict_and_lists_features(cli_ws, shifted, tmp_path, capsys):
    code, out, _ = _run(capsys, "drift", "--model", NAME, "--input", tmp_path / "shifted.parquet")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Some drift: 1 of 7 features (14% of tested features drifted) in 500 rows of "
                               f"shifted.parquet against {NAME}:1.")
    assert lines[1].split() == ["feature", "test", "statistic", "p_value", "psi", "drifted"]
    assert any(line.split()[0] == "fare" and line.split()[-1] == "True" for line in lines[2:])


def test_drift_errors(cli_ws, rows, capsys):
    rows.drop(columns=["age"]).to_csv("in.csv", index=False)
    code, _, err = _run(capsys, "drift", "--model", NAME, "--input", "in.csv")
    assert code == 1 and "Column 'age' is missing from the data" in err
    code, _, err = _run(capsys, "drift", "--model", "nobody", "--input", "in.csv")
    assert code == 1 and "There is no model named 'nobody'" in err
    code, _, err = _run(capsys, "drift", "--model", NAME, "--input", "in.txt")
    assert code == 1 and "There is no file at 'in.txt'" in err
