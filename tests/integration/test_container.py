"""The container files agree with the code: the compose file's app reaches its own PostgreSQL and
MinIO with settings Atelier accepts, and the image runs the app and the API on the ports the docs
name.  The image itself is built only where a Docker daemon answers (CI with Docker)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from core.platform.config import Settings
from core.serve.deployment import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[2]


def _defaults(value: str) -> str:
    """A compose value with ``${VAR:-default}`` replaced by its default, as with no .env file."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_app_points_at_its_own_postgres_and_minio(compose):
    services = compose["services"]
    env = {k: _defaults(v) for k, v in services["app"]["environment"].items()}
    db = urlsplit(env["ATELIER_DATABASE_URL"])
    pg = {k: _defaults(v) for k, v in services["postgres"]["environment"].items()}
    assert (db.hostname, db.port, db.username, db.password, db.path) == (
        "postgres", 5432, pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], "/" + pg["POSTGRES_DB"])
    assert urlsplit(env["ATELIER_S3_ENDPOINT_URL"]).hostname == "minio"
    minio = {k: _defaults(v) for k, v in services["minio"]["environment"].items()}
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (minio["MINIO_ROOT_USER"],
                                                                        minio["MINIO_ROOT_PASSWORD"])
    bucket = urlsplit(env["ATELIER_ARTIFACTS_URL"]).netloc
    assert f"store/{bucket}" in " ".join(services["bucket"]["entrypoint"])  # the bucket it writes to exists
    settings = Settings(**{k.removeprefix("ATELIER_").lower(): v for k, v in env.items() if k.startswith("ATELIER_")})
    assert settings.database_url.startswith("postgresql+psycopg://") and settings.auth == "none"
    assert services["api"]["environment"] == services["app"]["environment"]
    assert str(DEFAULT_PORT) in " ".join(services["api"]["command"])


def test_the_image_runs_the_app_and_exposes_the_api_port():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"^EXPOSE .*\b8501\b.*\b{DEFAULT_PORT}\b", dockerfile, re.M)
    assert 'CMD ["streamlit", "run", "app.py"' in dockerfile and "pip install -r requirements.txt" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".atelier", ".streamlit/secrets.toml"} <= set(ignored)  # no secrets or local data inside


def test_the_image_builds_where_docker_runs():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode != 0:
        pytest.skip("no Docker daemon answers here: the image is built in CI where one runs")
    built = subprocess.run([docker, "build", "-q", "-t", "atelier-test", str(ROOT)], capture_output=True,
                           text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-2000:]
