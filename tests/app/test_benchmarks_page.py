"""The Benchmarks page through AppTest: leaderboard, filters, charts, export, compare, registry actions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, open_on, texts
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")
MPG = registry.default_model_name("mpg", "Miles_per_Gallon")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression", "lightgbm"], cv_folds=2, explain=True)
    train_sample(ws, "mpg", ["decision_tree"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("benchmarks"), _build)


def open_page(app_home: Path) -> AppTest:
    return open_on("views/benchmarks.py")


@pytest.fixture
def page(template, app_home) -> AppTest:
    copy_home(template, app_home)
    return open_page(app_home)


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def highlighted(element) -> set[tuple[int, int]]:
    """(row, column) of the cells the leaderboard's Styler highlights."""
    styles = element.proto.arrow_data.styler.styles
    return {(int(r), int(c)) for r, c in re.findall(r"row(\d+)_col(\d+)", styles)}


def test_no_models_points_to_train(app):
    app.switch_page("views/benchmarks.py").run()
    assert not app.exception
    assert "No model has been trained yet" in texts(app.info)


def widen(at: AppTest) -> None:
    at.toggle(key="benchmarks.all_tasks").set_value(True).run()
    assert not at.exception, at.exception


def scope_to(at: AppTest, dataset: str) -> None:
    task = next(t for t in at.selectbox(key="benchmarks.task").options if t.startswith(dataset))
    at.selectbox(key="benchmarks.task").set_value(task).run()
    assert not at.exception, at.exception


