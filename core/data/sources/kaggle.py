"""Kaggle datasets and competitions as a source: list a handle's files, import one as a table.

The client is Kaggle's own (``kagglesdk``'s ``KaggleClient``, the one kagglehub builds, with
kagglehub's user agent and its ``KAGGLE_API_ENVIRONMENT`` endpoint), made here so that the
credentials of :mod:`.kaggle_refs` (a stored ``kaggle.json`` too) are used and the download streams
to a staging file with byte progress and a size check.  Each call is ``POST …/v1/<service>/<Method>``;
``DownloadDataset`` / ``DownloadDataFile`` answer 302 to the file.  HTTP errors become messages
that say what to do (token, rules link, handle); a download cut halfway fails and leaves nothing.
Provenance holds kind, handle, version and file, never a credential.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data.sources.archives import unpack
from core.data.sources.files import read_table
from core.data.sources.kaggle_refs import TOKEN_HELP, KaggleCredentials, KaggleRef, find_credentials, parse_ref
from core.data.sources.registry import SourceTable, register_reader
from core.data.sources.sniff import SUPPORTED_EXTENSIONS
from core.platform.display import format_bytes
from core.platform.errors import AtelierError, InvalidInputError, NotFoundError, StorageError
from core.platform.progress import ProgressFn

__all__ = ["KaggleFile", "list_files", "read_kaggle"]

_CHUNK = 256 << 10  # a cut loses the chunk being read: resuming starts before it
_TIMEOUT = (10, 60)  # connect, between bytes
_RESUMES = 3  # a download cut this many times more is given up


@dataclass(frozen=True)
class KaggleFile:
    """One file of a dataset version or a competition."""

    name: str
    size: int

    @property
    def size_text(self) -> str:
        return format_bytes(self.size)

    @property
    def is_table(self) -> bool:
        suffix = Path(self.name).suffix.lower().lstrip(".")
        return suffix in SUPPORTED_EXTENSIONS or suffix in ("zip", "gz")


def _client(creds: KaggleCredentials | None):
    from kagglehub.clients import get_user_agent
    from kagglesdk.kaggle_client import KaggleClient
    from kagglesdk.kaggle_env import get_env

    if creds is None:
        raise InvalidInputError("There are no Kaggle credentials, so Kaggle cannot be reached.", hint=TOKEN_HELP)
    # verbose=False: kagglesdk's TEST mode prints every request (the token too) and reads bodies whole
    return KaggleClient(env=get_env(), verbose=False, username=creds.username, password=creds.key,
                        api_token=creds.token, user_agent=get_user_agent())


def _translate(exc: BaseException, ref: KaggleRef, creds: KaggleCredentials | None, file: str | None = None
               ) -> AtelierError:
    import requests

    if isinstance(exc, AtelierError):
        return exc
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    what = f"the competition {ref.competition!r}" if ref.is_competition else f"the dataset {ref}"
    if status == 401:
        return InvalidInputError(f"Kaggle refused the credentials from {creds.source if creds else 'nowhere'} (401).",
                                 hint="The token may be expired or mistyped. " + TOKEN_HELP)
    if status == 403 and ref.is_competition:
        return InvalidInputError(
            f"You have not accepted the rules of the Kaggle competition {ref.competition!r}, so its data is "
            "closed (403).",
            hint=f"Accept them at https://www.kaggle.com/competitions/{ref.competition}/rules with the Kaggle account "
            "of these credentials, then import again.")
    if status == 403:
        return InvalidInputError(f"Kaggle denies access to {what} (403): it is private or needs consent.",
                                 hint=f"Open {ref.web_url()} signed in as the token's owner, or use another token.")
    if status == 404:
        if file:
            return NotFoundError(f"Kaggle has no file {file!r} in {what} (404).",
                                 hint="List its files and pick one of the names shown (names are case-sensitive).")
        return NotFoundError(f"Kaggle has no {what.replace('the ', '', 1)} (404).",
                             hint="Check the handle: owner/slug as in kaggle.com/datasets/owner/slug, or "
                             "competitions/NAME.")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                        requests.exceptions.Timeout)):
        return StorageError(f"The connection to Kaggle failed while reading {what}: {type(exc).__name__}.",
                            hint="Check the network and try again; nothing was saved.")
    if status is not None:
        return StorageError(f"Kaggle answered {status} for {what}: {exc}.", hint="Try again later.")
    return StorageError(f"Reading {what} from Kaggle failed: {exc}.", hint="Try again; nothing was saved.")


def _current_version(client, ref: KaggleRef) -> int | None:
    from kagglesdk.datasets.types.dataset_api_service import ApiGetDatasetRequest

    request = ApiGetDatasetRequest()
    request.owner_slug, request.dataset_slug = ref.owner, ref.slug
    return client.datasets.dataset_api_client.get_dataset(request).current_version_number


def _list(client, ref: KaggleRef, version: int | None) -> list[KaggleFile]:
    found: list[KaggleFile] = []
    token: str | None = None
    while True:
        if ref.is_competition:
            from kagglesdk.competitions.types.competition_api_service import ApiListDataFilesRequest

            request = ApiListDataFilesRequest()
            request.competition_name = ref.competition
            if token:
                request.page_token = token
            page = client.competitions.competition_api_client.list_data_files(request)
            found += [KaggleFile(f.name or f.ref, int(f.total_bytes or 0)) for f in page.files]
        else:
            from kagglesdk.datasets.types.dataset_api_service import ApiListDatasetFilesRequest

            request = ApiListDatasetFilesRequest()
            request.owner_slug, request.dataset_slug = ref.owner, ref.slug
            if version:
                request.dataset_version_number = version
            if token:
                request.page_token = token
            page = client.datasets.dataset_api_client.list_dataset_files(request)
            if page.error_message:
                raise StorageError(f"Kaggle could not list the files of {ref}: {page.error_message}.")
            found += [KaggleFile(f.name or f.ref, int(f.total_bytes or 0)) for f in page.dataset_files]
        token = page.next_page_token
        if not token or len(found) >= 10_000:
            return found


def list_files(handle: str | KaggleRef, *, home: Path | None = None) -> tuple[KaggleRef, int | None, list[KaggleFile]]:
    """The files of a dataset (its current version unless the handle names one) or a competition.

    Returns the parsed reference, the dataset version listed (``None`` for a competition) and the files.
    """
    ref = parse_ref(handle) if isinstance(handle, str) else handle
    creds = find_credentials(home)
    try:
        with _client(creds) as client:
            version = None if ref.is_competition else (ref.version or _current_version(client, ref))
            return ref, version, _list(client, ref, version)
    except Exception as exc:
        raise _translate(exc, ref, creds) from exc


def _pick(files: list[KaggleFile], ref: KaggleRef) -> str:
    tables = [f.name for f in files if f.is_table]
    if len(tables) == 1:
        return tables[0]
    if not tables:
        raise InvalidInputError(f"{ref} has no CSV, Parquet, JSON or Excel file (nor a zip of one).",
                                hint="Pick a dataset with a table in it; its files: "
                                + (", ".join(f.name for f in files[:15]) or "none") + ".")
    shown = ", ".join(tables[:15]) + (" …" if len(tables) > 15 else "")
    raise InvalidInputError(
        f"{ref} holds {len(tables)} table files, so which to import is unclear: {shown}.",
        hint="Name one with --file (or pick it in the list).")


def _check_size(size: int | None, max_bytes: int | None, what: str) -> None:
    if max_bytes is not None and size is not None and size > max_bytes:
        raise InvalidInputError(
            f"{what} is {size / 2**20:,.1f} MB, over the {max_bytes / 2**20:,.1f} MB limit (ATELIER_MAX_UPLOAD_MB).",
            hint="Raise ATELIER_MAX_UPLOAD_MB, or pick a smaller file.")


def _download(client, ref: KaggleRef, version: int | None, file: str, dest: Path, progress: ProgressFn,
              share: float, max_bytes: int | None) -> tuple[int, str]:
    """Stream ``file`` to ``dest``; returns its size and the name the server gave it (``x.csv.zip``)."""
    import requests

    if ref.is_competition:
        from kagglesdk.competitions.types.competition_api_service import ApiDownloadDataFileRequest

        request = ApiDownloadDataFileRequest()
        request.competition_name, request.file_name = ref.competition, file
        response = client.competitions.competition_api_client.download_data_file(request)
    else:
        from kagglesdk.datasets.types.dataset_api_service import ApiDownloadDatasetRequest

        request = ApiDownloadDatasetRequest()
        request.owner_slug, request.dataset_slug, request.file_name = ref.owner, ref.slug, file
        request.dataset_version_number = version
        response = client.datasets.dataset_api_client.download_dataset(request)
    with response:
        total = int(response.headers["Content-Length"]) if "Content-Length" in response.headers else None
        _check_size(total, max_bytes, f"{file} of {ref}")
        served = response.url.rsplit("/", 1)[-1].split("?", 1)[0]
        resumable = total is not None and response.headers.get("Accept-Ranges", "").lower() == "bytes"
        file_url = response.url  # where the redirect led: resuming asks it again, for the rest

        def report(done: int) -> None:
            shown = f" of {total / 2**20:,.1f}" if total else ""
            progress(share * done / max(total or done, 1), f"Downloaded {done / 2**20:,.1f}{shown} MB from Kaggle")

        with open(dest, "wb") as out:
            done, cut = _stream(response, out, 0, report, lambda n: _check_size(n, max_bytes, f"{file} of {ref}"))
            resumes = 0
            while (cut or (total is not None and done < total)) and resumable and resumes < _RESUMES:
                resumes += 1
                progress(share * done / total, f"The download was cut at {done / 2**20:,.1f} MB; resuming")
                try:
                    rest = requests.get(file_url, headers={"Range": f"bytes={done}-"}, stream=True, timeout=_TIMEOUT)
                except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                    cut = exc
                    continue
                with rest:
                    if rest.status_code != 206 or not rest.headers.get("Content-Range", "").startswith(
                            f"bytes {done}-"):
                        break  # the server ignored the range: the bytes it sends would not fit on
                    done, cut = _stream(rest, out, done, report,
                                        lambda n: _check_size(n, max_bytes, f"{file} of {ref}"))
        if cut is not None or (total is not None and done != total):
            how = f" ({type(cut).__name__})" if cut is not None else ""
            tried = f"; resuming failed after {resumes} tries" if resumes else (
                "; the server does not resume downloads" if not resumable else "")
            raise StorageError(f"The download of {file} from Kaggle was cut after {done:,} bytes"
                               + (f" of {total:,}" if total else "") + f"{how}{tried}.",
                               hint="Try again; nothing was saved.")
    return done, served


def _stream(response, out, done: int, report, check) -> tuple[int, Exception | None]:
    """Append ``response``'s body to ``out``; returns the bytes written so far and what cut it (or ``None``)."""
    import requests

    try:
        for chunk in response.iter_content(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            check(done)
            report(done)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
            requests.exceptions.Timeout) as exc:
        return done, exc
    return done, None


