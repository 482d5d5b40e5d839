"""Settings: one object, read from ``ATELIER_*`` environment variables or
``.streamlit/secrets.toml``, with embedded defaults that need no server.

Precedence (highest first): explicit keyword, environment, secrets file,
embedded default.  Secrets (passwords inside URLs, keys) are never printed:
use :meth:`Settings.describe` for anything shown to a person.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.platform.errors import InvalidInputError

SECRETS_FILE = Path(".streamlit") / "secrets.toml"
ENV_PREFIX = "ATELIER_"


def _read_secrets(path: Path) -> dict[str, str]:
    """Flat ``ATELIER_*``-style keys from a Streamlit secrets file, if any."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(
            f"The secrets file {path} cannot be read: {exc}.",
            hint="Fix the TOML syntax or remove the file to use the defaults.",
        ) from exc
    section = data.get("atelier", {})
    flat = {k.upper(): v for k, v in data.items() if not isinstance(v, dict)}
    flat.update({k.upper(): v for k, v in section.items()})
    return {k.removeprefix(ENV_PREFIX): str(v) for k, v in flat.items()}


def redact_url(url: str) -> str:
    """Hide the password of a URL such as ``postgresql://u:pw@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def read_secret(name: str, secrets_file: Path | None = None) -> str | None:
    """The secret called ``name``: an environment variable of that name, else a key of the secrets
    file (top level or ``[atelier]``); ``None`` when neither has it.  Callers store the name, never
    the value."""
    key = (name or "").strip()
    if not key:
        return None
    if os.environ.get(key):
        return os.environ[key]
    value = _read_secrets(secrets_file or SECRETS_FILE).get(key.upper().removeprefix(ENV_PREFIX))
    return value or None


@dataclass(frozen=True)
class Settings:
    """Where Atelier keeps things and how big an upload may be.

    Parameters
    ----------
    home : local scratch folder (default ``./.atelier``).
    artifacts_url : ``file://…`` or ``s3://bucket/prefix``.
    database_url : any SQLAlchemy URL; SQLite and PostgreSQL are tested.
    s3_endpoint_url : endpoint of an S3-compatible server (R2, MinIO).
    dask_scheduler : ``tcp://host:8786`` to run jobs on a Dask cluster.
    max_upload_mb : largest file accepted by the importers.
    use_gpu : let XGBoost / LightGBM train on CUDA when one is present.
    serve_max_body_mb : largest request body the HTTP prediction API reads.
    serve_timeout_s : longest a prediction request may take before it answers 504.
    serve_max_concurrent : prediction requests scored at once; more answer 503 at once.
    serve_require_key : refuse every prediction request without an API key, even before one exists.
    serve_refresh_ms : how long the API trusts which version is in production (and which keys exist).
    serve_sample_share : share of served requests kept for the prediction-run history (0 keeps none).
    serve_window_s : length of one monitoring window of the API: one prediction run per model version.
    alert_drift_share : share of drifted features in a window from which an alert is recorded.
    alert_error_rate : share of failed requests in a window from which an alert is recorded.
    alert_webhook_url : where each alert is also POSTed as JSON (empty: nowhere).
    auth : ``none`` (single user, the default), ``oidc`` or ``supabase``.
    admins : comma-separated emails that own the first project and may create projects.
    allowed : comma-separated emails or ``@domain`` that may sign in (empty: admins and members only).
    user : the email the command line and jobs act as when sign-in is configured.
    project : the project worked in (empty: the default project).
    database_pooler : ``auto`` (port 6543, Supabase's transaction pooler, is one), ``transaction`` (a
        pgbouncer in transaction mode: no prepared statements) or ``none``.
    """

    home: Path = field(default_factory=lambda: Path(".atelier"))
    artifacts_url: str = ""
    database_url: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    dask_scheduler: str | None = None
    max_upload_mb: int = 2048
    use_gpu: bool = False
    serve_max_body_mb: int = 64
    serve_timeout_s: int = 30
    serve_max_concurrent: int = 32
    serve_require_key: bool = False
    serve_refresh_ms: int = 1000
    serve_sample_share: float = 0.1
    serve_window_s: int = 60
    alert_drift_share: float = 0.3
    alert_error_rate: float = 0.05
    alert_webhook_url: str = ""
    auth: str = "none"
    admins: str = ""
    allowed: str = ""
    user: str = ""
    project: str = ""
    database_pooler: str = "auto"

    def __post_init__(self) -> None:
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        if not self.artifacts_url:
            object.__setattr__(self, "artifacts_url", (home / "artifacts").as_uri())
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'atelier.db'}")
        if self.max_upload_mb <= 0:
            raise InvalidInputError(
                f"ATELIER_MAX_UPLOAD_MB must be a positive number of megabytes, got {self.max_upload_mb}."
            )
        for name in ("serve_max_body_mb", "serve_timeout_s", "serve_max_concurrent"):
            if getattr(self, name) <= 0:
                raise InvalidInputError(f"ATELIER_{name.upper()} must be a positive whole number, "
                                        f"got {getattr(self, name)}.")
        if self.serve_refresh_ms < 0:
            raise InvalidInputError(f"ATELIER_SERVE_REFRESH_MS must be 0 or more milliseconds, "
                                    f"got {self.serve_refresh_ms}.")
        for name in ("serve_sample_share", "alert_drift_share", "alert_error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInputError(f"ATELIER_{name.upper()} is a share from 0 to 1, got {getattr(self, name)}.")
        if self.auth.strip().lower() not in {"none", "oidc", "supabase"}:
            raise InvalidInputError(f"ATELIER_AUTH must be none, oidc or supabase, got {self.auth!r}.")
        object.__setattr__(self, "auth", self.auth.strip().lower())
        if self.database_pooler.strip().lower() not in {"auto", "transaction", "none"}:
            raise InvalidInputError(f"ATELIER_DATABASE_POOLER must be auto, transaction or none, "
                                    f"got {self.database_pooler!r}.")
        object.__setattr__(self, "database_pooler", self.database_pooler.strip().lower())
        if self.serve_window_s <= 0:
            raise InvalidInputError(f"ATELIER_SERVE_WINDOW_S must be a positive whole number of seconds, "
                                    f"got {self.serve_window_s}.")

    @classmethod
    def load(cls, secrets_file: Path | None = None, **overrides: object) -> Settings:
        """Read settings from the environment and the secrets file."""
        raw = _read_secrets(secrets_file or SECRETS_FILE)
        raw.update({k.removeprefix(ENV_PREFIX): v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)})
        values: dict[str, object] = {}
        for f in fields(cls):
            key = f.name.upper()
            if key in raw and raw[key] != "":
                values[f.name] = _coerce(f.name, raw[key], f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def staging_dir(self) -> Path:
        """Local folder for uploads waiting to be converted by a job."""
        return self.home / "staging"

    def to_env(self) -> dict[str, str]:
        """These settings as ``ATELIER_*`` variables, for a job's own process."""
        return {ENV_PREFIX + k.upper(): str(v) for k, v in asdict(self).items() if v is not None}

    def describe(self) -> dict[str, str]:
        """Settings as text safe to show: passwords replaced by ``***``."""
        shown = {k: ("" if v is None else str(v)) for k, v in asdict(self).items()}
        shown["artifacts_url"] = redact_url(self.artifacts_url)
        shown["database_url"] = redact_url(self.database_url)
        return shown


def _coerce(name: str, value: str, annotation: object) -> object:
    text = str(value).strip()
    kind = str(annotation)
    if "bool" in kind:
        return text.lower() in {"1", "true", "yes", "on"}
    if kind == "float":
        try:
            return float(text)
        except ValueError as exc:
            raise InvalidInputError(f"ATELIER_{name.upper()} must be a number, got {text!r}.") from exc
    if "int" in kind:
        try:
            return int(text)
        except ValueError as exc:
            raise InvalidInputError(f"ATELIER_{name.upper()} must be a whole number, got {text!r}.") from exc
    if "Path" in kind:
        return Path(text)
    return text
