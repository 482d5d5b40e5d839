"""The whole app in a real headless Chromium, driven like a user would."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_load_a_sample_and_see_its_preview(page, app_url):
    page.goto(app_url)
    page.get_by_role("heading", name="Data").wait_for(timeout=60_000)
    page.get_by_text("Titanic", exact=False).first.wait_for()
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
