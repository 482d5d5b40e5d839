"""The sign-in gate of app.py, headless: nothing changes without sign-in; with OIDC an anonymous
visitor sees the sign-in screen only, an allowed user the pages, a refused one a clear page; with
Supabase the real client signs in against the local double of its auth API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.platform import projects
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import ROOT, texts
from tests.support.supabase_auth_double import ANON_KEY, SupabaseAuthDouble

ADMIN = "admin@example.org"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "cookie-s3cret-0123456789",
        "client_id": "atelier", "client_secret": "client-s3cret-0123456789",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}


def _app(user: dict | None = None, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if secrets:
        at.secrets["auth"] = secrets
    if user is not None:
        at.user = user
    return at.run()


def _everything(at: AppTest) -> str:
    return "\n".join(texts(getattr(at, kind)) for kind in ("title", "markdown", "caption", "error", "warning"))


@pytest.fixture
def signed_in_env(app_home, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("ATELIER_AUTH", "oidc")
    monkeypatch.setenv("ATELIER_ADMINS", ADMIN)
    monkeypatch.setenv("ATELIER_ALLOWED", "@example.org")
    yield


def test_without_sign_in_the_app_shows_no_sign_in_at_all(app):
    assert not [b for b in app.button if b.label in ("Sign in", "Sign out")]
    assert "Signed in as" not in _everything(app)
    assert "Data" in texts(app.title)


def test_an_anonymous_visitor_sees_the_sign_in_screen_only(signed_in_env):
    at = _app(user={}, secrets=AUTH)
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Data" not in texts(at.title)
    shown = _everything(at)
    assert "client-s3cret" not in shown and "cookie-s3cret" not in shown


def test_a_signed_in_admin_owns_the_first_project_and_sees_the_pages(signed_in_env):
    at = _app(user={"is_logged_in": True, "email": ADMIN, "sub": ADMIN}, secrets=AUTH)
    assert not at.exception, at.exception
    assert "Data" in texts(at.title)
    shown = _everything(at)
    assert f"Signed in as **{ADMIN}**" in shown and "default (owner)" in shown
    assert [b for b in at.button if b.label == "Sign out"]


def test_a_not_allowed_email_gets_a_refusal_page(signed_in_env):
    at = _app(user={"is_logged_in": True, "email": "mallory@elsewhere.test"}, secrets=AUTH)
    assert not at.exception, at.exception
    assert "mallory@elsewhere.test may not use this Atelier." in texts(at.error)
    assert "Data" not in texts(at.title)
    assert [b.label for b in at.button] == ["Sign out"]


def test_an_unverified_email_is_refused(signed_in_env):
    at = _app(user={"is_logged_in": True, "email": "zoe@example.org", "email_verified": False}, secrets=AUTH)
    assert "has not verified zoe@example.org" in texts(at.error)


def test_a_missing_auth_section_is_named_instead_of_a_sign_in_button(signed_in_env):
    at = _app(user={})
    assert "no [auth] section" in texts(at.error)
    assert not at.button


@pytest.fixture
def supabase(app_home, monkeypatch) -> Iterator[SupabaseAuthDouble]:
    double = SupabaseAuthDouble().start()
    double.add_account("ann@example.org", "ann-password-1")
    double.add_account(ADMIN, "admin-password-1")
    monkeypatch.setenv("ATELIER_AUTH", "supabase")
    monkeypatch.setenv("ATELIER_ADMINS", ADMIN)
    monkeypatch.setenv("SUPABASE_URL", double.url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", ANON_KEY)
    yield double
    double.stop()


def _password_sign_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="atelier_sb_email").set_value(email)
    at.text_input(key="atelier_sb_password").set_value(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def test_supabase_password_sign_in_refusal_sign_out_and_invitation(supabase, app_home):
    ws = Workspace.open(Settings(home=app_home, auth="supabase", admins=ADMIN, user=ADMIN))
    projects.create_project(ws, "alpha")
    ws.db.dispose()

    at = _app()
    assert "Data" not in texts(at.title)
    _password_sign_in(at, "ann@example.org", "wrong")
    assert "Wrong email or password." in texts(at.error)
    assert "wrong" not in _everything(at).replace("Wrong email", "")

    _password_sign_in(at, "ann@example.org", "ann-password-1")  # a real Supabase account, but on no list
    assert "ann@example.org may not use this Atelier." in texts(at.error)
    next(b for b in at.button if b.label == "Sign out").click()
    at.run()
    assert not supabase.tokens  # the refused session was ended at Supabase too

    ws = Workspace.open(Settings(home=app_home, auth="supabase", admins=ADMIN, user=ADMIN))
    from core.platform.sign_in import invite

    invite(ws, "alpha", "ann@example.org", "data_scientist")
    ws.db.dispose()
    _password_sign_in(at, "ann@example.org", "ann-password-1")
    assert not at.exception, at.exception
    shown = _everything(at)
    assert "Signed in as **ann@example.org**" in shown and "alpha (data scientist)" in shown
    for token in supabase.tokens:
        assert token not in shown
    # (signing out from a page's sidebar is left to the browser test: AppTest runs a page's own
    # script after the first run, around app.py, so the sidebar's button is not there to click)


def test_supabase_magic_link_opened_in_a_new_session(supabase):
    at = _app()
    at.text_input(key="atelier_sb_link_email").set_value(ADMIN)
    next(b for b in at.button if b.label == "Email me a link").click()
    at.run()
    assert f"on its way to {ADMIN}" in texts(at.info)
    (link,) = supabase.outbox

    opened = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    opened.query_params["token_hash"] = link.token_hash
    opened.query_params["type"] = "email"
    opened.run()
    assert not opened.exception, opened.exception
    assert f"Signed in as **{ADMIN}**" in _everything(opened)
    assert "token_hash" not in opened.query_params  # single-use: not left in the address bar


def test_the_settings_page_says_which_sign_in_is_configured(app_home, monkeypatch):
    plain = _app()
    plain.switch_page("views/settings.py").run()
    assert "**Sign-in:** none (ATELIER_AUTH=none)" in texts(plain.markdown)

    monkeypatch.setenv("ATELIER_AUTH", "oidc")
    monkeypatch.setenv("ATELIER_ADMINS", ADMIN)
    at = _app(user={"is_logged_in": True, "email": ADMIN}, secrets=AUTH)
    at.switch_page("views/settings.py").run()
    assert not at.exception, at.exception
    said = texts(at.markdown)
    assert "OpenID Connect through Streamlit's st.login: default (localhost:9400)" in said
    shown = _everything(at) + "\n".join(str(t.value) for t in at.table)
    assert "client-s3cret" not in shown and "cookie-s3cret" not in shown
