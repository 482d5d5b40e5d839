"""Who may sign in, what a first sign-in does, invitations, and which sign-in is configured.

The identity itself is proven elsewhere (Streamlit's ``st.login`` with OpenID Connect, or Supabase
Auth); this module decides what a proven email may do here.  An email may sign in when it is an
admin (``ATELIER_ADMINS``), on the allow-list (``ATELIER_ALLOWED``: emails or ``@domain``), or a
member of some project: an owner invites someone by making them a member, so the invitation both
lets them in and gives them their role at their first sign-in.  The first sign-in of an allowed
email creates its user; the first admin owns the default (first) project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from core.platform import access, projects
from core.platform.config import Settings, read_secret
from core.platform.errors import InvalidInputError, PermissionDeniedError
from core.platform.metadata.models import Membership, User
from core.platform.workspace import Workspace


class SignInRefusedError(PermissionDeniedError):
    """A proven identity that this Atelier does not let in."""


@dataclass(frozen=True)
class SignedIn:
    actor: access.Actor
    created: bool  # this sign-in created the user
    projects: tuple[tuple[str, str], ...]  # (project, role) the user belongs to now


def _entries(text: str) -> list[str]:
    return [e.strip().lower() for e in (text or "").split(",") if e.strip()]


def on_allow_list(settings: Settings, email: str) -> bool:
    """Whether settings alone let ``email`` in: an admin, a listed email, or a listed ``@domain``."""
    email = access.normalize_email(email)
    domain = "@" + email.rsplit("@", 1)[1]
    entries = _entries(settings.allowed) + _entries(settings.admins)
    # a domain entry matches that domain exactly: "@example.org" does not let in "@evil-example.org"
    return email in entries or domain in entries


def _is_member(ws: Workspace, email: str) -> bool:
    with ws.db.session() as s:
        return s.scalar(select(Membership.id).join(User, User.id == Membership.user_id)
                        .where(User.email == email).limit(1)) is not None


def sign_in(ws: Workspace, email: str | None, email_verified: bool | None = None) -> SignedIn:
    """Let a proven ``email`` in, or raise SignInRefusedError saying why.

    ``email_verified`` is the identity provider's claim when it sends one: an address the
    provider itself has not verified proves nothing, so it is refused.
    """
    if ws.settings.auth == "none":
        raise InvalidInputError("Sign-in is not configured (ATELIER_AUTH=none): nobody signs in.")
    if not (email or "").strip():
        raise SignInRefusedError("The sign-in provider did not say which email address you signed in with.",
                                 hint="Ask the administrator to request the 'email' scope from the provider.")
    try:
        email = access.normalize_email(email)
    except InvalidInputError as exc:
        raise SignInRefusedError(f"The sign-in provider sent {email!r}, which is not an email address.") from exc
    if email_verified is False:
        raise SignInRefusedError(f"Your sign-in provider has not verified {email}.",
                                 hint="Verify the address with the provider, then sign in again.")
    if not (on_allow_list(ws.settings, email) or _is_member(ws, email)):
        raise SignInRefusedError(
            f"{email} may not use this Atelier.",
            hint="Ask an owner of a project to invite you, or an administrator to add your email "
                 "or @domain to ATELIER_ALLOWED. You can sign out and use another account.")
    with ws.db.session() as s:
        created = s.scalar(select(User.id).where(User.email == email)) is None
        if created:
            s.add(User(email=email))
    actor = access.Actor(email)
    # the default project exists, owned by the first admin, before anyone looks for their projects
    access.find_project(ws, access.DEFAULT_PROJECT, actor=access.LOCAL_OWNER)
    acting = acting_as(ws, actor)
    mine = tuple((p.name, role) for p, role in projects.list_projects(acting))
    return SignedIn(actor, created, mine)


def acting_as(ws: Workspace, actor: access.Actor) -> Workspace:
    """The same workspace (store, database) acting as ``actor``: what a signed-in session uses."""
    return Workspace(ws.settings.with_(user=actor.email or ""), ws.store, ws.db)


def invite(ws: Workspace, project: str, email: str, role: str = "viewer") -> projects.Member:
    """Invite ``email`` into ``project`` with ``role`` (owners only).

    The invitation is the membership itself: it lets the email sign in even when it is not on
    the allow-list, and the project is theirs with that role from their first sign-in.
    """
    email = access.normalize_email(email)
    if any(m.email == email for m in projects.members(ws, project)):
        raise InvalidInputError(f"{email} is already a member of project {project!r}.",
                                hint="Change their role with add-member instead.")
    return projects.add_member(ws, project, email, role)


# -- what the Settings page shows ---------------------------------------------------------------
# ``auth`` is the ``[auth]`` table of the secrets Streamlit reads (pages pass ``st.secrets``'s);
# read here for names and hosts only, never for its secrets.
def _host(url: str) -> str:
    return urlsplit(str(url)).netloc or "an unreadable URL"


def oidc_providers(auth: Mapping) -> dict[str, str]:
    """Provider name → host of its OpenID Connect metadata."""
    found = {}
    if auth.get("server_metadata_url"):
        found["default"] = _host(auth["server_metadata_url"])
    for name, section in auth.items():
        if isinstance(section, Mapping) and section.get("server_metadata_url"):
            found[name] = _host(section["server_metadata_url"])
    return found


def oidc_problem(auth: Mapping) -> str | None:
    """What ``[auth]`` lacks for ``st.login`` to work (None: nothing)."""
    if not auth:
        return "ATELIER_AUTH=oidc, but the secrets (.streamlit/secrets.toml) have no [auth] section."
    missing = [k for k in ("redirect_uri", "cookie_secret") if not auth.get(k)]
    if missing:
        return f"[auth] in the secrets lacks {', '.join(missing)}."
    if not oidc_providers(auth):
        return "[auth] in the secrets names no provider (client_id, client_secret, server_metadata_url)."
    return None


def describe(settings: Settings, auth: Mapping | None = None, secrets_file: Path | None = None) -> str:
    """One paragraph saying which sign-in is configured and who may come in; never a secret."""
    if settings.auth == "none":
        return "none (ATELIER_AUTH=none): a single-user workbench; nobody signs in."
    who = "admins: " + (", ".join(_entries(settings.admins)) or "none")
    who += "; also allowed: " + (", ".join(_entries(settings.allowed)) or "project members only")
    if settings.auth == "oidc":
        auth = auth or {}
        providers = ", ".join(f"{n} ({h})" for n, h in oidc_providers(auth).items())
        text = f"OpenID Connect through Streamlit's st.login: {providers or 'no provider'}."
        return " ".join(part for part in (text, oidc_problem(auth), f"({who})") if part)
    url = read_secret("SUPABASE_URL", secrets_file)
    where = _host(url) if url else "nowhere yet: SUPABASE_URL is not set"
    return f"Supabase Auth (email + password, magic link) at {where}. ({who})"


__all__ = ["SignInRefusedError", "SignedIn", "acting_as", "describe", "invite", "oidc_problem", "oidc_providers",
           "on_allow_list", "sign_in"]
