"""One Plotly style for every figure Atelier draws, legible on a projector at 1280×720.

:func:`style` sets every text of a figure (title, axis titles, ticks, legend, hover, colour bar,
the values written in bars and heatmap cells) to at least :data:`MIN_FONT_PX`, explicitly in the
layout and traces so that a page theme cannot shrink it.  :func:`model_colour` gives a model the
same colour in every chart: picked from a colour-blind-safe palette by a stable hash of its name.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["MIN_FONT_PX", "PALETTE", "TITLE_FONT_PX", "model_colour", "model_colours", "style"]

MIN_FONT_PX = 14  # ticks, legends, hover, cell values: nothing smaller
TITLE_FONT_PX = 18
# Okabe-Ito (colour-blind safe) without black and yellow, then Tableau's darker tones.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#8C564B", "#4E79A7",
           "#B07AA1", "#59A14F")
_TEXT_TRACES = ("bar", "heatmap", "scatter", "waterfall", "histogram", "box", "pie", "table")


def model_colour(name: str) -> str:
    """The colour of the model called ``name``: the same in every chart, every session."""
    digest = hashlib.sha1(str(name).encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def model_colours(names: list[str]) -> dict[str, str]:
    """``{name: colour}``; names that hash to the same colour move to free ones, in the order given."""
    out: dict[str, str] = {}
    for name in dict.fromkeys(names):
        colour = model_colour(name)
        if colour in out.values() and len(set(out.values())) < len(PALETTE):
            start = PALETTE.index(colour)
            colour = next(PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))
                          if PALETTE[(start + i) % len(PALETTE)] not in out.values())
        out[name] = colour
    return out


def _at_least(font: Any, size: int) -> dict[str, Any]:
    current = getattr(font, "size", None) if font is not None else None
    return {"size": max(size, int(current or 0))}


def style(fig: Any) -> Any:
    """``fig`` with every text at least :data:`MIN_FONT_PX` (titles larger); returns ``fig``."""
    layout = fig.layout
    fig.update_layout(
        font=_at_least(layout.font, MIN_FONT_PX),
        title_font=_at_least(layout.title.font, TITLE_FONT_PX),
        legend_font=_at_least(layout.legend.font, MIN_FONT_PX),
        hoverlabel_font=_at_least(layout.hoverlabel.font, MIN_FONT_PX),
    )
    fig.for_each_xaxis(lambda ax: ax.update(tickfont=_at_least(ax.tickfont, MIN_FONT_PX),
                                            title_font=_at_least(ax.title.font, MIN_FONT_PX + 1)))
    fig.for_each_yaxis(lambda ax: ax.update(tickfont=_at_least(ax.tickfont, MIN_FONT_PX),
                                            title_font=_at_least(ax.title.font, MIN_FONT_PX + 1)))
    fig.update_annotations(font_size=MIN_FONT_PX)
    for trace in fig.data:
        if trace.type in _TEXT_TRACES and "textfont" in trace:
            trace.textfont = _at_least(trace.textfont, MIN_FONT_PX)
        if trace.type == "heatmap" and trace.showscale is not False:
            trace.colorbar.tickfont = _at_least(trace.colorbar.tickfont, MIN_FONT_PX)
    return fig
