"""The kinds of content moderation works on, behind one small interface.

The queue, decisions, reports and account actions are written once against ``ModeratedKind``;
each kind says how to load an item, who wrote it, which consultation it belongs to, what to show
an officer (a plain-text excerpt and its context: the idea a comment is on, the question an
answer answers), where it lives publicly, and how to find its pending items. Moderation reads and
writes only the ``status`` column of the content tables; everything else it keeps in its own
tables (``moderation_item``, ``moderation_decision``, ``report``).

Public URLs are looked up by endpoint name and left out when the owning domain has no such page.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from civic.consultations.models import Answer, Consultation, Question, QuestionKind, Response
from civic.core.content import ContentStatus
from civic.extensions import db
from civic.ideas.models import Comment, Idea

EXCERPT_LENGTH = 400


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """Plain text, shortened on a word boundary; templates escape it (never rendered as Markdown)."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0] + "…"


def _url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@dataclass(frozen=True)
class Shown:
    """What an officer sees of an item in the queue (plain text, escaped by the template)."""

    title: str
    text: str
    context_label: str
    context_text: str


class ModeratedKind(ABC):
    """What moderation needs to know of one kind of content; each kind fills in the abstract parts."""

    name: str
    label: str
    model: type

    def load(self, item_id: int, *, for_update: bool = False):
        query = select(self.model).where(self.model.id == item_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        item = db.session.scalar(query)
        return item if item is not None and self.is_moderated(item) else None

    def is_moderated(self, item) -> bool:
        return True

    def author_id(self, item) -> int | None:
        return item.author_id

    @abstractmethod
    def consultation(self, item) -> Consultation:
        """(each kind)"""

    def submitted_at(self, item) -> datetime:
        return item.created_at

    @abstractmethod
    def shown(self, item) -> Shown:
        """(each kind)"""

    @abstractmethod
    def full_text(self, item) -> str:
        """Everything the author wrote, as plain text (for the officer's item page)."""

    def public_url(self, item) -> str | None:
        return None

    def eager(self, query: Select) -> Select:
        """Load what ``shown`` and ``consultation`` need with the items (no query per row)."""
        return query

    def pending(self) -> Select:
        """Items waiting for approval, oldest first."""
        return self.eager(select(self.model).where(self.model.status == ContentStatus.PENDING.value))

    def by_author(self, user_id: int) -> Select:
        return select(self.model).where(self.model.author_id == user_id)

    @abstractmethod
    def with_consultation(self, query: Select, consultation_id: int) -> Select:
        """(each kind)"""


class IdeaKind(ModeratedKind):
    name, label, model = "idea", "Idea", Idea

    def eager(self, query):
        return query.options(selectinload(Idea.consultation))

    def consultation(self, item):
        return item.consultation

    def shown(self, item):
        return Shown(excerpt(item.title, 150), excerpt(item.body), "In the consultation", excerpt(item.consultation.title, 150))

    def full_text(self, item):
        return f"{item.title}\n\n{item.body}"

    def public_url(self, item):
        return _url("ideas.detail", idea_id=item.id)

    def pending(self):
        return super().pending().where(Idea.withdrawn_at.is_(None)).order_by(Idea.created_at, Idea.id)

    def with_consultation(self, query, consultation_id):
        return query.where(Idea.consultation_id == consultation_id)


class CommentKind(ModeratedKind):
    name, label, model = "comment", "Comment", Comment

    def eager(self, query):
        return query.options(selectinload(Comment.idea).selectinload(Idea.consultation))

    def consultation(self, item):
        return item.idea.consultation

    def shown(self, item):
        return Shown(f"Comment {item.id}", excerpt(item.body), "On the idea", excerpt(item.idea.title, 150))

    def full_text(self, item):
        return item.body

    def public_url(self, item):
        url = _url("ideas.detail", idea_id=item.idea_id)
        return f"{url}#comment-{item.id}" if url else None

    def pending(self):
        return super().pending().where(Comment.deleted_at.is_(None)).order_by(Comment.created_at, Comment.id)

    def with_consultation(self, query, consultation_id):
        return query.join(Idea, Comment.idea_id == Idea.id).where(Idea.consultation_id == consultation_id)


class AnswerKind(ModeratedKind):
    """Free-text answers, moderated only in consultations that publish free text."""

    name, label, model = "answer", "Answer", Answer

    def eager(self, query):
        return query.options(selectinload(Answer.response).selectinload(Response.consultation), selectinload(Answer.question))

    def is_moderated(self, item) -> bool:
        return (
            item.status is not None
            and item.question.kind == QuestionKind.FREE_TEXT.value
            and item.response.consultation.publish_free_text
            and item.response.submitted_at is not None
        )

    def author_id(self, item):
        return item.response.user_id

    def consultation(self, item):
        return item.response.consultation

    def submitted_at(self, item):
        return item.response.submitted_at

    def shown(self, item):
        return Shown(f"Answer {item.id}", excerpt(item.value), "Answering the question", excerpt(item.question.text, 300))

    def full_text(self, item):
        return item.value or ""

    def public_url(self, item):
        return _url("consultations.detail", slug=item.response.consultation.slug)

    def _publishable(self, query: Select) -> Select:
        return (
            query.join(Response, Answer.response_id == Response.id)
            .join(Question, Answer.question_id == Question.id)
            .join(Consultation, Response.consultation_id == Consultation.id)
            .where(
                Question.kind == QuestionKind.FREE_TEXT.value,
                Consultation.publish_free_text.is_(True),
                Response.submitted_at.is_not(None),
            )
        )

    def pending(self):
        return self._publishable(super().pending()).order_by(Response.submitted_at, Answer.id)

    def by_author(self, user_id):
        return self._publishable(select(Answer)).where(Response.user_id == user_id)

    def with_consultation(self, query, consultation_id):
        return query.where(Response.consultation_id == consultation_id)


KINDS: dict[str, ModeratedKind] = {k.name: k for k in (IdeaKind(), CommentKind(), AnswerKind())}


def get_kind(name: str) -> ModeratedKind | None:
    return KINDS.get(name)
