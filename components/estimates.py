"""Train's time and memory estimates, computed in the background so they never hold up the Train button.

The costly part of an estimate, a timed fit on a sample (:func:`core.ml.estimate.measure_sample`), is
a future in a small per-server thread pool, keyed by what changes that fit: the version, algorithm,
target, feature set, problem kind and the estimator's size defaults.  The run's folds, test share and
tuning budget turn a finished fit into the estimate shown by arithmetic alone
(:func:`core.ml.estimate.estimate_from`), at every render: toggling tuning or changing the folds
starts nothing.  A change of the inputs starts its fits once they have stood for :data:`DEBOUNCE_S`
(from the polling fragment), so the rerun that changed them does no estimate work and someone
picking features one by one starts one set, not one per click; fits this session queued and no
longer asks for are cancelled.  The page shows the ones that are done, says "estimating…" for the
rest and polls from a fragment until they have all filled in.  Rows are keyed by the problem kind
too, so a row computed for another kind never shows.  What is shown is the stage-by-stage estimate
times what this workspace's finished runs of the algorithm took against theirs
(:mod:`core.models.estimate_history`); both numbers go with the job when Train is pressed, and one
still running then goes with it when it arrives (:func:`keep_late`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from core.data.datasets import VersionInfo
from core.ml.estimate import SampleFit, corrected, estimate_from, measure_sample, sample_fit_inputs, stage_summary
from core.models.estimate_history import add_estimate, correction_factors
from core.platform.errors import AtelierError
from core.platform.workspace import Workspace

DEBOUNCE_S = 0.75  # inputs stand this long before their sample fits start (the fragment polls every second)
POLL_S = 1.0
HOW_WIDTH = 420  # px: the "how" column at 1280 px beside the other four (see tests/app/test_train_page.py)
HOW_CHARS = 56  # what fits in HOW_WIDTH at the table's font, with room to spare
ASKED = "train.estimates.asked"  # (the fit keys this session last asked for, since when)
MINE = "train.estimates.mine"  # the fit keys this session submitted: the ones it may cancel
_clock = time.monotonic  # the debounce's clock (a test sets its own)


@st.cache_resource
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-estimate")


@st.cache_resource
def _futures() -> dict[tuple, Future]:
    return {}


def _compute(sample: pd.DataFrame, algorithm: str, target: str | None, features: tuple[str, ...], kind: str,
             n_rows: int, test_size: float) -> SampleFit:
    y = None if target is None else sample[target]
    return measure_sample(algorithm, sample[list(features)], y, n_rows, kind=kind, test_size=test_size,
                          explain=True)


def run_settings(split: dict, tuning: dict | None) -> tuple:
    """What of the Train form changes the time: folds, test share and the tuning budget (hashable)."""
    tuning = tuning or {}
    return (int(split.get("cv_folds") or 0), float(split.get("test_size") or 0.2), int(tuning.get("n_trials") or 0),
            int(tuning.get("cv_folds") or 3), float(tuning.get("timeout") or 0))


@dataclass
class Pending:
    """What the page asked for: each algorithm's sample-fit key, the run settings, and how to start a fit."""

    keys: dict[str, tuple] = field(default_factory=dict)
    run: tuple = ()
    submit: Callable[[str], Future] | None = None

    def futures(self) -> dict[str, Future | None]:
        """Each algorithm's fit, ``None`` while not started (or cancelled by the session that queued it)."""
        shared = _futures()
        return {a: f if f is not None and not f.cancelled() else None for a, f in
                ((a, shared.get(k)) for a, k in self.keys.items())}


