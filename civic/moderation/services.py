"""Moderation rules: reports now; the queue, decisions and reviews build on these."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from civic.core.errors import NotAllowed, RuleViolation
from civic.core.permissions import Permission, has_permission
from civic.extensions import db
from civic.moderation.models import Report, ReportReason


class AlreadyReported(RuleViolation):
    message = "You have already reported this. An officer will look at it."


class NothingToReport(RuleViolation):
    message = "This cannot be reported."


REPORTABLE_KINDS = frozenset({"idea", "comment", "answer"})


def report_content(reporter, subject_type: str, subject_id: int, reason: str, note: str = "") -> Report:
    """Store a resident's report of an item: one per person per item.

    Rules: the reporter holds ``moderation:content:report`` (so not suspended); the reason is one
    of ``ReportReason``; a second report of the same item by the same person raises
    ``AlreadyReported`` (the unique constraint decides, never a prior read).
    """
    if not has_permission(reporter, Permission.MODERATION_CONTENT_REPORT):
        raise NotAllowed("You cannot report content from this account.")
    if subject_type not in REPORTABLE_KINDS:
        raise NothingToReport()
    if reason not in {r.value for r in ReportReason}:
        raise RuleViolation("Choose why you are reporting this.", field="reason")
    report = Report(subject_type=subject_type, subject_id=subject_id, reporter_id=reporter.id, reason=reason, note=note)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        db.session.rollback()
        raise AlreadyReported() from None
    db.session.commit()
    return report


def distinct_reporters(subject_type: str, subject_id: int, *, unresolved_only: bool = True) -> int:
    """How many different residents have reported an item (unresolved reports only by default)."""
    q = select(func.count(func.distinct(Report.reporter_id))).where(
        Report.subject_type == subject_type, Report.subject_id == subject_id
    )
    if unresolved_only:
        q = q.where(Report.resolved_at.is_(None))
    return db.session.scalar(q) or 0
