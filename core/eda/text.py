"""The overview as terminal text, for ``python -m core eda NAME[@VERSION]``.

Plain aligned columns (no box drawing), compact numbers (four significant digits, thousands
separators), long names shortened: readable in an 80-to-160 column terminal and in a log.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.eda.overview import ColumnSummary, Overview
from core.platform.display import format_bytes, format_number

__all__ = ["format_overview"]

_NAME_WIDTH = 24
_TOP_WIDTH = 70


def format_overview(overview: Overview) -> str:
    """The overview as text: dataset figures, a statistics table, a values table, then the notes."""
    o = overview
    memory = format_bytes(o.memory_bytes) + (" (estimated)" if o.memory_estimated else "")
    types = ", ".join(f"{kind} {count}" for kind, count in sorted(o.types.items(), key=lambda kv: -kv[1]))
    lines = [
        f"Rows: {o.rows:,}    Columns: {o.columns:,}    Memory: {memory}",
        f"Types: {types or 'none'}",
        f"Missing cells: {o.missing_cells:,} ({o.missing_cells_pct:.1%})    "
        f"Duplicate rows: {o.duplicate_rows:,} ({o.duplicate_rows_pct:.1%})",
    ]
    if o.sampled_rows:
        lines.append(f"Sampled statistics ({', '.join(o.sampled_stats)}): random sample of {o.sampled_rows:,} rows")
    lines += ["", "Columns", *_table(
        ["column", "kind", "count", "missing", "unique", "mean", "std", "min", "25%", "50%", "75%", "max", "skew",
         "kurt"],
        [_stats_row(c) for c in o.column_summaries],
    )]
    values = [_values_row(c) for c in o.column_summaries]
    if any(v[1] for v in values):
        lines += ["", "Values", *_table(["column", "top values (share of present) / time range"], values)]
    if o.notes:
        lines += ["", "Notes", *(f"- {note}" for note in o.notes)]
    return "\n".join(lines)


def _stats_row(c: ColumnSummary) -> list[str]:
    missing = f"{c.missing:,} ({c.missing_pct:.0%})" if c.missing else "0"
    unique = "" if c.unique is None else f"{c.unique:,}"
    statistics = (c.mean, c.std, c.min, c.p25, c.p50, c.p75, c.max, c.skew, c.kurtosis)
    numbers = [format_number(v, significant=4, missing="") for v in statistics]
    return [_short(c.name, _NAME_WIDTH), c.kind, f"{c.count:,}", missing, unique, *numbers]


def _values_row(c: ColumnSummary) -> list[str]:
    if c.kind == "datetime" and c.earliest:
        text = f"{c.earliest} → {c.latest}"
    else:
        text = ", ".join(f"{t.value} {_share(t.share)}" for t in c.top)
    return [_short(c.name, _NAME_WIDTH), _short(text, _TOP_WIDTH)]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        # the first two columns (name, kind or text) read left to right; numbers line up on the right
        pairs = enumerate(zip(cells, widths, strict=True))
        parts = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in pairs]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _share(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 or share == 0 else f"{share * 100:.2g}%"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
