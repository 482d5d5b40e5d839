"""Writing a stream of Arrow record batches as Parquet files: one, or parts of so many rows.

Each part holds full row groups of the catalogue's size (the last of a part and of the stream
excepted), with dictionary pages for the columns the first batch suggests, as
:func:`core.data.datasets.save_version` would write the same table.  Whether to start a second
part is asked only once the first is full and more rows arrive, so a short stream never asks (a
question that may mean reaching a cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.data import datasets

__all__ = ["release_memory", "write_parts"]


def write_parts(folder: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch], part_rows: int | None,
                split: Callable[[], bool]) -> tuple[list[Path], list[int]]:
    """Append ``batches`` to ``folder/part-00000.parquet``, and, when ``split()`` says so once that
    holds ``part_rows`` rows, to the next part; the files and their rows, in row order.

    ``part_rows=None``: one file, however long the stream.
    """
    group = datasets._ROW_GROUP_ROWS
    files: list[Path] = []
    rows: list[int] = []
    writer: pq.ParquetWriter | None = None
    dictionary: list[str] | bool = True  # (an empty stream's file, as before)
    pending: list[pa.RecordBatch] = []
    buffered = 0
    splitting: bool | None = None  # asked once, when the first part is full

    def start_part() -> pq.ParquetWriter:
        files.append(folder / f"part-{len(files):05d}.parquet")
        rows.append(0)
        return pq.ParquetWriter(files[-1], schema, compression=datasets._PARQUET_COMPRESSION,
                                use_dictionary=dictionary)

    def drain(final: bool) -> None:
        """Write the buffered rows as row groups: only full ones (of the group or the part) unless ``final``."""
        nonlocal writer, pending, buffered, splitting
        while buffered:
            room = part_rows - rows[-1] if part_rows is not None and splitting is not False else group
            if room == 0:  # the part is full and more rows wait: a new part, or one file after all
                splitting = split() if splitting is None else splitting
                if splitting:
                    writer.close()
                    writer = start_part()
                continue
            take = min(group, room)
            if buffered < take and not final:
                return
            table = pa.Table.from_batches(pending, schema)
            writer.write_table(table.slice(0, take), row_group_size=group)
            rows[-1] += min(take, buffered)
            rest = table.slice(take)
            pending, buffered = rest.to_batches(), rest.num_rows
            del table, rest
            release_memory()

    iterator = iter(batches)
    try:
        for batch in iterator:
            if batch.num_rows == 0:
                continue
            if writer is None:  # dictionary pages chosen on the first batch, as save_version does on a sample
                dictionary = datasets._dictionary_columns(pa.Table.from_batches([batch], schema))
                writer = start_part()
            pending.append(batch)
            buffered += batch.num_rows
            drain(final=False)
        if writer is None:
            writer = start_part()
        drain(final=True)
    finally:
        if writer is not None:
            writer.close()
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator stopped early releases its file now, not at garbage collection
    return files, rows


def release_memory() -> None:
    """Hand the memory pool's freed pages back to the system between columns and row groups.

    pyarrow's allocator (mimalloc) keeps freed pages for reuse; over twenty columns of two million
    rows that kept the process ~60 MB above what it ever used at once.  A forced collection takes
    well under a millisecond here.
    """
    pa.default_memory_pool().release_unused()
