"""`flask seed demo` leaves a realistic moderation queue and decisions in the audit log."""

from sqlalchemy import func, select

from civic.core.audit import AuditEvent, verify_chain
from civic.core.mail import OutboundEmail
from civic.extensions import db
from civic.moderation import services
from civic.moderation.models import Decision, Report


def test_demo_queue(runner):
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    entries, total = services.queue_entries()
    reasons = {e.reason.value for e in entries}
    kinds = {e.kind.name for e in entries}
    assert {"new", "reported", "review"} <= reasons
    assert {"idea", "comment", "answer"} <= kinds
    assert any(e.item.status == "hidden" and e.reason == "reported" for e in entries)  # hidden by reports
    tags = set(db.session.scalars(select(AuditEvent.tag)))
    assert {
        "moderation:item:approve",
        "moderation:item:reject",
        "moderation:item:hide-by-reports",
        "moderation:review:request",
    } <= tags
    assert verify_chain().ok
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    counts = (
        total,
        db.session.scalar(select(func.count()).select_from(Decision)),
        db.session.scalar(select(func.count()).select_from(Report)),
    )
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0  # idempotent
    assert (
        services.queue_entries()[1],
        db.session.scalar(select(func.count()).select_from(Decision)),
        db.session.scalar(select(func.count()).select_from(Report)),
    ) == counts
