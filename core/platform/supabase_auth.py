"""Supabase Auth through the ``supabase`` client: email + password, magic link, current user, sign out.

The project's URL and its public (anon or publishable) key come from ``SUPABASE_URL`` and
``SUPABASE_ANON_KEY`` (or ``SUPABASE_KEY``), as environment variables or keys of
``.streamlit/secrets.toml``.  Every failure becomes an ``AtelierError`` a person can act on
(wrong password, address not confirmed, service unreachable); tokens are returned to the caller,
which keeps them in the server-side session only, and never appear in a message.

A magic link signs in on the server when its email template points at the app with the token's
hash, as Supabase advises for server-side apps:
``{{ .SiteURL }}/?token_hash={{ .TokenHash }}&type=email``; the 6-digit code of the same email
(``{{ .Token }}``) works too, typed into the sign-in screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from supabase import ClientOptions, SupabaseException, create_client
from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError

from core.platform.config import read_secret
from core.platform.errors import AtelierError, InvalidInputError, PermissionDeniedError, StorageError

TIMEOUT_S = 10.0


class SupabaseSignInError(PermissionDeniedError):
    """Supabase did not accept the credentials."""


@dataclass(frozen=True)
class SupabaseConfig:
    url: str
    key: str = field(repr=False)  # public by design, but still not printed

    @classmethod
    def load(cls, secrets_file: Path | None = None) -> SupabaseConfig:
        url = (read_secret("SUPABASE_URL", secrets_file) or "").strip()
        key = read_secret("SUPABASE_ANON_KEY", secrets_file) or read_secret("SUPABASE_KEY", secrets_file) or ""
        key = key.strip()
        if not url or not key:
            raise InvalidInputError(
                "ATELIER_AUTH=supabase, but " + ("SUPABASE_URL" if not url else "SUPABASE_ANON_KEY") + " is not set.",
                hint="Set SUPABASE_URL (https://<ref>.supabase.co) and SUPABASE_ANON_KEY (the project's anon or "
                     "publishable key) as environment variables or in .streamlit/secrets.toml.")
        if not url.startswith(("http://", "https://")):
            raise InvalidInputError(f"SUPABASE_URL must start with https://, got {url!r}.")
        return cls(url.rstrip("/"), key)


@dataclass(frozen=True)
class SupabaseUser:
    id: str
    email: str
    confirmed: bool


@dataclass(frozen=True)
class SupabaseSession:
    user: SupabaseUser
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: int | None = None


@contextmanager
def _auth(config: SupabaseConfig) -> Iterator:
    """The client's auth API; no background refresh thread, no shared storage, one client per call."""
    with httpx.Client(timeout=TIMEOUT_S) as http:
        options = ClientOptions(auto_refresh_token=False, persist_session=False, flow_type="implicit",
                                httpx_client=http)
        try:
            client = create_client(config.url, config.key, options=options)
        except SupabaseException as exc:
            raise InvalidInputError(f"SUPABASE_URL {config.url!r} cannot be used: {exc}.") from None
        try:
            yield client.auth
        except AuthError as exc:
            # raised from None: the client's error can carry the request, tokens included
            raise _explain(exc, config) from None


_MESSAGES = {
    "invalid_credentials": ("Wrong email or password.", "Check both, or sign in with a magic link instead."),
    "email_not_confirmed": ("This email address is not confirmed yet.",
                            "Open the confirmation email Supabase sent you, then sign in again."),
    "otp_expired": ("The link or code has expired or was already used.", "Ask for a new magic link."),
    "user_banned": ("This account is blocked in Supabase.", "Ask the administrator of the Supabase project."),
    "otp_disabled": ("Magic links are not open to this address: it has no account in Supabase.",
                     "Ask the administrator to invite you in Supabase, or sign in with a password."),
    "signup_disabled": ("This address has no account in Supabase, and sign-ups are closed.",
                        "Ask the administrator to invite you in Supabase."),
    "over_email_send_rate_limit": ("Too many emails were sent to this address just now.",
                                   "Wait a minute before asking for another magic link."),
    "over_request_rate_limit": ("Too many sign-in attempts just now.", "Wait a minute, then try again."),
    "bad_jwt": ("Your Supabase session is no longer valid.", "Sign in again."),
    "session_not_found": ("Your Supabase session has ended.", "Sign in again."),
}


