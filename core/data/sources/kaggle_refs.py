"""What a Kaggle import names and who it signs in as: handles and URLs parsed, credentials found,
and a stored ``kaggle.json``.

A reference is a dataset (``owner/slug``, ``owner/slug/versions/N`` or its kaggle.com URL) or a
competition (``competitions/NAME``, a bare ``NAME`` or its URL).  Credentials come, first found,
from ``KAGGLE_API_TOKEN``; ``KAGGLE_USERNAME``/``KAGGLE_KEY`` (environment or secrets file); the
workspace's stored ``secrets/kaggle.json`` (uploaded on the Settings page); kagglehub's own places
(``~/.kaggle``, ``KAGGLE_CONFIG_DIR``).  Only where they came from is ever shown, never the key.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.platform.config import read_secret
from core.platform.errors import InvalidInputError

__all__ = ["KaggleCredentials", "KaggleRef", "TOKEN_HELP", "find_credentials", "kaggle_json_path", "parse_ref",
           "remove_kaggle_json", "store_kaggle_json"]

TOKEN_HELP = ("Create an API token at https://www.kaggle.com/settings (API → Create New Token), then set "
              "KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or upload the kaggle.json on the Settings page.")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class KaggleRef:
    """A Kaggle dataset (``owner``, ``slug``, optional ``version``) or a competition (``competition``)."""

    owner: str = ""
    slug: str = ""
    version: int | None = None
    competition: str = ""

    @property
    def is_competition(self) -> bool:
        return bool(self.competition)

    @property
    def handle(self) -> str:
        """``owner/slug`` or ``competitions/NAME`` (no version: what a refresh pulls again)."""
        return f"competitions/{self.competition}" if self.competition else f"{self.owner}/{self.slug}"

    def web_url(self, version: int | None = None) -> str:
        if self.competition:
            return f"https://www.kaggle.com/competitions/{self.competition}"
        version = version if version is not None else self.version
        return f"https://www.kaggle.com/datasets/{self.owner}/{self.slug}" + (f"/versions/{version}" if version else "")

    def __str__(self) -> str:
        return self.handle + (f"/versions/{self.version}" if self.version else "")


def parse_ref(text: str) -> KaggleRef:
    """``owner/slug[/versions/N]``, ``competitions/NAME``, a bare competition ``NAME``, or a kaggle.com URL."""
    raw = (text or "").strip()
    path = raw
    if "://" in raw or raw.lower().startswith(("www.kaggle.com", "kaggle.com")):
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        if not (parts.hostname or "").endswith("kaggle.com"):
            raise InvalidInputError(f"{raw!r} is not a Kaggle address.",
                                    hint="Paste a kaggle.com/datasets/… or kaggle.com/competitions/… link, "
                                    "or owner/slug.")
        path = parts.path
    bits = [b for b in path.strip("/").split("/") if b]
    if bits and bits[0] == "datasets":
        bits = bits[1:]
    if bits and bits[0] in ("competitions", "c"):
        if len(bits) < 2 or not _SLUG.match(bits[1]):
            raise InvalidInputError(f"{raw!r} does not name a competition.",
                                    hint="Write competitions/NAME, e.g. competitions/titanic.")
        return KaggleRef(competition=bits[1])
    if len(bits) == 1 and _SLUG.match(bits[0]):
        return KaggleRef(competition=bits[0])
    if len(bits) >= 2 and _SLUG.match(bits[0]) and _SLUG.match(bits[1]):
        rest = bits[2:]
        if not rest or rest[0] in ("data", "code", "discussion"):
            return KaggleRef(owner=bits[0], slug=bits[1])
        if rest[0] == "versions" and len(rest) >= 2 and rest[1].isdigit() and int(rest[1]) > 0:
            return KaggleRef(owner=bits[0], slug=bits[1], version=int(rest[1]))
    raise InvalidInputError(
        f"{raw!r} is not a Kaggle dataset handle or competition name.",
        hint="Write owner/slug (optionally owner/slug/versions/N), competitions/NAME, or paste the kaggle.com link.")


@dataclass(frozen=True)
class KaggleCredentials:
    """A bearer ``token`` or a legacy ``username``/``key`` pair; ``source`` says where they were found."""

    source: str
    token: str | None = None
    username: str | None = None
    key: str | None = None

    def __repr__(self) -> str:  # never print the key
        return f"KaggleCredentials(source={self.source!r}, username={self.username!r})"


def kaggle_json_path(home: Path) -> Path:
    """Where the workspace keeps an uploaded ``kaggle.json`` (outside the metadata store)."""
    return Path(home) / "secrets" / "kaggle.json"


def _from_json(text: str, where: str) -> KaggleCredentials:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"{where} is not a kaggle.json file: {exc}.", hint=TOKEN_HELP) from exc
    if not isinstance(data, dict) or not str(data.get("key") or "").strip():
        raise InvalidInputError(f"{where} has no \"key\" in it, so it is not a Kaggle API token file.", hint=TOKEN_HELP)
    user = str(data.get("username") or "").strip()
    key = str(data["key"]).strip()
    if not user:  # a new-style token file holds the token alone
        return KaggleCredentials(where, token=key)
    return KaggleCredentials(where, username=user, key=key)


def store_kaggle_json(home: Path, content: bytes | str) -> KaggleCredentials:
    """Check ``content`` is a kaggle.json and keep it as the workspace's secret file (mode 0600)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    creds = _from_json(text, "The uploaded file")
    path = kaggle_json_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)
    return KaggleCredentials("the stored kaggle.json", creds.token, creds.username, creds.key)


def remove_kaggle_json(home: Path) -> bool:
    """Delete the workspace's stored ``kaggle.json``; ``False`` when there was none.

    Credentials from the environment, the secrets file or ``~/.kaggle`` are not touched (they are
    not Atelier's to delete): :func:`find_credentials` says which, if any, remain.
    """
    path = kaggle_json_path(home)
    path.with_suffix(".tmp").unlink(missing_ok=True)  # a half-written upload too
    if not path.is_file():
        return False
    path.unlink()
    return True


def find_credentials(home: Path | None = None) -> KaggleCredentials | None:
    """The first credentials found (see the module notes); ``None`` when there are none."""
    if token := read_secret("KAGGLE_API_TOKEN"):
        if len(token) < 4096 and Path(token.strip()).is_file():  # kagglesdk also takes the path of a token file
            token = Path(token.strip()).read_text(encoding="utf-8")
        return KaggleCredentials("KAGGLE_API_TOKEN", token=token.strip())
    user, key = read_secret("KAGGLE_USERNAME"), read_secret("KAGGLE_KEY")
    if user and key:
        return KaggleCredentials("KAGGLE_USERNAME/KAGGLE_KEY", username=user.strip(), key=key.strip())
    if home is not None and (path := kaggle_json_path(home)).is_file():
        return _from_json(path.read_text(encoding="utf-8"), "the stored kaggle.json")
    from kagglehub.config import get_kaggle_credentials

    try:
        found = get_kaggle_credentials()
    except ValueError as exc:  # a broken ~/.kaggle/kaggle.json
        raise InvalidInputError(str(exc), hint=TOKEN_HELP) from exc
    if found is None:
        return None
    if found.api_key:
        return KaggleCredentials("kagglehub's token file", token=found.api_key)
    return KaggleCredentials("~/.kaggle/kaggle.json", username=found.username, key=found.key)
