"""Input files for scoring: checked before any work, read in chunks, sampled from the start.

:class:`InputFile` is a data file read in chunks, knowing its columns and row count before the
first chunk.

Parquet is streamed batch by batch, through a small read buffer and, when asked, for some of
its columns only; other formats (CSV, Excel, JSON) are read whole once by
``core.data.sources.files.read_table`` and then sliced.  The columns are named as pandas names them
(a Parquet file's stored index is not a column), so a check can tell extra or repeated columns
from the names alone while only the needed ones are read.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.sources.files import read_table
from core.data.sources.sniff import SUPPORTED_EXTENSIONS
from core.platform.errors import InvalidInputError

__all__ = ["CHUNK_ROWS", "HEAD_ROWS", "InputFile", "check_input_file", "count_rows", "iter_input", "read_rows"]

# Parquet is read through a buffer of this size rather than a column chunk at a time: a file
# written as one row group would otherwise sit in memory whole, however small the chunks.
READ_BUFFER = 1 << 20
# Rows per chunk: past this, per-chunk costs are lost in the noise, while each further 100,000 rows
# hold ~60 MB more at once (Parquet reader, frame, model input, compiled trees' copy).
CHUNK_ROWS = 100_000
# Rows read when the start of a file stands for all of it (drift of new data, say).
HEAD_ROWS = 200_000


@dataclass
class InputFile:
    """A data file opened for reading in chunks, with its columns (as pandas names them) and row count."""

    path: Path
    columns: list[Hashable]
    rows: int
    parquet: pq.ParquetFile | None = None
    table: pa.Table | None = None

    @classmethod
    def open(cls, path: str | Path) -> InputFile:
        """Open ``path`` (read whole unless it is Parquet); reading errors are ``read_table``'s."""
        path = Path(path)
        if path.suffix.lower() == ".parquet":
            reader = pq.ParquetFile(path, buffer_size=READ_BUFFER, pre_buffer=False)
            columns = list(reader.schema_arrow.empty_table().to_pandas().columns)
            return cls(path, columns, reader.metadata.num_rows, parquet=reader)
        table = read_table(path).table
        return cls(path, list(table.schema.empty_table().to_pandas().columns), table.num_rows, table=table)

    def chunks(self, chunk_rows: int, only: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Frames of at most ``chunk_rows`` rows holding every column, or the columns ``only`` names.

        Columns without gaps are views of Arrow's memory (no copy): do not change them in place.
        """
        if self.parquet is not None:
            for batch in self.parquet.iter_batches(batch_size=chunk_rows, columns=only):
                yield batch.to_pandas(split_blocks=True)
            return
        assert self.table is not None  # one of the two is set by open
        table = self.table if only is None else self.table.select(only)
        for start in range(0, table.num_rows, chunk_rows):
            yield table.slice(start, chunk_rows).to_pandas(split_blocks=True)

    def columns_to_read(self, wanted: list[str]) -> list[str] | None:
        """The ``wanted`` columns the file has, or ``None`` (read them all) when reading fewer is unsafe.

        Unsafe: repeated column names (which ones would be read?) or none of ``wanted`` (a
        chunk with no columns has no rows either).
        """
        names = [str(c) for c in self.columns]
        present = [c for c in wanted if c in set(names)]
        if len(set(names)) < len(names) or not present:
            return None
        return present


def check_input_file(path: str | Path) -> Path:
    """Return ``path`` when it is a readable file of a supported format; else say what is wrong.

    Raises
    ------
    InvalidInputError
        The file does not exist, is a folder, has an unsupported extension,
        or (Parquet) cannot be opened.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"There is no file at {str(path)!r}.", hint="Check the path and try again.")
    if not path.is_file():
        raise InvalidInputError(f"{str(path)!r} is a folder, not a file.", hint="Name one data file.")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUPPORTED_EXTENSIONS:
        listed = ", ".join(f".{e}" for e in SUPPORTED_EXTENSIONS)
        raise InvalidInputError(
            f"Files ending in {'.' + suffix if suffix else '(no extension)'} cannot be read; "
            f"the supported extensions are {listed}.",
            hint="Export the data as CSV, Excel (.xlsx), Parquet or JSON.")
    if suffix == "parquet":
        try:
            pq.ParquetFile(path).close()
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for anything it cannot parse
            raise InvalidInputError(f"{path.name} is not a readable Parquet file ({exc}).",
                                    hint="Write the file again, or export it as CSV.") from exc
    return path


def iter_input(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The input file in chunks: Parquet is streamed; other formats are read once, then sliced."""
    yield from InputFile.open(Path(path)).chunks(chunk_rows)


def count_rows(path: Path) -> int | None:
    if Path(path).suffix.lower() == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return None


def read_rows(path: str | Path, limit: int = HEAD_ROWS) -> pd.DataFrame:
    """The first ``limit`` rows of a data file (Parquet is streamed, other formats read once).

    Raises
    ------
    InvalidInputError
        The file cannot be read, or it has no rows.
    """
    path = check_input_file(path)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"The row limit must be a whole number from 1 up; got {limit!r}.")
    chunks: list[pd.DataFrame] = []
    taken = 0
    for chunk in iter_input(path, chunk_rows=min(limit, 100_000)):
        chunks.append(chunk.iloc[: limit - taken])
        taken += len(chunks[-1])
        if taken >= limit:
            break
    if taken == 0:
        raise InvalidInputError(f"{path.name} has no rows.", hint="Check that the file is the one you meant.")
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0].reset_index(drop=True)
