"""How many threads one model fit may use: the cores free now, not the cores the machine has.

A training job, the page server and the warm job worker share a laptop's few cores.  LightGBM and
XGBoost (OpenMP) and scikit-learn's forests (joblib threads) start as many threads as they are
told; told more than the cores free, OpenMP's threads spin waiting for each other and a small fit
on a busy two-core machine runs ten times slower.  Every fit therefore asks :func:`thread_budget`:

* ``ATELIER_THREADS=N`` fixes the count (capped to the CPUs this process may run on);
* data under :data:`SMALL_ROWS` rows gets one thread: starting and joining a second costs more
  than it saves on a table that small;
* otherwise the CPUs this process may run on (``os.sched_getaffinity``) less those other
  processes keep busy, measured over :data:`SAMPLE_SECONDS` with psutil (this process's own
  threads are not counted against it), and never less than one.  A fit of :data:`STEADY_ROWS`
  rows or more runs for seconds, so it is judged by the load that lasts: the least of
  :data:`STEADY_SAMPLES` samples.  A burst as short as one sample (a finished job's process
  exiting, the warm worker forking its next child) had given a 1M-row LightGBM fit one thread
  on a quiet two-core machine in 3 of 12 runs, 8.1 s instead of 5.0 s.

An explicit ``n_jobs`` in a training configuration wins over all of this.

:func:`free_cores` is the same measurement without the size rule, remembered for
:data:`FREE_MEMO_SECONDS` so that several decisions in one run (each algorithm's folds, a batch
job's scorer) cost one sample.  Training uses it to run cross-validation folds side by side when a
fit gets one thread and more cores are free (see :func:`core.ml.cross_validation.fold_workers`); batch scoring
uses it for LightGBM's and the compiled trees' thread counts.
"""

from __future__ import annotations

import os
import time

__all__ = ["FREE_MEMO_SECONDS", "SAMPLE_SECONDS", "SMALL_ROWS", "STEADY_ROWS", "STEADY_SAMPLES", "THREADS_ENV",
           "busy_elsewhere", "free_cores", "thread_budget", "usable_cpus"]

SMALL_ROWS = 20_000
STEADY_ROWS = 200_000
STEADY_SAMPLES = 3
SAMPLE_SECONDS = 0.1
FREE_MEMO_SECONDS = 5.0
THREADS_ENV = "ATELIER_THREADS"
_memo: dict[str, float] = {}


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def busy_elsewhere(seconds: float = SAMPLE_SECONDS) -> float:
    """Cores' worth of work other processes did on this process's CPUs over the next ``seconds``."""
    import psutil

    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = None
    own_before = time.process_time()
    per_cpu = psutil.cpu_percent(interval=seconds, percpu=True)
    own = max(time.process_time() - own_before, 0.0) / seconds  # our other threads while we slept
    shares = [per_cpu[i] for i in allowed if i < len(per_cpu)] if allowed else per_cpu
    return max(sum(shares) / 100.0 - own, 0.0)


def thread_budget(rows: int | None = None, *, fresh: bool = True) -> int:
    """Threads one fit on ``rows`` rows should use now (``None``: size unknown, judged by load alone).

    ``fresh=False``: a reading younger than :data:`FREE_MEMO_SECONDS` will do, one sample long (what an
    estimate needs to know of the threads a fit will get, several times in a row, without waiting for
    the steady reading each time).

    Examples
    --------
    >>> thread_budget(1_309)
    1
    """
    cpus = usable_cpus()
    fixed = os.environ.get(THREADS_ENV, "").strip()
    if fixed:
        try:
            return max(1, min(int(fixed), cpus))
        except ValueError:
            pass  # a malformed override: fall back to measuring rather than failing a fit
    if cpus == 1 or (rows is not None and rows < SMALL_ROWS):
        return 1
    if not fresh:
        return free_cores()
    samples = STEADY_SAMPLES if rows is not None and rows >= STEADY_ROWS else 1
    return free_cores(max_age=0, samples=samples)  # a fit's threads for its whole run: worth a fresh sample


def free_cores(max_age: float = FREE_MEMO_SECONDS, samples: int = 1) -> int:
    """Cores free for this process now: its CPUs less other processes' load (``ATELIER_THREADS`` caps it).

    A measurement younger than ``max_age`` seconds is reused (0 measures again); ``samples`` measures
    that many times in a row and keeps the least load.
    """
    cpus = usable_cpus()
    fixed = os.environ.get(THREADS_ENV, "").strip()
    if fixed.isdigit() and int(fixed) > 0:
        return min(int(fixed), cpus)
    if cpus == 1:
        return 1
    now = time.monotonic()
    if max_age > 0 and now - _memo.get("at", -1e9) < max_age and "cores" in _memo:
        return int(_memo["cores"])
    try:
        busy = min(busy_elsewhere() for _ in range(max(1, samples)))
    except Exception:  # psutil missing or /proc unreadable: the machine's CPUs, as before
        return cpus
    free = max(1, min(cpus, cpus - int(busy + 0.5)))
    _memo.update(at=now, cores=free)
    return free
