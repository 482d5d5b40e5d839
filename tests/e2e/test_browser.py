"""The whole app in a real headless Chromium, driven like a user would."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_add_data, screenshot

pytestmark = pytest.mark.e2e


def test_load_a_sample_and_see_its_preview(page, app_url):
    open_add_data(page, app_url)
    page.locator('[class*="st-key-data-sample-titanic"] button').click()
    page.get_by_role("heading", name="titanic@1").wait_for(timeout=30_000)
    page.get_by_text("The first 100 rows").wait_for(timeout=30_000)
    grids = page.locator('[data-testid="stDataFrame"]')
    grids.nth(1).wait_for(timeout=30_000)
    preview = grids.nth(1)  # the first is the list of datasets
    assert preview.is_visible()
    assert preview.bounding_box()["height"] > 200  # rows are drawn, not an empty frame
    shot = screenshot(page, "data-page-titanic-preview")
    assert shot.stat().st_size > 10_000
    for name in ("EDA", "Train", "Benchmarks", "Predict", "Settings"):
        assert page.get_by_role("link", name=name).count() >= 1


def ensure_titanic(page, app_url) -> None:
    """The Titanic sample open on the Data page, loaded now unless an earlier test did (each test can run alone)."""
    open_add_data(page, app_url)
    page.locator('[class*="st-key-data-sample-titanic"] button').click()  # loaded before: opens that version
    page.get_by_role("heading", name="titanic@1").wait_for(timeout=30_000)


def test_train_then_predict_one_row_and_download_a_batch(page, app_url, tmp_path):
    """From the sample to a trained model's confusion matrix, a one-row prediction and a batch file."""
    ensure_titanic(page, app_url)

    page.get_by_role("link", name="Train").click()
    page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Detected:").wait_for(timeout=30_000)
    page.locator('[class*="st-key-train-start"] button').click()
    page.get_by_role("tab", name="Confusion matrix").wait_for(timeout=240_000)
    page.get_by_role("tab", name="Confusion matrix").click()
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
    screenshot(page, "train-page-confusion-matrix")

    page.get_by_role("link", name="Predict").click()
    page.get_by_role("heading", name="Predict", exact=True).wait_for(timeout=30_000)
    page.locator('[data-testid="stForm"]').get_by_role("button", name="Predict").click()
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    metric.wait_for(timeout=60_000)
    value = metric.locator('[data-testid="stMetricValue"]').inner_text()
    assert value.strip() in {"0", "1"}
    screenshot(page, "predict-page-one-row")

    page.get_by_role("tab", name="Batch").click()
    page.get_by_role("radiogroup", name="Rows").first.get_by_text("A dataset version").click()
    score = page.get_by_role("button", name="Score 1,309 rows")
    score.wait_for(timeout=60_000)
    score.click()
    download_button = page.get_by_role("button", name="Download CSV")
    download_button.wait_for(timeout=180_000)
    with page.expect_download() as download_info:
        download_button.click()
    saved = tmp_path / "predictions.csv"
    download_info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].replace('"', "").split(",")[:2] == ["prediction", "probability_0"]
    assert len(lines) == 1310  # the header and one row per input row


def test_a_profiling_job_survives_a_browser_refresh(page, app_url):
    ensure_titanic(page, app_url)
    page.get_by_role("link", name="EDA").click()
    page.get_by_role("heading", name="EDA", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Full report", exact=True).click()
    page.get_by_role("button", name="Generate profiling report").click()
    page.get_by_text("Profile titanic@1").first.wait_for(timeout=30_000)  # the live job panel
    page.reload()  # a new browser session: nothing is left in Streamlit's session state
    page.get_by_role("heading", name="EDA", exact=True).wait_for(timeout=60_000)
    page.get_by_text("Full report", exact=True).click()
    # the same job is found in the database and followed to its end; nobody clicks Generate again
    page.get_by_role("button", name="Download the report (HTML)").wait_for(timeout=240_000)
    page.locator("iframe").first.wait_for(timeout=30_000)  # the report shown inline (rendered after the button)
    screenshot(page, "eda-profiling-report-after-refresh")
