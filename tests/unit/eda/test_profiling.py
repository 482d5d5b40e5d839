"""profile_report_html: a real ydata-profiling minimal report of a small frame, its progress, sampling, cancel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda.profiling import profile_report_html
from core.platform.errors import InvalidInputError, JobCancelledError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame({
        "price": rng.normal(100, 10, n),
        "city": rng.choice(["Porto", "Lisbon", "Faro"], n),
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        7: rng.integers(0, 5, n),  # a non-text column name
    })


@pytest.mark.slow
def test_report_of_a_small_frame_with_progress(frame):
    seen: list[tuple[float, str]] = []
    result = profile_report_html(frame, title="Prices 2024", progress=lambda f, m: seen.append((f, m)))
    assert result.html.lstrip().lower().startswith("<!doctype html>")
    assert "Prices 2024" in result.html and "Porto" in result.html
    assert (result.sampled, result.rows_used, result.minimal) == (False, 120, True)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    messages = [m for _, m in seen]
    assert "Describing 4 columns of 120 rows" in messages
    assert sum(m.startswith("Describe variable") for m in messages) >= 3  # ydata's own per-column steps
    assert messages[-3:] == ["Building the report", "Rendering HTML", "Report ready"]


@pytest.mark.slow
def test_large_frames_are_sampled(frame):
    result = profile_report_html(frame, title="Sampled", sample_threshold=50)
    assert (result.sampled, result.rows_used) == (True, 50)


@pytest.mark.slow
def test_cancel_stops_between_columns_and_restores_ydata(frame):
    import ydata_profiling.model.describe as describe

    original = describe.tqdm
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 4  # past the set-up steps, inside the describe step

    with pytest.raises(JobCancelledError, match="The profile report was cancelled."):
        profile_report_html(frame, title="Stopped", cancelled=cancelled)
    assert describe.tqdm is original


def test_bad_input_is_refused_before_ydata_runs(frame):
    with pytest.raises(InvalidInputError, match="needs a pandas DataFrame; got dict"):
        profile_report_html({"a": [1]}, title="x")
    with pytest.raises(InvalidInputError, match="at least one row and one column; the dataset has 0 rows"):
        profile_report_html(frame.iloc[:0], title="x")
    with pytest.raises(InvalidInputError, match="non-empty title; got ' '"):
        profile_report_html(frame, title=" ")
    with pytest.raises(InvalidInputError, match="'sample_threshold' parameter must be a positive integer; got 0"):
        profile_report_html(frame, title="x", sample_threshold=0)