def request(version: VersionInfo, sample: pd.DataFrame, algorithms: list[str], target: str | None,
            features: tuple[str, ...], kind: str, run: tuple) -> Pending:
    """The estimates for these inputs: fits already computed or running are reused; missing ones start now
    on this session's first ask, otherwise once the inputs have stood :data:`DEBOUNCE_S` (see :func:`start`).

    ``run`` is :func:`run_settings` of the form.  No features: nothing to estimate.
    """
    if not features:
        return Pending(run=run)
    test_size = run[1]
    keys = {a: (version.id, version.sha256, a, target, features, kind, version.n_rows,
                sample_fit_inputs(a, kind, version.n_rows, test_size)) for a in algorithms}

    def submit(algorithm: str) -> Future:
        return _pool().submit(_compute, sample, algorithm, target, features, kind, version.n_rows, test_size)

    pending = Pending(keys, run, submit)
    start(pending)
    return pending


def _reusable(future: Future | None) -> bool:
    if future is None or future.cancelled():
        return False
    # A fit that failed unexpectedly is tried again; a user-facing failure (too few rows) stays shown.
    return not future.done() or future.exception() is None or isinstance(future.exception(), AtelierError)


def start(pending: Pending, *, now: bool = False) -> None:
    """Submit the fits ``pending`` lacks: at once with ``now`` (Train was pressed) or on this session's first
    ask, else once the same inputs have been asked for over :data:`DEBOUNCE_S`."""
    if not pending.keys:
        return
    shared = _futures()
    wanted = frozenset(pending.keys.values())
    asked = st.session_state.get(ASKED)
    clock = _clock()
    if asked is not None and asked[0] != wanted:
        st.session_state[ASKED] = (wanted, clock)
        _cancel_queued(wanted)
        if not now:
            return  # the inputs just changed: wait until they stand
    elif asked is None:
        st.session_state[ASKED] = (wanted, clock)
    elif not now and clock - asked[1] < DEBOUNCE_S:
        return
    mine = set(st.session_state.get(MINE, ()))
    for algorithm, key in pending.keys.items():
        if not _reusable(shared.get(key)):
            shared[key] = pending.submit(algorithm)
            mine.add(key)
    st.session_state[MINE] = mine
    if len(shared) > 512:  # bounded: forget the oldest finished ones
        for key in [k for k, f in shared.items() if f.done()][:256]:
            shared.pop(key, None)


def _cancel_queued(wanted: frozenset) -> None:
    """Cancel this session's fits still queued that it no longer asks for: with one estimate thread, they
    would hold up the ones it does.  A running fit cannot be stopped; it finishes and stays reusable."""
    shared, mine = _futures(), st.session_state.get(MINE, set())
    for key in mine - wanted:
        future = shared.get(key)
        if future is not None and future.cancel():
            shared.pop(key, None)  # another session asking for it again submits it afresh
    st.session_state[MINE] = mine & wanted


def _estimate(fit: SampleFit, run: tuple) -> dict:
    cv_folds, test_size, trials, tuning_folds, timeout = run
    tuning = {"n_trials": trials, "cv_folds": tuning_folds, "timeout": timeout} if trials or timeout else None
    return estimate_from(fit, cv_folds=cv_folds, test_size=test_size, tuning=tuning).to_dict()


def _failed(future: Future | None) -> bool:
    return future is not None and future.done() and future.exception() is not None


def finished(pending: Pending, factors: dict[str, tuple[float, int]] | None = None) -> dict[str, dict]:
    """The estimates that are done and succeeded, calibrated by ``factors`` (:func:`calibration`)."""
    factors = calibration() if factors is None else factors
    out = {}
    for algorithm, future in pending.futures().items():
        if future is not None and future.done() and future.exception() is None:
            factor, runs = factors.get(algorithm, (None, 0))
            result = corrected(_estimate(future.result(), pending.run), factor, runs)
            seconds = result["seconds"]
            result["time"] = f"{seconds:,.1f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"
            result["peak_mb"] = round(result["peak_bytes"] / 2**20)
            out[algorithm] = result
    return out


