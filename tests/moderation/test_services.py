"""Moderation services: decisions and their effect on visibility, conflicts, reviews, reports,
officers' suspensions, and the published figures."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.core.audit import AuditEvent, verify_chain
from civic.core.errors import NotAllowed, NotFound, RuleViolation
from civic.core.models import utcnow
from civic.extensions import db
from civic.moderation import services
from civic.moderation.kinds import KINDS
from civic.moderation.models import Decision, ModerationItem, Report
from civic.moderation.services import (
    DecisionConflict,
    DecisionNotAllowed,
    ReviewNotAvailable,
    allowed_outcomes,
    decide,
    report_content,
    request_review,
)
from tests.factories import XSS, make_comment, make_idea


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def version(kind: str, item_id: int) -> int:
    state = services.item_state(kind, item_id)
    return state.version if state else 0


def tags() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq)))


# status, in the queue, allowed outcomes
TRANSITION_MATRIX = [
    ("pending", False, {"approve", "reject"}),
    ("pending", True, {"approve", "reject"}),
    ("published", False, {"hide"}),
    ("published", True, {"hide", "approve"}),
    ("hidden", False, {"restore"}),
    ("hidden", True, {"restore", "hide"}),
    ("rejected", False, {"restore"}),
    ("rejected", True, {"restore", "reject"}),
]


@pytest.mark.parametrize(("status", "queued", "allowed"), TRANSITION_MATRIX)
def test_transition_table(status, queued, allowed):
    assert {o.value for o in allowed_outcomes(status, queued)} == allowed


class TestDecide:
    @pytest.mark.parametrize("kind", ["idea", "comment", "answer"])
    def test_approve_publishes_and_is_recorded_audited_and_emailed(self, items, kind, officer, author, outbox):
        item = items[kind]
        decision = decide(officer, kind, item.id, "approve", seen_version=0)
        assert reload(item).status == "published"
        assert decision.outcome == "approve" and decision.decided_by_id == officer.id
        assert decision.submitted_at <= decision.decided_at
        assert tags() == ["moderation:item:approve"]
        event = db.session.scalar(select(AuditEvent))
        assert event.subject_type == kind and event.subject_id == str(item.id) and event.actor_id == officer.id
        assert XSS not in event.details and "answer" not in event.details.replace('"answer"', "")  # no content
        [mail] = [m for m in outbox if m.to == [author.email]]
        assert "Decision: Approved" in mail.body

    @pytest.mark.parametrize("kind", ["idea", "comment", "answer"])
    def test_reject_hides_from_everyone_and_tells_the_author_why(self, items, kind, officer, author, outbox):
        item = items[kind]
        decide(officer, kind, item.id, "reject", seen_version=0, reason="off_topic", note=f"Please keep to the topic {XSS}")
        assert reload(item).status == "rejected"
        [mail] = [m for m in outbox if m.to == [author.email]]
        assert "Reason: Off-topic" in mail.body and "Please keep to the topic" in mail.body
        assert f"/moderation/review/{kind}/{item.id}" in mail.body
        assert mail.content_subtype == "plain" and not getattr(mail, "alternatives", [])  # markup cannot run
        event = db.session.scalar(select(AuditEvent))
        assert event.reason == "off_topic" and "Please keep" not in (event.details or "")

    def test_reject_and_hide_need_a_reason(self, items, published_idea, officer):
        with pytest.raises(RuleViolation) as exc:
            decide(officer, "idea", items["idea"].id, "reject", seen_version=0)
        assert exc.value.field == "reason"
        with pytest.raises(RuleViolation):
            decide(officer, "idea", published_idea.id, "hide", seen_version=0, reason="boring")
        assert reload(items["idea"]).status == "pending" and reload(published_idea).status == "published"

    def test_hide_then_restore(self, published_idea, officer):
        decide(officer, "idea", published_idea.id, "hide", seen_version=0, reason="offensive")
        assert reload(published_idea).status == "hidden"
        decide(officer, "idea", published_idea.id, "restore", seen_version=1)
        assert reload(published_idea).status == "published"
        assert tags() == ["moderation:item:hide", "moderation:item:restore"]

    @pytest.mark.parametrize(
        ("status", "outcome"),
        [
            ("pending", "hide"),
            ("pending", "restore"),
            ("published", "approve"),
            ("published", "reject"),
            ("published", "restore"),
            ("hidden", "approve"),
            ("hidden", "hide"),
            ("rejected", "reject"),
            ("rejected", "approve"),
        ],
    )
    def test_refused_transitions_change_nothing(self, consultation, author, officer, status, outcome):
        idea = make_idea(consultation, author, status=status)
        with pytest.raises(DecisionNotAllowed):
            decide(officer, "idea", idea.id, outcome, seen_version=0, reason="spam")
        assert reload(idea).status == status
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 0 and tags() == []

    def test_unknown_outcome_kind_or_item(self, items, officer):
        with pytest.raises(RuleViolation):
            decide(officer, "idea", items["idea"].id, "delete", seen_version=0)
        with pytest.raises(NotFound):
            decide(officer, "user", 1, "approve", seen_version=0)
        with pytest.raises(NotFound):
            decide(officer, "idea", 99_999, "approve", seen_version=0)

    def test_an_officer_cannot_decide_on_their_own_contribution(self, consultation, officer):
        idea = make_idea(consultation, officer, status="pending")
        with pytest.raises(RuleViolation) as exc:
            decide(officer, "idea", idea.id, "approve", seen_version=0)
        assert "your own" in exc.value.message
        assert reload(idea).status == "pending" and tags() == []

    def test_note_length(self, items, officer):
        with pytest.raises(RuleViolation) as exc:
            decide(officer, "idea", items["idea"].id, "approve", seen_version=0, note="x" * 1001)
        assert exc.value.field == "note"

    @pytest.mark.parametrize("roles", [("resident",), ("councillor",), ("admin",)])
    def test_only_officers_decide(self, items, make_user, roles):
        with pytest.raises(NotAllowed):
            decide(make_user(*roles), "idea", items["idea"].id, "approve", seen_version=0)

    def test_a_suspended_officer_cannot_decide(self, items, make_user):
        officer = make_user("resident", "officer", suspended_at=utcnow())
        with pytest.raises(NotAllowed):
            decide(officer, "idea", items["idea"].id, "approve", seen_version=0)

    def test_a_stale_version_is_refused(self, items, officer, make_user):
        other = make_user("resident", "officer")
        decide(officer, "idea", items["idea"].id, "approve", seen_version=0)
        with pytest.raises(DecisionConflict):
            decide(other, "idea", items["idea"].id, "hide", seen_version=0, reason="spam")
        assert reload(items["idea"]).status == "published"
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 1

    def test_a_decision_resolves_open_reports(self, published_idea, officer, make_user):
        report_content(make_user(), "idea", published_idea.id, "spam")
        decide(officer, "idea", published_idea.id, "approve", seen_version=version("idea", published_idea.id))
        assert services.distinct_reporters("idea", published_idea.id) == 0
        assert not services.item_state("idea", published_idea.id).in_queue


def test_two_officers_deciding_at_once_decide_once(app, items, make_user):
    """Two concurrent decisions on the same item, both having seen version 0: exactly one wins."""
    officers = [make_user("resident", "officer"), make_user("resident", "officer")]
    item_id = items["idea"].id
    results: list[str] = []
    barrier = threading.Barrier(2)

    def officer_decides(n: int, outcome: str, reason: str | None):
        with app.test_request_context(method="POST"):
            # On SQLite the first statement takes the write lock (BEGIN IMMEDIATE): meet first.
            barrier.wait()
            officer = db.session.get(type(officers[n]), officers[n].id)
            try:
                decide(officer, "idea", item_id, outcome, seen_version=0, reason=reason)
                results.append(outcome)
            except DecisionConflict:
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=officer_decides, args=(0, "approve", None)),
        threading.Thread(target=officer_decides, args=(1, "reject", "spam")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in (["approve", "conflict"], ["conflict", "reject"])
    db.session.rollback()  # a fresh snapshot that includes the threads' commits
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 1
    assert verify_chain().entries == 1


class TestReports:
    def test_below_the_threshold_queues_but_leaves_it_published(self, published_idea, make_user, author, outbox):
        report_content(make_user(), "idea", published_idea.id, "spam")
        report_content(make_user(), "idea", published_idea.id, "offensive")
        assert reload(published_idea).status == "published"
        state = services.item_state("idea", published_idea.id)
        assert state.in_queue and state.queue_reason == "reported"
        assert [m for m in outbox if m.to == [author.email]] == []

    def test_the_threshold_hides_at_once_and_tells_the_author_without_names(self, published_idea, make_user, author, outbox):
        reporters = [make_user(display_name=f"Reporter {n}") for n in range(3)]
        for r in reporters:
            report_content(r, "idea", published_idea.id, "offensive", note="private note")
        assert reload(published_idea).status == "hidden"
        assert tags() == ["moderation:item:hide-by-reports"]
        [mail] = [m for m in outbox if m.to == [author.email]]
        assert all(r.display_name not in mail.body and r.email not in mail.body for r in reporters)
        assert "private note" not in mail.body

    def test_threshold_is_configurable(self, app, published_idea, make_user):
        app.config["MODERATION_REPORT_THRESHOLD"] = 1
        try:
            report_content(make_user(), "idea", published_idea.id, "spam")
        finally:
            app.config["MODERATION_REPORT_THRESHOLD"] = 3
        assert reload(published_idea).status == "hidden"

    def test_restore_keeps_it_visible_until_new_reports_reach_the_threshold(self, published_idea, make_user, officer):
        first = [make_user() for _ in range(3)]
        for r in first:
            report_content(r, "idea", published_idea.id, "spam")
        decide(officer, "idea", published_idea.id, "restore", seen_version=version("idea", published_idea.id))
        assert reload(published_idea).status == "published"
        assert services.distinct_reporters("idea", published_idea.id) == 0
        # The same people cannot report it again…
        with pytest.raises(services.AlreadyReported):
            report_content(first[0], "idea", published_idea.id, "spam")
        # …and fewer than three new people leave it up.
        report_content(make_user(), "idea", published_idea.id, "spam")
        report_content(make_user(), "idea", published_idea.id, "spam")
        assert reload(published_idea).status == "published"
        report_content(make_user(), "idea", published_idea.id, "spam")
        assert reload(published_idea).status == "hidden"

    def test_only_published_items_can_be_reported(self, items, make_user):
        for kind, item in items.items():
            with pytest.raises(services.NothingToReport):
                report_content(make_user(), kind, item.id, "spam")

    def test_own_item_cannot_be_reported(self, published_idea, author):
        with pytest.raises(services.NothingToReport):
            report_content(author, "idea", published_idea.id, "spam")

    def test_note_length(self, published_idea, resident):
        with pytest.raises(RuleViolation):
            report_content(resident, "idea", published_idea.id, "spam", "x" * 1001)

    def test_concurrent_reports_never_miss_the_threshold(self, app, published_idea, make_user):
        reporters = [make_user() for _ in range(3)]
        barrier = threading.Barrier(3)
        errors = []

        def reports(user_id):
            with app.test_request_context(method="POST"):
                try:
                    barrier.wait()
                    user = db.session.get(type(reporters[0]), user_id)
                    report_content(user, "idea", published_idea.id, "spam")
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=reports, args=(r.id,)) for r in reporters]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        db.session.rollback()
        assert reload(published_idea).status == "hidden"


class TestReview:
    def test_author_asks_once_and_the_item_returns_to_the_queue(self, items, officer, author):
        idea = items["idea"]
        decide(officer, "idea", idea.id, "reject", seen_version=0, reason="duplicate")
        request_review(author, "idea", idea.id, f"It is not a duplicate {XSS}")
        state = services.item_state("idea", idea.id)
        assert state.in_queue and state.queue_reason == "review" and "not a duplicate" in state.review_note
        entries, _ = services.queue_entries(reason="review")
        assert [e.item.id for e in entries] == [idea.id]
        assert tags()[-1] == "moderation:review:request"
        assert "duplicate" not in (db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc())).details)
        # Upheld: and no second review.
        decide(officer, "idea", idea.id, "reject", seen_version=state.version, reason="duplicate")
        with pytest.raises(ReviewNotAvailable):
            request_review(author, "idea", idea.id, "Again")

    def test_the_decision_email_after_a_review_says_it_is_final(self, items, officer, author, outbox):
        idea = items["idea"]
        decide(officer, "idea", idea.id, "reject", seen_version=0, reason="spam")
        request_review(author, "idea", idea.id, "Please")
        decide(officer, "idea", idea.id, "reject", seen_version=version("idea", idea.id), reason="spam")
        mails = [m for m in outbox if m.to == [author.email]]
        assert "ask once for a review" in mails[0].body and "this decision is final" in mails[-1].body

    def test_review_can_restore(self, items, officer, author):
        idea = items["idea"]
        decide(officer, "idea", idea.id, "reject", seen_version=0, reason="spam")
        request_review(author, "idea", idea.id, "Not spam")
        decide(officer, "idea", idea.id, "restore", seen_version=version("idea", idea.id))
        assert reload(idea).status == "published"

    def test_only_the_author(self, items, officer, resident):
        decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam")
        with pytest.raises(NotFound):
            request_review(resident, "idea", items["idea"].id, "Me too")

    def test_nothing_to_review_while_pending_or_published(self, items, published_idea, author):
        with pytest.raises(ReviewNotAvailable):
            request_review(author, "idea", items["idea"].id, "Why?")
        with pytest.raises(ReviewNotAvailable):
            request_review(author, "idea", published_idea.id, "Why?")

    def test_a_note_is_required(self, items, officer, author):
        decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam")
        with pytest.raises(RuleViolation) as exc:
            request_review(author, "idea", items["idea"].id, "  ")
        assert exc.value.field == "note"
        with pytest.raises(RuleViolation):
            request_review(author, "idea", items["idea"].id, "x" * 1001)

    def test_a_suspended_author_may_still_ask(self, items, officer, author):
        decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam")
        author.suspended_at = utcnow()
        db.session.commit()
        request_review(author, "idea", items["idea"].id, "Please look again")
        assert services.item_state("idea", items["idea"].id).in_queue


class TestQueue:
    def test_oldest_first_with_context(self, items, published_idea, make_user):
        for _ in range(3):
            report_content(make_user(), "idea", published_idea.id, "offensive")
        entries, total = services.queue_entries()
        assert total == 4
        assert [e.queued_at for e in entries] == sorted(e.queued_at for e in entries)
        reported = next(e for e in entries if e.item.id == published_idea.id and e.kind.name == "idea")
        assert reported.reason == "reported" and reported.report_reasons == {"offensive": 3}

    def test_filters(self, items, published_idea, make_user, geography, officer, author):
        from tests.factories import make_consultation

        other = make_consultation([geography.authority], collects_ideas=True)
        make_idea(other, author, status="pending")
        report_content(make_user(), "idea", published_idea.id, "spam")
        assert {e.kind.name for e in services.queue_entries(kind="comment")[0]} == {"comment"}
        assert services.queue_entries(consultation_id=other.id)[1] == 1
        assert services.queue_entries(consultation_id=items["idea"].consultation_id)[1] == 4
        assert [e.item.id for e in services.queue_entries(reason="spam")[0]] == [published_idea.id]
        assert services.queue_entries(reason="offensive")[1] == 0
        assert services.queue_entries(reason="new")[1] == 4

    def test_decided_items_leave_the_queue(self, items, officer):
        for kind, item in items.items():
            decide(officer, kind, item.id, "approve", seen_version=0)
        assert services.queue_entries() == ([], 0)

    def test_the_hook_stamps_the_time_an_item_entered_the_queue(self, consultation, author):
        idea = make_idea(consultation, author, status="pending")
        services.item_queued("idea", idea.id)
        db.session.commit()
        [entry] = services.queue_entries()[0]
        assert entry.reason == "new" and entry.version == 1

    def test_deleted_comments_are_not_queued(self, consultation, author, officer):
        idea = make_idea(consultation, officer)
        make_comment(idea, author, status="pending", deleted_at=utcnow())
        assert services.queue_entries() == ([], 0)


class TestSuspendAccount:
    def until(self):
        return utcnow() + timedelta(days=14)

    def test_suspends_and_hides_everything_in_one_action(self, items, published_idea, officer, author):
        hidden = services.suspend_account(officer, author, reason="Repeated abuse", until=self.until(), hide_content=True)
        assert hidden == 4
        assert reload(author).is_suspended
        assert all(reload(i).status == "hidden" for i in [*items.values(), published_idea])
        assert tags() == ["moderation:account:hide-content", "accounts:user:suspend"]
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 4
        assert services.queue_entries() == ([], 0)

    def test_suspension_alone_leaves_content(self, published_idea, officer, author):
        assert services.suspend_account(officer, author, reason="Abuse", until=self.until()) == 0
        assert reload(published_idea).status == "published"
        assert tags() == ["accounts:user:suspend"]

    def test_an_end_date_is_required(self, officer, author):
        with pytest.raises(RuleViolation) as exc:
            services.suspend_account(officer, author, reason="Abuse", until=None)
        assert exc.value.field == "until"

    def test_a_failed_suspension_hides_nothing(self, published_idea, officer, author):
        with pytest.raises(RuleViolation):
            services.suspend_account(officer, author, reason="Abuse", until=utcnow() - timedelta(days=1), hide_content=True)
        assert reload(published_idea).status == "published" and tags() == []

    @pytest.mark.parametrize("roles", [("resident", "councillor"), ("resident", "officer"), ("admin",)])
    def test_officers_suspend_residents_only(self, officer, make_user, roles):
        with pytest.raises(RuleViolation):
            services.suspend_account(officer, make_user(*roles), reason="x", until=self.until())

    @pytest.mark.parametrize("roles", [("resident",), ("resident", "councillor"), ("admin",)])
    def test_only_officers(self, make_user, author, roles):
        with pytest.raises(NotAllowed):
            services.suspend_account(make_user(*roles), author, reason="x", until=self.until())


class TestLiftSuspension:
    def test_an_officer_ends_a_suspension_early_and_hidden_content_stays_hidden(self, published_idea, officer, author):
        services.suspend_account(officer, author, reason="Abuse", until=utcnow() + timedelta(days=14), hide_content=True)
        services.lift_suspension(officer, author, reason="Apologised; the posts were a misunderstanding")
        assert not reload(author).is_suspended
        assert reload(published_idea).status == "hidden"  # restored one by one, from the queue
        assert tags()[-1] == "accounts:user:restore"

    def test_a_reason_is_required_and_nothing_changes_without_one(self, officer, author):
        services.suspend_account(officer, author, reason="Abuse", until=utcnow() + timedelta(days=14))
        with pytest.raises(RuleViolation) as exc:
            services.lift_suspension(officer, author, reason="  ")
        assert exc.value.field == "reason"
        assert reload(author).is_suspended

    def test_only_a_suspended_account(self, officer, author):
        with pytest.raises(RuleViolation, match="not suspended"):
            services.lift_suspension(officer, author, reason="x")

    def test_staff_accounts_are_for_administrators(self, officer, make_user):
        councillor = make_user("resident", "councillor", suspended_at=utcnow())
        with pytest.raises(RuleViolation, match="Ask an administrator"):
            services.lift_suspension(officer, councillor, reason="x")
        assert reload(councillor).is_suspended

    @pytest.mark.parametrize("roles", [("resident",), ("resident", "councillor"), ("admin",)])
    def test_only_officers(self, make_user, officer, author, roles):
        services.suspend_account(officer, author, reason="Abuse", until=utcnow() + timedelta(days=14))
        with pytest.raises(NotAllowed):
            services.lift_suspension(make_user(*roles), author, reason="x")
        assert reload(author).is_suspended


class TestPolicyFigures:
    def test_small_counts_are_shown_as_fewer_than_10(self, items, officer):
        decide(officer, "idea", items["idea"].id, "approve", seen_version=0)
        decide(officer, "comment", items["comment"].id, "reject", seen_version=0, reason="spam")
        [month] = services.policy_figures()
        assert month.total.label == "fewer than 10"
        assert month.by_outcome["approve"].label == "fewer than 10"
        assert month.by_outcome["hide"].label == "0"
        assert month.by_reason["spam"].label == "fewer than 10"
        assert month.by_content["comment"].label == "fewer than 10" and month.by_content["answer"].label == "0"
        assert month.median_hours is None

    def test_large_counts_and_the_median_are_published(self, consultation, author, officer):
        for _ in range(12):
            idea = make_idea(consultation, author, status="pending")
            decide(officer, "idea", idea.id, "approve", seen_version=0)
        [month] = services.policy_figures()
        assert month.total.label == "12" and month.by_outcome["approve"].label == "12"
        assert month.by_content["idea"].label == "12"
        assert month.median_hours is not None and month.median_hours >= 0

    def test_months_are_separate_and_old_decisions_left_out(self, officer):
        now = utcnow()
        for days in (0, 40, 400):
            db.session.add(
                Decision(
                    subject_type="idea",
                    subject_id=1,
                    outcome="approve",
                    note="",
                    decided_by_id=officer.id,
                    submitted_at=now - timedelta(days=days, hours=2),
                    decided_at=now - timedelta(days=days),
                )
            )
        db.session.commit()
        assert len(services.policy_figures()) == 2


def test_moderation_item_and_reports_have_no_reporter_in_the_queue_entry(published_idea, make_user):
    report_content(make_user(), "idea", published_idea.id, "spam")
    [entry] = services.queue_entries()[0]
    assert not hasattr(entry, "reporters")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    assert db.session.scalar(select(func.count()).select_from(ModerationItem)) == 1
    assert KINDS["idea"].load(published_idea.id).status == "published"
