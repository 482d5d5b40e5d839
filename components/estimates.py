"""Train's time and memory estimates, computed in the background so they never hold up the Train button.

Each estimate (one algorithm on one version, target, feature set, problem kind and run settings:
folds, test share, tuning) is a future in a small per-server thread pool; the page shows the ones that
are done, says "estimating…" for the rest and polls from a fragment until they have all filled in.
Rows are keyed by the problem kind too, so a row computed for another kind never shows.  What is shown
is the stage-by-stage estimate times what this workspace's finished runs of the algorithm took against
theirs (:mod:`core.models.estimate_history`); both numbers go with the job when Train is pressed, and
one still running then goes with it when it arrives (:func:`keep_late`).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait

import pandas as pd
import streamlit as st

from core.data.datasets import VersionInfo
from core.ml.estimate import corrected, estimate_cost, stage_summary
from core.models.estimate_history import add_estimate, correction_factors
from core.platform.errors import AtelierError
from core.platform.workspace import Workspace

GRACE_S = 0.3  # quick estimates show on the first render; slower ones fill in
HOW_WIDTH = 420  # px: the "how" column at 1280 px beside the other four (see tests/app/test_train_page.py)
HOW_CHARS = 56  # what fits in HOW_WIDTH at the table's font, with room to spare


@st.cache_resource
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-estimate")


@st.cache_resource
def _futures() -> dict[tuple, Future]:
    return {}


def _compute(sample: pd.DataFrame, algorithm: str, target: str | None, features: tuple[str, ...], kind: str,
             n_rows: int, run: tuple) -> dict:
    y = None if target is None else sample[target]
    cv_folds, test_size, trials, tuning_folds, timeout = run
    tuning = {"n_trials": trials, "cv_folds": tuning_folds, "timeout": timeout} if trials or timeout else None
    return estimate_cost(algorithm, sample[list(features)], y, n_rows, kind=kind, cv_folds=cv_folds,
                         test_size=test_size, explain=True, tuning=tuning).to_dict()


def run_settings(split: dict, tuning: dict | None) -> tuple:
    """What of the Train form changes the time: folds, test share and the tuning budget (hashable)."""
    tuning = tuning or {}
    return (int(split.get("cv_folds") or 0), float(split.get("test_size") or 0.2), int(tuning.get("n_trials") or 0),
            int(tuning.get("cv_folds") or 3), float(tuning.get("timeout") or 0))


def request(version: VersionInfo, sample: pd.DataFrame, algorithms: list[str], target: str | None,
            features: tuple[str, ...], kind: str, run: tuple) -> dict[str, Future]:
    """A future per algorithm (started now unless already computed or running), waiting ``GRACE_S`` at most
    for those started by this call: a rerun while earlier estimates still run does not wait again.

    ``run`` is :func:`run_settings` of the form.
    """
    futures = _futures()
    chosen, started = {}, []
    for algorithm in algorithms:
        key = (version.id, version.sha256, algorithm, target, features, kind, version.n_rows, run)
        future = futures.get(key)
        if future is None or (future.done() and future.exception() is not None
                              and not isinstance(future.exception(), AtelierError)):
            future = _pool().submit(_compute, sample, algorithm, target, features, kind, version.n_rows, run)
            futures[key] = future
            started.append(future)
        chosen[algorithm] = future
    if len(futures) > 512:  # bounded: forget the oldest finished ones
        for key in [k for k, f in futures.items() if f.done()][:256]:
            futures.pop(key, None)
    if started:
        wait(started, timeout=GRACE_S)
    return chosen


def finished(futures: dict[str, Future], factors: dict[str, tuple[float, int]] | None = None) -> dict[str, dict]:
    """The estimates that are done and succeeded, calibrated by ``factors`` (:func:`calibration`)."""
    factors = calibration() if factors is None else factors
    out = {}
    for algorithm, future in futures.items():
        if future.done() and future.exception() is None:
            factor, runs = factors.get(algorithm, (None, 0))
            result = corrected(future.result(), factor, runs)
            seconds = result["seconds"]
            result["time"] = f"{seconds:,.1f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"
            result["peak_mb"] = round(result["peak_bytes"] / 2**20)
            out[algorithm] = result
    return out


def keep_late(ws: Workspace, job_id: str, futures: dict[str, Future], chosen: list[str],
              known: dict[str, dict]) -> None:
    """Add each chosen algorithm's estimate that was still running at Train to the job when it arrives.

    The callback runs on the estimate thread, with no session: the calibration is read now, here.
    """
    factors = calibration()

    def store(algorithm: str, future: Future) -> None:
        if future.exception() is not None:
            return
        factor, runs = factors.get(algorithm, (None, 0))
        shown = corrected(future.result(), factor, runs)
        try:
            add_estimate(ws, job_id, algorithm, {"seconds": shown["seconds"], "raw_seconds": shown["raw_seconds"]})
        except AtelierError:  # the store is unreachable: the row shows no estimate, nothing worse
            pass

    for algorithm in chosen:
        if algorithm not in known and algorithm in futures:
            futures[algorithm].add_done_callback(lambda f, a=algorithm: store(a, f))  # at once if done already


def how(estimate: dict) -> str:
    """The table's "how" cell: the stages in a few words, and the learnt correction if there is one."""
    text = stage_summary(estimate.get("stages"))
    if abs(estimate["seconds"] - estimate["raw_seconds"]) > 1e-9:
        text += f" · ×{estimate['seconds'] / estimate['raw_seconds']:.2f} learnt"
    return text


