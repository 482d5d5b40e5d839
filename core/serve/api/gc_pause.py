"""The API and Python's cyclic garbage collector: long-lived objects frozen, big answers built paused.

A server holds a heap of long-lived objects (pandas, scikit-learn, LightGBM, FastAPI and the models
themselves, a few hundred thousand containers) that a full collection scans every time, whichever
thread set it off: measured under one-row load, 270 ms with the interpreter lock held, every request
in the process stalled behind it.  :func:`freeze_heap` (at start-up and after each model load) moves
what is alive then into the permanent generation, which collections skip, so that they only scan
what requests allocate (the same collection then took 7 ms).

A 100k-row answer is 200k small dicts; each batch of allocations sets off a collection that scans
every object the server holds, which took ~75 % of building the answer.  None of these objects form
cycles, so reference counting frees them all the same: :func:`gc_paused` turns collections off
while they are built.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_heap", "gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block.  With requests on several threads, the one that found the
    collector on turns it back on, so it never stays off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


_freezing = threading.Lock()


def freeze_heap() -> None:
    """Collect once, then keep every object alive now out of later collections (``gc.freeze``).

    The earlier frozen objects are thawed first, so a cycle left by a model evicted since is
    collected now rather than kept for the life of the process.
    """
    with _freezing:  # two models loaded at once: one full collection at a time is enough
        gc.unfreeze()
        gc.collect()
        gc.freeze()
