"""The compute seam: where a stage's partition tasks run, in this process or on a Dask cluster.

A stage that can split its work into independent tasks (one per Parquet part, say) asks
:func:`executor_for` and calls :meth:`Executor.map`; it never imports ``distributed`` itself (an
import-linter contract keeps it so).  :class:`LocalExecutor` runs the tasks here, one after the
other, and is the embedded default; :class:`DaskExecutor` sends them to the cluster named by
``ATELIER_DASK_SCHEDULER``: the shared object (a model) is scattered to the workers once, each task
gets it as an argument, results come back in task order, progress counts completed tasks, and the
first failed task cancels the others and raises (so a caller never stores half a result).

:func:`cluster_summary` describes the cluster for the Settings page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.platform.config import Settings

__all__ = ["ClusterSummary", "DaskExecutor", "Executor", "LocalExecutor", "TaskFailed", "cluster_summary",
           "executor_for"]

Done = Callable[[int, int], None]  # (tasks completed, tasks in all)


class TaskFailed(Exception):
    """A partition task raised: ``index`` is its position in the items, ``__cause__`` its error."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(f"task {index} failed: {error}")
        self.index, self.error = index, error


class Executor(Protocol):
    distributed: bool

    def map(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: Any = None,
            on_done: Done | None = None, check: Callable[[], None] | None = None) -> list[Any]:
        """``[fn(item, shared) for item in items]``, in item order; raises :class:`TaskFailed`."""
        ...


class LocalExecutor:
    """Tasks run in this process, one after another: no cluster, no copies."""

    distributed = False

    def map(self, fn, items, *, shared=None, on_done=None, check=None):
        results = []
        for i, item in enumerate(items):
            if check is not None:
                check()
            try:
                results.append(fn(item, shared))
            except Exception as exc:
                raise TaskFailed(i, exc) from exc
            if on_done is not None:
                on_done(i + 1, len(items))
        return results


class DaskExecutor:
    """Tasks run on a Dask cluster as plain futures (one per item), the shared object scattered once."""

    distributed = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn, items, *, shared=None, on_done=None, check=None):
        from distributed import as_completed

        if not items:
            return []
        client = self.client
        handle = client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
        futures = client.map(fn, list(items), [handle] * len(items), pure=False)  # fn(item, shared), as locally
        position = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        completed = 0
        seceded = _secede()  # inside a job that itself runs on a worker: free its thread while waiting
        try:
            for future in as_completed(futures, loop=client.loop):
                if check is not None:
                    check()
                i = position[future.key]
                if future.status == "error":
                    raise TaskFailed(i, future.exception())
                results[i] = future.result()
                future.release()
                completed += 1
                if on_done is not None:
                    on_done(completed, len(futures))
        except BaseException:
            client.cancel(futures)
            raise
        finally:
            if seceded:
                from distributed import rejoin

                rejoin()
            if handle is not None:
                client.cancel([handle])
        return results


def _secede() -> bool:
    from distributed import get_worker, secede

    try:
        get_worker()
    except ValueError:
        return False
    secede()
    return True


def executor_for(settings: Settings) -> Executor:
    """The cluster when ``settings.dask_scheduler`` is set, else this process."""
    if not settings.dask_scheduler:
        return LocalExecutor()
    from core.platform.jobs.launch import _dask_client

    return DaskExecutor(_dask_client(settings.dask_scheduler))


@dataclass(frozen=True)
class ClusterSummary:
    address: str
    workers: int
    threads: int
    memory_bytes: int
    dashboard: str | None

    def describe(self) -> str:
        """One line of Markdown: the cluster's size, and its dashboard link when it has one."""
        memory = f"{self.memory_bytes / 2**30:.1f} GiB" if self.memory_bytes else "no memory limit"
        line = (f"Dask cluster at `{self.address}`: {self.workers} worker{'s' * (self.workers != 1)}, "
                f"{self.threads} thread{'s' * (self.threads != 1)}, {memory}")
        return line + (f" · [dashboard]({self.dashboard})" if self.dashboard else " · no dashboard")


def cluster_summary(settings: Settings) -> ClusterSummary | None:
    """Workers, threads, memory and dashboard link of the configured cluster; ``None`` without one.

    Raises ``StorageError`` (with a hint) when the scheduler cannot be reached.
    """
    if not settings.dask_scheduler:
        return None
    from core.platform.jobs.launch import _dask_client

    client = _dask_client(settings.dask_scheduler)
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    try:
        dashboard = client.dashboard_link
    except Exception:  # no dashboard (bokeh missing, or started without one)
        dashboard = None
    return ClusterSummary(
        settings.dask_scheduler, len(workers), sum(int(w.get("nthreads", 0)) for w in workers.values()),
        sum(int(w.get("memory_limit", 0) or 0) for w in workers.values()), dashboard or None,
    )
