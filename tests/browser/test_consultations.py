"""Consultations in a real browser: answering through "check your answers", the outcome page,
the officer pages, and axe-core on every new page (public, resident, officer)."""

from __future__ import annotations

from datetime import timedelta

from civic.consultations import services
from civic.core.models import utcnow
from civic.extensions import db
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.consultations.conftest import valid_form
from tests.factories import make_consultation


def respond_with_services(user, consultation):
    for page in range(1, services.page_count(consultation) + 1):
        services.save_answers(user, consultation, page, valid_form(consultation))
    services.submit_response(user, consultation)


def test_answer_check_and_send(browser_page, geography, resident):
    page, tab = browser_page, browser_page.tab
    consultation = make_consultation([geography.boroughs[0]], stage="open", questions=4, title="Greener streets")
    sign_in(page, resident.email, PASSWORD)
    page.goto(f"/consultations/{consultation.slug}")
    page.check_accessible("consultation detail (eligible)")
    tab.click("text=Start now")
    tab.wait_for_load_state("load")
    page.check_accessible("before you start")
    tab.click("text=Start now")
    tab.wait_for_load_state("load")
    page.check_accessible("question page: single choice")
    # Continue without an answer: the error summary and the message beside the field.
    tab.click("button:has-text('Continue')")
    tab.wait_for_load_state("load")
    assert "Select your answer" in tab.locator(".govuk-error-summary").inner_text()
    assert tab.locator(".govuk-error-message").count() == 1
    page.check_accessible("question page with an error")
    tab.check("label:has-text('Option 2')")
    tab.click("button:has-text('Continue')")
    tab.wait_for_load_state("load")
    page.check_accessible("question page: multiple choice")
    tab.check("label:has-text('Option 1')")
    tab.check("label:has-text('Option 3')")
    tab.click("button:has-text('Continue')")
    tab.wait_for_load_state("load")
    page.check_accessible("question page: scale")
    tab.check("label:has-text('Strongly agree')")
    tab.click("button:has-text('Continue')")
    tab.wait_for_load_state("load")
    page.check_accessible("question page: free text")
    tab.fill("textarea", "More benches, please.")
    tab.click("button:has-text('Continue')")
    tab.wait_for_url("**/respond/check")
    page.check_accessible("check your answers")
    summary = tab.locator(".govuk-summary-list").inner_text()
    assert "Option 2" in summary and "Option 1; Option 3" in summary and "More benches, please." in summary
    # Change an answer from the check page and come back to it.
    tab.locator(".govuk-summary-list__row").nth(0).locator("a").click()
    tab.wait_for_load_state("load")
    tab.check("label:has-text('Option 3')")
    tab.click("button:has-text('Continue')")
    tab.wait_for_url("**/respond/check")
    assert "Option 3" in tab.locator(".govuk-summary-list__row").nth(0).inner_text()
    tab.click("button:has-text('Send your response')")
    tab.wait_for_url("**/respond/done")
    assert "Response sent" in tab.locator("h1").inner_text()
    page.check_accessible("response sent")
    db.session.commit()  # a fresh snapshot that includes the server's writes
    assert services.response_for(resident, consultation).submitted_at is not None


def test_answering_works_without_javascript(no_js_page, geography, resident):
    page, tab = no_js_page, no_js_page.tab
    consultation = make_consultation([geography.boroughs[0]], stage="open", questions=4, questions_per_page=4)
    sign_in(page, resident.email, PASSWORD)
    page.goto(f"/consultations/{consultation.slug}/respond/1")
    tab.check("label:has-text('Option 1') >> nth=0")
    tab.check("label:has-text('Option 2') >> nth=1")
    tab.check("label:has-text('Neither agree nor disagree')")
    tab.fill("textarea", "Fine.")
    tab.click("button:has-text('Continue')")
    tab.wait_for_url("**/respond/check")
    tab.click("button:has-text('Send your response')")
    tab.wait_for_url("**/respond/done")


