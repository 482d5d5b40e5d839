"""A local HTTP double of Supabase Auth (GoTrue) for the real ``supabase`` client.

It serves what Atelier calls, on 127.0.0.1, answering as GoTrue does (API version 2024-01-01:
errors are ``{"code": "<error code>", "message": …}`` with the version header):

- ``POST /auth/v1/token?grant_type=password``: a session, or invalid_credentials / email_not_confirmed
- ``POST /auth/v1/otp``: "sends" a magic link: kept in ``outbox`` (token hash and 6-digit code)
- ``POST /auth/v1/verify``: a session for a token hash, or for an email and its code; each once
- ``GET /auth/v1/user``: the user of a bearer token; revoked or unknown tokens get 403 bad_jwt
- ``POST /auth/v1/logout``: revokes the bearer token

Every request must carry the project's ``apikey`` header; ``requests`` records what came in so a
test can check what the client sent.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ANON_KEY = "test-anon-key"  # a dummy: the double checks it is sent
API_VERSION = "2024-01-01"


@dataclass
class Account:
    email: str
    password: str
    confirmed: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class MagicLink:
    email: str
    token_hash: str
    code: str
    redirect_to: str | None
    used: bool = False


class SupabaseAuthDouble:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.outbox: list[MagicLink] = []
        self.tokens: dict[str, str] = {}  # live access token -> email
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self.answers: list[int] = []  # the status of each answer, in the same order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_account(self, email: str, password: str, confirmed: bool = True) -> Account:
        account = Account(email.lower(), password, confirmed)
        self.accounts[account.email] = account
        return account

    def start(self) -> SupabaseAuthDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- GoTrue's answers ------------------------------------------------------------------------
    def _user_json(self, account: Account) -> dict:
        now = "2026-11-01T00:00:00Z"
        return {"id": account.id, "aud": "authenticated", "role": "authenticated", "email": account.email,
                "email_confirmed_at": now if account.confirmed else None, "app_metadata": {"provider": "email"},
                "user_metadata": {}, "created_at": now, "updated_at": now}

    def _session_json(self, account: Account) -> dict:
        token = "at-" + secrets.token_hex(16)
        with self._lock:
            self.tokens[token] = account.email
        return {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                "expires_at": int(time.time()) + 3600, "refresh_token": "rt-" + secrets.token_hex(8),
                "user": self._user_json(account)}

    def answer(self, method: str, path: str, query: dict, headers, body: dict) -> tuple[int, dict | None]:
        if headers.get("apikey") != ANON_KEY:
            return 401, {"message": "Invalid API key"}
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if method == "POST" and path == "/auth/v1/token" and query.get("grant_type") == ["password"]:
            account = self.accounts.get(str(body.get("email", "")).lower())
            if account is None or account.password != body.get("password"):
                return 400, {"code": "invalid_credentials", "message": "Invalid login credentials"}
            if not account.confirmed:
                return 400, {"code": "email_not_confirmed", "message": "Email not confirmed"}
            return 200, self._session_json(account)
        if method == "POST" and path == "/auth/v1/otp":
            email = str(body.get("email", "")).lower()
            if email not in self.accounts and not body.get("create_user", True):
                return 422, {"code": "otp_disabled", "message": "Signups not allowed for otp"}
            link = MagicLink(email, secrets.token_hex(20), f"{secrets.randbelow(10**6):06d}",
                             (query.get("redirect_to") or [None])[0])
            self.outbox.append(link)
            return 200, {}
        if method == "POST" and path == "/auth/v1/verify":
            link = next((m for m in self.outbox if not m.used and (
                (body.get("token_hash") and m.token_hash == body["token_hash"])
                or (body.get("token") and m.code == body["token"]
                    and m.email == str(body.get("email", "")).lower()))), None)
            if link is None or link.email not in self.accounts:
                return 403, {"code": "otp_expired", "message": "Token has expired or is invalid"}
            link.used = True
            return 200, self._session_json(self.accounts[link.email])
        if method == "GET" and path == "/auth/v1/user":
            email = self.tokens.get(bearer)
            if email is None:
                return 403, {"code": "bad_jwt", "message": "invalid JWT: unable to parse or verify signature"}
            return 200, self._user_json(self.accounts[email])
        if method == "POST" and path == "/auth/v1/logout":
            with self._lock:
                if self.tokens.pop(bearer, None) is None:
                    return 403, {"code": "session_not_found", "message": "Session not found"}
            return 204, None
        return 404, {"code": "not_found", "message": f"{method} {path} is not served by this double"}


def _handler(double: SupabaseAuthDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            double.requests.append((method, self.path))
            status, payload = double.answer(method, parts.path, parse_qs(parts.query), self.headers, body)
            double.answers.append(status)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("X-Supabase-Api-Version", API_VERSION)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, *args) -> None:  # quiet: tests read `requests` instead
            pass

    return Handler
