"""Journeys through the account pages in a real browser."""

import re

from tests.browser.conftest import sign_in, wait_for
from tests.conftest import PASSWORD


def test_register_verify_sign_in_account_sign_out(app, browser_page, geography):
    page, tab = browser_page, browser_page.tab
    outbox = app.extensions["mailman"].outbox
    page.goto("/register")
    tab.fill("#email", "journey@example.org")
    tab.fill("#display_name", "Jo Journey")
    tab.fill("#password", "maple orchard window 9")
    tab.select_option("#ward_id", str(geography.wards[2].id))
    tab.check("input[name='age_band'][value='45-54']")
    tab.click("button:has-text('Create account')")
    tab.wait_for_url("**/register/check-your-email")
    assert tab.locator("h1").inner_text() == "Check your email"

    email = wait_for(lambda: next((m for m in outbox if m.to == ["journey@example.org"]), None))
    link = re.search(r"http://localhost(/verify/\S+)", email.body).group(1)
    page.goto(link)
    assert "sign-in" in tab.url
    assert "Your email address is confirmed" in tab.content()

    sign_in(page, "journey@example.org", "maple orchard window 9")
    page.goto("/account")
    assert tab.locator("h1").inner_text() == "Your account"
    assert "Jo Journey" in tab.content() and "45 to 54" in tab.content()

    tab.click("button:has-text('Sign out')")
    tab.wait_for_load_state("load")
    assert "You have signed out" in tab.content()
    page.goto("/account")
    assert "/sign-in" in tab.url


def test_error_summary_links_to_the_field_and_takes_focus(browser_page, geography):
    page, tab = browser_page, browser_page.tab
    page.goto("/register")
    tab.click("button:has-text('Create account')")
    tab.wait_for_load_state("load")
    summary = tab.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert tab.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    tab.click(".govuk-error-summary a[href='#email']")
    assert tab.evaluate("document.activeElement.id") == "email"


def test_sign_in_and_out_work_without_javascript(no_js_page, resident):
    page, tab = no_js_page, no_js_page.tab
    sign_in(page, resident.email, PASSWORD)
    page.goto("/account")
    assert tab.locator("h1").inner_text() == "Your account"
    tab.click("button:has-text('Sign out')")
    page.goto("/account")
    assert "/sign-in" in tab.url


def test_keyboard_reaches_the_main_content_first(browser_page):
    page, tab = browser_page, browser_page.tab
    page.goto("/")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main-content"


def test_areas_map_draws_from_local_files(browser_page, geography):
    page, tab = browser_page, browser_page.tab
    page.goto("/areas")
    tab.wait_for_selector("#ward-map .choroplethlayer path", timeout=10000)
    assert tab.locator("#ward-map .choroplethlayer path").count() == len(geography.wards)