def open_on_dataset(app_home: Path, name: str, version: int) -> AppTest:
    """The page as a session that last worked on dataset ``name``@``version`` (as the Train page leaves it)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.session_state["dataset.current"] = (name, version)
    at.switch_page("views/benchmarks.py").run()
    assert not at.exception, at.exception
    return at


def test_opens_scoped_to_the_task_last_worked_on_and_widens_in_one_click(template, app_home):
    copy_home(template, app_home)
    at = open_on_dataset(app_home, "titanic", 1)
    assert at.selectbox(key="benchmarks.task").value == ("titanic", "survived", "binary")
    assert at.dataframe[0].value["model"].tolist() == [f"{TITANIC}:1", f"{TITANIC}:2"]  # no mpg model beside them
    assert "2 of 2 model versions of titanic · survived (binary) (3 in all)" in texts(at.caption)
    widen(at)
    assert len(at.dataframe[0].value) == 3
    assert "best value of each metric within each dataset and target" in texts(at.caption)
    fresh = open_page(app_home)  # a session that worked on nothing yet: the newest task, alone
    assert fresh.dataframe[0].value["model"].tolist() == [f"{MPG}:1"]


def test_the_widened_board_marks_a_best_per_task_never_one_across_tasks(page):
    widen(page)
    board = page.dataframe[0]
    frame = board.value
    column = list(frame.columns).index("train_seconds")
    assert not any(c == column for _, c in highlighted(board))  # a cost, not a score: never "best"
    marked_rows = {r for r, _ in highlighted(board)}
    assert 0 in marked_rows and marked_rows & {1, 2}  # mpg's best and titanic's best, each in its own task


def test_leaderboard_lists_every_version_with_cv_and_highlights_the_best(page):
    widen(page)
    board = page.dataframe[0]
    frame = board.value
    assert frame["model"].tolist() == [f"{MPG}:1", f"{TITANIC}:1", f"{TITANIC}:2"]
    assert {"dataset version", "algorithm", "problem_type", "roc_auc", "cv_roc_auc", "rmse", "train_seconds",
            "size_bytes", "predict_ms_per_1k", "created_at"} <= set(frame.columns)
    assert re.fullmatch(r"0\.\d{3} ± 0\.\d{3}", frame.loc[1, "cv_roc_auc"])
    best_row = int(frame["roc_auc"].astype(float).idxmax())
    assert (best_row, list(frame.columns).index("roc_auc")) in highlighted(board)
    assert (0, list(frame.columns).index("rmse")) in highlighted(board)  # the only regression model
    labels = [b.label for b in page.get("download_button")]
    assert labels == ["Download CSV", "Download Excel"]
    assert "3 of 3 model versions of every dataset and target" in texts(page.caption)


def test_filters_narrow_the_leaderboard(page):
    widen(page)
    page.multiselect(key="benchmarks.algorithms").set_value(["lightgbm"]).run()
    assert page.dataframe[0].value["model"].tolist() == [f"{TITANIC}:2"]
    page.multiselect(key="benchmarks.algorithms").set_value([]).run()
    page.multiselect(key="benchmarks.problems").set_value(["regression"]).run()
    assert page.dataframe[0].value["model"].tolist() == [f"{MPG}:1"]
    page.multiselect(key="benchmarks.problems").set_value([]).run()
    page.multiselect(key="benchmarks.datasets").set_value(["titanic"]).run()
    assert len(page.dataframe[0].value) == 2
    long_ago = dt.date.today() - dt.timedelta(days=400)
    page.date_input[0].set_value((long_ago, long_ago + dt.timedelta(days=1))).run()
    assert not page.exception
    assert "No model version matches these filters." in texts(page.info)


def test_charts_for_a_metric_curves_pareto_and_regression(page):
    widen(page)
    page.selectbox(key="benchmarks.bar_metric").set_value("cv_roc_auc").run()
    page.selectbox(key="benchmarks.pareto_metric").set_value("roc_auc").run()
    assert not page.exception and not page.error
    charts = page.get("plotly_chart")
    assert len(charts) >= 5  # metric bars, ROC, PR, Pareto, predicted vs actual
    assert page.multiselect(key="benchmarks.curve_models.all").value == [
        mv.id for mv in registry.list_versions(workspace(), TITANIC)]


def test_two_models_side_by_side(page):
    ids = {mv.label: mv.id for mv in registry.list_versions(workspace())}
    scope_to(page, "titanic")
    page.selectbox(key="benchmarks.compare_a").set_value(ids[f"{TITANIC}:1"]).run()
    page.selectbox(key="benchmarks.compare_b").set_value(ids[f"{TITANIC}:2"]).run()
    frames = [df.value for df in page.dataframe]
    metrics = next(f for f in frames if "better" in f.columns and "difference" in f.columns)
    assert list(metrics.columns[1:3]) == [f"{TITANIC}:1", f"{TITANIC}:2"]
    assert "roc_auc" in metrics["metric"].tolist()
    importances = next(f for f in frames if list(f.columns)[:1] == ["feature"])
    assert importances[f"{TITANIC}:2"].notna().any()  # LightGBM was explained


def test_promote_roll_back_and_the_history(page):
    page.selectbox(key="benchmarks.registry_name").set_value(TITANIC).run()
    page.selectbox(key=f"benchmarks.registry.promote_version.{TITANIC}").set_value(1).run()
    click(page, "benchmarks.registry.promote")
    assert f"Promoted {TITANIC}:1 to production." in texts(page.success)
    page.selectbox(key=f"benchmarks.registry.promote_version.{TITANIC}").set_value(2).run()
    click(page, "benchmarks.registry.promote")
    assert f"Promoted {TITANIC}:2 to production (v1 archived)." in texts(page.success)
    click(page, "benchmarks.registry.rollback")
    assert f"Rolled back {TITANIC!r}: v1 is in production again (v2 archived)." in texts(page.success)
    assert registry.get_version(workspace(), f"{TITANIC}@production").version == 1
    history = next(df.value for df in page.dataframe if list(df.value.columns) == ["when", "version", "from", "to",
                                                                                   "note"])
    assert history["to"].tolist() == ["production", "archived", "production", "archived", "production"]


def test_roll_back_without_an_earlier_version_says_why(page):
    page.selectbox(key="benchmarks.registry_name").set_value(TITANIC).run()
    assert page.button(key="benchmarks.registry.rollback").disabled  # nothing in production yet
    registry.promote(workspace(), TITANIC, 1)
    page.run()
    click(page, "benchmarks.registry.rollback")
    assert "has no earlier production version to roll back to" in texts(page.error)
    assert "Traceback" not in texts(page.error)


def test_deleting_the_production_version_needs_confirmation(page):
    registry.promote(workspace(), TITANIC, 2)
    page.selectbox(key="benchmarks.registry_name").set_value(TITANIC).run()
    page.selectbox(key=f"benchmarks.registry.delete_version.{TITANIC}").set_value(2).run()
    assert page.button(key="benchmarks.registry.delete").disabled
    page.checkbox(key=f"benchmarks.registry.delete_confirm.{TITANIC}.2").check().run()
    click(page, "benchmarks.registry.delete")
    assert f"Deleted {TITANIC}:2 (it was at stage 'production')" in texts(page.success)
    assert [mv.version for mv in registry.list_versions(workspace(), TITANIC)] == [1]
    page.selectbox(key=f"benchmarks.registry.delete_version.{TITANIC}").set_value(1).run()
    assert not page.button(key="benchmarks.registry.delete").disabled  # not in production: no confirmation
