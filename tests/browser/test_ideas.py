"""Ideas in a real browser: proposing (with similar ideas), supporting with and without
JavaScript, commenting, the officer's response and settings; axe-core on every new page."""

import pytest

from civic.extensions import db
from civic.ideas.models import Idea, Support
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_comment, make_consultation, make_idea


@pytest.fixture
def town(geography, make_user):
    consultation = make_consultation([geography.authority], slug="town", collects_ideas=True)
    author = make_user("resident")
    idea = make_idea(consultation, author, title="Zebra crossing by the school")
    make_comment(idea, make_user("resident"))
    return consultation, idea


def test_propose_with_similar_suggestions(browser_page, town, make_user):
    consultation, idea = town
    page, tab = browser_page, browser_page.tab
    resident = make_user("resident")
    sign_in(page, resident.email, PASSWORD)
    page.goto(f"/consultations/{consultation.slug}/ideas")
    page.check_accessible("/consultations/<slug>/ideas (signed in)")
    tab.click("a:has-text('Suggest an idea')")
    tab.wait_for_load_state("load")
    page.check_accessible("/consultations/<slug>/ideas/new")
    tab.fill("#title", "A crossing near the school")
    tab.wait_for_selector("#similar-ideas a:has-text('Zebra crossing by the school')")
    page.check_accessible("/consultations/<slug>/ideas/new (similar ideas shown)")
    tab.fill("#body", "Children cross here every morning.")
    tab.select_option("#category", "Transport")
    tab.click("button:has-text('Post idea')")
    tab.wait_for_load_state("load")
    assert tab.locator("h1").inner_text() == "A crossing near the school"
    assert "Your idea has been posted" in tab.content()
    page.check_accessible("/ideas/<id> (author)")


def test_propose_errors_and_no_js_similar_step(no_js_page, town, make_user):
    consultation, _ = town
    page, tab = no_js_page, no_js_page.tab
    sign_in(page, make_user("resident").email, PASSWORD)
    page.goto(f"/consultations/{consultation.slug}/ideas/new")
    tab.fill("#title", "zebra school")
    tab.fill("#body", "Please")
    tab.click("button:has-text('Check for similar ideas')")
    tab.wait_for_load_state("load")
    assert "Zebra crossing by the school" in tab.content()
    tab.fill("#title", "")
    tab.click("button:has-text('Post idea')")
    tab.wait_for_load_state("load")
    assert tab.locator(".govuk-error-summary").count() == 1


def test_support_with_javascript(browser_page, town, make_user):
    _, idea = town
    page, tab = browser_page, browser_page.tab
    sign_in(page, make_user("resident").email, PASSWORD)
    page.goto(f"/ideas/{idea.id}")
    page.check_accessible("/ideas/<id> (signed in)")
    tab.click("button:has-text('Support this idea')")
    tab.wait_for_selector("[data-support-count]:has-text('1 support')")
    assert tab.url.endswith(f"/ideas/{idea.id}")  # no page load
    tab.click("button:has-text('Withdraw my support')")
    tab.wait_for_selector("[data-support-count]:has-text('0 supports')")
    db.session.commit()
    assert db.session.get(Idea, idea.id).support_count == 0


def test_support_without_javascript(no_js_page, town, make_user):
    _, idea = town
    page, tab = no_js_page, no_js_page.tab
    sign_in(page, make_user("resident").email, PASSWORD)
    page.goto(f"/ideas/{idea.id}")
    tab.click("button:has-text('Support this idea')")
    tab.wait_for_load_state("load")
    assert "You support this idea" in tab.content()
    db.session.commit()
    assert db.session.query(Support).count() == 1
    tab.click("button:has-text('Withdraw my support')")
    tab.wait_for_load_state("load")
    assert "You no longer support this idea" in tab.content()


def test_comment_and_reply_and_report(browser_page, town, make_user):
    _, idea = town
    page, tab = browser_page, browser_page.tab
    sign_in(page, make_user("resident").email, PASSWORD)
    page.goto(f"/ideas/{idea.id}")
    tab.fill("#body", "A **good** idea")
    tab.click("button:has-text('Post comment')")
    tab.wait_for_load_state("load")
    assert "Comment posted" in tab.content() and "<strong>good</strong>" in tab.content()
    tab.click("summary:has-text('Reply') >> nth=0")
    tab.fill("textarea[name=body] >> nth=0", "I agree")
    tab.click("button:has-text('Post reply') >> nth=0")
    tab.wait_for_load_state("load")
    assert tab.locator(".civic-replies").count() >= 1
    page.check_accessible("/ideas/<id> (comments and replies)")
    tab.click("button:has-text('Delete') >> nth=0")
    tab.wait_for_load_state("load")
    assert "Comment removed" in tab.content()
    page.goto(f"/ideas/{idea.id}/report")
    page.check_accessible("/ideas/<id>/report")
    tab.click("button:has-text('Send report')")
    tab.wait_for_load_state("load")
    page.check_accessible("/ideas/<id>/report (error)")
    tab.check("input[value=spam]")
    tab.click("button:has-text('Send report')")
    tab.wait_for_load_state("load")
    assert "An officer will look at your report" in tab.content()


def test_officer_responds_and_manages(browser_page, town, make_user):
    consultation, idea = town
    page, tab = browser_page, browser_page.tab
    sign_in(page, make_user("resident", "officer").email, PASSWORD)
    page.goto(f"/ideas/{idea.id}")
    tab.click("summary:has-text('Write the official response')")
    page.check_accessible("/ideas/<id> (officer, response form open)")
    tab.check("input[value=accepted]")
    tab.fill("#text", "We will build it next year.")
    tab.click("button:has-text('Publish response')")
    tab.wait_for_load_state("load")
    assert "The council's response" in tab.content()
    page.goto(f"/manage/consultations/{consultation.slug}/ideas")
    page.check_accessible("/manage/consultations/<slug>/ideas")
    tab.fill("#threshold", "0")
    tab.click("button:has-text('Save')")
    tab.wait_for_load_state("load")
    page.check_accessible("/manage/consultations/<slug>/ideas (error)")


def test_signed_out_pages(browser_page, town):
    consultation, idea = town
    browser_page.goto(f"/consultations/{consultation.slug}/ideas?sort=random")
    browser_page.check_accessible("/consultations/<slug>/ideas (random, signed out)")
    browser_page.goto(f"/ideas/{idea.id}")
    browser_page.check_accessible("/ideas/<id> (signed out)")
