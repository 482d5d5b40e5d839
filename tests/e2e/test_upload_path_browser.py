"""Issue 11's demo path in a real browser at 1280×720, from a real upload to batch predictions with ids.

Upload a CSV (the bundled Titanic with a ``passenger_id`` column, as a Telco-like file has its
``rownames``) → set the target in "Schema & roles" → save → train with cross-validation → Benchmarks
→ score the file in a batch and download the predictions.  Each step asserts what the page shows
and leaves a 1280×720 screenshot in ``test-output/`` for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from tests.e2e.conftest import ROOT, open_add_data, screenshot

WAIT = 60_000


def passengers(folder: Path) -> tuple[Path, Path]:
    """The training file, and the same rows without the target for the batch."""
    frame = pd.read_parquet(ROOT / "data" / "samples" / "titanic.parquet")
    frame.insert(0, "passenger_id", range(1001, 1001 + len(frame)))
    frame = frame[["passenger_id", "pclass", "survived", "name", "sex", "age", "sibsp", "parch", "fare", "embarked"]]
    train, batch = folder / "passengers.csv", folder / "passengers-new.csv"
    frame.to_csv(train, index=False)
    frame.drop(columns=["survived"]).head(50).to_csv(batch, index=False)
    return train, batch


def shot(page, name: str) -> None:
    page.wait_for_timeout(800)  # let the last rerun paint
    screenshot(page, f"upload-path-{name}")


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


def open_page(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name).wait_for(timeout=WAIT)


def test_upload_to_batch_predictions_with_ids_at_1280(page, app_url, tmp_path):
    train_file, batch_file = passengers(tmp_path)
    page.set_viewport_size({"width": 1280, "height": 720})
    open_add_data(page, app_url)

    # -- upload ---------------------------------------------------------------------------
    page.get_by_role("tab", name="Upload a file").click()
    page.locator('input[type="file"]').first.set_input_files(str(train_file))
    page.get_by_text("Detected: CSV", exact=False).wait_for(timeout=WAIT)
    importer = page.locator('[class*="st-key-data-upload-import"] button')
    shot(page, "1-upload")
    importer.click()
    page.get_by_role("heading", name="passengers@1").wait_for(timeout=WAIT)
    page.get_by_text("Imported passengers.csv", exact=False).wait_for(timeout=WAIT)

    # -- target, then save as a new version --------------------------------------------------
    page.get_by_role("tab", name="Schema & roles").click()
    target = page.locator('[class*="st-key-data-roles-"][class*="-target"]').first
    target.wait_for(timeout=WAIT)
    target.get_by_role("combobox").click()
    page.keyboard.type("survived")
    page.keyboard.press("Enter")
    ids = page.locator('[data-testid="stMultiSelect"]').filter(has_text="ID columns").first
    ids.wait_for(timeout=WAIT)
    assert "passenger_id" in ids.inner_text()  # the id-like column is an id, not a feature
    save = page.locator('[class*="st-key-data-save_roles"] button')
    save.wait_for(timeout=WAIT)
    shot(page, "2-roles")
    save.click()
    page.get_by_role("heading", name="passengers@2").wait_for(timeout=WAIT)

    # -- train with cross-validation --------------------------------------------------------
    open_page(page, "Train")
    version = page.get_by_role("combobox", name="Version").first
    version.wait_for(timeout=WAIT)
    assert version.input_value().startswith("v2 ")  # the version just made, not the one without a target
    folds = page.locator('[class*="st-key-train-cv"] input').first
    folds.wait_for(timeout=WAIT)
    assert int(folds.input_value()) >= 2  # a target from the start: CV is on, not stuck at 0
    assert in_view(page, page.locator('[class*="st-key-train-target"]').first)  # the form starts above the fold
    shot(page, "3-train")
    start = page.locator('[class*="st-key-train-start"] button')
    start.scroll_into_view_if_needed()
    # Train never waits for the estimates; the test does, so the estimate shows beside each model's time.
    page.get_by_text("in the background; Train does not wait", exact=False).wait_for(state="detached",
                                                                                   timeout=180_000)
    assert start.is_enabled()
    start.click()
    page.get_by_text("· succeeded ·", exact=False).first.wait_for(timeout=240_000)
    took = page.get_by_text(re.compile(r"Took [\d.,]+ s · estimated [\d.,]+ s")).first
    took.wait_for(timeout=WAIT)  # the estimate beside the time taken, from the model itself
    took.scroll_into_view_if_needed()
    shot(page, "4-trained")

    # -- benchmarks: scoped to this dataset and target -----------------------------------------
    open_page(page, "Benchmarks")
    scope = page.get_by_role("combobox", name="Dataset and target").first
    scope.wait_for(timeout=WAIT)
    assert scope.input_value() == "passengers · survived (binary)"
    assert page.get_by_role("switch", name="All datasets and targets").is_checked() is False
    assert page.get_by_text(re.compile(r"model versions of passengers · survived")).count() == 1
    assert in_view(page, page.get_by_role("button", name="Download CSV").first)
    shot(page, "5-benchmarks")

    # -- batch predictions carry the id column ------------------------------------------------
    open_page(page, "Predict")
    picker = page.get_by_role("combobox", name="Model").first
    picker.wait_for(timeout=WAIT)
    if picker.input_value() != "passengers-survived":  # other tests' models may be the last used
        picker.click()
        page.keyboard.type("passengers-survived")
        page.keyboard.press("Enter")
        page.get_by_text("Using passengers-survived:", exact=False).first.wait_for(timeout=WAIT)
    page.get_by_role("tab", name="Batch").click()
    page.locator('[class*="st-key-predict-batch-file"] input[type="file"]').set_input_files(str(batch_file))
    page.get_by_text("50 rows: 0 error(s)", exact=False).wait_for(timeout=WAIT)
    score = page.get_by_role("button", name="Score 50 rows")
    shot(page, "6-batch-checked")
    score.click()
    csv_button = page.get_by_role("button", name="Download CSV")
    csv_button.wait_for(timeout=120_000)
    shot(page, "7-batch-scored")
    with page.expect_download() as download:
        csv_button.click()
    scored = pd.read_csv(download.value.path())
    assert scored.columns[0] == "passenger_id" and scored["passenger_id"].tolist()[:3] == [1001, 1002, 1003]
    assert len(scored) == 50 and "name" not in scored.columns  # ids and predictions, not the inputs
