"""Consultation rules: one test per rule, each breaking it; the audit rows; the outcome email."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.accounts.models import User
from civic.consultations import services
from civic.consultations.models import Answer, Consultation, OutcomeEmailOptOut, Question, QuestionKind, Response
from civic.core.audit import AuditEvent, EventTag
from civic.core.content import ContentStatus
from civic.core.errors import NotAllowed, RuleViolation
from civic.core.models import utcnow
from civic.extensions import db
from tests.consultations.conftest import valid_form
from tests.factories import XSS


def events(tag: EventTag) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def draft(geography, **overrides) -> services.ConsultationDraft:
    now = utcnow()
    values = {
        "title": f"Bus lanes {XSS}",
        "summary": "Summary",
        "body": "Body",
        "opens_at": now + timedelta(days=3),
        "closes_at": now + timedelta(days=30),
        "area_ids": [geography.boroughs[0].id],
    }
    values.update(overrides)
    return services.ConsultationDraft(**values)


def question(kind=QuestionKind.SINGLE_CHOICE, **overrides) -> services.QuestionDraft:
    values = {"kind": str(kind), "text": f"Do you agree? {XSS}", "options": ["Yes", "No", "Not sure"]}
    values.update(overrides)
    return services.QuestionDraft(**values)


def answer_all(user, consultation):
    for page in range(1, services.page_count(consultation) + 1):
        form = dict(valid_form(consultation).items())
        services.save_answers(user, consultation, page, form)
    return services.submit_response(user, consultation)


class TestDrafts:
    def test_create_audited_with_unique_slug(self, officer, geography):
        first = services.create_consultation(officer, draft(geography))
        second = services.create_consultation(officer, draft(geography))
        assert first.slug == "bus-lanes-script-alert-x-script"
        assert second.slug == first.slug + "-2"
        assert first.stage().value == "draft"
        assert len(events(EventTag.CONSULTATION_CREATE)) == 2

    def test_resident_cannot_create(self, resident, geography):
        with pytest.raises(NotAllowed):
            services.create_consultation(resident, draft(geography))

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"title": " "}, "title"),
            ({"title": "x" * 151}, "title"),
            ({"area_ids": []}, "area_ids"),
            ({"area_ids": [999999]}, "area_ids"),
            ({"questions_per_page": 0}, "questions_per_page"),
            ({"opens_at": None}, "opens_on"),
        ],
    )
    def test_invalid_drafts_are_refused(self, officer, geography, overrides, field):
        with pytest.raises(services.InvalidConsultation) as exc:
            services.create_consultation(officer, draft(geography, **overrides))
        assert exc.value.field == field

    def test_closing_must_follow_opening(self, officer, geography):
        now = utcnow()
        with pytest.raises(services.InvalidConsultation) as exc:
            services.create_consultation(
                officer, draft(geography, opens_at=now + timedelta(days=5), closes_at=now + timedelta(days=4))
            )
        assert exc.value.field == "closes_on"

    def test_edit_a_draft(self, officer, geography, borough_consultation):
        consultation = borough_consultation("draft")
        services.update_consultation(officer, consultation, draft(geography, title="New title"))
        assert consultation.title == "New title"
        assert len(events(EventTag.CONSULTATION_EDIT)) == 1

    def test_open_consultation_cannot_be_edited(self, officer, geography, consultation):
        with pytest.raises(services.ConsultationNotEditable):
            services.update_consultation(officer, consultation, draft(geography))

    def test_scheduled_edit_must_keep_a_future_opening(self, officer, geography, borough_consultation):
        consultation = borough_consultation("scheduled")
        title = consultation.title
        with pytest.raises(services.InvalidConsultation):
            services.update_consultation(
                officer, consultation, draft(geography, title="Half an edit", opens_at=utcnow() - timedelta(hours=1))
            )
        # The draft was applied before the opening was found wrong: the refusal takes it back,
        # so nothing the view or the next commit does can save half an edit.
        assert not db.session.dirty
        assert consultation.title == title
        db.session.commit()
        assert db.session.get(Consultation, consultation.id).title == title


class TestQuestions:
    @pytest.mark.parametrize("kind", list(QuestionKind))
    def test_add_each_kind(self, officer, borough_consultation, kind):
        consultation = borough_consultation("draft", questions=0)
        q = services.add_question(officer, consultation, question(kind, max_choices=2, max_length=300))
        assert q.position == 1 and q.kind == kind.value
        assert len(q.options) == (3 if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE) else 0)
        assert q.max_choices == (2 if kind == QuestionKind.MULTIPLE_CHOICE else None)
        assert q.max_length == (300 if kind == QuestionKind.FREE_TEXT else None)
        assert len(events(EventTag.CONSULTATION_QUESTION_ADD)) == 1

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"kind": "essay"}, "kind"),
            ({"text": ""}, "text"),
            ({"options": ["Only one"]}, "options"),
            ({"options": ["Same", "same"]}, "options"),
            ({"options": ["x" * 201, "y"]}, "options"),
            ({"kind": "multiple_choice", "max_choices": 4}, "max_choices"),
            ({"kind": "free_text", "max_length": 5001}, "max_length"),
        ],
    )
    def test_invalid_questions_are_refused(self, officer, borough_consultation, overrides, field):
        consultation = borough_consultation("draft", questions=0)
        with pytest.raises(services.InvalidQuestion) as exc:
            services.add_question(officer, consultation, question(**overrides))
        assert exc.value.field == field

    def test_edit_move_delete_renumber(self, officer, borough_consultation):
        consultation = borough_consultation("draft", questions=3)
        first, second, third = consultation.questions
        services.update_question(officer, first, question(text="Changed", options=["A", "B"]))
        assert [o.label for o in first.options] == ["A", "B"]
        services.move_question(officer, third, "up")
        db.session.refresh(consultation)
        assert [q.id for q in consultation.questions] == [first.id, third.id, second.id]
        services.delete_question(officer, third)
        db.session.refresh(consultation)
        assert [(q.id, q.position) for q in consultation.questions] == [(first.id, 1), (second.id, 2)]
        for tag in (
            EventTag.CONSULTATION_QUESTION_EDIT,
            EventTag.CONSULTATION_QUESTION_MOVE,
            EventTag.CONSULTATION_QUESTION_DELETE,
        ):
            assert len(events(tag)) == 1

    def test_cannot_move_past_the_end(self, officer, borough_consultation):
        consultation = borough_consultation("draft", questions=2)
        with pytest.raises(services.InvalidQuestion):
            services.move_question(officer, consultation.questions[0], "up")

    @pytest.mark.parametrize("stage", ["open", "closed", "outcome_published"])
    def test_questions_are_frozen_once_open(self, officer, borough_consultation, stage):
        consultation = borough_consultation(stage, questions=2)
        q = consultation.questions[0]
        with pytest.raises(services.QuestionsFrozen):
            services.add_question(officer, consultation, question())
        with pytest.raises(services.QuestionsFrozen):
            services.update_question(officer, q, question())
        with pytest.raises(services.QuestionsFrozen):
            services.move_question(officer, q, "down")
        with pytest.raises(services.QuestionsFrozen):
            services.delete_question(officer, q)
        db.session.rollback()
        assert count(Question, Question.consultation_id == consultation.id) == 2


class TestLifecycle:
    def test_schedule_and_unschedule(self, officer, borough_consultation):
        consultation = borough_consultation("draft", questions=1)
        services.schedule(officer, consultation)
        assert consultation.stage().value == "scheduled"
        services.unschedule(officer, consultation)
        assert consultation.stage().value == "draft"
        assert len(events(EventTag.CONSULTATION_SCHEDULE)) == len(events(EventTag.CONSULTATION_UNSCHEDULE)) == 1

    def test_schedule_needs_a_question(self, officer, borough_consultation):
        with pytest.raises(services.StageRefused, match="at least one question"):
            services.schedule(officer, borough_consultation("draft", questions=0))

    def test_schedule_needs_a_future_opening(self, officer, borough_consultation):
        now = utcnow()
        consultation = borough_consultation(
            "draft", questions=1, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=2)
        )
        with pytest.raises(services.StageRefused):
            services.schedule(officer, consultation)

    def test_only_a_draft_is_scheduled(self, officer, consultation):
        with pytest.raises(services.StageRefused):
            services.schedule(officer, consultation)

    def test_close_early_records_the_reason(self, officer, consultation):
        services.close_early(officer, consultation, "Legal advice")
        assert consultation.stage().value == "closed"
        (event,) = events(EventTag.CONSULTATION_CLOSE_EARLY)
        assert event.reason == "Legal advice" and event.actor_id == officer.id

    def test_close_early_needs_a_reason(self, officer, consultation):
        with pytest.raises(RuleViolation) as exc:
            services.close_early(officer, consultation, "  ")
        assert exc.value.field == "reason"

    @pytest.mark.parametrize("stage", ["draft", "scheduled", "closed", "outcome_published"])
    def test_close_early_only_when_open(self, officer, borough_consultation, stage):
        with pytest.raises(services.StageRefused):
            services.close_early(officer, borough_consultation(stage), "Reason")

    def test_extend_records_the_reason(self, officer, consultation):
        later = consultation.closes_at + timedelta(days=7)
        services.extend(officer, consultation, later, "More time asked for by the residents' association")
        assert consultation.closes_at == later
        (event,) = events(EventTag.CONSULTATION_EXTEND)
        assert event.reason.startswith("More time") and "was_closing_at" in event.details_dict

    def test_extend_must_be_later(self, officer, consultation):
        with pytest.raises(services.StageRefused) as exc:
            services.extend(officer, consultation, consultation.closes_at - timedelta(days=1), "Reason")
        assert exc.value.field == "closes_on"

    def test_closed_cannot_be_extended(self, officer, borough_consultation):
        consultation = borough_consultation("closed")
        with pytest.raises(services.StageRefused):
            services.extend(officer, consultation, utcnow() + timedelta(days=5), "Reopen")

    def test_resident_cannot_run_a_consultation(self, resident, consultation):
        for action in (
            lambda: services.close_early(resident, consultation, "x"),
            lambda: services.extend(resident, consultation, consultation.closes_at + timedelta(days=1), "x"),
            lambda: services.schedule(resident, consultation),
            lambda: services.export_csv(resident, consultation),
        ):
            with pytest.raises(NotAllowed):
                action()


class TestAnswering:
    def test_save_and_submit(self, resident, consultation):
        assert answer_all(resident, consultation) is True
        response = services.response_for(resident, consultation)
        assert response.submitted_at is not None
        answers = services.answers_of(response)
        assert len(answers) == 4
        mc = consultation.questions[1]
        assert len(answers[mc.id].option_ids) == 2

    def test_repeat_submit_is_unchanged(self, resident, consultation):
        answer_all(resident, consultation)
        assert services.submit_response(resident, consultation) is False
        assert count(Response) == 1

    def test_saving_a_page_twice_is_idempotent(self, resident, consultation):
        form = valid_form(consultation)
        services.save_answers(resident, consultation, 1, form)
        services.save_answers(resident, consultation, 1, form)
        assert count(Response) == 1
        assert count(Answer) == 1  # page 1 holds the single-choice question

    def test_answers_are_editable_until_the_close(self, resident, consultation):
        answer_all(resident, consultation)
        q = consultation.questions[0]
        services.save_answers(resident, consultation, 1, {f"q{q.id}": [str(q.options[1].id)]})
        assert services.answers_of(services.response_for(resident, consultation))[q.id].option_ids == (q.options[1].id,)
        assert services.response_for(resident, consultation).submitted_at is not None

    def test_submit_needs_every_required_answer(self, resident, consultation):
        services.save_answers(resident, consultation, 1, valid_form(consultation))
        with pytest.raises(services.ResponseIncomplete) as exc:
            services.submit_response(resident, consultation)
        assert exc.value.page == 2
        assert services.response_for(resident, consultation).submitted_at is None

    def test_submit_with_nothing_saved(self, resident, consultation):
        with pytest.raises(services.ResponseIncomplete):
            services.submit_response(resident, consultation)

    def test_optional_question_may_be_skipped(self, resident, borough_consultation):
        consultation = borough_consultation("open", questions=1)
        consultation.questions[0].required = False
        db.session.commit()
        services.save_answers(resident, consultation, 1, {})
        assert services.submit_response(resident, consultation) is True

    def test_all_on_one_page(self, resident, borough_consultation):
        consultation = borough_consultation("open", questions_per_page=10)
        assert services.page_count(consultation) == 1
        services.save_answers(resident, consultation, 1, valid_form(consultation))
        assert services.submit_response(resident, consultation) is True

    def test_page_out_of_range(self, resident, consultation):
        with pytest.raises(RuleViolation):
            services.save_answers(resident, consultation, 9, {})

    @pytest.mark.parametrize("stage", ["draft", "scheduled", "closed", "outcome_published"])
    def test_not_before_opening_nor_after_closing(self, resident, borough_consultation, stage):
        consultation = borough_consultation(stage)
        with pytest.raises(services.ResponseRefused):
            services.save_answers(resident, consultation, 1, valid_form(consultation))
        assert count(Response) == 0

    def test_submit_after_the_close_is_refused(self, resident, consultation):
        for page in range(1, 5):
            services.save_answers(resident, consultation, page, valid_form(consultation))
        consultation.closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        with pytest.raises(services.ResponseRefused):
            services.submit_response(resident, consultation)
        assert services.response_for(resident, consultation).submitted_at is None

    @pytest.mark.parametrize("who", ["outsider", "suspended"])
    def test_ineligible_people_are_refused(self, request, consultation, who):
        with pytest.raises(services.ResponseRefused):
            services.save_answers(request.getfixturevalue(who), consultation, 1, valid_form(consultation))

    def test_unverified_is_refused(self, make_user, consultation):
        with pytest.raises(services.ResponseRefused, match="Confirm your email"):
            services.save_answers(make_user("resident", verified=False), consultation, 1, valid_form(consultation))


class TestValidation:
    """Each broken answer: a message for its field, and nothing saved."""

    def q(self, consultation, kind):
        return next(q for q in consultation.questions if q.kind == kind)

    def refused(self, resident, consultation, question, values) -> str:
        page = services.page_of(consultation, question)
        with pytest.raises(services.AnswersInvalid) as exc:
            services.save_answers(resident, consultation, page, {f"q{question.id}": values})
        assert count(Response) == 0 and count(Answer) == 0
        return exc.value.errors[f"q{question.id}"]

    def test_unknown_option(self, resident, consultation):
        q = self.q(consultation, QuestionKind.SINGLE_CHOICE)
        assert self.refused(resident, consultation, q, ["999999"]) == "Choose from the options shown"

    def test_option_of_another_question(self, resident, consultation):
        single = self.q(consultation, QuestionKind.SINGLE_CHOICE)
        multi = self.q(consultation, QuestionKind.MULTIPLE_CHOICE)
        assert self.refused(resident, consultation, single, [str(multi.options[0].id)]) == "Choose from the options shown"

    def test_two_answers_to_a_single_choice(self, resident, consultation):
        q = self.q(consultation, QuestionKind.SINGLE_CHOICE)
        assert self.refused(resident, consultation, q, [str(q.options[0].id), str(q.options[1].id)]) == "Choose one option"

    def test_too_many_choices(self, resident, consultation):
        q = self.q(consultation, QuestionKind.MULTIPLE_CHOICE)
        assert self.refused(resident, consultation, q, [str(o.id) for o in q.options]) == "Choose no more than 2 options"

    def test_unknown_scale_point(self, resident, consultation):
        q = self.q(consultation, QuestionKind.SCALE)
        assert self.refused(resident, consultation, q, ["very_agree"]) == "Choose one of the options"

    def test_over_long_text(self, resident, consultation):
        q = self.q(consultation, QuestionKind.FREE_TEXT)
        assert self.refused(resident, consultation, q, ["x" * 501]) == "Your answer must be 500 characters or fewer"

    @pytest.mark.parametrize(
        ("kind", "message"),
        [
            (QuestionKind.SINGLE_CHOICE, "Select your answer"),
            (QuestionKind.MULTIPLE_CHOICE, "Select at least one option"),
            (QuestionKind.SCALE, "Select your answer"),
            (QuestionKind.FREE_TEXT, "Enter your answer"),
        ],
    )
    def test_missing_required_answer(self, resident, consultation, kind, message):
        q = self.q(consultation, kind)
        assert self.refused(resident, consultation, q, []) == message
        assert self.refused(resident, consultation, q, ["  "]) == message

    def test_text_at_the_limit_is_accepted(self, resident, consultation):
        q = self.q(consultation, QuestionKind.FREE_TEXT)
        services.save_answers(resident, consultation, services.page_of(consultation, q), {f"q{q.id}": ["x" * 500]})
        assert count(Answer) == 1

    def test_every_problem_on_a_page_is_reported_at_once(self, resident, borough_consultation):
        consultation = borough_consultation("open", questions_per_page=4)
        with pytest.raises(services.AnswersInvalid) as exc:
            services.save_answers(resident, consultation, 1, {})
        assert len(exc.value.errors) == 4


class TestOneResponsePerResident:
    def test_the_database_refuses_a_second_row(self, resident, consultation):
        db.session.add_all([Response(consultation_id=consultation.id, user_id=resident.id) for _ in range(2)])
        with pytest.raises(Exception, match="(?i)unique"):
            db.session.commit()
        db.session.rollback()

    def test_parallel_saves_and_submits_make_one_response(self, app, resident, consultation):
        """Two tabs and a double click at once: threads with their own connections, as servers would."""
        slug, user_id = consultation.slug, resident.id
        form = valid_form(consultation)
        errors, results = [], []
        barrier = threading.Barrier(6, timeout=30)
        db.session.commit()  # the test's own transaction must not hold SQLite's write lock

        def tab():
            try:
                barrier.wait()  # before any query: on SQLite the first one takes the write lock
                with app.test_request_context(method="POST"):
                    c = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
                    user = db.session.get(User, user_id)
                    for page in range(1, services.page_count(c) + 1):
                        services.save_answers(user, c, page, form)
                    results.append(services.submit_response(user, c))
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                errors.append(repr(exc))

        threads = [threading.Thread(target=tab) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(results) == [False] * 5 + [True]
        assert count(Response, Response.consultation_id == consultation.id) == 1
        response = db.session.scalar(select(Response))
        # Exactly one copy of each answer: 1 + 2 (multiple choice) + 1 + 1.
        assert count(Answer, Answer.response_id == response.id) == 5


class TestResults:
    def test_tally_counts_only_submitted_responses(self, make_user, consultation):
        for _ in range(3):
            answer_all(make_user("resident"), consultation)
        services.save_answers(make_user("resident"), consultation, 1, valid_form(consultation))  # not submitted
        results = services.tally(consultation)
        assert results.responses == 3
        single, multi, scale, text = results.questions
        assert [r.count for r in single.rows] == [3, 0, 0]
        assert [r.count for r in multi.rows] == [3, 0, 3] and multi.answered == 3
        assert {r.label: r.count for r in scale.rows}["Agree"] == 3
        assert text.answered == 3 and text.rows == [] and text.texts == []
        assert single.top.label == "Option 1" and single.top.share == 1.0

    def test_free_text_is_public_only_if_allowed_and_published(self, make_user, borough_consultation):
        consultation = borough_consultation("open", publish_free_text=True)
        for _ in range(2):
            answer_all(make_user("resident"), consultation)
        answers = list(db.session.scalars(select(Answer).where(Answer.value.like("I think%"))))
        assert {a.status for a in answers} == {ContentStatus.PENDING.value}  # waits for moderation
        answers[0].status = ContentStatus.PUBLISHED.value
        db.session.commit()
        assert services.tally(consultation).questions[3].texts == [(answers[0].id, answers[0].value)]

    def test_free_text_never_public_when_not_allowed(self, resident, consultation):
        answer_all(resident, consultation)
        db.session.execute(Answer.__table__.update().values(status=ContentStatus.PUBLISHED.value))
        db.session.commit()
        assert services.tally(consultation).questions[3].texts == []


class TestOutcome:
    def setup_closed(self, make_user, borough_consultation, responders=2):
        consultation = borough_consultation("open")
        people = [make_user("resident") for _ in range(responders)]
        for person in people:
            answer_all(person, consultation)
        consultation.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        return consultation, people

    def test_write_and_publish_emails_respondents(self, officer, make_user, borough_consultation, outbox):
        consultation, people = self.setup_closed(make_user, borough_consultation)
        services.save_outcome(officer, consultation, "We will do it.")
        assert services.publish_outcome(officer, consultation) == 2
        assert consultation.stage().value == "outcome_published"
        assert sorted(m.to[0] for m in outbox) == sorted(p.email for p in people)
        assert "/consultations/" in outbox[0].body and "/outcome" in outbox[0].body
        assert len(events(EventTag.CONSULTATION_OUTCOME_EDIT)) == len(events(EventTag.CONSULTATION_OUTCOME_PUBLISH)) == 1

    def test_opted_out_deleted_and_unsubmitted_are_not_emailed(self, officer, make_user, borough_consultation, outbox):
        consultation = borough_consultation("open")
        keen, shy, gone, unfinished = (make_user("resident") for _ in range(4))
        for person in (keen, shy, gone):
            answer_all(person, consultation)
        services.save_answers(unfinished, consultation, 1, valid_form(consultation))
        services.set_outcome_emails(shy, False)
        consultation.closes_at = utcnow() - timedelta(minutes=1)
        gone.deleted_at, gone.email = utcnow(), None
        db.session.commit()
        services.save_outcome(officer, consultation, "Decided.")
        assert services.publish_outcome(officer, consultation) == 1
        assert [m.to[0] for m in outbox] == [keen.email]

    def test_opt_out_and_back_in(self, resident):
        services.set_outcome_emails(resident, False)
        services.set_outcome_emails(resident, False)
        assert not services.wants_outcome_emails(resident) and count(OutcomeEmailOptOut) == 1
        services.set_outcome_emails(resident, True)
        assert services.wants_outcome_emails(resident)

    def test_cannot_publish_without_a_decision(self, officer, make_user, borough_consultation):
        consultation, _ = self.setup_closed(make_user, borough_consultation)
        with pytest.raises(services.StageRefused):
            services.publish_outcome(officer, consultation)

    def test_outcome_needs_text(self, officer, make_user, borough_consultation):
        consultation, _ = self.setup_closed(make_user, borough_consultation)
        with pytest.raises(RuleViolation) as exc:
            services.save_outcome(officer, consultation, "   ")
        assert exc.value.field == "decision"

    @pytest.mark.parametrize("stage", ["draft", "scheduled", "open", "outcome_published"])
    def test_outcome_only_once_closed(self, officer, borough_consultation, stage):
        consultation = borough_consultation(stage)
        with pytest.raises(services.StageRefused):
            services.save_outcome(officer, consultation, "Decided")
        with pytest.raises(services.StageRefused):
            services.publish_outcome(officer, consultation)


class TestExport:
    def test_csv_has_no_personal_data_and_no_formulas(self, officer, make_user, borough_consultation):
        consultation = borough_consultation("open", questions=4)
        text_q = consultation.questions[3]
        people = [make_user("resident") for _ in range(6)]
        dangerous = ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"]
        for person, value in zip(people, dangerous, strict=True):
            form = valid_form(consultation)
            form[f"q{text_q.id}"] = [value]
            for page in range(1, 5):
                services.save_answers(person, consultation, page, form)
            services.submit_response(person, consultation)
        data = services.export_csv(officer, consultation)
        for person in people:
            assert person.email not in data and person.display_name not in data
        rows = list(csv.reader(io.StringIO(data)))
        assert len(rows) == 7 and rows[0][2].startswith("Q1. Question 1")
        texts = [row[5] for row in rows[1:]]
        assert texts[:4] == ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)"]
        assert texts[4:] == ["Tab", "CR"]  # leading whitespace is trimmed when the answer is saved
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert rows[1][3] == "Option 1; Option 3"
        assert len(events(EventTag.CONSULTATION_RESPONSES_EXPORT)) == 1

    @pytest.mark.parametrize(
        ("value", "safe"),
        [
            ("=1+1", "'=1+1"),
            ("+44 161", "'+44 161"),
            ("-5", "'-5"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("fine", "fine"),
            ("", ""),
        ],
    )
    def test_spreadsheet_safe(self, value, safe):
        assert services.spreadsheet_safe(value) == safe

    def test_no_export_before_opening(self, officer, borough_consultation):
        with pytest.raises(NotAllowed):
            services.export_csv(officer, borough_consultation("scheduled"))


class TestListing:
    def test_public_listing_by_stage_and_area(self, geography, borough_consultation):
        from tests.factories import make_consultation

        opened = borough_consultation("open")
        upcoming = borough_consultation("scheduled")
        closed = borough_consultation("closed")
        borough_consultation("draft")
        elsewhere = make_consultation([geography.wards[3]], stage="open")
        everywhere = make_consultation([geography.authority], stage="open")
        listing = services.public_listing()
        assert {c.id for c in listing.open} == {opened.id, elsewhere.id, everywhere.id}
        assert [c.id for c in listing.upcoming] == [upcoming.id] and [c.id for c in listing.closed] == [closed.id]
        in_ward = services.public_listing(geography.wards[0])
        assert {c.id for c in in_ward.open} == {opened.id, everywhere.id}  # its borough and the authority

    def test_slugify(self):
        assert services.slugify("Café & bus lanes: 2027/28!") == "cafe-bus-lanes-2027-28"
        assert services.slugify("!!!") == "consultation"