def keep_late(ws: Workspace, job_id: str, pending: Pending, chosen: list[str], known: dict[str, dict]) -> None:
    """Add each chosen algorithm's estimate that was still running (or not started) at Train to the job when
    it arrives.

    The callback runs on the estimate thread, with no session: the calibration is read now, here.
    """
    start(pending, now=True)  # Train does not wait out the debounce: the job gets its estimates
    factors = calibration()
    run = pending.run

    def store(algorithm: str, future: Future) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        factor, runs = factors.get(algorithm, (None, 0))
        shown = corrected(_estimate(future.result(), run), factor, runs)
        try:
            add_estimate(ws, job_id, algorithm, {"seconds": shown["seconds"], "raw_seconds": shown["raw_seconds"]})
        except AtelierError:  # the store is unreachable: the row shows no estimate, nothing worse
            pass

    futures = pending.futures()
    for algorithm in chosen:
        if algorithm not in known and futures.get(algorithm) is not None:
            futures[algorithm].add_done_callback(lambda f, a=algorithm: store(a, f))  # at once if done already


def how(estimate: dict) -> str:
    """The table's "how" cell: the stages in a few words, and the learnt correction if there is one."""
    learnt = ""
    if abs(estimate["seconds"] - estimate["raw_seconds"]) > 1e-9:
        learnt = f" · ×{estimate['seconds'] / estimate['raw_seconds']:.2f} learnt"
    return stage_summary(estimate.get("stages"), max_chars=HOW_CHARS - len(learnt)) + learnt


def calibration() -> dict[str, tuple[float, int]]:
    """``{algorithm: (factor, runs)}`` learnt from this workspace's finished Train jobs."""
    from components.state import workspace

    try:
        return correction_factors(workspace())
    except AtelierError:
        return {}


def table(pending: Pending) -> None:
    """The estimates table and the memory error; polls while any is still to come (starting the debounced
    fits when their inputs have stood), then reruns the page once."""
    pending_at_start = any(f is None or not f.done() for f in pending.futures().values())

    @st.fragment(run_every=POLL_S if pending_at_start else None)
    def show() -> None:
        start(pending)
        futures = pending.futures()
        rows = []
        done = finished(pending)
        for algorithm, future in futures.items():
            if algorithm in done:
                e = done[algorithm]
                rows.append({"algorithm": algorithm, "estimated time": e["time"], "peak memory MB": e["peak_mb"],
                             "fits in memory": e["fits_in_memory"], "how": how(e)})
            elif _failed(future):
                rows.append({"algorithm": algorithm, "estimated time": "—", "peak memory MB": None,
                             "fits in memory": None, "how": "Could not estimate: see below."})
            else:  # waiting for the inputs to stand, or running (or finished a moment ago: the next poll shows it)
                rows.append({"algorithm": algorithm, "estimated time": "estimating…", "peak memory MB": None,
                             "fits in memory": None, "how": "A quick fit on a sample is running." if future is not None
                             else "Starts when the settings stop changing."})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
                "how": st.column_config.TextColumn("how", width=HOW_WIDTH, help=(
                    "Seconds per stage of the job, from a timed fit on a sample; the full reasoning is under "
                    "“How the estimates were made”."))})
            reasons = {a: e["reason"] for a, e in done.items()} | {
                a: f"Could not estimate: {f.exception()}" for a, f in futures.items() if a not in done and _failed(f)}
            if reasons:
                with st.expander("How the estimates were made", expanded=False):
                    for algorithm, reason in reasons.items():
                        st.caption(f"**{algorithm}**: {reason}")
        waiting = sum(1 for f in futures.values() if f is None or not f.done())
        if waiting:  # said in words too: the table's cells are drawn, not text a reader or a test can find
            st.caption(f":material/progress_activity: Estimating {waiting} of {len(futures)} in the background; "
                       "Train does not wait for them.")
        too_big = [k for k, e in done.items() if not e["fits_in_memory"]]
        if too_big:
            st.error(f"Not started, would not fit in memory: {', '.join(too_big)}.")
        if pending_at_start and all(f is not None and f.done() for f in futures.values()):
            st.rerun(scope="app")  # all filled in: stop polling

    show()
