"""``python -m core models …``: the exact command forms and their error exits."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace

NAME = "churn · Exited"


@pytest.fixture
def cli_ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    ws = Workspace.open(Settings.load())
    yield ws
    ws.db.dispose()


def _add(ws, n=1, name=NAME):
    for i in range(n):
        registry.register_version(
            ws, name, model_bytes=b"m%d" % i, algorithm=["logistic_regression", "xgboost", "knn"][i % 3],
            problem_type="binary", target="Exited", dataset_version_id=None, dataset_label="churn@1",
            metrics={"accuracy": 0.8 + i / 100, "cv": {"roc_auc": {"mean": 0.85, "std": 0.01}}}, card={},
            train_seconds=1.0,
        )


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_has_the_promised_fields(cli_ws, capsys):
    _add(cli_ws, n=2)
    registry.promote(cli_ws, NAME, 2)
    code, out, err = _run(capsys, "models", "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["name"], r["version"], r["stage"], r["algorithm"]) for r in rows] == [
        (NAME, 1, "none", "logistic_regression"), (NAME, 2, "production", "xgboost")]
    assert rows[1]["metrics"] == {"accuracy": 0.81, "cv": {"roc_auc": {"mean": 0.85, "std": 0.01}}}
    assert rows[0]["ref"] == f"{NAME}:1" and "card" not in rows[0]


def test_list_text_prints_a_table(cli_ws, capsys):
    code, out, _ = _run(capsys, "models", "list")
    assert code == 0 and "No models yet" in out
    _add(cli_ws, n=2)
    code, out, _ = _run(capsys, "models", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].split()[:4] == ["name", "version", "stage", "algorithm"]
    assert "xgboost" in lines[2] and "accuracy 0.810" in lines[2]


def test_promote_and_rollback(cli_ws, capsys):
    _add(cli_ws, n=3)
    assert _run(capsys, "models", "promote", NAME, "1")[:2] == (0, f"Promoted {NAME}:1 to production.\n")
    code, out, _ = _run(capsys, "models", "promote", NAME, "3", "--note", "better recall")
    assert (code, out) == (0, f"Promoted {NAME}:3 to production (v1 archived).\n")
    assert registry.history(cli_ws, NAME)[0].note == "better recall"
    code, out, _ = _run(capsys, "models", "rollback", NAME)
    assert (code, out) == (0, f"Rolled back {NAME!r}: v1 is in production again (v3 archived).\n")
    assert registry.get_version(cli_ws, NAME).version == 1


def test_show_history_stage_and_delete(cli_ws, capsys):
    _add(cli_ws, n=2)
    code, out, _ = _run(capsys, "models", "stage", NAME, "v2", "staging")
    assert (code, out) == (0, f"{NAME}:2 is now at stage 'staging'.\n")
    code, out, _ = _run(capsys, "models", "show", f"{NAME}@staging", "--json")
    assert code == 0 and json.loads(out)["version"] == 2 and "card" in json.loads(out)
    code, out, _ = _run(capsys, "models", "show", f"{NAME}:1")
    assert code == 0 and out.startswith(f"{NAME}:1 [none]: logistic_regression, binary of 'Exited'")
    assert "cv_roc_auc" in out and "0.850 ± 0.010" in out
    code, out, _ = _run(capsys, "models", "history", NAME, "--json")
    assert code == 0 and [(t["version"], t["to_stage"]) for t in json.loads(out)] == [(2, "staging")]
    registry.promote(cli_ws, NAME, 2)
    code, _, err = _run(capsys, "models", "delete", NAME, "2")
    assert code == 1 and "is in production" in err and "--yes" in err
    code, out, _ = _run(capsys, "models", "delete", NAME, "2", "--yes")
    assert (code, out) == (0, f"Deleted {NAME}:2 (it was at stage 'production'); its history is kept.\n")
    code, out, _ = _run(capsys, "models", "history", NAME)
    assert code == 0 and out.splitlines()[1].split()[2:6] == ["2", "production", "deleted"]


@pytest.mark.parametrize(("argv", "message"), [
    (["models", "promote", "ghost", "1"], "error: There is no model named 'ghost'."),
    (["models", "promote", NAME, "9"], "has no version 9; its versions are: 1 (none)"),
    (["models", "rollback", NAME], "has no production version, so there is nothing to roll back"),
    (["models", "show", f"{NAME}@prod"], "'prod' is not one of production, staging, archived or latest"),
    (["models", "list", "--name", "ghost"], "There is no model named 'ghost'"),
])
def test_errors_exit_non_zero_with_the_message(cli_ws, capsys, argv, message):
    _add(cli_ws)
    code, out, err = _run(capsys, *argv)
    assert code == 1 and out == ""
    assert message in err


def test_a_version_that_is_not_a_number_is_a_usage_error(cli_ws, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "promote", NAME, "latest"])
    assert exit_info.value.code == 2
    assert "a model version is a whole number from 1 up, such as 3; got 'latest'" in capsys.readouterr().err
