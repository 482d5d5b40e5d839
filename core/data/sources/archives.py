"""Downloaded files as the table files inside them: a ``.gz`` unpacked, a ``.zip``'s one table extracted.

Shared by the remote sources (S3 objects, Kaggle files): whatever arrives compressed is turned
into a plain file beside it in the same staging folder, which the caller removes afterwards.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

from core.data.sources.sniff import SUPPORTED_EXTENSIONS
from core.platform.errors import InvalidInputError

__all__ = ["unpack"]


def unpack(path: Path, member: str | None = None) -> tuple[Path, str | None]:
    """A ``.gz`` unpacked, or the one table file of a ``.zip`` extracted; other files as they are."""
    name = path.name.lower()
    if name.endswith(".gz"):
        out = path.with_name(path.name[:-3])
        try:
            with gzip.open(path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 8 << 20)
        except (OSError, EOFError) as exc:
            raise InvalidInputError(f"{path.name} is not a readable gzip file: {exc}.") from exc
        return out, None
    if name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                tables = [n for n in archive.namelist() if not n.endswith("/")
                          and Path(n).suffix.lower().lstrip(".") in SUPPORTED_EXTENSIONS]
                if member is None:
                    if len(tables) > 1 and len(data := [n for n in tables if not n.lower().endswith(".txt")]) == 1:
                        tables = data  # a README.txt beside the one data file
                    if len(tables) != 1:
                        raise InvalidInputError(
                            f"{path.name} holds {len(tables)} table files, so which to import is unclear"
                            + (f": {', '.join(tables[:10])}." if tables else "."),
                            hint="Name the file inside the zip to import." if tables else
                            "The archive has no CSV, Excel, Parquet or JSON file in it.")
                    member = tables[0]
                out = path.parent / Path(member).name
                with archive.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 8 << 20)
        except zipfile.BadZipFile as exc:
            raise InvalidInputError(f"{path.name} is not a readable zip file: {exc}.") from exc
        except KeyError as exc:
            raise InvalidInputError(f"{path.name} has no file named {member!r}.") from exc
        return out, member
    return path, None
