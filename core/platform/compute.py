"""The compute seam: where a stage's partition tasks run, in this process or on a Dask cluster.

A stage that can split its work into independent tasks (one per Parquet part, say) asks
:func:`executor_for` and calls :meth:`Executor.map`; it never imports ``distributed`` itself (an
import-linter contract keeps it so).  :class:`LocalExecutor` runs the tasks here, one after the
other, and is the embedded default; :class:`DaskExecutor` sends them to the cluster named by
``ATELIER_DASK_SCHEDULER``: the shared object (a model) is scattered to the workers once, each task
gets it as an argument, results come back in task order, progress counts completed tasks, and the
first failed task cancels the others and raises (so a caller never stores half a result).

Libraries with their own Dask interface (LightGBM, XGBoost) get collections instead of futures:
:meth:`DaskExecutor.frame` builds a persisted Dask DataFrame from one task per item, :meth:`~DaskExecutor.wait`
waits for it with cancel checks, :meth:`~DaskExecutor.release` frees it, :meth:`~DaskExecutor.waiting` makes
the client current (and frees a job's worker thread) around the library's own calls, and
:meth:`~DaskExecutor.listen_addresses` gives each worker a free port for the library's own links.  A
worker lost mid-task (killed, out of memory) surfaces as a ``ResourceError`` that says nothing was stored.

:func:`task_folder` is the scratch folder tasks write their output files into; it is removed even
while cancelled tasks are still writing.  :func:`cluster_summary` describes the cluster for the
Settings page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.platform.config import Settings
from core.platform.errors import ResourceError

__all__ = ["ClusterSummary", "DaskExecutor", "Executor", "LocalExecutor", "TaskFailed", "cluster_summary",
           "executor_for", "task_folder"]

Done = Callable[[int, int], None]  # (tasks completed, tasks in all)
LATE_WRITER_SECONDS = 30.0  # how long a task folder's removal waits out cancelled tasks still writing


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
                    raise TaskFailed(i, _plain(future.exception()))
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


    # -- for libraries with their own Dask interface (LightGBM, XGBoost): collections, not futures --

    def frame(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: Any = None, meta: Any = None,
              sides: bool = False) -> Any:
        """A Dask DataFrame whose i-th partition is ``fn(items[i], shared)``, computed and kept on the workers.

        The partitions are persisted (computed once, held in worker memory until :meth:`release`);
        ``meta`` is an empty pandas frame with the partitions' columns and dtypes.  With ``sides``,
        ``fn`` returns ``(partition, side)`` and this returns ``(frame, sides)``: the sides (small
        things the same read yields, such as a sample) stay on the workers as futures, in item order,
        for :meth:`gather` and :meth:`release`; no item is computed twice.
        """
        import dask.dataframe as dd

        client = self.client
        handle = client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
        if not sides:
            from dask import delayed

            pieces = [delayed(fn, pure=False)(item, handle) for item in items]
            return client.persist(dd.from_delayed(pieces, meta=meta, verify_meta=False))
        from operator import itemgetter

        whole = client.map(fn, list(items), [handle] * len(items), pure=False)
        parts = client.map(itemgetter(0), whole, pure=False)
        rest = client.map(itemgetter(1), whole, pure=False)
        del whole  # the pairs are freed once both halves exist
        return client.persist(dd.from_delayed(parts, meta=meta, verify_meta=False)), rest

    def gather(self, futures: Sequence[Any]) -> list[Any]:
        """The values of ``futures`` (a frame's sides), in their order."""
        return list(self.client.gather(list(futures)))

    def wait(self, collection: Any, check: Callable[[], None] | None = None, every: float = 0.2) -> None:
        """Block until ``collection``'s partitions are computed, calling ``check`` (a cancel check) meanwhile.

        A failed partition raises :class:`TaskFailed`; a cancel (``check`` raising) releases them first.
        """
        import time

        from distributed import futures_of

        futures = futures_of(collection)
        try:
            while True:  # polled (distributed.wait wants a default client; ours is not one)
                if check is not None:
                    check()
                failed = [f for f in futures if f.status == "error"]
                if failed:
                    raise TaskFailed(futures.index(failed[0]), _plain(failed[0].exception()))
                if all(f.status == "finished" for f in futures):
                    return
                time.sleep(every)
        except BaseException:
            self.release(collection)
            raise

    def compute(self, collection: Any) -> Any:
        """The value of a Dask collection (a row count, say), computed on this executor's cluster."""
        return self.client.compute(collection).result()

    def release(self, collection: Any) -> None:
        """Drop ``collection``'s partitions from worker memory (and stop computing them)."""
        from distributed import futures_of

        self.client.cancel(futures_of(collection))

    def threads_per_worker(self) -> int:
        """The fewest threads any worker has: one task per thread runs there at once."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return max(1, min((int(w.get("nthreads", 1)) for w in workers.values()), default=1))

    def slots(self) -> int:
        """Threads across all workers: how many one-thread tasks run at once."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def listen_addresses(self) -> list[str]:
        """``host:port`` per worker, each port free on its host now (for a library's own worker-to-worker links).

        Several workers on one host each get a different port, which a fixed listen port cannot give.
        """
        from urllib.parse import urlparse

        ports = self.client.run(_free_port)
        return [f"{urlparse(address).hostname}:{port}" for address, port in sorted(ports.items())]

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a library's own Dask calls: this client is the current one (LightGBM looks for it), and
        inside a worker task (a job run there) the task's thread is given back while the cluster works."""
        seceded = _secede()
        try:
            with self.client.as_current():
                yield
        finally:
            if seceded:
                from distributed import rejoin

                rejoin()


def _plain(error: BaseException) -> BaseException:
    """A task's error as the user should read it: a worker lost mid-task becomes a ResourceError."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        return ResourceError(
            "A Dask worker died while running this task (killed, or over its memory limit).",
            hint="Nothing was stored. Give the workers more memory or use smaller parts, then run it again.")
    return error


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def _secede() -> bool:
    from distributed import get_worker, secede

    try:
        get_worker()
    except ValueError:
        return False
    secede()
    return True


@contextmanager
def task_folder(parent: Path) -> Iterator[str]:
    """A fresh folder under ``parent`` that tasks write their output files into, removed on the way out.

    Cancelling a Dask task does not interrupt it: a task already running when :meth:`DaskExecutor.map`
    raised may still write its file while the folder is being removed (``rmtree`` then fails on a
    folder that is no longer empty).  So removal is retried until the folder is gone, or for
    ``LATE_WRITER_SECONDS``; once it is gone a late writer fails, as nothing creates the folder again.
    """
    parent.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(dir=parent)
    try:
        yield folder
    finally:
        deadline = time.monotonic() + LATE_WRITER_SECONDS
        shutil.rmtree(folder, ignore_errors=True)
        while os.path.exists(folder) and time.monotonic() < deadline:
            time.sleep(0.05)
            shutil.rmtree(folder, ignore_errors=True)


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
