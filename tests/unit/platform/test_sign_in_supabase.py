"""Supabase Auth through the real ``supabase`` client against a local double of its auth API
(tests/support/supabase_auth_double.py): password, magic link (hash and code), current user, sign
out, and each failure as a message a person can act on, never carrying a password or a token."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from core.platform import supabase_auth
from core.platform.errors import InvalidInputError, StorageError
from tests.support.supabase_auth_double import ANON_KEY, SupabaseAuthDouble

PASSWORD = "correct-horse-battery"


@pytest.fixture
def double() -> Iterator[SupabaseAuthDouble]:
    server = SupabaseAuthDouble().start()
    server.add_account("ann@example.org", PASSWORD)
    server.add_account("new@example.org", PASSWORD, confirmed=False)
    yield server
    server.stop()


@pytest.fixture
def config(double) -> supabase_auth.SupabaseConfig:
    return supabase_auth.SupabaseConfig(double.url, ANON_KEY)


def test_sign_in_with_a_password_gives_a_session_whose_user_supabase_confirms(config, double):
    session = supabase_auth.sign_in_with_password(config, " Ann@Example.org ", PASSWORD)
    assert session.user.email == "ann@example.org" and session.user.confirmed
    assert session.access_token in double.tokens
    assert supabase_auth.current_user(config, session.access_token) == session.user
    assert ("POST", "/auth/v1/token?grant_type=password") in double.requests
    assert session.access_token not in repr(session) and session.refresh_token not in repr(session)


def test_a_wrong_password_says_so_and_never_repeats_it(config):
    with pytest.raises(supabase_auth.SupabaseSignInError) as failure:
        supabase_auth.sign_in_with_password(config, "ann@example.org", "wrong-guess-123")
    assert failure.value.message == "Wrong email or password."
    assert "wrong-guess-123" not in failure.value.user_text()
    assert failure.value.__cause__ is None and failure.value.__suppress_context__  # no client error chained


def test_an_unconfirmed_address_is_told_to_confirm_it(config):
    with pytest.raises(supabase_auth.SupabaseSignInError, match="not confirmed yet") as failure:
        supabase_auth.sign_in_with_password(config, "new@example.org", PASSWORD)
    assert "confirmation email" in failure.value.hint


def test_a_magic_link_signs_in_once_by_its_hash(config, double):
    supabase_auth.send_magic_link(config, "ann@example.org", redirect_to="http://localhost:8501/")
    (link,) = double.outbox
    assert link.email == "ann@example.org" and link.redirect_to == "http://localhost:8501/"
    session = supabase_auth.verify_magic_link(config, token_hash=link.token_hash)
    assert session.user.email == "ann@example.org"
    with pytest.raises(supabase_auth.SupabaseSignInError, match="expired or was already used"):
        supabase_auth.verify_magic_link(config, token_hash=link.token_hash)


def test_the_code_of_a_magic_link_email_signs_in_too(config, double):
    supabase_auth.send_magic_link(config, "ann@example.org")
    code = double.outbox[-1].code
    with pytest.raises(supabase_auth.SupabaseSignInError, match="expired"):
        supabase_auth.verify_magic_link(config, email="someone@example.org", code=code)  # another address's code
    assert supabase_auth.verify_magic_link(config, email="ann@example.org", code=code).user.email == "ann@example.org"
    with pytest.raises(InvalidInputError, match="Type the code"):
        supabase_auth.verify_magic_link(config, email="ann@example.org")


def test_a_magic_link_creates_no_account(config, double):
    with pytest.raises(supabase_auth.SupabaseSignInError, match="no account in Supabase"):
        supabase_auth.send_magic_link(config, "stranger@example.org")
    assert double.outbox == [] and "stranger@example.org" not in double.accounts


def test_sign_out_ends_the_session_at_supabase(config, double):
    session = supabase_auth.sign_in_with_password(config, "ann@example.org", PASSWORD)
    supabase_auth.sign_out(config, session.access_token)
    assert session.access_token not in double.tokens
    assert ("POST", "/auth/v1/logout?scope=local") in double.requests
    with pytest.raises(supabase_auth.SupabaseSignInError, match="no longer valid"):
        supabase_auth.current_user(config, session.access_token)
    supabase_auth.sign_out(config, session.access_token)  # signing out twice is not an error


def test_an_unreachable_service_and_a_wrong_key_are_named(config):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageError, match="cannot be reached") as failure:
        supabase_auth.sign_in_with_password(supabase_auth.SupabaseConfig(f"http://127.0.0.1:{port}", ANON_KEY),
                                            "ann@example.org", PASSWORD)
    assert "SUPABASE_URL" in failure.value.hint
    with pytest.raises(InvalidInputError, match="refused this app's key"):
        supabase_auth.sign_in_with_password(supabase_auth.SupabaseConfig(config.url, "not-the-key"),
                                            "ann@example.org", PASSWORD)


def test_bad_input_is_refused_before_any_request(config, double):
    with pytest.raises(InvalidInputError, match="not an email address"):
        supabase_auth.sign_in_with_password(config, "ann", PASSWORD)
    with pytest.raises(InvalidInputError, match="password"):
        supabase_auth.sign_in_with_password(config, "ann@example.org", "")
    assert double.requests == []


def test_the_project_url_and_key_come_from_the_environment_or_the_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('SUPABASE_URL = "https://abcd.supabase.co/"\n[atelier]\nSUPABASE_ANON_KEY = "k-from-file"\n')
    loaded = supabase_auth.SupabaseConfig.load(secrets)
    assert loaded.url == "https://abcd.supabase.co" and loaded.key == "k-from-file"
    assert "k-from-file" not in repr(loaded)
    monkeypatch.setenv("SUPABASE_ANON_KEY", "k-from-env")
    assert supabase_auth.SupabaseConfig.load(secrets).key == "k-from-env"
    with pytest.raises(InvalidInputError, match="SUPABASE_URL is not set"):
        supabase_auth.SupabaseConfig.load(tmp_path / "none.toml")
    monkeypatch.setenv("SUPABASE_URL", "abcd.supabase.co")
    with pytest.raises(InvalidInputError, match="must start with https://"):
        supabase_auth.SupabaseConfig.load(tmp_path / "none.toml")