def test_public_pages_results_and_outcome(browser_page, geography, make_user):
    page, tab = browser_page, browser_page.tab
    consultation = make_consultation([geography.boroughs[0]], stage="open", questions=4, title="Food waste")
    for _ in range(3):
        respond_with_services(make_user("resident"), consultation)
    consultation.closes_at = utcnow() - timedelta(days=1)
    consultation.outcome_decision = "We will collect food waste **every week**."
    consultation.outcome_published_at = utcnow()
    db.session.commit()
    make_consultation([geography.authority], stage="scheduled", title="Budget")
    page.goto("/")
    page.check_accessible("home with consultations")
    page.goto("/consultations")
    page.check_accessible("consultation list")
    page.goto(f"/consultations?area={geography.wards[0].gss_code}")
    page.check_accessible("consultation list filtered")
    page.goto(f"/consultations/{consultation.slug}")
    page.check_accessible("consultation detail (anonymous, outcome published)")
    page.goto(f"/consultations/{consultation.slug}/results")
    tab.wait_for_selector(".civic-figure__chart .main-svg")
    assert tab.locator(".civic-figure").count() == 3 and tab.locator("table.civic-results-table").count() == 3
    page.check_accessible("results")
    page.goto(f"/consultations/{consultation.slug}/outcome")
    assert "We asked, you said, we did" in tab.locator("h1").inner_text()
    assert "every week" in tab.locator("strong").all_inner_texts()
    assert "3 people responded" in tab.content()
    page.check_accessible("outcome")


def test_explanations_instead_of_the_form(browser_page, geography, make_user):
    page = browser_page
    opened = make_consultation([geography.boroughs[0]], stage="open", questions=2)
    upcoming = make_consultation([geography.boroughs[0]], stage="scheduled", questions=2)
    closed = make_consultation([geography.boroughs[0]], stage="closed", questions=2)
    sign_in(page, make_user("resident", ward=geography.wards[3]).email, PASSWORD)
    page.goto(f"/consultations/{opened.slug}/respond")
    assert "only for people who live in the areas" in page.tab.content()
    page.check_accessible("cannot respond: outside the area")
    page.goto(f"/consultations/{opened.slug}")
    page.check_accessible("consultation detail (outside the area)")
    page.goto(f"/consultations/{closed.slug}/respond/1")
    page.check_accessible("cannot respond: closed")
    page.goto(f"/consultations/{upcoming.slug}/results")
    page.check_accessible("results not published yet")
    page.goto(f"/consultations/{closed.slug}/outcome")
    page.check_accessible("outcome not published yet")
    page.goto("/account")
    page.check_accessible("account with consultation section")
    page.goto("/account/consultation-emails")
    page.check_accessible("outcome email choice")


def test_officer_pages(browser_page, geography, officer):
    page, tab = browser_page, browser_page.tab
    draft = make_consultation([geography.boroughs[0]], stage="draft", questions=4, title="Draft")
    opened = make_consultation([geography.boroughs[0]], stage="open", questions=4, title="Open")
    closed = make_consultation([geography.boroughs[0]], stage="closed", questions=4, title="Closed")
    sign_in(page, officer.email, PASSWORD)
    for path, label in [
        ("/manage/consultations", "officer list"),
        ("/manage/consultations/new", "create"),
        (f"/manage/consultations/{draft.slug}", "manage draft"),
        (f"/manage/consultations/{draft.slug}/edit", "edit draft"),
        (f"/manage/consultations/{draft.slug}/questions/new", "add question"),
        (f"/manage/consultations/{draft.slug}/questions/{draft.questions[1].id}/edit", "edit question"),
        (f"/manage/consultations/{draft.slug}/preview/2", "preview"),
        (f"/manage/consultations/{opened.slug}", "manage open"),
        (f"/manage/consultations/{opened.slug}/close", "close early"),
        (f"/manage/consultations/{opened.slug}/extend", "extend"),
        (f"/manage/consultations/{closed.slug}", "manage closed"),
        (f"/manage/consultations/{closed.slug}/outcome", "write outcome"),
    ]:
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        page.check_accessible(label)
    # Errors on the officer forms are accessible too.
    page.goto("/manage/consultations/new")
    tab.click("button:has-text('Create draft')")
    tab.wait_for_load_state("load")
    assert "Enter a title" in tab.locator(".govuk-error-summary").inner_text()
    page.check_accessible("create with errors")
    # Write and publish the outcome.
    page.goto(f"/manage/consultations/{closed.slug}/outcome")
    tab.fill("#decision", "We decided to go ahead.")
    tab.click("button:has-text('Save outcome')")
    tab.wait_for_load_state("load")
    page.check_accessible("manage closed with outcome draft")
    tab.click("button:has-text('Publish the outcome')")
    tab.wait_for_url("**/outcome")
    assert "We decided to go ahead." in tab.content()
