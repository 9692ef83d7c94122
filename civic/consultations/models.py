"""Consultations, the areas they cover, their questionnaires and residents' responses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.consultations.lifecycle import Stage, stage_at
from civic.core.models import TimestampMixin, UTCDateTime, utcnow
from civic.extensions import db


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"  # agree–disagree, five points plus "don't know" (SCALE_POINTS)
    FREE_TEXT = "free_text"


# The agree–disagree scale, stored by key in Answer.value.
SCALE_POINTS: tuple[tuple[str, str], ...] = (
    ("strongly_agree", "Strongly agree"),
    ("agree", "Agree"),
    ("neither", "Neither agree nor disagree"),
    ("disagree", "Disagree"),
    ("strongly_disagree", "Strongly disagree"),
    ("dont_know", "Don't know"),
)


class Consultation(TimestampMixin, db.Model):
    __tablename__ = "consultation"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        CheckConstraint("questions_per_page >= 1", name="questions_per_page_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered with render_markdown
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set when an officer schedules it (draft → scheduled); NULL while a draft.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_while_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many questions each answering page shows: 1 is GOV.UK's "one thing per page".
    questions_per_page: Mapped[int] = mapped_column(Integer, default=1)
    # Free-text answers are never public unless this is set and the answer passed moderation.
    publish_free_text: Mapped[bool] = mapped_column(Boolean, default=False)
    # "We asked, you said, we did": what the council decided, and when it was published.
    outcome_decision: Mapped[str] = mapped_column(Text, default="")
    outcome_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    areas = relationship("Area", secondary="consultation_area", lazy="selectin", order_by="Area.name")
    questions: Mapped[list[Question]] = relationship(
        back_populates="consultation", order_by="Question.position", cascade="all, delete-orphan"
    )

    def stage(self, now: datetime | None = None) -> Stage:
        return stage_at(self, now or utcnow())

    def __repr__(self) -> str:
        return f"<Consultation {self.slug}>"


class ConsultationArea(db.Model):
    """An area in a consultation's scope: the authority, some boroughs or some wards."""

    __tablename__ = "consultation_area"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), primary_key=True, index=True)


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("consultation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))
    hint: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    max_choices: Mapped[int | None] = mapped_column(Integer)  # multiple choice only
    max_length: Mapped[int | None] = mapped_column(Integer)  # free text only

    consultation: Mapped[Consultation] = relationship(back_populates="questions")
    options: Mapped[list[QuestionOption]] = relationship(
        back_populates="question", order_by="QuestionOption.position", cascade="all, delete-orphan", lazy="selectin"
    )


class QuestionOption(db.Model):
    __tablename__ = "question_option"
    __table_args__ = (UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))

    question: Mapped[Question] = relationship(back_populates="options")


class Response(TimestampMixin, db.Model):
    """One resident's response to one consultation (unique: a double submit never makes two).

    ``user_id`` becomes NULL when the account is deleted; the answers stay, so the tallies of a
    closed consultation are unchanged. ``submitted_at`` is NULL while the resident is still going
    through the questions and is set at "check your answers".
    """

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("consultation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    consultation: Mapped[Consultation] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(db.Model):
    """One answer: a chosen option (one row per option for multiple choice), a scale point or text."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int | None] = mapped_column(ForeignKey("question_option.id", ondelete="CASCADE"))
    value: Mapped[str | None] = mapped_column(Text)  # scale key or free text
    # Free text only: moderation status when the consultation publishes free text (ContentStatus).
    status: Mapped[str | None] = mapped_column(String(20))

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
    option: Mapped[QuestionOption | None] = relationship()


class OutcomeEmailOptOut(db.Model):
    """A resident who does not want to be told when an outcome is published (row = opted out)."""

    __tablename__ = "consultation_email_opt_out"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
