"""Consultation pages: flows, redirects, 403/404/400 with their messages, escaping, registrations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.consultations import services
from civic.consultations.models import Answer, Consultation, OutcomeEmailOptOut, QuestionKind, Response
from civic.core.models import utcnow
from civic.extensions import db
from tests.consultations.conftest import valid_form


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def body(response) -> str:
    return response.get_data(as_text=True)


def answer_through_pages(client, consultation) -> None:
    form = valid_form(consultation)
    for page in range(1, services.page_count(consultation) + 1):
        fields = {k: v for k, v in form.items() if int(k[1:]) in {q.id for q in services.questions_on_page(consultation, page)}}
        response = client.post(f"/consultations/{consultation.slug}/respond/{page}", data=fields)
        assert response.status_code == 302, body(response)[:2000]


class TestPublicPages:
    def test_list_open_first_and_filter_by_area(self, client, geography, borough_consultation):
        from tests.factories import make_consultation

        borough_consultation("closed", title="Closed one")
        borough_consultation("open", title="Open one")
        borough_consultation("draft", title="Draft one")
        make_consultation([geography.wards[3]], stage="open", title="Far away")
        page = body(client.get("/consultations"))
        assert page.index("Open one") < page.index("Closed one")
        assert "Draft one" not in page
        filtered = body(client.get(f"/consultations?area={geography.wards[0].gss_code}"))
        assert "Open one" in filtered and "Far away" not in filtered
        assert client.get("/consultations?area=E05999999").status_code == 404

    def test_home_shows_open_consultations(self, client, borough_consultation):
        borough_consultation("open", title="Open on the home page")
        page = body(client.get("/"))
        assert "Open consultations" in page and "Open on the home page" in page

    def test_navigation(self, client, login_as, officer):
        assert 'href="/consultations"' in body(client.get("/"))
        assert "Manage consultations" not in body(client.get("/"))
        login_as(officer)
        assert "Manage consultations" in body(client.get("/"))

    def test_detail_escapes_and_renders_markdown_safely(self, client, borough_consultation):
        consultation = borough_consultation(
            "open", body='Hello <script>alert("x")</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**'
        )
        page = body(client.get(f"/consultations/{consultation.slug}"))
        assert '<script>alert("x")</script>' not in page
        assert 'href="javascript' not in page and "<img" not in page
        assert "<strong>bold</strong>" in page
        assert "&lt;script&gt;" in page  # the title, escaped

    def test_draft_is_not_found_except_for_officers(self, client, login_as, officer, borough_consultation):
        consultation = borough_consultation("draft")
        assert client.get(f"/consultations/{consultation.slug}").status_code == 404
        login_as(officer)
        assert client.get(f"/consultations/{consultation.slug}").status_code == 200

    def test_missing_consultation(self, client, geography):
        assert client.get("/consultations/nope").status_code == 404
        assert client.get("/consultations/nope/results").status_code == 404

    def test_results_hidden_while_open(self, client, consultation):
        response = client.get(f"/consultations/{consultation.slug}/results")
        assert response.status_code == 403 and "Results not published yet" in body(response)

    def test_results_with_chart_and_table(self, client, make_user, borough_consultation):
        consultation = borough_consultation("open", results_while_open=True, questions_per_page=4)
        services.save_answers(make_user("resident"), consultation, 1, valid_form(consultation))  # never sent
        user = make_user("resident")
        services.save_answers(user, consultation, 1, valid_form(consultation))
        services.submit_response(user, consultation)
        page = body(client.get(f"/consultations/{consultation.slug}/results"))
        assert "1 response" in page
        assert page.count('type="application/json"') == 3  # a figure for each question but free text
        assert page.count("<table") == 3
        assert "not published" in page  # free text stays private
        assert "I think &lt;script&gt;" not in page and "I think <script>" not in page

    def test_published_answers_can_be_reported(self, client, login_as, make_user, borough_consultation):
        consultation = borough_consultation("open", results_while_open=True, publish_free_text=True, questions_per_page=4)
        author = make_user("resident")
        services.save_answers(author, consultation, 1, valid_form(consultation))
        services.submit_response(author, consultation)
        answer = db.session.scalar(select(Answer).where(Answer.value.like("I think%")))
        answer.status = "published"
        db.session.commit()
        url = f"/moderation/report/answer/{answer.id}"
        page = body(client.get(f"/consultations/{consultation.slug}/results"))
        assert "I think &lt;script&gt;" in page and url not in page  # signed-out visitors see no report link
        login_as(make_user("resident"))
        page = body(client.get(f"/consultations/{consultation.slug}/results"))
        assert f'href="{url}"' in page
        response = client.post(url, data={"reason": "offensive"})
        assert response.status_code == 302
        from civic.moderation.models import Report

        assert db.session.scalar(select(func.count()).select_from(Report).where(Report.subject_type == "answer")) == 1

    def test_outcome_page(self, client, borough_consultation):
        consultation = borough_consultation("outcome_published")
        consultation.outcome_decision = "We **will** build it <script>x</script>"
        db.session.commit()
        page = body(client.get(f"/consultations/{consultation.slug}/outcome"))
        assert "We asked, you said, we did" in page and "<strong>will</strong>" in page and "<script>x" not in page

    def test_outcome_not_found_before_publication(self, client, borough_consultation):
        response = client.get(f"/consultations/{borough_consultation('closed').slug}/outcome")
        assert response.status_code == 404 and "considering what people said" in body(response)


class TestAnswering:
    def test_anonymous_is_sent_to_sign_in(self, client, consultation):
        response = client.get(f"/consultations/{consultation.slug}/respond/1")
        assert response.status_code == 302 and "/sign-in?next=" in response.location

    @pytest.mark.parametrize(
        ("who", "message"),
        [
            ("outsider", "only for people who live in the areas it covers"),
            ("suspended", "Your account is suspended"),
        ],
    )
    def test_ineligible_get_an_explanation_not_the_form(self, client, login_as, request, consultation, who, message):
        login_as(request.getfixturevalue(who))
        for path in ("respond", "respond/1", "respond/check"):
            response = client.get(f"/consultations/{consultation.slug}/{path}")
            assert response.status_code == 403 and message in body(response)
            assert 'name="q' not in body(response)

    def test_closed_explains(self, client, login_as, resident, borough_consultation):
        login_as(resident)
        response = client.get(f"/consultations/{borough_consultation('closed').slug}/respond/1")
        assert response.status_code == 403 and "has closed" in body(response)

    def test_answer_check_submit_done(self, client, login_as, resident, consultation):
        login_as(resident)
        assert client.get(f"/consultations/{consultation.slug}/respond").status_code == 200
        answer_through_pages(client, consultation)
        check = body(client.get(f"/consultations/{consultation.slug}/respond/check"))
        assert "Check your answers" in check and "Option 1; Option 3" in check and "Agree" in check
        response = client.post(f"/consultations/{consultation.slug}/respond/check")
        assert response.status_code == 302 and response.location.endswith("/respond/done")
        assert "Response sent" in body(client.get(response.location))
        again = client.post(f"/consultations/{consultation.slug}/respond/check", follow_redirects=True)
        assert "Your response is unchanged" in body(again)
        assert count(Response) == 1

    def test_invalid_answer_message_beside_the_field(self, client, login_as, resident, consultation):
        login_as(resident)
        q = consultation.questions[0]
        response = client.post(f"/consultations/{consultation.slug}/respond/1", data={f"q{q.id}": "999999"})
        page = body(response)
        assert response.status_code == 400
        assert "There is a problem" in page and f'href="#q{q.id}"' in page
        assert re.search(
            r'govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span> Choose from the options shown', page
        )
        assert "<title>Error:" in page
        assert count(Response) == 0

    def test_missing_answer(self, client, login_as, resident, consultation):
        login_as(resident)
        response = client.post(f"/consultations/{consultation.slug}/respond/1", data={})
        assert response.status_code == 400 and "Select your answer" in body(response)

    def test_submit_with_a_gap_links_to_its_page(self, client, login_as, resident, consultation):
        login_as(resident)
        q = consultation.questions[0]
        client.post(f"/consultations/{consultation.slug}/respond/1", data={f"q{q.id}": str(q.options[0].id)})
        response = client.post(f"/consultations/{consultation.slug}/respond/check")
        assert response.status_code == 400 and "Answer question 2" in body(response)
        assert "/respond/2?return=check" in body(response)

    def test_change_from_check_returns_to_check(self, client, login_as, resident, consultation):
        login_as(resident)
        answer_through_pages(client, consultation)
        q = consultation.questions[0]
        response = client.post(
            f"/consultations/{consultation.slug}/respond/1", data={f"q{q.id}": str(q.options[1].id), "return": "check"}
        )
        assert response.location.endswith("/respond/check")

    def test_form_loaded_before_the_close_and_sent_after_is_refused(self, client, login_as, resident, consultation):
        login_as(resident)
        assert client.get(f"/consultations/{consultation.slug}/respond/1").status_code == 200
        db.session.get(Consultation, consultation.id).closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        q = consultation.questions[0]
        response = client.post(f"/consultations/{consultation.slug}/respond/1", data={f"q{q.id}": str(q.options[0].id)})
        assert response.status_code == 403 and "has closed" in body(response)
        assert count(Answer) == 0

    def test_submit_after_the_close_is_refused(self, client, login_as, resident, consultation):
        login_as(resident)
        answer_through_pages(client, consultation)
        db.session.get(Consultation, consultation.id).closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert client.post(f"/consultations/{consultation.slug}/respond/check").status_code == 403
        assert db.session.scalar(select(Response.submitted_at)) is None

    def test_post_without_csrf_is_refused(self, client, login_as, resident, consultation):
        login_as(resident)
        assert client.post(f"/consultations/{consultation.slug}/respond/1", data={}, csrf=False).status_code == 400

    def test_unknown_page(self, client, login_as, resident, consultation):
        login_as(resident)
        assert client.get(f"/consultations/{consultation.slug}/respond/99").status_code == 404

    def test_done_without_a_response_goes_back(self, client, login_as, resident, consultation):
        login_as(resident)
        assert client.get(f"/consultations/{consultation.slug}/respond/done").status_code == 302


class TestAccount:
    def test_account_lists_responses_and_the_email_choice(self, client, login_as, resident, consultation):
        login_as(resident)
        answer_through_pages(client, consultation)
        page = body(client.get("/account"))
        assert "Your consultation responses" in page and "started, not sent" in page
        assert "Emails when an outcome is published: <strong>on</strong>" in page

    def test_opt_out(self, client, login_as, resident):
        login_as(resident)
        assert client.get("/account/consultation-emails").status_code == 200
        assert client.post("/account/consultation-emails", data={}).status_code == 400
        response = client.post("/account/consultation-emails", data={"wanted": "no"})
        assert response.status_code == 302
        assert count(OutcomeEmailOptOut) == 1

    def test_anonymous_redirected(self, client, geography):
        assert client.get("/account/consultation-emails").status_code == 302


MANAGE_GETS = ["", "/edit", "/questions/new", "/preview/1", "/close", "/extend", "/outcome"]


class TestOfficerPages:
    def test_anonymous_redirected_resident_forbidden(self, client, login_as, resident, borough_consultation):
        consultation = borough_consultation("draft")
        assert client.get("/manage/consultations").status_code == 302
        login_as(resident)
        assert client.get("/manage/consultations").status_code == 403
        assert client.get("/manage/consultations/new").status_code == 403
        assert client.get(f"/manage/consultations/{consultation.slug}").status_code == 403
        assert client.post(f"/manage/consultations/{consultation.slug}/schedule").status_code == 403

    def test_missing_is_not_found(self, client, login_as, officer):
        login_as(officer)
        assert client.get("/manage/consultations/nope").status_code == 404
        assert client.post("/manage/consultations/nope/schedule").status_code == 404

    @pytest.mark.parametrize(
        ("stage", "allowed"),
        [
            ("draft", {"", "/edit", "/questions/new", "/preview/1"}),
            ("scheduled", {"", "/edit", "/questions/new", "/preview/1", "/extend"}),
            ("open", {"", "/preview/1", "/close", "/extend"}),
            ("closed", {"", "/preview/1", "/outcome"}),
            ("outcome_published", {"", "/preview/1"}),
        ],
    )
    def test_pages_by_stage(self, client, login_as, officer, borough_consultation, stage, allowed):
        consultation = borough_consultation(stage)
        login_as(officer)
        for suffix in MANAGE_GETS:
            status = client.get(f"/manage/consultations/{consultation.slug}{suffix}").status_code
            assert status == (200 if suffix in allowed else 403), (suffix, status)

    def test_create_then_questions_then_schedule(self, client, login_as, officer, geography):
        login_as(officer)
        future = utcnow() + timedelta(days=10)
        data = {
            "title": "Cycle lanes",
            "summary": "Short",
            "body": "Long",
            "area_ids": [str(geography.boroughs[0].id)],
            "opens_on": [str(future.day), str(future.month), str(future.year)],
            "opens_time": "09:00",
            "closes_on": [
                str((future + timedelta(days=30)).day),
                str((future + timedelta(days=30)).month),
                str((future + timedelta(days=30)).year),
            ],
            "closes_time": "23:59",
            "questions_per_page": "1",
        }
        response = client.post("/manage/consultations/new", data=data)
        assert response.status_code == 302, re.findall(r"govuk-error-message.*?</p>", body(response), re.S)
        slug = response.location.rsplit("/", 1)[-1]
        question = {
            "kind": "multiple_choice",
            "text": "Which roads?",
            "options": "High Street\nStation Road\nMill Lane",
            "max_choices": "2",
            "required": "y",
        }
        assert client.post(f"/manage/consultations/{slug}/questions/new", data=question).status_code == 302
        consultation = services.get_by_slug(slug)
        assert (
            consultation.questions[0].max_choices == 2
            and [o.label for o in consultation.questions[0].options][0] == "High Street"
        )
        response = client.post(f"/manage/consultations/{slug}/schedule", follow_redirects=True)
        assert "Scheduled" in body(response)
        db.session.expire_all()
        assert services.get_by_slug(slug).stage().value == "scheduled"

    def test_create_errors_beside_fields(self, client, login_as, officer, geography):
        login_as(officer)
        response = client.post("/manage/consultations/new", data={"title": "", "opens_time": "25:00"})
        page = body(response)
        assert response.status_code == 400
        for message in ("Enter a title", "Choose the areas this consultation covers", "Enter a time like 09:00 or 17:30"):
            assert message in page

    def test_question_errors(self, client, login_as, officer, borough_consultation):
        consultation = borough_consultation("draft", questions=0)
        login_as(officer)
        response = client.post(
            f"/manage/consultations/{consultation.slug}/questions/new",
            data={"kind": "single_choice", "text": "Q", "options": "Only"},
        )
        assert response.status_code == 400 and "Enter at least 2 options" in body(response)

    def test_edit_move_delete_question(self, client, login_as, officer, borough_consultation):
        consultation = borough_consultation("draft", questions=2)
        first, second = consultation.questions
        login_as(officer)
        edit = client.get(f"/manage/consultations/{consultation.slug}/questions/{first.id}/edit")
        assert edit.status_code == 200 and "Option 1\nOption 2" in body(edit)
        client.post(f"/manage/consultations/{consultation.slug}/questions/{first.id}/move", data={"direction": "down"})
        db.session.expire_all()
        assert [q.id for q in db.session.get(Consultation, consultation.id).questions] == [second.id, first.id]
        client.post(f"/manage/consultations/{consultation.slug}/questions/{first.id}/delete")
        db.session.expire_all()
        assert [q.id for q in db.session.get(Consultation, consultation.id).questions] == [second.id]
        assert client.get(f"/manage/consultations/{consultation.slug}/questions/99999/edit").status_code == 404

    def test_frozen_questions_refused_with_a_message(self, client, login_as, officer, consultation):
        login_as(officer)
        q = consultation.questions[0]
        response = client.post(f"/manage/consultations/{consultation.slug}/questions/{q.id}/delete", follow_redirects=True)
        assert "cannot be changed once the consultation has opened" in body(response)
        assert client.get(f"/manage/consultations/{consultation.slug}/questions/{q.id}/edit").status_code == 403

    def test_close_early_needs_a_reason(self, client, login_as, officer, consultation):
        login_as(officer)
        response = client.post(f"/manage/consultations/{consultation.slug}/close", data={"reason": ""})
        assert response.status_code == 400 and "Enter a reason" in body(response)
        response = client.post(f"/manage/consultations/{consultation.slug}/close", data={"reason": "Budget withdrawn"})
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Consultation, consultation.id).stage().value == "closed"

    def test_extend_earlier_date_refused(self, client, login_as, officer, consultation):
        login_as(officer)
        day = utcnow() + timedelta(days=1)
        data = {"closes_on": [str(day.day), str(day.month), str(day.year)], "closes_time": "12:00", "reason": "x"}
        response = client.post(f"/manage/consultations/{consultation.slug}/extend", data=data)
        assert response.status_code == 400 and "must be later than the current one" in body(response)

    def test_outcome_write_and_publish(self, client, login_as, officer, make_user, borough_consultation, outbox):
        consultation = borough_consultation("open")
        person = make_user("resident")
        for page in range(1, 5):
            services.save_answers(person, consultation, page, valid_form(consultation))
        services.submit_response(person, consultation)
        consultation.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        login_as(officer)
        assert client.post(f"/manage/consultations/{consultation.slug}/outcome", data={"decision": ""}).status_code == 400
        assert (
            client.post(f"/manage/consultations/{consultation.slug}/outcome", data={"decision": "We did it"}).status_code == 302
        )
        response = client.post(f"/manage/consultations/{consultation.slug}/outcome/publish")
        assert response.status_code == 302 and response.location.endswith("/outcome")
        assert [m.to[0] for m in outbox] == [person.email]

    def test_publish_without_decision_flashes(self, client, login_as, officer, borough_consultation):
        consultation = borough_consultation("closed")
        login_as(officer)
        response = client.post(f"/manage/consultations/{consultation.slug}/outcome/publish", follow_redirects=True)
        assert "Write what the council decided" in body(response)

    def test_csv_download(self, client, login_as, officer, consultation):
        login_as(officer)
        response = client.post(f"/manage/consultations/{consultation.slug}/responses.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert client.get(f"/manage/consultations/{consultation.slug}/responses.csv").status_code == 405

    def test_csv_refused_before_opening(self, client, login_as, officer, borough_consultation):
        login_as(officer)
        assert client.post(f"/manage/consultations/{borough_consultation('scheduled').slug}/responses.csv").status_code == 403

    def test_preview_saves_nothing(self, client, login_as, officer, borough_consultation):
        consultation = borough_consultation("draft")
        login_as(officer)
        page = body(client.get(f"/manage/consultations/{consultation.slug}/preview/1"))
        assert "Preview" in page and "disabled" in page
        assert client.get(f"/manage/consultations/{consultation.slug}/preview/9").status_code == 404

    def test_list(self, client, login_as, officer, borough_consultation):
        borough_consultation("draft", title="A draft")
        login_as(officer)
        assert "A draft" in body(client.get("/manage/consultations"))


def test_scale_and_text_pages_render(client, login_as, resident, consultation):
    login_as(resident)
    kinds = {q.kind: services.page_of(consultation, q) for q in consultation.questions}
    scale = body(client.get(f"/consultations/{consultation.slug}/respond/{kinds[QuestionKind.SCALE]}"))
    assert "Don&#39;t know" in scale and "govuk-radios__divider" in scale
    text = body(client.get(f"/consultations/{consultation.slug}/respond/{kinds[QuestionKind.FREE_TEXT]}"))
    assert "up to 500 characters" in text and "<textarea" in text
