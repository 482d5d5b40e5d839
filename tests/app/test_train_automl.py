"""The Train page's "Let Atelier choose" mode: the ranking, a budgeted job and its leaderboard."""

from __future__ import annotations

from core.data.ingest import import_sample
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace


def test_let_atelier_choose_ranks_runs_and_shows_the_leaderboard(app_home):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    ws = Workspace.open(Settings.load())
    import_sample(ws, "penguins")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/train.py").run()
    [ranking] = [df.value for df in at.dataframe if "why" in df.value.columns]  # the manual mode shows it too
    at.radio(key="train.mode").set_value("Let Atelier choose").run()
    assert not at.exception, at.exception
    [auto_ranking] = [df.value for df in at.dataframe if "why" in df.value.columns]
    assert auto_ranking["algorithm"].tolist() == ranking["algorithm"].tolist()
    at.number_input(key="train.automl.budget").set_value(8).run()
    at.button(key="train.automl.start").click().run()
    assert not at.exception, at.exception
    [job] = jobs.list_jobs(ws, kind="automl")
    info = jobs.wait(ws, job.id, timeout=120)
    assert info.status == "succeeded", info.error
    at.run()
    assert not at.exception, at.exception
    assert any("trial" in df.value.columns for df in at.dataframe)
