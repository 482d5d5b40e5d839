"""Sign-in in a real browser: st.login through a local OpenID Connect provider (oidc-provider-mock).

The app and the provider are both reached as ``localhost`` (the provider takes its issuer from the
Host header, and the identity cookie is set for the app's host).  The workspace is prepared
through core before the server starts: an admin owns ``alpha`` and ``hidden``; a viewer is
invited into ``alpha`` only; ``outsider@elsewhere.test`` is on no list.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.platform import projects
from core.platform import sign_in as core_sign_in
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.e2e.conftest import ROOT, _free_port, screenshot

pytest.importorskip("oidc_provider_mock")
pytest.importorskip("authlib")

ADMIN, VIEWER, OUTSIDER = "admin@example.org", "viewer@example.org", "outsider@elsewhere.test"
COOKIE_SECRET, CLIENT_SECRET = secrets.token_hex(24), secrets.token_hex(24)


def _wait_for(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    log = folder / "provider.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    _wait_for(f"{url}/.well-known/openid-configuration", process, log, "oidc-provider-mock")
    yield url
    _stop(process)


@pytest.fixture(scope="module")
def signin_app(tmp_path_factory, oidc_provider) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("signin-home")
    port = _free_port()
    url = f"http://localhost:{port}"
    secrets_file = home / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "atelier-e2e"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n')
    atelier = {"ATELIER_HOME": str(home), "ATELIER_AUTH": "oidc", "ATELIER_ADMINS": ADMIN,
               "ATELIER_ALLOWED": "@example.org", "ATELIER_PROJECT": "alpha"}
    # the admin prepares the projects through core, as the command line would
    ws = Workspace.open(Settings(home=home, auth="oidc", admins=ADMIN, allowed="@example.org", user=ADMIN))
    projects.create_project(ws, "alpha")
    projects.create_project(ws, "hidden")
    core_sign_in.invite(ws, "alpha", VIEWER, "viewer")
    ws.db.engine.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | atelier
    log = home / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--secrets.files", str(secrets_file)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_for(f"http://127.0.0.1:{port}/_stcore/health", server, log, "streamlit")
    yield {"url": url, "home": home, "log": log}
    _stop(server)


def _sign_in_as(page, app: dict, email: str) -> None:
    page.goto(app["url"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"), timeout=30_000)  # the provider's own page
    page.fill('input[name="sub"]', email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(app["url"]) + r"/?.*"), timeout=30_000)


def _sign_out(page, app: dict) -> None:
    page.get_by_role("button", name="Sign out").click()
    end = page.get_by_role("button", name="End session")  # the provider confirms the end of its session
    end.wait_for(timeout=30_000)
    end.click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)


def test_a_viewer_signs_in_sees_only_their_projects_is_refused_an_import_and_signs_out(browser, signin_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        # a page's URL does not get around the gate, not even as a fresh server's first visit: the
        # pages live in views/, not pages/, so Streamlit never runs one around app.py
        for path in ("/settings", "/train", ""):
            page.goto(signin_app["url"] + path)
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            assert page.get_by_text("ATELIER_HOME").count() == 0
            assert page.get_by_text("Choose a dataset").count() == 0
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no page list before signing in

        _sign_in_as(page, signin_app, VIEWER)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(VIEWER).wait_for(timeout=60_000)
        mine = sidebar.locator('[class*="st-key-atelier_my_projects"]')
        mine.get_by_text("alpha").wait_for(timeout=30_000)
        assert "viewer" in mine.inner_text()
        assert "hidden" not in mine.inner_text() and "default" not in mine.inner_text()

        # a viewer may look but not import: the check in core refuses, the page says why
        load = page.locator('[class*="st-key-data-sample-titanic"] button')
        load.wait_for(timeout=60_000)
        load.click()
        refusal = page.get_by_text(re.compile(r"viewer@example\.org is a viewer in project 'alpha': importing data"))
        refusal.wait_for(timeout=60_000)
        screenshot(page, "sign-in-viewer-refused")

        html = page.content()
        for secret in (COOKIE_SECRET, CLIENT_SECRET):
            assert secret not in html
        cookies = " ".join(c["value"] for c in context.cookies())
        assert CLIENT_SECRET not in cookies and COOKIE_SECRET not in cookies

        _sign_out(page, signin_app)
        page.goto(signin_app["url"])
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert page.get_by_text(VIEWER).count() == 0
    except Exception:
        screenshot(page, "sign-in-viewer-failure")
        raise
    finally:
        context.close()


def test_an_email_on_no_list_is_refused_with_a_clear_page(browser, signin_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _sign_in_as(page, signin_app, OUTSIDER)
        page.get_by_text(f"{OUTSIDER} may not use this Atelier.").wait_for(timeout=60_000)
        assert page.get_by_text("ATELIER_ALLOWED").count() >= 1  # says what would let them in
        assert page.locator('[class*="st-key-data-sample-titanic"]').count() == 0
        screenshot(page, "sign-in-refused")
        _sign_out(page, signin_app)
    finally:
        context.close()


def test_secrets_stay_out_of_the_server_log_and_the_metadata(signin_app):
    log = signin_app["log"].read_text(errors="replace")
    database = (signin_app["home"] / "atelier.db").read_bytes()
    for secret in (COOKIE_SECRET, CLIENT_SECRET):
        assert secret not in log
        assert secret.encode() not in database


# -- Supabase Auth: the app's server runs the real supabase client against the local double ------
@pytest.fixture(scope="module")
def supabase_app(tmp_path_factory) -> Iterator[dict]:
    from tests.support.supabase_auth_double import ANON_KEY, SupabaseAuthDouble

    double = SupabaseAuthDouble().start()
    double.add_account(ADMIN, "admin-password-1")
    home = tmp_path_factory.mktemp("supabase-home")
    port = _free_port()
    ws = Workspace.open(Settings(home=home, auth="supabase", admins=ADMIN, user=ADMIN))
    projects.create_project(ws, "alpha")
    ws.db.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "SUPABASE_"))} | {
        "ATELIER_HOME": str(home), "ATELIER_AUTH": "supabase", "ATELIER_ADMINS": ADMIN,
        "SUPABASE_URL": double.url, "SUPABASE_ANON_KEY": ANON_KEY}
    log = home / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_for(f"http://127.0.0.1:{port}/_stcore/health", server, log, "streamlit")
    yield {"url": f"http://127.0.0.1:{port}", "home": home, "log": log, "double": double}
    _stop(server)
    double.stop()


def test_supabase_password_sign_in_and_sign_out_in_the_browser(browser, supabase_app):
    double = supabase_app["double"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(supabase_app["url"])
        page.get_by_label("Password", exact=True).wait_for(timeout=60_000)
        page.get_by_label("Email", exact=True).first.fill(ADMIN)
        page.get_by_label("Password", exact=True).fill("not-my-password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Wrong email or password.").wait_for(timeout=60_000)
        assert "not-my-password" not in page.content()  # the form forgets a password once sent

        page.get_by_label("Email", exact=True).first.fill(ADMIN)
        page.get_by_label("Password", exact=True).fill("admin-password-1")
        page.get_by_role("button", name="Sign in").click()
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(ADMIN).wait_for(timeout=60_000)
        mine = sidebar.locator('[class*="st-key-atelier_my_projects"]').inner_text()
        assert "alpha (owner)" in mine and "default (owner)" in mine
        (token,) = double.tokens
        page.get_by_label("Password", exact=True).wait_for(state="detached", timeout=60_000)
        assert token not in page.content() and "admin-password-1" not in page.content()

        sidebar.get_by_role("button", name="Sign out").click()
        page.get_by_label("Password", exact=True).wait_for(timeout=60_000)
        assert not double.tokens  # the session ended at Supabase, not only in the page
        log = supabase_app["log"].read_text(errors="replace")
        assert token not in log and "admin-password-1" not in log
    except Exception:
        screenshot(page, "sign-in-supabase-failure")
        raise
    finally:
        context.close()
