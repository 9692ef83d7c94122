"""Moderation in a real browser: an officer clears the queue; axe-core on every moderation page,
the author's review page, the report page and /admin/audit (A11Y-01)."""

from __future__ import annotations

import pytest

from civic.moderation import services
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_comment, make_consultation, make_idea
from tests.moderation.conftest import make_answer


@pytest.fixture
def queue(geography, make_user):
    """A pending idea, comment and answer, and an idea hidden by three reports."""
    author = make_user()
    consultation = make_consultation(
        [geography.authority], collects_ideas=True, moderation="pre", questions=4, publish_free_text=True
    )
    parent = make_idea(consultation, make_user(), title="Parent idea")
    reported = make_idea(consultation, author, title="Reported idea")
    for _ in range(3):
        services.report_content(make_user(), "idea", reported.id, "offensive", note='<script>alert("r")</script>')
    return {
        "author": author,
        "pending_idea": make_idea(consultation, author, status="pending", title="Pending idea"),
        "comment": make_comment(parent, author, status="pending"),
        "answer": make_answer(consultation, author),
        "reported": reported,
    }


def test_an_officer_clears_the_queue(browser_page, queue, officer):
    page, tab = browser_page, browser_page.tab
    sign_in(page, officer.email, PASSWORD)
    page.goto("/moderation")
    assert "4 items waiting" in tab.content()
    page.check_accessible("/moderation (officer, 4 waiting)")
    page.goto("/moderation?kind=idea&reason=reported")
    page.check_accessible("/moderation (filtered)")

    first = True
    for _ in range(4):
        page.goto("/moderation")
        tab.click("table.govuk-table tbody a.govuk-link >> nth=0")
        tab.wait_for_load_state("load")
        assert tab.locator("h2:has-text('Decide')").count() == 1
        if first:
            page.check_accessible("/moderation/items/<kind>/<id>")
            # A reject without a reason is refused beside the field.
            if tab.locator("input[name=outcome][value=reject]").count():
                tab.check("input[name=outcome][value=reject]")
                tab.click("button:has-text('Record decision')")
                tab.wait_for_load_state("load")
                assert tab.locator(".govuk-error-summary").count() == 1
                page.check_accessible("/moderation/items/<kind>/<id> (errors)")
            first = False
        if tab.locator("input[name=outcome][value=approve]").count():
            tab.check("input[name=outcome][value=approve]")
        else:
            tab.check("input[name=outcome][value=restore]")
        tab.fill("#note", "Thank you")
        tab.click("button:has-text('Record decision')")
        tab.wait_for_load_state("load")
        assert "Decision recorded" in tab.content()
    assert "The queue is clear" in tab.content()


def test_account_page(browser_page, queue, officer):
    sign_in(browser_page, officer.email, PASSWORD)
    browser_page.goto(f"/moderation/accounts/{queue['author'].id}")
    browser_page.check_accessible("/moderation/accounts/<id>")
    browser_page.tab.click("button:has-text('Suspend account')")
    browser_page.tab.wait_for_load_state("load")
    assert browser_page.tab.locator(".govuk-error-summary").count() == 1
    browser_page.check_accessible("/moderation/accounts/<id> (errors)")


def test_policy_page(browser_page, queue, officer):
    services.decide(officer, "idea", queue["pending_idea"].id, "approve", seen_version=0)
    browser_page.goto("/moderation/policy")
    assert "fewer than 10" in browser_page.tab.content()
    browser_page.check_accessible("/moderation/policy")


def test_review_request_page(browser_page, queue, officer):
    author = queue["author"]
    services.decide(officer, "idea", queue["pending_idea"].id, "reject", seen_version=0, reason="spam", note="Advert")
    path = f"/moderation/review/idea/{queue['pending_idea'].id}"
    sign_in(browser_page, author.email, PASSWORD)
    browser_page.goto(path)
    browser_page.check_accessible("/moderation/review/<kind>/<id>")
    browser_page.tab.click("button:has-text('Ask for a review')")
    browser_page.tab.wait_for_load_state("load")
    browser_page.check_accessible("/moderation/review/<kind>/<id> (errors)")
    browser_page.tab.fill("#note", "It is not an advert")
    browser_page.tab.click("button:has-text('Ask for a review')")
    browser_page.tab.wait_for_load_state("load")
    assert "You asked for a review" in browser_page.tab.content()
    browser_page.check_accessible("/moderation/review/<kind>/<id> (asked)")


def test_report_page(browser_page, queue, resident):
    idea = make_idea(queue["pending_idea"].consultation, queue["author"], title="Published idea")
    sign_in(browser_page, resident.email, PASSWORD)
    browser_page.goto(f"/moderation/report/comment/{queue['comment'].id}")  # pending: not reportable
    assert browser_page.tab.locator("h1").inner_text() != "Report this comment"
    browser_page.goto(f"/moderation/report/idea/{idea.id}")
    browser_page.check_accessible("/moderation/report/<kind>/<id>")


def test_admin_audit_page_with_moderation_entries(browser_page, queue, officer, admin):
    services.decide(officer, "idea", queue["pending_idea"].id, "approve", seen_version=0)
    sign_in(browser_page, admin.email, PASSWORD)
    browser_page.goto("/admin/audit")
    assert "moderation:item:hide-by-reports" in browser_page.tab.content()
    browser_page.check_accessible("/admin/audit (moderation entries)")
    browser_page.goto("/admin/audit?tag=moderation:item:approve&subject_type=idea")
    browser_page.check_accessible("/admin/audit (filtered)")