def read_kaggle(handle: str, *, file: str | None = None, member: str | None = None, home: Path | None = None,
                staging_dir: Path | None = None, progress: ProgressFn | None = None, max_bytes: int | None = None,
                options: Mapping[str, Any] | None = None) -> SourceTable:
    """Download one file of a Kaggle dataset or competition (a zip's ``member`` if given) and read it.

    Without ``file``, the one table file of the handle is taken (an error lists them if there are several).

    Raises
    ------
    InvalidInputError, NotFoundError, StorageError
        No or refused credentials, unaccepted competition rules, an unknown handle or file, a file
        over the size limit, a download cut halfway, or a file that is not a table.
    """
    report = progress or (lambda _f, _m: None)
    ref = parse_ref(handle)
    creds = find_credentials(home)
    if staging_dir:
        Path(staging_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="kaggle-", dir=staging_dir))
    reader_options = {k: v for k, v in (options or {}).items() if k in ("sheet", "delimiter", "encoding", "format")}
    try:
        with _client(creds) as client:
            try:
                version = None if ref.is_competition else (ref.version or _current_version(client, ref))
                if not file:
                    file = _pick(_list(client, ref, version), ref)
                dest = folder / Path(file).name
                size, served = _download(client, ref, version, file, dest, report, 0.6, max_bytes)
            except Exception as exc:
                raise _translate(exc, ref, creds, file) from exc
        if not dest.name.lower().endswith((".zip", ".xlsx", ".xlsm")) and zipfile.is_zipfile(dest):
            # Kaggle serves some files zipped (train.csv as train.csv.zip)
            dest = dest.rename(dest.with_name(dest.name + ".zip"))
            member = member or (dest.name[:-4] if served.endswith(".zip") else None)
        path, member = unpack(dest, member)
        result = read_table(path, reader_options, max_bytes=max_bytes,
                            progress=lambda f, m: report(0.6 + 0.4 * f, m))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    provenance = {"source": "kaggle", "kind": "kaggle", "handle": ref.handle, "version": version, "file": file,
                  "member": member, "size_bytes": size, "url": ref.web_url(version), "filename": Path(file).name,
                  "detected": result.detection.to_dict(), "warnings": list(result.warnings)}
    if ref.is_competition:
        provenance["competition"] = ref.competition
    return SourceTable(result.table, provenance, warnings=list(result.warnings))


def _read_kaggle_source(location: str, options: Mapping[str, Any], progress: ProgressFn,
                        max_bytes: int | None) -> SourceTable:
    """``kaggle:owner/slug[/versions/N]`` or ``kaggle:competitions/NAME`` with options ``file``, ``member``,
    ``secrets_home`` (where a stored kaggle.json is), ``staging_dir`` and the file reader's options."""
    return read_kaggle(location, file=options.get("file") or None, member=options.get("member") or None,
                       home=Path(options["secrets_home"]) if options.get("secrets_home") else None,
                       staging_dir=Path(options["staging_dir"]) if options.get("staging_dir") else None,
                       progress=progress, max_bytes=max_bytes, options=options)


register_reader("kaggle", _read_kaggle_source)
