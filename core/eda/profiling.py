"""ydata-profiling reports as one HTML string, with progress and cancellation for a background job.

``profile_report_html`` runs ydata-profiling 4.18 in minimal mode
(``ProfileReport(df, minimal=True, progress_bar=False, title=...).to_html()``) on the dataset, or
on a random sample of ``sample_threshold`` rows (fixed seed, original row order) above that size:
minimal mode takes about 15 s for 1,000,000 x 21 on two cores and grows with rows and columns.

ydata-profiling has no progress API; it drives tqdm bars.  While a report runs, the bar of its
describe step (one tick per column, then one per table-level task) is replaced by a stand-in that
forwards each tick to ``progress`` and asks ``cancelled`` whether to stop, so a job sees progress
column by column and can stop between columns.  Rendering the HTML has no finer steps than its
start and end.  The replacement is process-wide, so one report runs at a time per process (a lock);
if a future ydata version moves its bar, reports still run with coarse progress only.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.platform.errors import InvalidInputError, JobCancelledError

__all__ = ["ProfileResult", "profile_report_html"]

_LOCK = threading.Lock()
_DESCRIBE_SPAN = (0.05, 0.85)  # share of the progress bar that the describe step fills


@dataclass(frozen=True)
class ProfileResult:
    """The report's HTML and how it was made."""

    html: str
    sampled: bool
    rows_used: int
    minimal: bool


def profile_report_html(
    df: pd.DataFrame,
    *,
    title: str,
    sample_threshold: int = 100_000,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    seed: int = 0,
) -> ProfileResult:
    """A ydata-profiling report (minimal mode) of the dataset as a self-contained HTML page.

    Parameters
    ----------
    df : DataFrame
    title : str
        Shown at the top of the report.
    sample_threshold : int, default 100_000
        Above this many rows the report describes a random sample of this size (seed ``seed``).
    progress : callable(fraction, message), optional
        Called with a fraction in [0, 1] and a short message as the report advances.
    cancelled : callable() -> bool, optional
        Asked between columns and between steps; when it returns True the report stops.
    seed : int, default 0

    Returns
    -------
    ProfileResult

    Raises
    ------
    InvalidInputError
        When ``df`` is not a DataFrame, has no rows or columns, or ``title`` is empty.
    JobCancelledError
        When ``cancelled()`` returned True.
    """
    _check(df, title, sample_threshold)
    report = _Reporter(progress, cancelled)
    report.step(0.0, "Preparing the data")
    sampled = len(df) > sample_threshold
    frame = df
    if sampled:
        positions = np.sort(np.random.default_rng(seed).choice(len(df), sample_threshold, replace=False))
        frame = df.iloc[positions]
    # ydata-profiling expects text column names; keep the user's names as they read.
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    report.step(0.02, "Loading ydata-profiling")
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ydata and its plotting stack are chatty; none of it is ours to fix
        from ydata_profiling import ProfileReport

        profile = ProfileReport(frame, minimal=True, progress_bar=False, title=title)
        report.step(_DESCRIBE_SPAN[0], f"Describing {frame.shape[1]} columns of {len(frame):,} rows")
        with _forward_bars(report):
            profile.get_description()
        report.step(_DESCRIBE_SPAN[1], "Building the report")
        _ = profile.report
        report.step(0.9, "Rendering HTML")
        html = profile.to_html()
    report.step(1.0, "Report ready")
    return ProfileResult(html=html, sampled=sampled, rows_used=len(frame), minimal=True)


def _check(df: Any, title: Any, sample_threshold: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"A profile report needs a pandas DataFrame; got {type(df).__name__}.")
    if df.shape[1] == 0 or len(df) == 0:
        raise InvalidInputError(
            f"A profile report needs at least one row and one column; the dataset has {len(df)} rows and "
            f"{df.shape[1]} columns.", hint="Pick a version that has data.")
    if not isinstance(title, str) or not title.strip():
        raise InvalidInputError(f"A profile report needs a non-empty title; got {title!r}.")
    if isinstance(sample_threshold, bool) or not isinstance(sample_threshold, int) or sample_threshold < 1:
        raise InvalidInputError(
            f"The 'sample_threshold' parameter must be a positive integer; got {sample_threshold!r}.")


class _Reporter:
    """Sends monotonic progress to the caller's callback and raises when the caller cancelled."""

    def __init__(self, progress: Callable[[float, str], None] | None, cancelled: Callable[[], bool] | None) -> None:
        self._progress, self._cancelled = progress, cancelled
        self._lock = threading.Lock()
        self._fraction = 0.0

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise JobCancelledError("The profile report was cancelled.")

    def step(self, fraction: float, message: str) -> None:
        self.check()
        with self._lock:
            self._fraction = max(self._fraction, min(fraction, 1.0))
            if self._progress is not None:
                self._progress(self._fraction, message)


class _DescribeBar:
    """Takes the place of ydata's tqdm bar: each tick moves the caller's progress within the describe span."""

    def __init__(self, reporter: _Reporter, iterable: Any = None, total: int | None = None, **_: Any) -> None:
        self._reporter, self._iterable = reporter, iterable
        self.total, self.n, self._message = total or 0, 0, "Describing the columns"

    def __enter__(self) -> _DescribeBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        yield from self._iterable or ()

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self._message = text
        self._reporter.check()  # between columns: worker threads stop here, the describe step raises

    def update(self, n: int = 1) -> None:
        self.n += n
        low, high = _DESCRIBE_SPAN
        self._reporter.step(low + (high - low) * min(self.n / max(self.total, 1), 1.0), self._message)

    def close(self) -> None:
        return None


class _SilentBar:
    """Replaces the per-column bar ydata draws on stderr whatever its settings say."""

    def __init__(self, iterable: Any = None, **_: Any) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        yield from self._iterable or ()


@contextmanager
def _forward_bars(reporter: _Reporter) -> Iterator[None]:
    import ydata_profiling.model.describe as describe

    try:
        import ydata_profiling.model.pandas.summary_pandas as summary
    except ImportError:  # pragma: no cover - a later ydata layout
        summary = None
    targets = [(describe, lambda *a, **k: _DescribeBar(reporter, *a, **k))]
    if summary is not None:
        targets.append((summary, _SilentBar))
    saved = [(module, module.tqdm) for module, _ in targets if hasattr(module, "tqdm")]
    for module, replacement in targets:
        if hasattr(module, "tqdm"):
            module.tqdm = replacement
    try:
        yield
    finally:
        for module, original in saved:
            module.tqdm = original
