"""Moderation pages: who may use each route, the queue, decisions, reviews, reports and the policy page.

Admins: moderation is an officer's job. Admins manage accounts and read the audit log; an admin
who should also moderate is given the officer role (separation of duties, recorded per role).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.core.models import utcnow
from civic.extensions import db
from civic.moderation import services
from civic.moderation.models import Decision
from tests.conftest import login
from tests.factories import XSS, make_idea


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def officer_routes(item_id: int, user_id: int):
    return [
        ("get", "/moderation"),
        ("get", f"/moderation/items/idea/{item_id}"),
        ("post", f"/moderation/items/idea/{item_id}/decision"),
        ("get", f"/moderation/accounts/{user_id}"),
        ("post", f"/moderation/accounts/{user_id}/suspend"),
        ("post", f"/moderation/accounts/{user_id}/lift-suspension"),
    ]


@pytest.mark.parametrize("role", [None, "resident", "councillor", "admin", "suspended officer", "officer"])
def test_az02_role_matrix_for_officer_routes(client, make_user, items, author, role):
    """VT-03: residents, councillors, admins and anonymous visitors are refused every officer route."""
    if role == "suspended officer":
        login(client, make_user("resident", "officer", suspended_at=utcnow()))
    elif role:
        login(client, make_user(*{"resident": ("resident",), "admin": ("admin",)}.get(role, ("resident", role))))
    for method, url in officer_routes(items["idea"].id, author.id):
        response = getattr(client, method)(url, data={}) if method == "post" else client.get(url)
        if role is None:
            assert response.status_code == 302 and "/sign-in" in response.location, url
        elif role == "officer":
            assert response.status_code in (200, 400), url  # an empty form post is refused as bad input
        else:
            assert response.status_code == 403, (role, url)
    assert reload(items["idea"]).status == "pending"
    assert not reload(author).is_suspended


def test_policy_page_is_public(client):
    response = client.get("/moderation/policy")
    assert response.status_code == 200
    assert "House rules" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [None, "councillor", "officer", "suspended", "unconfirmed"])
def test_report_page_for_residents_only(client, make_user, published_idea, role):
    if role == "suspended":
        login(client, make_user(suspended_at=utcnow()))
    elif role == "unconfirmed":
        login(client, make_user(verified=False))
    elif role:
        login(client, make_user("resident", role) if role == "officer" else make_user(role))
    url = f"/moderation/report/idea/{published_idea.id}"
    response = client.get(url)
    if role is None:
        assert response.status_code == 302
    elif role == "officer":  # officers hold the resident role too
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert client.post(url, data={"reason": "spam"}).status_code == 403


def test_az03_review_page_only_for_the_author(client, make_user, items, officer, author):
    services.decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam")
    url = f"/moderation/review/idea/{items['idea'].id}"
    assert client.get(url).status_code == 302
    login(client, make_user())
    assert client.get(url).status_code == 404
    assert client.post(url, data={"note": "mine"}).status_code == 404
    assert client.get("/moderation/review/user/1").status_code == 404


class TestQueuePage:
    @pytest.fixture(autouse=True)
    def _signed_in(self, client, officer):
        login(client, officer)

    def test_in02_in05_in06_lists_every_kind_with_context_escaped(self, client, items, published_idea, make_user):
        for _ in range(3):
            services.report_content(make_user(), "idea", published_idea.id, "offensive", note=XSS)
        body = client.get("/moderation").get_data(as_text=True)
        assert "4 items waiting" in body
        assert "The parent idea" in body and "Question 4" in body  # a comment's idea, an answer's question
        assert "Offensive, abusive or hateful: 3" in body
        assert XSS not in body and "&lt;script&gt;" in body
        assert 'href="javascript:' not in body

    def test_filters(self, client, items):
        body = client.get("/moderation?kind=answer").get_data(as_text=True)
        assert "1 item waiting" in body
        assert "1 item waiting" in client.get("/moderation?reason=new&kind=comment").get_data(as_text=True)
        assert "0 items waiting" in client.get("/moderation?reason=spam").get_data(as_text=True)
        consultation_id = items["idea"].consultation_id
        assert "3 items waiting" in client.get(f"/moderation?consultation={consultation_id}").get_data(as_text=True)
        assert client.get("/moderation?kind=poll").status_code == 400
        assert client.get("/moderation?consultation=99999").status_code == 400

    def test_empty_queue(self, client):
        assert "The queue is clear" in client.get("/moderation").get_data(as_text=True)

    def test_a_long_queue_is_paged_oldest_first(self, client, consultation, make_user):
        from civic.moderation.services import QUEUE_PAGE_SIZE

        ideas = [make_idea(consultation, make_user(), status="pending", title=f"Queued idea {n:03d}") for n in range(60)]
        first = client.get("/moderation").get_data(as_text=True)
        assert "60 items waiting: 1 to 50, oldest first" in first
        assert "Queued idea 000" in first and "Queued idea 049" in first and "Queued idea 050" not in first
        assert 'href="/moderation?page=2"' in first and "Page 1 of 2" in first
        second = client.get("/moderation?page=2").get_data(as_text=True)
        assert "60 items waiting: 51 to 60, oldest first" in second
        assert "Queued idea 050" in second and "Queued idea 059" in second and "Queued idea 049" not in second
        assert 'href="/moderation?page=1"' in second
        past = client.get("/moderation?page=3").get_data(as_text=True)
        assert "past the end of the queue" in past
        assert client.get("/moderation?page=0").status_code == 400
        assert client.get("/moderation?page=two").status_code == 400
        assert "Queued idea 050" in client.get("/moderation?page=2&kind=idea").get_data(as_text=True)
        assert len(ideas) > QUEUE_PAGE_SIZE

    def test_navigation_shows_moderation_to_officers(self, client):
        body = client.get("/moderation/policy").get_data(as_text=True)
        assert re.search(r'href="/moderation"[^>]*>\s*Moderation\s*<', body)

    def test_in05_in06_item_page_shows_the_raw_text_harmlessly(self, client, items):
        for kind, item in items.items():
            response = client.get(f"/moderation/items/{kind}/{item.id}")
            body = response.get_data(as_text=True)
            assert response.status_code == 200
            assert XSS not in body and "&lt;script&gt;" in body
            assert 'href="javascript:' not in body
            if kind != "comment":
                assert "javascript:alert(1)" in body  # shown as text, for the officer to see
        assert client.get("/moderation/items/idea/99999").status_code == 404
        assert client.get("/moderation/items/poll/1").status_code == 404


class TestDecisionPost:
    @pytest.fixture(autouse=True)
    def _signed_in(self, client, officer):
        login(client, officer)

    def test_approve_redirects_to_the_queue(self, client, items, outbox, author):
        response = client.post(f"/moderation/items/idea/{items['idea'].id}/decision", data={"outcome": "approve", "version": "0"})
        assert response.status_code == 302 and response.location.endswith("/moderation")
        assert reload(items["idea"]).status == "published"
        assert "Decision recorded: approved" in client.get("/moderation").get_data(as_text=True)
        assert any(m.to == [author.email] for m in outbox)

    def test_missing_reason_is_shown_beside_the_field(self, client, items):
        response = client.post(f"/moderation/items/idea/{items['idea'].id}/decision", data={"outcome": "reject", "version": "0"})
        body = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "govuk-error-summary" in body and 'href="#reason"' in body and "Choose the reason" in body
        assert reload(items["idea"]).status == "pending"

    def test_no_choice(self, client, items):
        response = client.post(f"/moderation/items/idea/{items['idea'].id}/decision", data={"version": "0"})
        assert response.status_code == 400 and "Choose a decision" in response.get_data(as_text=True)

    def test_stale_decision_is_refused_with_the_item_as_it_now_stands(self, client, items, make_user):
        services.decide(make_user("resident", "officer"), "idea", items["idea"].id, "approve", seen_version=0)
        response = client.post(
            f"/moderation/items/idea/{items['idea'].id}/decision", data={"outcome": "reject", "reason": "spam", "version": "0"}
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 409 and "Someone else has dealt with this item" in body
        assert 'name="version" type="hidden" value="1"' in body or 'value="1"' in body
        assert reload(items["idea"]).status == "published"
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 1

    def test_az06_missing_csrf_is_refused(self, client, items):
        response = client.post(
            f"/moderation/items/idea/{items['idea'].id}/decision", data={"outcome": "approve", "version": "0"}, csrf=False
        )
        assert response.status_code == 400
        assert reload(items["idea"]).status == "pending"

    def test_unknown_item(self, client):
        assert (
            client.post("/moderation/items/idea/99999/decision", data={"outcome": "approve", "version": "0"}).status_code == 404
        )


class TestAccountPages:
    @pytest.fixture(autouse=True)
    def _signed_in(self, client, officer):
        login(client, officer)

    def date_fields(self, when):
        return {"until": [str(when.day), str(when.month), str(when.year)]}

    def test_suspend_with_hiding(self, client, author, published_idea):
        until = utcnow() + timedelta(days=10)
        response = client.post(
            f"/moderation/accounts/{author.id}/suspend",
            data={"reason": "Abuse", "hide_content": "y", **self.date_fields(until)},
        )
        assert response.status_code == 302
        assert reload(author).is_suspended and reload(published_idea).status == "hidden"
        body = client.get(f"/moderation/accounts/{author.id}").get_data(as_text=True)
        assert "1 items hidden" in body or "items hidden" in body
        assert XSS not in body

    def test_end_date_required(self, client, author):
        response = client.post(f"/moderation/accounts/{author.id}/suspend", data={"reason": "Abuse"})
        assert response.status_code == 400 and "Enter the date the suspension ends" in response.get_data(as_text=True)
        assert not reload(author).is_suspended

    def test_lift_a_suspension_early(self, client, author, officer):
        services.suspend_account(officer, author, reason="Abuse", until=utcnow() + timedelta(days=10))
        page = client.get(f"/moderation/accounts/{author.id}").get_data(as_text=True)
        assert "End the suspension early" in page and "Suspend this account" not in page
        refused = client.post(f"/moderation/accounts/{author.id}/lift-suspension", data={"reason": ""})
        assert refused.status_code == 400 and "Enter a reason" in refused.get_data(as_text=True)
        assert "There is a problem" in refused.get_data(as_text=True)  # the error summary names it too
        assert reload(author).is_suspended
        response = client.post(f"/moderation/accounts/{author.id}/lift-suspension", data={"reason": "Apologised"})
        assert response.status_code == 302
        assert not reload(author).is_suspended
        assert "Suspend this account" in client.get(f"/moderation/accounts/{author.id}").get_data(as_text=True)
        again = client.post(f"/moderation/accounts/{author.id}/lift-suspension", data={"reason": "Again"})
        assert again.status_code == 400 and "not suspended" in again.get_data(as_text=True)

    def test_staff_cannot_be_suspended_here(self, client, make_user):
        other = make_user("resident", "councillor")
        response = client.post(
            f"/moderation/accounts/{other.id}/suspend",
            data={"reason": "Abuse", **self.date_fields(utcnow() + timedelta(days=3))},
        )
        assert response.status_code == 400 and "Ask an administrator" in response.get_data(as_text=True)

    def test_unknown_account(self, client):
        assert client.get("/moderation/accounts/99999").status_code == 404


class TestAuthorReview:
    def test_review_request_returns_the_item_to_the_queue(self, client, items, officer, author, outbox):
        services.decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam", note=f"Note {XSS}")
        mail = next(m for m in outbox if m.to == [author.email])
        link = re.search(r"http://localhost(/moderation/review/\S+)", mail.body).group(1)
        login(client, author)
        page = client.get(link).get_data(as_text=True)
        assert "Spam or advertising" in page and "Ask for a review" in page and XSS not in page
        bad = client.post(link, data={"note": ""})
        assert bad.status_code == 400 and "Tell us why" in bad.get_data(as_text=True)
        response = client.post(link, data={"note": "It is not spam"})
        assert response.status_code == 302
        page = client.get(link).get_data(as_text=True)
        assert "You asked for a review" in page and "<textarea" not in page
        assert services.item_state("idea", items["idea"].id).queue_reason == "review"


class TestReportPage:
    def test_report_flow(self, client, resident, published_idea):
        login(client, resident)
        url = f"/moderation/report/idea/{published_idea.id}"
        page = client.get(url).get_data(as_text=True)
        assert "Report this idea" in page and XSS not in page
        assert client.post(url, data={}).status_code == 400
        response = client.post(url, data={"reason": "spam", "note": "advert"})
        assert response.status_code == 302
        again = client.post(url, data={"reason": "spam"})
        assert again.status_code == 400 and "already reported" in again.get_data(as_text=True)

    def test_only_published_items(self, client, resident, items):
        login(client, resident)
        assert client.get(f"/moderation/report/idea/{items['idea'].id}").status_code == 404


class TestPolicyPage:
    def test_figures_protected(self, client, items, officer):
        services.decide(officer, "idea", items["idea"].id, "approve", seen_version=0)
        body = client.get("/moderation/policy").get_data(as_text=True)
        assert "fewer than 10" in body and "not published" in body

    def test_large_month(self, client, consultation, author, officer):
        for _ in range(10):
            idea = make_idea(consultation, author, status="pending")
            services.decide(officer, "idea", idea.id, "approve", seen_version=0)
        body = client.get("/moderation/policy").get_data(as_text=True)
        assert ">10<" in body and "hours" in body

    def test_footer_links_to_house_rules(self, client):
        assert 'href="/moderation/policy">House rules' in client.get("/").get_data(as_text=True)


def test_queue_query_count_does_not_grow_with_the_queue(client, officer, consultation, make_user):
    """WCIVF-style guard: the queue page loads contexts in batches, not one query per row."""
    from sqlalchemy import event

    from tests.factories import make_comment
    from tests.moderation.conftest import make_answer

    parent = make_idea(consultation, officer)

    def add(n):
        for _ in range(n):
            person = make_user()
            make_idea(consultation, person, status="pending")
            make_comment(parent, person, status="pending")
            make_answer(consultation, person)

    def count_queries() -> int:
        statements = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/moderation").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    login(client, officer)
    add(2)
    small = count_queries()
    add(8)
    assert count_queries() == small
