"""Who may sign in (allow-list, domains, admins, invitations), what a first sign-in creates, and what
the Settings page says about sign-in, on a real SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.cli import main
from core.platform import access, projects, sign_in
from core.platform.config import Settings
from core.platform.errors import InvalidInputError, PermissionDeniedError
from core.platform.metadata.models import User
from core.platform.workspace import Workspace

ADMIN, SECOND_ADMIN = "admin@example.org", "chief@example.org"
ALLOWED = "dana@partner.test, @example.org"


@pytest.fixture
def base(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", auth="oidc", admins=f"{ADMIN}, {SECOND_ADMIN}", allowed=ALLOWED)


@pytest.fixture
def open_as(base):
    opened: list[Workspace] = []

    def _open(user: str = "") -> Workspace:
        ws = Workspace.open(base.with_(user=user))
        opened.append(ws)
        return ws

    yield _open
    for ws in opened:
        ws.db.dispose()


def _users(ws: Workspace, email: str | None = None) -> int:
    query = select(func.count()).select_from(User)
    with ws.db.session() as s:
        return s.scalar(query.where(User.email == email) if email else query)


@pytest.mark.parametrize(("email", "expected"), [
    ("dana@partner.test", True),       # listed email
    ("DANA@Partner.test ", True),      # case and spaces do not matter
    ("eve@partner.test", False),       # the domain of a listed email is not listed
    ("zoe@example.org", True),         # listed domain
    ("zoe@sub.example.org", False),    # a subdomain is another domain
    ("zoe@evil-example.org", False),   # a look-alike domain
    ("zoe@example.org.evil.test", False),
    ("chief@example.org", True),       # admins are always let in
])
def test_the_allow_list_takes_emails_and_exact_domains(base, email, expected):
    assert sign_in.on_allow_list(base, email) is expected


def test_a_first_sign_in_of_an_allowed_email_creates_the_user_once(open_as):
    ws = open_as()
    first = sign_in.sign_in(ws, "Zoe@Example.org")
    assert first.actor == access.Actor("zoe@example.org")
    assert first.created is True
    assert first.projects == ()  # allowed in, but nobody has given them a project yet
    again = sign_in.sign_in(ws, "zoe@example.org")
    assert again.created is False
    assert _users(ws, "zoe@example.org") == 1


def test_an_email_on_no_list_is_refused_and_leaves_no_user(open_as):
    ws = open_as()
    with pytest.raises(sign_in.SignInRefusedError) as refused:
        sign_in.sign_in(ws, "mallory@elsewhere.test")
    assert "mallory@elsewhere.test may not use this Atelier" in refused.value.message
    assert "ATELIER_ALLOWED" in refused.value.hint
    assert _users(ws, "mallory@elsewhere.test") == 0


@pytest.mark.parametrize(("email", "verified", "says"), [
    (None, None, "did not say which email"),
    ("", None, "did not say which email"),
    ("not-an-email", None, "not an email address"),
    ("zoe@example.org", False, "has not verified zoe@example.org"),
])
def test_an_identity_without_a_usable_verified_email_is_refused(open_as, email, verified, says):
    with pytest.raises(sign_in.SignInRefusedError, match=says):
        sign_in.sign_in(open_as(), email, email_verified=verified)


def test_without_sign_in_configured_nobody_signs_in(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path / "solo"))
    try:
        with pytest.raises(InvalidInputError, match="not configured"):
            sign_in.sign_in(ws, ADMIN)
    finally:
        ws.db.dispose()


def test_the_first_admin_owns_the_first_project_and_the_second_admin_does_not(open_as):
    ws = open_as()
    assert sign_in.sign_in(ws, SECOND_ADMIN).projects == ()  # signs in first, yet only the first admin owns it
    owner = sign_in.sign_in(ws, ADMIN)
    assert owner.projects == ((access.DEFAULT_PROJECT, "owner"),)
    assert projects.members(open_as(ADMIN), access.DEFAULT_PROJECT) == [projects.Member(ADMIN, "owner")]
    # the second admin may still create projects of their own
    projects.create_project(sign_in.acting_as(ws, access.Actor(SECOND_ADMIN)), "research")
    assert sign_in.sign_in(ws, SECOND_ADMIN).projects == (("research", "owner"),)


def test_an_invited_email_gets_in_and_joins_with_its_role_at_first_sign_in(open_as):
    admin = open_as(ADMIN)
    projects.create_project(admin, "alpha")
    projects.create_project(admin, "hidden")
    guest = "guest@outside.test"  # on no allow-list
    with pytest.raises(sign_in.SignInRefusedError):
        sign_in.sign_in(admin, guest)

    sign_in.invite(admin, "alpha", guest, "viewer")
    signed = sign_in.sign_in(admin, guest)
    assert signed.projects == (("alpha", "viewer"),)  # alpha only: not hidden, not default

    as_guest = open_as(guest)
    alpha = access.find_project(as_guest, "alpha")
    assert access.require(as_guest, "read", alpha) == "viewer"
    with pytest.raises(PermissionDeniedError, match="importing data needs the data_scientist or owner role"):
        access.require(as_guest, "import", alpha)
    # a viewer cannot invite, and an invitation cannot be sent twice
    with pytest.raises(PermissionDeniedError):
        sign_in.invite(as_guest, "alpha", "friend@outside.test")
    with pytest.raises(InvalidInputError, match="already a member"):
        sign_in.invite(admin, "alpha", guest, "data_scientist")

    projects.remove_member(admin, "alpha", guest)  # no membership left, no allow-list: out at once
    with pytest.raises(sign_in.SignInRefusedError):
        sign_in.sign_in(admin, guest)


def test_invite_from_the_command_line(open_as, base, monkeypatch, capsys):
    projects.create_project(open_as(ADMIN), "alpha")
    for key, value in base.with_(user=ADMIN).to_env().items():
        monkeypatch.setenv(key, value)
    assert main(["projects", "invite", "alpha", "Guest@Outside.test", "--role", "data_scientist"]) == 0
    assert "invited guest@outside.test" in capsys.readouterr().out
    assert sign_in.sign_in(open_as(), "guest@outside.test").projects == (("alpha", "data_scientist"),)
    assert main(["projects", "invite", "alpha", "guest@outside.test", "--role", "viewer"]) != 0
    assert "already a member" in capsys.readouterr().err


OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "cookie-s3cret-value",
        "client_id": "atelier", "client_secret": "client-s3cret-value",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
        "okta": {"client_id": "x", "client_secret": "okta-s3cret-value",
                 "server_metadata_url": "https://acme.okta.test/.well-known/openid-configuration"}}


def test_settings_say_which_sign_in_is_configured_and_never_a_secret(base, monkeypatch):
    assert sign_in.describe(base.with_(auth="none")).startswith("none (ATELIER_AUTH=none)")

    oidc = sign_in.describe(base, OIDC)
    assert "OpenID Connect" in oidc and "default (login.example.org)" in oidc and "okta (acme.okta.test)" in oidc
    assert ADMIN in oidc and "@example.org" in oidc
    for secret in ("cookie-s3cret-value", "client-s3cret-value", "okta-s3cret-value"):
        assert secret not in oidc

    monkeypatch.setenv("SUPABASE_URL", "https://abcd.supabase.co")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon-s3cret-value")
    supa = sign_in.describe(base.with_(auth="supabase"))
    assert "Supabase Auth" in supa and "abcd.supabase.co" in supa and "anon-s3cret-value" not in supa


@pytest.mark.parametrize(("auth", "says"), [
    ({}, "no [auth] section"),
    ({"client_id": "x", "server_metadata_url": "https://a/.well-known/openid-configuration"}, "lacks redirect_uri"),
    ({"redirect_uri": "http://l/oauth2callback", "cookie_secret": "c"}, "names no provider"),
])
def test_an_incomplete_auth_section_is_named(auth, says):
    assert says in sign_in.oidc_problem(auth)
    assert sign_in.oidc_problem(OIDC) is None
