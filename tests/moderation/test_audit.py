"""VT-09 for moderation: decisions are audited in an unbroken chain, even 100 at once, and
`flask audit verify` names the first bad entry in each of the five tamper cases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select, update

from civic.accounts.models import User
from civic.core.audit import AuditEvent, chain_hash, verify_chain
from civic.extensions import db
from civic.moderation import services
from tests.factories import make_idea


def events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_cc09_100_parallel_moderation_actions_leave_one_unforked_chain(app, consultation, author, make_user):
    officers = [make_user("resident", "officer") for _ in range(4)]
    ideas = [make_idea(consultation, author, status="pending") for _ in range(100)]
    # Something already in the log, so the new entries must extend it.
    services.decide(officers[0], "idea", ideas.pop().id, "approve", seen_version=0)
    extra = make_idea(consultation, author, status="pending")
    ideas.append(extra)
    before = verify_chain()
    assert before.ok and before.entries == 1
    jobs = [(officers[n % 4].id, idea.id, "approve" if n % 2 else "reject") for n, idea in enumerate(ideas)]

    def act(job):
        officer_id, idea_id, outcome = job
        # Each action as a request would run it: its own session and transaction.
        with app.test_request_context(method="POST"):
            try:
                officer = db.session.get(User, officer_id)
                services.decide(officer, "idea", idea_id, outcome, seen_version=0, reason="spam" if outcome == "reject" else None)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(act, jobs))  # re-raises any failure

    db.session.rollback()
    result = verify_chain()
    assert result.ok, result.problem
    assert result.entries == before.entries + 100
    rows = events()
    assert [e.seq for e in rows] == list(range(1, 102))
    # No fork: every entry has a different predecessor, and each follows the one before.
    assert len({e.prev_hash for e in rows}) == len(rows)
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    assert sorted(int(e.subject_id) for e in rows[1:]) == sorted(i.id for i in ideas)


@pytest.fixture
def moderated_log(items, published_idea, officer, author, make_user):
    """Seven real moderation entries: decisions, a review request, a hide by reports."""
    services.decide(officer, "idea", items["idea"].id, "reject", seen_version=0, reason="spam")
    services.decide(officer, "comment", items["comment"].id, "approve", seen_version=0)
    services.decide(officer, "answer", items["answer"].id, "approve", seen_version=0)
    services.request_review(author, "idea", items["idea"].id, "Please look again")
    services.decide(
        officer, "idea", items["idea"].id, "restore", seen_version=services.item_state("idea", items["idea"].id).version
    )
    for _ in range(3):
        services.report_content(make_user(), "idea", published_idea.id, "offensive")
    services.decide(
        officer,
        "idea",
        published_idea.id,
        "hide",
        seen_version=services.item_state("idea", published_idea.id).version,
        reason="offensive",
    )
    rows = events()
    assert [e.tag for e in rows] == [
        "moderation:item:reject",
        "moderation:item:approve",
        "moderation:item:approve",
        "moderation:review:request",
        "moderation:item:restore",
        "moderation:item:hide-by-reports",
        "moderation:item:hide",
    ]
    return rows


def verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


class TestTamperCasesThroughTheCommand:
    def test_untouched_log_verifies(self, runner, moderated_log):
        result = verify(runner)
        assert result.exit_code == 0 and "Audit log OK: 7 entries" in result.output

    def test_edited_entry(self, runner, moderated_log):
        db.session.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(reason="other"))
        db.session.commit()
        result = verify(runner)
        assert result.exit_code == 1 and "entry 1 has been altered" in result.output

    def test_deleted_entry(self, runner, moderated_log):
        db.session.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
        db.session.commit()
        result = verify(runner)
        assert result.exit_code == 1 and "entry 4 is missing" in result.output

    def test_inserted_entry(self, runner, moderated_log):
        rows = moderated_log
        db.session.expunge_all()
        for seq in range(7, 2, -1):
            db.session.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(seq=seq + 1))
        forged = AuditEvent(
            seq=3,
            created_at=rows[1].created_at,
            tag="moderation:item:approve",
            actor_id=None,
            subject_type="idea",
            subject_id="999",
            reason=None,
            details="{}",
            prev_hash=rows[1].hash,
        )
        forged.hash = chain_hash(forged.prev_hash, forged.canonical())
        db.session.add(forged)
        db.session.commit()
        result = verify(runner)
        # A forged entry consistent with its predecessor is caught where the chain resumes.
        assert result.exit_code == 1 and "entry 4 does not follow entry 3" in result.output

    def test_reordered_entries(self, runner, moderated_log):
        db.session.execute(update(AuditEvent).where(AuditEvent.seq == 5).values(seq=100))
        db.session.execute(update(AuditEvent).where(AuditEvent.seq == 6).values(seq=5))
        db.session.execute(update(AuditEvent).where(AuditEvent.seq == 100).values(seq=6))
        db.session.commit()
        result = verify(runner)
        assert result.exit_code == 1 and "entry 5 does not follow entry 4" in result.output

    def test_truncated_tail_against_the_published_head(self, runner, moderated_log):
        head = runner.invoke(args=["audit", "head"]).output.strip()
        assert head.startswith("7:")
        db.session.execute(delete(AuditEvent).where(AuditEvent.seq >= 6))
        db.session.commit()
        assert verify(runner).exit_code == 0  # on its own a shortened chain looks whole…
        result = verify(runner, "--head", head)
        assert result.exit_code == 1 and "ends at entry 5, before the published head 7" in result.output


def test_audit_entries_hold_no_content_or_notes(moderated_log):
    for event in moderated_log:
        text = f"{event.reason} {event.details}"
        assert "<script>" not in text and "Please look again" not in text and "comment" not in event.details


def test_moderation_entries_on_the_admin_audit_page_are_escaped_and_filterable(client, admin, officer, author, published_idea):
    from datetime import timedelta

    from civic.core.models import utcnow
    from tests.conftest import login
    from tests.factories import XSS

    services.suspend_account(
        officer, author, reason=f"Abuse {XSS} [x](javascript:alert(1))", until=utcnow() + timedelta(days=3), hide_content=True
    )
    login(client, admin)
    body = client.get("/admin/audit?tag=moderation:account:hide-content").get_data(as_text=True)
    assert "moderation:account:hide-content" in body and "accounts:user:suspend" not in body.split("<tbody")[1]
    assert XSS not in body and "&lt;script&gt;" in body and 'href="javascript:' not in body
    assert "moderation:item:approve" in client.get("/admin/audit").get_data(as_text=True)  # every tag is offered
    assert client.get("/admin/audit?subject_type=answer").status_code == 200


def test_ft02_the_entry_exists_if_and_only_if_the_decision_does(items, officer, monkeypatch):
    """A failure after the audit entry is written (here: queuing the email) leaves neither."""
    from civic.moderation.models import Decision

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "queue_email", broken)
    with pytest.raises(RuntimeError):
        services.decide(officer, "idea", items["idea"].id, "approve", seen_version=0)
    db.session.rollback()
    assert events() == []
    assert db.session.scalar(select(Decision)) is None
    db.session.expire_all()
    assert services.item_state("idea", items["idea"].id) is None
    assert db.session.get(type(items["idea"]), items["idea"].id).status == "pending"
