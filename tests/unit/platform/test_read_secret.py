"""read_secret: a secret by name, from the environment first, then the secrets file."""

from __future__ import annotations

from core.platform.config import read_secret


def test_environment_then_secrets_file_then_none(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('SHOP_DB_PASSWORD = "from-file"\n[atelier]\nOTHER = "nested"\n', encoding="utf-8")
    assert read_secret("SHOP_DB_PASSWORD", secrets) == "from-file"
    assert read_secret("OTHER", secrets) == "nested"
    monkeypatch.setenv("SHOP_DB_PASSWORD", "from-env")
    assert read_secret("SHOP_DB_PASSWORD", secrets) == "from-env"
    assert read_secret("MISSING", secrets) is None and read_secret("", secrets) is None
