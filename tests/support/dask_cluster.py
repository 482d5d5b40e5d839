"""A real two-worker Dask LocalCluster for tests (processes, one thread each)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def local_cluster(n_workers: int = 2) -> Iterator:
    from distributed import LocalCluster

    # Worker processes are spawned, and spawn re-runs the parent's __main__; after an AppTest in the
    # same session that is app.py, which cannot run outside Streamlit.  Hide it while starting.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        # dashboard on a free port: None means the default 8787, and another cluster on this host may hold it
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster:
        yield cluster
