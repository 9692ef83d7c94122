"""What moderation knows about content: its status, and residents' reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civic.core.content import ContentStatus  # noqa: F401 - re-exported: moderation owns the statuses
from civic.core.models import UTCDateTime, utcnow
from civic.extensions import db


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    PERSONAL_INFORMATION = "personal_information"
    OFF_TOPIC = "off_topic"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "spam": "Spam or advertising",
            "offensive": "Offensive, abusive or hateful",
            "personal_information": "Contains personal information",
            "off_topic": "Off-topic",
            "other": "Something else",
        }[self.value]


class Report(db.Model):
    """A resident's report of an item; one per person per item (a database constraint).

    Reporters are never shown to the item's author.
    """

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # "idea", "comment", "answer"
    subject_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Set when an officer has dealt with the item after this report.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DecisionOutcome(StrEnum):
    APPROVE = "approve"  # pending → published (or: a reported item stays published)
    REJECT = "reject"  # pending → rejected (with a reason and a note to the author); upheld on review
    HIDE = "hide"  # published → hidden (or: hidden by reports, confirmed)
    RESTORE = "restore"  # hidden or rejected → published

    @property
    def label(self) -> str:
        return {"approve": "Approved", "reject": "Rejected", "hide": "Hidden", "restore": "Restored"}[self.value]


class RejectionReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    PERSONAL_INFORMATION = "personal_information"
    OFF_TOPIC = "off_topic"
    DUPLICATE = "duplicate"
    LEGAL = "legal"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "spam": "Spam or advertising",
            "offensive": "Offensive, abusive or hateful",
            "personal_information": "Contains personal information",
            "off_topic": "Off-topic",
            "duplicate": "Duplicate",
            "legal": "Legal reasons",
            "other": "Other",
        }[self.value]


class Decision(db.Model):
    """An officer's decision on an item. ``submitted_at`` is when the item entered the queue
    (posted, reported past the threshold, or returned for review), so that the time to decision
    can be published without reading the content tables."""

    __tablename__ = "moderation_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))  # RejectionReason, for reject and hide
    note: Mapped[str] = mapped_column(Text, default="")  # to the author
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class QueueReason(StrEnum):
    """Why an item is in the queue."""

    NEW = "new"  # posted and waiting for approval (pre-moderation)
    REPORTED = "reported"  # reported by residents (hidden at once past the threshold)
    REVIEW = "review"  # the author asked for the decision to be looked at again

    @property
    def label(self) -> str:
        return {"new": "Awaiting approval", "reported": "Reported", "review": "Review requested"}[self.value]


class ModerationItem(db.Model):
    """Moderation's own record of one item (idea, comment, answer), beside the content's status.

    ``version`` goes up with every decision: a decision carries the version its officer saw and
    is refused if it has changed (two officers can never decide the same item twice). ``queued_at``
    is when the item (re-)entered the queue, the ``submitted_at`` of the next decision. An author
    may ask once for a review of a decision on the item.
    """

    __tablename__ = "moderation_item"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    in_queue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    queue_reason: Mapped[str | None] = mapped_column(String(20))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
