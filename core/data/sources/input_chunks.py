"""A data file read in chunks, knowing its columns and row count before the first chunk.

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

__all__ = ["InputFile"]

# Parquet is read through a buffer of this size rather than a column chunk at a time: a file
# written as one row group would otherwise sit in memory whole, however small the chunks.
READ_BUFFER = 1 << 20


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
        from core.data.sources.files import read_table

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
