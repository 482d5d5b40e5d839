"""The project picker in the sidebar and the Projects section of Settings: create, statistics,
members and the audit trail, with each control shown only to the roles that may use it."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import datasets
from core.platform import projects
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, texts

ADMIN, ALICE, BOB, CAROL = "admin@example.org", "alice@example.org", "bob@example.org", "carol@example.org"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-secret",
        "client_id": "atelier", "client_secret": "not-a-secret",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": range(20), "y": [i % 2 for i in range(20)]})


def _button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} among {[b.label for b in at.button]}"
    return found[0]


def _settings_page(user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if user is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email_verified": True, **user}
    at.run()
    at.switch_page("views/settings.py").run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _options(at: AppTest) -> str:
    return " ".join(str(s.options) for s in at.main.selectbox)


def test_single_user_creates_a_project_and_works_in_it(app_home):
    ws = Workspace.open(Settings(home=app_home))
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    ws.db.dispose()
    at = _settings_page()
    assert "Projects" in texts(at.subheader)
    assert _metric(at, "Datasets") == "1" and not at.sidebar.selectbox  # one project: nothing to pick
    at.text_input(key="atelier_project_new_name").input("churn")
    _button(at, "Create").click().run()
    assert not at.exception, at.exception
    assert "Created project 'churn'" in texts(at.success)
    assert at.session_state["atelier.project"] == "churn" and "Working in **churn**" in texts(at.caption)
    assert _metric(at, "Datasets") == "0"  # the new project holds nothing yet


def _picker_and_datasets() -> None:
    """The picker and what a page sees through the session's workspace (AppTest reruns only the page
    after app.py's first run, so the picker's own reruns are driven here)."""
    import streamlit as st

    from components.project_picker import project_picker
    from components.state import workspace
    from core.data import datasets

    project_picker()
    st.markdown("datasets: " + ", ".join(d.name for d in datasets.list_datasets(workspace())))


def test_the_sidebar_picker_scopes_what_pages_see(app_home):
    ws = Workspace.open(Settings(home=app_home))
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    projects.create_project(ws, "churn")
    ws.db.dispose()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()  # the app itself: the picker is in its sidebar
    [picker] = at.sidebar.selectbox
    assert picker.label == "Project" and picker.value == "default" and "toy" in _options(at)
    assert picker.options == ["churn · owner", "default · owner"]

    at = AppTest.from_function(_picker_and_datasets, default_timeout=60)
    at.run()
    assert "datasets: toy" in texts(at.markdown)
    at.sidebar.selectbox[0].select("churn").run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox[0].value == "churn" and "datasets:" in texts(at.markdown)
    assert "toy" not in texts(at.markdown)
    at.sidebar.selectbox[0].select("default").run()
    assert "datasets: toy" in texts(at.markdown)


@pytest.fixture
def team(app_home, monkeypatch):
    """Sign-in configured: Bob owns 'bobs', Alice is a viewer there; the default project has a secret."""
    monkeypatch.setenv("ATELIER_AUTH", "oidc")
    monkeypatch.setenv("ATELIER_ADMINS", ADMIN)
    ws = Workspace.open(Settings.load().with_(user=ADMIN))
    datasets.save_version(ws, "secret", frame(), provenance={"kind": "test"})
    projects.create_project(ws, "bobs")
    projects.add_member(ws, "bobs", BOB, "owner")
    projects.add_member(ws, "bobs", ALICE, "viewer")
    ws.db.dispose()


def test_an_owner_manages_members_and_reads_the_audit_trail(team):
    at = _settings_page({"email": BOB})
    assert at.session_state["atelier.project"] == "bobs"  # his only project, picked for him by the sidebar
    assert _metric(at, "Datasets") == "0"  # the default project's dataset is not his
    assert not [b for b in at.button if b.label == "Create"]  # not an admin: no project creation
    at.text_input(key="atelier_member_email").input(CAROL)
    at.selectbox(key="atelier_member_role").select("viewer")
    _button(at, "Add or change the role").click().run()
    assert not at.exception, at.exception
    assert f"{CAROL} is a viewer in 'bobs'" in texts(at.success)
    members = at.dataframe[1].value
    assert dict(zip(members["email"], members["role"], strict=True)) == {
        ADMIN: "owner", ALICE: "viewer", BOB: "owner", CAROL: "viewer"}
    audit = at.dataframe[2].value
    assert list(audit["did"])[:1] == ["add member"] and list(audit["who"])[:1] == [BOB]
    assert f"{CAROL} as viewer" in list(audit["what"])


def test_a_viewer_sees_members_and_the_trail_but_no_controls(team):
    at = _settings_page({"email": ALICE})
    assert "as viewer" in texts(at.caption)
    labels = [b.label for b in at.button]
    for hidden in ("Create", "Rename", "Archive the project", "Add or change the role"):
        assert hidden not in labels
    with pytest.raises(KeyError):
        at.text_input(key="atelier_member_email")
    assert set(at.dataframe[1].value["email"]) == {ADMIN, ALICE, BOB}
    assert "secret" not in texts(at.dataframe)  # nothing of the default project


def test_an_owner_deletes_the_project_after_typing_its_name(team):
    ws = Workspace.open(Settings.load().with_(user=BOB, project="bobs"))
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    ws.db.dispose()
    at = _settings_page({"email": BOB})
    delete = _button(at, "Delete the project")
    assert delete.disabled  # nothing happens until the name is typed
    at.text_input(key="atelier_project_delete_confirm").input("bob").run()
    assert _button(at, "Delete the project").disabled
    at.text_input(key="atelier_project_delete_confirm").input("bobs").run()
    _button(at, "Delete the project").click().run()
    assert not at.exception, at.exception
    assert "Deleted project 'bobs': 1 dataset(s), 0 model(s) and 0 job(s)." in texts(at.success)
    assert "You belong to no project yet" in texts(at.info)  # it was his only project
    ws = Workspace.open(Settings.load().with_(user=ADMIN))
    assert [p.name for p, _ in projects.list_projects(ws)] == ["default"]
    assert projects.audit_events(ws, "default")[0].action != "delete_project"  # recorded outside any project
    ws.db.dispose()


@pytest.mark.parametrize("role", ["viewer", "data_scientist"])
def test_only_owners_see_the_delete_button(team, role):
    ws = Workspace.open(Settings.load().with_(user=ADMIN))
    projects.add_member(ws, "bobs", ALICE, role)
    ws.db.dispose()
    at = _settings_page({"email": ALICE})
    assert f"as {role.replace('_', ' ')}" in texts(at.caption)
    assert "Delete the project" not in [b.label for b in at.button]
    assert "Delete this project" not in [e.label for e in at.expander]
    with pytest.raises(KeyError):
        at.text_input(key="atelier_project_delete_confirm")


def test_the_default_project_has_no_delete_button(team):
    at = _settings_page({"email": ADMIN})  # an owner of both projects, working in the default one
    assert "Working in **default**" in texts(at.caption)
    assert "Delete the project" not in [b.label for b in at.button]
    at.sidebar.selectbox[0].select("bobs").run()
    assert "Working in **bobs**" in texts(at.caption) and _button(at, "Delete the project")


def test_statistics_follow_changes_made_elsewhere(app_home):
    ws = Workspace.open(Settings(home=app_home))
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    at = _settings_page()
    assert _metric(at, "Datasets") == "1"
    datasets.save_version(ws, "more", frame(), provenance={"kind": "test"})  # by another session or the CLI
    at.run()
    assert _metric(at, "Datasets") == "2"  # the kept numbers are dropped once something changed
    datasets.delete_dataset(ws, "toy")
    at.run()
    assert _metric(at, "Datasets") == "1"
    ws.db.dispose()


def test_a_removed_member_loses_the_project_on_the_next_rerun(team):
    at = _settings_page({"email": ALICE})
    assert at.session_state["atelier.project"] == "bobs" and "as viewer" in texts(at.caption)
    ws = Workspace.open(Settings.load().with_(user=ADMIN))
    projects.remove_member(ws, "bobs", ALICE)
    ws.db.dispose()
    at.run()
    assert not at.exception, at.exception
    assert "You belong to no project yet" in texts(at.info)
    assert "bobs" not in texts(at.dataframe) and "as viewer" not in texts(at.caption)


def test_another_projects_dataset_named_in_the_session_shows_nothing_of_it(team):
    """A page handoff (the dataset last opened) naming the default project's dataset, in Alice's session."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email_verified": True, "email": ALICE}
    at.session_state["dataset.current"] = ("secret", 1)
    at.run()
    at.switch_page("views/data.py").run()
    assert not at.exception, at.exception
    shown = texts(at.markdown) + texts(at.dataframe) + texts(at.caption) + texts(at.subheader) + texts(at.metric)
    assert "secret" not in shown and "x" not in [str(c) for d in at.dataframe for c in getattr(d.value, "columns", [])]
