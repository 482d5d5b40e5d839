"""Train's time and memory estimates, computed in the background so they never hold up the Train button.

Each estimate (one algorithm on one version, target, feature set, problem kind and fit count) is a
future in a small per-server thread pool; the page shows the ones that are done, says "estimating…"
for the rest and polls from a fragment until they have all filled in.  Rows are keyed by the problem
kind too, so a row computed for another kind never shows.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait

import pandas as pd
import streamlit as st

from core.data.datasets import VersionInfo
from core.ml.estimate import estimate_cost
from core.platform.errors import AtelierError

GRACE_S = 0.3  # quick estimates show on the first render; slower ones fill in


@st.cache_resource
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-estimate")


@st.cache_resource
def _futures() -> dict[tuple, Future]:
    return {}


def _compute(sample: pd.DataFrame, algorithm: str, target: str | None, features: tuple[str, ...], kind: str,
             n_rows: int, n_fits: int) -> dict:
    y = None if target is None else sample[target]
    result = estimate_cost(algorithm, sample[list(features)], y, n_rows, kind=kind, n_fits=n_fits).to_dict()
    seconds = result["seconds"]
    result["time"] = f"{seconds:,.1f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"
    result["peak_mb"] = round(result["peak_bytes"] / 2**20)
    return result


def request(version: VersionInfo, sample: pd.DataFrame, algorithms: list[str], target: str | None,
            features: tuple[str, ...], kind: str, n_fits: int) -> dict[str, Future]:
    """A future per algorithm (started now unless already computed or running), waiting ``GRACE_S`` at most."""
    futures = _futures()
    chosen = {}
    for algorithm in algorithms:
        key = (version.id, version.sha256, algorithm, target, features, kind, version.n_rows, n_fits)
        future = futures.get(key)
        if future is None or (future.done() and future.exception() is not None
                              and not isinstance(future.exception(), AtelierError)):
            future = _pool().submit(_compute, sample, algorithm, target, features, kind, version.n_rows, n_fits)
            futures[key] = future
        chosen[algorithm] = future
    if len(futures) > 512:  # bounded: forget the oldest finished ones
        for key in [k for k, f in futures.items() if f.done()][:256]:
            futures.pop(key, None)
    wait(chosen.values(), timeout=GRACE_S)
    return chosen


def finished(futures: dict[str, Future]) -> dict[str, dict]:
    """The estimates that are done and succeeded."""
    return {k: f.result() for k, f in futures.items() if f.done() and f.exception() is None}


def table(futures: dict[str, Future]) -> None:
    """The estimates table and the memory error; polls while any is still running, then reruns the page once."""
    pending_at_start = any(not f.done() for f in futures.values())

    @st.fragment(run_every=1.0 if pending_at_start else None)
    def show() -> None:
        rows = []
        for algorithm, future in futures.items():
            if not future.done():
                rows.append({"algorithm": algorithm, "estimated time": "estimating…", "peak memory MB": None,
                             "fits in memory": None, "how": "A quick fit on a sample is running."})
            elif future.exception() is not None:
                rows.append({"algorithm": algorithm, "estimated time": "—", "peak memory MB": None,
                             "fits in memory": None, "how": f"Could not estimate: {future.exception()}"})
            else:
                e = future.result()
                rows.append({"algorithm": algorithm, "estimated time": e["time"], "peak memory MB": e["peak_mb"],
                             "fits in memory": e["fits_in_memory"], "how": e["reason"]})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        too_big = [k for k, e in finished(futures).items() if not e["fits_in_memory"]]
        if too_big:
            st.error(f"Not started, would not fit in memory: {', '.join(too_big)}.")
        if pending_at_start and all(f.done() for f in futures.values()):
            st.rerun(scope="app")  # all filled in: stop polling

    show()
