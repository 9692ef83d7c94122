"""A11Y-01/A11Y-04 for the dashboards: every page and state passes axe-core, draws its charts
from local files only (no request leaves the site, no CSP breach), and every table and download
can be reached by keyboard."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.dashboards.conftest import consultation_town, content_sources, responses_source, town  # noqa: F401 - fixtures
from tests.factories import make_user

PAGES = [
    "/dashboard",
    "/dashboard/areas/E47900001?period=all",
    "/dashboard/areas/E08900002?period=30d",
    "/dashboard/areas/E05900001?period=12m",
    "/dashboard/consultations/bus-lanes?area=E08900001&period=90d",
    "/dashboard?period=forever",  # the error state
]


@pytest.mark.parametrize("path", PAGES)
def test_dashboard_pages_as_an_officer(browser_page, town, responses_source, geography, path):  # noqa: F811
    officer = make_user("resident", "officer", ward=geography.wards[0])
    sign_in(browser_page, officer.email, PASSWORD)
    response = browser_page.goto(path)
    assert response.status == (400 if "forever" in path else 200)
    if response.status == 200:
        # Every chart is drawn (an SVG inside each figure) from data the page carries.
        browser_page.tab.wait_for_function("document.querySelectorAll('.civic-figure__chart .main-svg').length >= 8")
    browser_page.check_accessible(f"{path} (officer)")


def test_councillor_lands_on_their_ward_and_can_use_the_keyboard(browser_page, town, geography):  # noqa: F811
    councillor = make_user("resident", "councillor", ward=geography.wards[1])
    sign_in(browser_page, councillor.email, PASSWORD)
    browser_page.goto("/dashboard")
    tab = browser_page.tab
    assert tab.locator("h1").inner_text() == "Ward 2"
    tab.wait_for_function("document.querySelectorAll('.civic-figure__chart .main-svg').length >= 8")
    browser_page.check_accessible("/dashboard (councillor)")

    # Tab through the page: every download link and every sort button is reached.
    downloads = tab.locator("a:has-text('(CSV)')").count()
    sorters = tab.locator("button.civic-sort-button").count()
    assert downloads == 6 and sorters == 4
    reached = set()
    for _ in range(400):
        tab.keyboard.press("Tab")
        reached.add(tab.evaluate("document.activeElement.textContent.trim()"))
    assert sum(1 for r in reached if r.endswith("(CSV)")) == 6
    assert {"Ward", "Participants", "Residents aged 16+", "Per 1,000"} <= reached

    # Sort the ward table by keyboard: the header says so.
    tab.locator("button.civic-sort-button", has_text="Participants").focus()
    tab.keyboard.press("Enter")
    assert tab.locator("th[aria-sort=ascending]").inner_text().startswith("Participants")
    browser_page.check_accessible("/dashboard (councillor, table sorted)")

    # The data table of the daily chart opens by keyboard.
    tab.locator("summary:has-text('Table of activity per day')").focus()
    tab.keyboard.press("Enter")
    assert tab.locator("caption:has-text('per day')").first.is_visible()
    browser_page.check_accessible("/dashboard (councillor, daily table open)")


def test_dashboards_work_without_javascript(no_js_page, town, geography):  # noqa: F811
    officer = make_user("resident", "officer", ward=geography.wards[0])
    sign_in(no_js_page, officer.email, PASSWORD)
    no_js_page.goto("/dashboard?area=E08900001&period=30d")
    assert no_js_page.tab.url.endswith("/dashboard/areas/E08900001?period=30d")
    assert no_js_page.tab.locator("caption:has-text('Active participants by ward')").count() == 1


CONSULTATION_PAGES = [
    "/dashboard/consultations/bus-lanes?period=all",
    "/dashboard/consultations/parks?area=E08900001&period=30d",
    "/dashboard/areas/E47900001?period=all",  # the moderation section
]


@pytest.mark.parametrize("path", CONSULTATION_PAGES)
def test_results_ideas_and_moderation_figures(browser_page, consultation_town, geography, path):  # noqa: F811
    """Every new figure is drawn from local files, the page passes axe-core, no request leaves
    the site (checked by the fixture), and escaped titles are drawn as text, not markup."""
    officer = make_user("resident", "officer", ward=geography.wards[0])
    sign_in(browser_page, officer.email, PASSWORD)
    response = browser_page.goto(path)
    assert response.status == 200
    tab = browser_page.tab
    expected = tab.locator(".civic-figure__chart").count()
    assert expected >= 9
    tab.wait_for_function(f"document.querySelectorAll('.civic-figure__chart .main-svg').length >= {expected}")
    browser_page.check_accessible(f"{path} (officer)")
    if "bus-lanes" in path:
        labels = tab.locator("#chart-top-ideas .ytick text").all_text_contents()
        assert any("<script>alert(1)</script>" in t for t in labels)  # shown as text
        downloads = tab.locator("a:has-text('(CSV)')").count()
        reached = set()
        for _ in range(600):
            tab.keyboard.press("Tab")
            reached.add(tab.evaluate("document.activeElement.textContent.trim()"))
        assert sum(1 for r in reached if r.endswith("(CSV)")) == downloads == 8
