"""Issue 11 in a real browser: the first change in "Schema & roles" after a success message stays on that tab."""

from __future__ import annotations

from tests.e2e.conftest import open_add_data, screenshot


def test_the_first_roles_change_after_a_message_keeps_the_schema_tab(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_add_data(page, app_url)
    page.locator('[class*="st-key-data-sample-penguins"] button').click()
    page.get_by_role("heading", name="penguins@1").wait_for(timeout=30_000)
    page.get_by_text("Loaded the", exact=False).first.wait_for(timeout=30_000)  # the success message

    schema = page.get_by_role("tab", name="Schema & roles")
    schema.click()
    target = page.locator('[class*="st-key-data-roles-"][class*="-target"]').first
    target.wait_for(timeout=30_000)
    target.get_by_role("combobox").click()
    page.keyboard.type("island")
    page.keyboard.press("Enter")
    page.get_by_text("Loaded the", exact=False).first.wait_for(state="detached", timeout=30_000)  # rerun done
    page.wait_for_timeout(1000)
    screenshot(page, "data-roles-change-keeps-tab")
    assert schema.get_attribute("aria-selected") == "true"  # not back on Preview
    save = page.locator('[class*="st-key-data-save_roles"] button')
    assert save.is_visible() and save.is_enabled()