def _explain(exc: AuthError, config: SupabaseConfig) -> AtelierError:
    """A message a person can act on; Supabase's own text only where no code says more."""
    if isinstance(exc, AuthRetryableError):
        return StorageError(f"Supabase Auth at {config.url} cannot be reached ({exc.message}).",
                            hint="Check SUPABASE_URL and the network, then try again.")
    code = getattr(exc, "code", None)
    if code in _MESSAGES:
        message, hint = _MESSAGES[code]
        return SupabaseSignInError(message, hint=hint)
    status = getattr(exc, "status", None)
    if isinstance(exc, AuthApiError) and status in (401, 403) and "api key" in exc.message.lower():
        return InvalidInputError("Supabase refused this app's key.", hint="Check SUPABASE_ANON_KEY.")
    return SupabaseSignInError(f"Supabase refused the sign-in: {exc.message}")


def _user(raw) -> SupabaseUser:
    if raw is None or not raw.email:
        raise SupabaseSignInError("Supabase answered without the account's email address.")
    return SupabaseUser(raw.id, raw.email.strip().lower(), raw.email_confirmed_at is not None)


def _session(response) -> SupabaseSession:
    session = response.session
    if session is None:  # GoTrue answers a user without a session while the email is unconfirmed
        message, hint = _MESSAGES["email_not_confirmed"]
        raise SupabaseSignInError(message, hint=hint)
    return SupabaseSession(_user(session.user), session.access_token, session.refresh_token, session.expires_at)


def _check_email(email: str) -> str:
    text = (email or "").strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise InvalidInputError(f"{email!r} is not an email address.", hint="Write it as name@example.org.")
    return text


def sign_in_with_password(config: SupabaseConfig, email: str, password: str) -> SupabaseSession:
    email = _check_email(email)
    if not password:
        raise InvalidInputError("Type your password.")
    with _auth(config) as auth:
        response = auth.sign_in_with_password({"email": email, "password": password})
    return _session(response)


def send_magic_link(config: SupabaseConfig, email: str, redirect_to: str | None = None) -> None:
    """Ask Supabase to email a magic link (and code) to an existing account; creates no account."""
    email = _check_email(email)
    options: dict = {"should_create_user": False}
    if redirect_to:
        options["email_redirect_to"] = redirect_to
    with _auth(config) as auth:
        auth.sign_in_with_otp({"email": email, "options": options})


def verify_magic_link(config: SupabaseConfig, *, token_hash: str | None = None, email: str | None = None,
                      code: str | None = None) -> SupabaseSession:
    """Sign in with a magic link's token hash, or with the email and the code from the same email."""
    if token_hash:
        params = {"token_hash": token_hash.strip(), "type": "email"}
    elif email and code:
        params = {"email": _check_email(email), "token": code.strip(), "type": "email"}
    else:
        raise InvalidInputError("Type the code from the email, or open the link it contains.")
    with _auth(config) as auth:
        response = auth.verify_otp(params)
    return _session(response)


def current_user(config: SupabaseConfig, access_token: str) -> SupabaseUser:
    """The account an access token belongs to, asked of Supabase now (a revoked token fails)."""
    with _auth(config) as auth:
        response = auth.get_user(access_token)
    return _user(response.user if response is not None else None)


def sign_out(config: SupabaseConfig, access_token: str) -> None:
    """End the session at Supabase (its refresh token stops working); an ended one is fine."""
    with _auth(config) as auth:
        try:
            auth.admin.sign_out(access_token, "local")
        except AuthApiError as exc:
            if exc.status not in (401, 403, 404):
                raise


__all__ = ["SupabaseConfig", "SupabaseSession", "SupabaseSignInError", "SupabaseUser", "current_user",
           "send_magic_link", "sign_in_with_password", "sign_out", "verify_magic_link"]
