"""Ideas inside consultations, their supports and comments."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.core.content import ContentStatus
from civic.core.models import TimestampMixin, UTCDateTime, utcnow
from civic.extensions import db


class ModerationMode(StrEnum):
    PRE = "pre"  # ideas and comments wait for an officer before anyone else sees them
    POST = "post"  # published at once; officers act on reports


class ResponseStatus(StrEnum):
    UNDER_CONSIDERATION = "under_consideration"
    ACCEPTED = "accepted"
    NOT_TAKEN_FORWARD = "not_taken_forward"
    IMPLEMENTED = "implemented"

    @property
    def label(self) -> str:
        return {
            "under_consideration": "Under consideration",
            "accepted": "Accepted",
            "not_taken_forward": "Not taken forward",
            "implemented": "Implemented",
        }[self.value]


class IdeaCollection(db.Model):
    """A consultation that collects ideas, and how: moderation mode, threshold, categories."""

    __tablename__ = "idea_collection"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    moderation: Mapped[str] = mapped_column(String(10), default=ModerationMode.POST.value)
    # Supports needed for an official response, in basis points of the eligible adult population
    # of the consultation's area (100 = 1%).
    threshold_basis_points: Mapped[int] = mapped_column(Integer, default=100)
    categories_json: Mapped[str] = mapped_column(Text, default="[]")

    consultation = relationship("Consultation")

    @property
    def categories(self) -> list[str]:
        return json.loads(self.categories_json or "[]")


class Idea(TimestampMixin, db.Model):
    __tablename__ = "idea"
    __table_args__ = (
        # The lists: "most supported" and "newest" read only this index (an index-only scan,
        # walked backwards for DESC), so a deep page costs an index walk, not a table scan.
        Index(
            "ix_idea_list_top",
            "consultation_id",
            "status",
            "support_count",
            "id",
            postgresql_where=text("withdrawn_at IS NULL"),
            sqlite_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)  # Markdown, rendered with render_markdown
    category: Mapped[str | None] = mapped_column(String(80))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ContentStatus.PUBLISHED.value, index=True)
    # Kept equal to the number of Support rows in the same transaction as each insert or delete.
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    threshold_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The council's official response.
    response_status: Mapped[str | None] = mapped_column(String(30))
    response_text: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    consultation = relationship("Consultation")
    author = relationship("User", foreign_keys=[author_id])
    ward = relationship("Area")
    # The consultation's idea settings, read with the idea where a write needs them (a support
    # checks the threshold): one statement instead of two. Read-only; never loaded by default.
    collection = relationship(
        "IdeaCollection",
        primaryjoin="foreign(Idea.consultation_id) == IdeaCollection.consultation_id",
        viewonly=True,
        lazy="select",
        uselist=False,
    )


class Support(db.Model):
    """One resident's support for one idea: unique, so a double click or a race makes one."""

    __tablename__ = "support"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)
    # (The unique constraint's index also serves "who supports this idea".)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_idea_thread", "idea_id", "parent_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # One level of replies: a reply's parent is a top-level comment.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ContentStatus.PUBLISHED.value, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # shown as "comment removed"

    idea: Mapped[Idea] = relationship()
    author = relationship("User", foreign_keys=[author_id])


# The full-text search structures hang off the idea table's creation (see search.py).
from civic.ideas import search as _search  # noqa: E402, F401
