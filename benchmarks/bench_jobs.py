"""Job overhead: a LightGBM pipeline trained through the job system vs its fit called directly.

    python -m benchmarks.bench_jobs [--rows 1000000] [--repeat 3] [--quick]

Three candidates on the same generated frame (20 features, binary target), median of ``--repeat``:

* ``pipeline.fit`` (baseline): the very pipeline Atelier builds, fitted on the training rows with the
  thread count the job's fit gets (:func:`core.platform.cores.thread_budget`, measured just before:
  a baseline told more threads than the cores free would be slowed by its own OpenMP threads);
* ``train_version`` in-process: Atelier's whole training path (read the Parquet version, prepare,
  split, fit, evaluate, serialise, reference statistics, register), explanations off;
* the ``train`` job: the same, submitted to the job system and waited for, once forked by the warm
  worker (what the app does) and once in a fresh interpreter (what happens without a worker); its
  seconds are its own row's, from submitted to finished, while this process asks after it once a
  second, as the page's job panel does.

Each job's own fit (the ``train_seconds`` it records) is shown against the bare fit, beside what the
job adds around it: on a noisy machine the fits differ by more than the job's work, and this tells
the two apart.  The in-process run is also split by stage (seconds spent in each step's function:
reading the version, preparing, the fit, evaluation, the predict-speed probe, serialising,
reference statistics, registering), so what the job costs beyond the fit is named.
"""

from __future__ import annotations

import importlib
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import markdown_table, median, parse_sized, size_parser
from core.data.datasets import save_version
from core.ml.catalogue import get_algorithm
from core.ml.config import SplitConfig, TrainConfig
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.prepared import prepare_data
from core.ml.preprocessing import resolve_preprocessing
from core.models.training import train_version
from core.platform import jobs
from core.platform.config import Settings
from core.platform.cores import thread_budget
from core.platform.jobs import worker
from core.platform.progress import Progress
from core.platform.workspace import Workspace


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(16)})
    for i in range(4):
        frame[f"c{i}"] = np.array(list("ABCDEFGH"))[rng.integers(0, 8, rows)]
    logit = frame["x0"] - 0.5 * frame["x1"] + (frame["c0"] == "A") * 0.8 + rng.normal(scale=0.5, size=rows)
    frame["y"] = (logit > 0).astype(int)
    return frame


def main() -> None:
    parser = size_parser(1_000_000, 100_000)
    args = parse_sized(parser)
    config = TrainConfig(target="y", explain=False, split=SplitConfig(kind="random"))
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Settings(home=Path(tmp)))
        version = save_version(ws, "bench", make_frame(args.rows), provenance={"source": "benchmark"},
                               roles={"y": "target"})
        small = save_version(ws, "warm-up", make_frame(2_000), provenance={"source": "benchmark"},
                             roles={"y": "target"})
        train_version(ws, small, config, ["lightgbm"])  # first-use costs (imports, tables) out of the timings
        frame = make_frame(args.rows)
        prepared = prepare_data(frame, config)
        entry = get_algorithm("lightgbm")
        resolved, _ = resolve_preprocessing(config.preprocessing, entry.family, prepared.kind, entry.handles_missing)
        direct, inproc, warm, spawned = [], [], [], []
        given: dict[str, list[str]] = defaultdict(list)  # the threads each candidate's fit was given
        inner: dict[str, list[float]] = defaultdict(list)  # each job's own fit seconds (its train_seconds)
        stages: dict[str, list[float]] = defaultdict(list)

        def fit_directly() -> None:
            threads = thread_budget(len(prepared.X_train))
            given["fit"].append(str(threads))
            pipeline, weigh, _ = make_pipeline(entry, prepared.kind, prepared.types, resolved, {}, y=prepared.y_train,
                                               n_jobs=threads)
            started = time.perf_counter()
            fit_pipeline(pipeline, prepared.X_train, prepared.y_train, weigh=weigh)
            direct.append(time.perf_counter() - started)

        for _ in range(args.repeat):  # no worker yet: a job starts a fresh interpreter
            fit_directly()
            started = time.perf_counter()
            lines: list[str] = []
            with _stages(stages):
                train_version(ws, version, config, ["lightgbm"], callbacks=Progress.of(log=lines.append))
            inproc.append(time.perf_counter() - started)
            given["in-process"].append(_threads_of(lines))
            spawned.append(_job_seconds(ws, version, config, given["fresh-interpreter job"],
                                        inner["fresh-interpreter job"]))
        # The app starts its worker once, when it opens the workspace, and keeps it: so does this.
        worker.start(Path(tmp) / "logs")
        assert worker.ready(60), "the warm worker did not start"
        for _ in range(args.repeat):
            fit_directly()
            warm.append(_job_seconds(ws, version, config, given["warm job"], inner["warm job"]))
        worker.stop()
    base = median(direct)
    print(f"\nLightGBM on {args.rows:,} rows × 20 features, median of {args.repeat}\n")
    print(markdown_table([
        {"candidate": "pipeline.fit called directly (baseline)", "seconds": f"{base:.2f}", "vs baseline": "1.00×",
         "vs in-process": ""},
        *[{"candidate": name, "seconds": f"{median(times):.2f}", "vs baseline": f"{median(times) / base:.2f}×",
           "vs in-process": f"{median(times) / median(inproc):.2f}×"} for name, times in [
            ("train_version in-process (read, prepare, fit, evaluate, save, register)", inproc),
            ("the train job, forked by the warm worker (the app's default)", warm),
            ("the train job, fresh interpreter (no warm worker: the CLI)", spawned)]],
    ]))
    print("\nThe in-process run by stage (median seconds; a stage's own function, so nested work is in its parent;"
          " the reference statistics run beside the evaluation):\n")
    print(markdown_table([{"stage": name, "seconds": f"{median(v):.2f}",
                           "share of the run": f"{median(v) / median(inproc):.0%}"} for name, v in stages.items()]))
    ratio = median(warm) / base
    runs = {"fit": direct, "in-process": inproc, "warm job": warm, "fresh-interpreter job": spawned}
    print("\nThe fit inside each job (its own train_seconds) against the bare fit, and what the job adds around it:\n")
    print(markdown_table([{"candidate": name, "its fit (s)": f"{median(inner[name]):.2f}",
                           "vs the bare fit": f"{median(inner[name]) / base:.2f}×",
                           "the rest of the job (s)": f"{median(np.subtract(times, inner[name])):.2f}"}
                          for name, times in [("warm job", warm), ("fresh-interpreter job", spawned)]]))
    print("\nThreads each fit was given: " + "; ".join(f"{n} {', '.join(v)}" for n, v in given.items()))
    print("\nEvery run (s): " + "; ".join(f"{n} {', '.join(f'{t:.2f}' for t in v)}" for n, v in runs.items()))
    print(f"\nTarget: the train job ≤ 1.10× the bare fit: {ratio:.2f}× {'✓' if ratio <= 1.10 else '✗'}. "
          f"The job system's own overhead (warm job vs the same work in-process): {median(warm) / median(inproc):.2f}×;"
          "\nthe rest is work a bare fit does not do (read the version, leakage screen, evaluate, save, register).")


