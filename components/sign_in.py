"""The sign-in gate app.py runs before any page: nobody reaches a page without signing in.

With ``ATELIER_AUTH=none`` it does nothing at all (the single-user workbench).  With ``oidc`` the
identity is Streamlit's ``st.login`` (``[auth]`` of ``.streamlit/secrets.toml``); with
``supabase`` it is Supabase Auth.  Either way core's ``sign_in.sign_in`` decides whether the
proven email may come in, and the session then acts as that user (``acting``).  An anonymous or
refused visitor gets a one-page navigation, so no other page's URL can be opened around the gate.
Tokens stay in the server-side session state; nothing here writes them to the page or the log.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components.guard import guard, show_error
from core.platform import projects, sign_in
from core.platform.config import Settings
from core.platform.errors import AtelierError
from core.platform.workspace import Workspace

SIGNED_IN = "atelier.signed_in"  # the SignedIn of this session: what `acting` reads
_SUPABASE = "atelier.supabase_session"  # the Supabase session (tokens) of this session
_MAGIC_SENT = "atelier.magic_link_to"
_REFUSAL = "atelier.refusal"  # why core refused this session's identity
_SUPABASE_ERROR = "atelier.supabase_error"  # a magic link that failed, shown on the sign-in screen


@dataclass(frozen=True)
class _Refusal:
    message: str
    hint: str | None


def auth_secrets() -> dict:
    """The ``[auth]`` table of the secrets Streamlit reads, as plain dicts (empty when none)."""
    try:
        auth = st.secrets.get("auth") or {}
    except Exception:  # no secrets file at all, or one Streamlit cannot parse: no [auth] either way
        return {}
    return _plain(auth)


def _plain(value):
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


def acting(ws: Workspace) -> Workspace:
    """The workspace as the signed-in user of this session (as it is without sign-in).

    With sign-in configured and nobody signed in, it acts as nobody, so core refuses every call
    rather than fall back to ATELIER_USER (which names the command line's user, not a visitor).
    """
    if ws.settings.auth == "none":
        return ws
    stop_unless_signed_in(ws.settings)
    signed = st.session_state.get(SIGNED_IN)
    email = signed.actor.email if isinstance(signed, sign_in.SignedIn) else ""
    return Workspace(ws.settings.with_(user=email or ""), ws.store, ws.db)


def stop_unless_signed_in(settings: Settings | None = None) -> None:
    """Stop a page's run when sign-in is configured and this session has not signed in.

    app.py's gate stops such a visitor first.  A page still checks again (through
    ``components.state.workspace``, or directly) so that it never depends on being reached through
    app.py.  The pages live in ``views/``, not ``pages/``: Streamlit would treat a ``pages/``
    folder as old-style pages and run ``pages/<name>.py`` for a deep link such as ``/train`` around
    app.py until app.py had run once in the server process.
    """
    settings = settings or Settings.load()
    if settings.auth == "none" or isinstance(st.session_state.get(SIGNED_IN), sign_in.SignedIn):
        return
    base = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    st.warning("Sign in first: this page is for signed-in members only.", icon=":material/lock:")
    st.link_button("Go to the sign-in page", base, type="primary")
    st.stop()


def gate() -> None:
    """Return when the visitor may see the pages; otherwise show the sign-in screen and stop."""
    settings = Settings.load()
    if settings.auth == "none":
        return
    if settings.auth == "oidc":
        _gate_oidc(settings)
    else:
        _gate_supabase(settings)
    signed = st.session_state[SIGNED_IN]
    with st.sidebar:
        st.caption(f"Signed in as **{signed.actor.email}**")
        with st.container(key="atelier_my_projects"), guard("Listing your projects"):
            mine = projects.list_projects(acting(_shared_workspace(settings)))  # read now: roles change
            st.caption("Your projects: " + (", ".join(f"{p.name} ({role.replace('_', ' ')})" for p, role in mine)
                                            or "none yet; ask an owner to invite you"))
        if st.button("Sign out", icon=":material/logout:", key="atelier_sign_out"):
            _sign_out(settings)


def _only(screen, title: str = "Sign in") -> None:
    """Show ``screen`` as the only page there is, then stop the run."""
    st.navigation([st.Page(screen, title=title, icon=":material/login:", url_path="sign-in")],
                  position="hidden").run()
    st.stop()


def _shared_workspace(settings: Settings) -> Workspace | None:
    from components.state import shared_workspace

    try:
        return shared_workspace()
    except Exception as exc:  # the gate needs the database to know who may come in
        failure = exc
    _only(lambda: show_error(failure, "Opening the workspace"))
    return None


def _admit(settings: Settings, email: str | None, email_verified: bool | None = None) -> bool:
    """Let the proven email in (True), or leave a refusal in the session (False)."""
    current = st.session_state.get(SIGNED_IN)
    if isinstance(current, sign_in.SignedIn) and current.actor.email == (email or "").strip().lower():
        return True
    ws = _shared_workspace(settings)
    try:
        st.session_state[SIGNED_IN] = sign_in.sign_in(ws, email, email_verified=email_verified)
    except sign_in.SignInRefusedError as exc:
        st.session_state.pop(SIGNED_IN, None)
        st.session_state[_REFUSAL] = _Refusal(exc.message, exc.hint)
        return False
    except AtelierError as exc:  # the database failed, say: tell the visitor, let nobody in
        failure = exc
        _only(lambda: show_error(failure, "Signing in"))
    st.session_state.pop(_REFUSAL, None)
    return True


def _refused_screen(settings: Settings):
    def screen() -> None:
        refusal = st.session_state.get(_REFUSAL)
        st.title("Not allowed")
        st.error(refusal.message if refusal else "You may not use this Atelier.", icon=":material/block:")
        if refusal and refusal.hint:
            st.caption(refusal.hint)
        if st.button("Sign out", type="primary", key="atelier_refused_sign_out"):
            _sign_out(settings)
    return screen


def _sign_out(settings: Settings) -> None:
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop(_REFUSAL, None)
    if settings.auth == "oidc":
        st.logout()  # clears the identity cookie and ends the provider's session where it can
        return
    session = st.session_state.pop(_SUPABASE, None)
    if session is not None:
        from core.platform import supabase_auth

        with guard("Signing out of Supabase"):
            supabase_auth.sign_out(supabase_auth.SupabaseConfig.load(), session.access_token)
    st.rerun()


# -- OpenID Connect through st.login ------------------------------------------------------------
def _gate_oidc(settings: Settings) -> None:
    problem = sign_in.oidc_problem(auth_secrets())
    if problem:
        _only(lambda: st.error(f"Sign-in is not set up: {problem}", icon=":material/error:"))
    if not st.user.get("is_logged_in"):
        st.session_state.pop(SIGNED_IN, None)
        _only(_oidc_screen)
    verified = st.user.get("email_verified")
    if not _admit(settings, st.user.get("email"), verified if isinstance(verified, bool) else None):
        _only(_refused_screen(settings), title="Not allowed")


def _oidc_screen() -> None:
    st.title("Atelier")
    st.write("Sign in to see your projects.")
    for name in sign_in.oidc_providers(auth_secrets()):
        label = "Sign in" if name == "default" else f"Sign in with {name}"
        if st.button(label, type="primary", icon=":material/login:", key=f"atelier_login_{name}"):
            st.login() if name == "default" else st.login(name)


# -- Supabase Auth --------------------------------------------------------------------------------
def _gate_supabase(settings: Settings) -> None:
    from core.platform import supabase_auth

    try:
        config = supabase_auth.SupabaseConfig.load()
    except AtelierError as exc:
        failure = exc
        _only(lambda: show_error(failure))
    token_hash = st.query_params.get("token_hash")
    if token_hash and _SUPABASE not in st.session_state:  # a magic link opened this session
        st.query_params.clear()  # the hash is single-use: keep it out of the address bar
        try:
            st.session_state[_SUPABASE] = supabase_auth.verify_magic_link(config, token_hash=token_hash)
        except AtelierError as exc:
            st.session_state[_SUPABASE_ERROR] = exc
    session = st.session_state.get(_SUPABASE)
    if session is None:
        st.session_state.pop(SIGNED_IN, None)
        _only(lambda: _supabase_screen(config))
    if not _admit(settings, session.user.email, session.user.confirmed):
        _only(_refused_screen(settings), title="Not allowed")


def _supabase_screen(config) -> None:
    from core.platform import supabase_auth

    st.title("Atelier")
    st.write("Sign in with your Supabase account to see your projects.")
    earlier = st.session_state.pop(_SUPABASE_ERROR, None)
    if earlier is not None:
        show_error(earlier)
    password_tab, link_tab = st.tabs(["Email and password", "Magic link"])
    # clear_on_submit: the password does not stay in the session's widget state or the page
    with password_tab, st.form("atelier_supabase_password", clear_on_submit=True):
        email = st.text_input("Email", key="atelier_sb_email")
        password = st.text_input("Password", type="password", key="atelier_sb_password")
        if st.form_submit_button("Sign in", type="primary"):
            with guard("Signing in"):
                st.session_state[_SUPABASE] = supabase_auth.sign_in_with_password(config, email, password)
                st.rerun()
    with link_tab:
        with st.form("atelier_supabase_link"):
            link_email = st.text_input("Email", key="atelier_sb_link_email")
            if st.form_submit_button("Email me a link"):
                with guard("Sending the magic link"):
                    supabase_auth.send_magic_link(config, link_email, redirect_to=st.context.url)
                    st.session_state[_MAGIC_SENT] = link_email.strip().lower()
        sent_to = st.session_state.get(_MAGIC_SENT)
        if sent_to:
            st.info(f"A sign-in email is on its way to {sent_to}: open its link, or type its code here.")
            with st.form("atelier_supabase_code", clear_on_submit=True):
                code = st.text_input("Code from the email", key="atelier_sb_code")
                if st.form_submit_button("Sign in with the code", type="primary"):
                    with guard("Signing in"):
                        st.session_state[_SUPABASE] = supabase_auth.verify_magic_link(config, email=sent_to,
                                                                                      code=code)
                        st.session_state.pop(_MAGIC_SENT, None)
                        st.rerun()