def calibration() -> dict[str, tuple[float, int]]:
    """``{algorithm: (factor, runs)}`` learnt from this workspace's finished Train jobs."""
    from components.state import workspace

    try:
        return correction_factors(workspace())
    except AtelierError:
        return {}


def table(futures: dict[str, Future]) -> None:
    """The estimates table and the memory error; polls while any is still running, then reruns the page once."""
    pending_at_start = any(not f.done() for f in futures.values())

    @st.fragment(run_every=1.0 if pending_at_start else None)
    def show() -> None:
        rows = []
        done = finished(futures)
        for algorithm, future in futures.items():
            if algorithm in done:
                e = done[algorithm]
                rows.append({"algorithm": algorithm, "estimated time": e["time"], "peak memory MB": e["peak_mb"],
                             "fits in memory": e["fits_in_memory"], "how": how(e)})
            elif future.done() and future.exception() is not None:
                rows.append({"algorithm": algorithm, "estimated time": "—", "peak memory MB": None,
                             "fits in memory": None, "how": "Could not estimate: see below."})
            else:  # still running (or finished a moment ago: the next poll shows it)
                rows.append({"algorithm": algorithm, "estimated time": "estimating…", "peak memory MB": None,
                             "fits in memory": None, "how": "A quick fit on a sample is running."})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
                "how": st.column_config.TextColumn("how", width=HOW_WIDTH, help=(
                    "Seconds per stage of the job, from a timed fit on a sample; the full reasoning is under "
                    "“How the estimates were made”."))})
            reasons = {a: e["reason"] for a, e in done.items()} | {
                a: f"Could not estimate: {f.exception()}" for a, f in futures.items()
                if a not in done and f.done() and f.exception() is not None}
            if reasons:
                with st.expander("How the estimates were made", expanded=False):
                    for algorithm, reason in reasons.items():
                        st.caption(f"**{algorithm}**: {reason}")
        waiting = sum(1 for algorithm in futures if algorithm not in done and not futures[algorithm].done())
        if waiting:  # said in words too: the table's cells are drawn, not text a reader or a test can find
            st.caption(f":material/progress_activity: Estimating {waiting} of {len(futures)} in the background; "
                       "Train does not wait for them.")
        too_big = [k for k, e in done.items() if not e["fits_in_memory"]]
        if too_big:
            st.error(f"Not started, would not fit in memory: {', '.join(too_big)}.")
        if pending_at_start and all(f.done() for f in futures.values()):
            st.rerun(scope="app")  # all filled in: stop polling

    show()