# (module, function, stage): where train_version spends its time, outermost first.
# The reference statistics run on a thread beside the evaluation, so their seconds overlap its.
STAGES = (("core.data.datasets", "load_frame", "read the version"), ("core.ml.train", "prepare_data", "prepare"),
          ("core.ml.prepared", "feature_warnings", "leakage screen (part of prepare)"),
          ("core.ml.train", "fit_pipeline", "fit (the baseline's work)"), ("core.ml.train", "evaluate", "evaluate"),
          ("core.models.training", "build_reference", "reference statistics (on a thread, beside the evaluation)"),
          ("core.ml.train", "predict_seconds_per_1000", "predict-speed probe"),
          ("core.ml.train", "dump_model", "serialise (skops)"),
          ("core.models.training", "register_result", "register (store, registry rows)"))


@contextmanager
def _stages(into: dict[str, list[float]]) -> Iterator[None]:
    """Time each :data:`STAGES` function while the block runs (its callers look it up at call time)."""
    saved, spent = [], defaultdict(float)
    for module_name, name, stage in STAGES:
        module = importlib.import_module(module_name)
        real = getattr(module, name)

        def timed(*args, _real=real, _stage=stage, **kwargs):
            started = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                spent[_stage] += time.perf_counter() - started

        saved.append((module, name, real))
        setattr(module, name, timed)
    try:
        yield
    finally:
        for module, name, real in saved:
            setattr(module, name, real)
        for _, _, stage in STAGES:
            into[stage].append(spent[stage])


JOB_PANEL_POLL = 1.0  # seconds between the job panel's looks at a live job (components/job_panel.py)


def _job_seconds(ws: Workspace, version, config: TrainConfig, threads: list[str], fits: list[float]) -> float:
    job_id = jobs.submit(ws, "train", {"dataset_version_id": version.id, "config": config.to_dict(),
                                       "algorithms": ["lightgbm"]})
    # Asked once a second, as the page's job panel asks; timed by the job's own row, submitted to
    # finished, so the answer does not wait for the next question.  Asking every 50 ms (as this
    # benchmark did) slowed the job's two-thread fit by about a tenth on two cores: 12.2 s twice
    # against 11.3 and 10.1 s, alternating, in one warm worker.
    info = jobs.wait(ws, job_id, timeout=3600, poll=JOB_PANEL_POLL)
    assert info.status == "succeeded", info.error
    seconds = (info.finished_at - info.created_at).total_seconds()
    threads.append(_threads_of(jobs.logs(ws, job_id)))
    fits.append(float(info.result["results"][0]["train_seconds"]))
    return seconds


def _threads_of(lines: list[str]) -> str:
    """The fit's thread count as its log line gives it ("Fitting … with N threads")."""
    found = [m.group(1) for m in (re.search(r"with (\d+) threads?$", line) for line in lines) if m]
    return found[-1] if found else "?"


if __name__ == "__main__":
    main()
