"""A11Y-01: axe-core on every page, signed out and signed in, in its error states too."""

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

PUBLIC = [
    "/",
    "/sign-in",
    "/register",
    "/register/check-your-email",
    "/reset-password",
    "/privacy",
    "/accessibility",
    "/cookies",
    "/areas",
    "/no-such-page",
    "/verify/not-a-real-token",
    "/reset-password/not-a-real-token",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages(browser_page, geography, path):
    browser_page.goto(path)
    browser_page.check_accessible(f"{path} (signed out)")


def test_area_detail(browser_page, geography):
    browser_page.goto(f"/areas/{geography.wards[0].gss_code}")
    browser_page.check_accessible("/areas/<ward>")


@pytest.mark.parametrize("path", ["/register", "/sign-in", "/reset-password"])
def test_forms_with_errors(browser_page, geography, path):
    browser_page.goto(path)
    browser_page.tab.click("form[novalidate] button[type=submit] >> nth=-1")
    browser_page.tab.wait_for_load_state("load")
    assert browser_page.tab.locator(".govuk-error-summary").count() == 1
    browser_page.check_accessible(f"{path} (errors)")


def test_reset_sent_page(browser_page, geography):
    browser_page.goto("/reset-password")
    browser_page.tab.fill("#email", "someone@example.org")
    browser_page.tab.click("button:has-text('Send reset link')")
    browser_page.tab.wait_for_load_state("load")
    browser_page.check_accessible("/reset-password (sent)")


RESIDENT_PAGES = ["/", "/account", "/account/details", "/account/password", "/account/delete", "/sign-out", "/areas"]


@pytest.mark.parametrize("path", RESIDENT_PAGES)
def test_resident_pages(browser_page, resident, path):
    sign_in(browser_page, resident.email, PASSWORD)
    browser_page.goto(path)
    browser_page.check_accessible(f"{path} (resident)")


def test_unverified_and_suspended_banners(browser_page, make_user):
    from civic.core.models import utcnow
    from civic.extensions import db

    user = make_user(verified=False)
    sign_in(browser_page, user.email, PASSWORD)
    browser_page.goto("/account")
    browser_page.check_accessible("/account (unverified)")
    browser_page.goto("/")
    browser_page.check_accessible("/ (unverified banner)")
    db.session.commit()  # end this test's read snapshot: the server has written since (SQLite)
    user.suspended_at = utcnow()
    user.suspension_reason = "Testing the banner"
    db.session.commit()
    browser_page.goto("/account")
    assert "Your account is suspended" in browser_page.tab.content()
    browser_page.check_accessible("/account (suspended)")


def test_account_forms_with_errors(browser_page, resident):
    sign_in(browser_page, resident.email, PASSWORD)
    for path in ("/account/details", "/account/password", "/account/delete"):
        browser_page.goto(path)
        if path == "/account/details":
            browser_page.tab.fill("#display_name", "")
        browser_page.tab.click("form[novalidate] button[type=submit] >> nth=-1")
        browser_page.tab.wait_for_load_state("load")
        assert browser_page.tab.locator(".govuk-error-summary").count() == 1, path
        browser_page.check_accessible(f"{path} (errors)")


def test_forbidden_page(browser_page, resident):
    sign_in(browser_page, resident.email, PASSWORD)
    browser_page.goto("/admin/users")
    assert "You cannot do that" in browser_page.tab.content()
    browser_page.check_accessible("403")


def test_admin_pages(browser_page, admin, resident):
    sign_in(browser_page, admin.email, PASSWORD)
    browser_page.goto("/admin/users")
    browser_page.check_accessible("/admin/users")
    browser_page.goto(f"/admin/users/{resident.id}")
    browser_page.check_accessible("/admin/users/<id>")
    browser_page.tab.click("button:has-text('Give role')")
    browser_page.tab.wait_for_load_state("load")
    assert browser_page.tab.locator(".govuk-error-summary").count() == 1
    browser_page.check_accessible("/admin/users/<id> (errors)")
    browser_page.tab.fill("#suspend-reason", "Spam")
    browser_page.tab.click("button:has-text('Suspend account')")
    browser_page.tab.wait_for_load_state("load")
    browser_page.check_accessible("/admin/users/<id> (suspended)")
    browser_page.goto("/admin/audit")
    assert "accounts:user:suspend" in browser_page.tab.content()
    browser_page.check_accessible("/admin/audit")
    browser_page.tab.click("button:has-text('Verify the whole log')")
    browser_page.tab.wait_for_load_state("load")
    assert "The audit log verifies" in browser_page.tab.content()
    browser_page.check_accessible("/admin/audit (verified)")
    browser_page.goto("/admin/audit?actor=nobody@example.org")
    browser_page.check_accessible("/admin/audit (errors)")
