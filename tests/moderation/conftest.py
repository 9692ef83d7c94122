"""Moderation fixtures: a consultation collecting ideas and publishing free text, and items of each kind."""

from __future__ import annotations

import pytest

from civic.consultations.models import Answer, QuestionKind, Response
from civic.core.models import utcnow
from civic.extensions import db
from tests.factories import XSS, make_comment, make_consultation, make_idea


@pytest.fixture
def consultation(geography):
    return make_consultation([geography.authority], collects_ideas=True, moderation="pre", questions=4, publish_free_text=True)


def make_answer(consultation, author, *, status: str = "pending", text: str | None = None, submitted: bool = True) -> Answer:
    question = next(q for q in consultation.questions if q.kind == QuestionKind.FREE_TEXT.value)
    response = Response(consultation_id=consultation.id, user_id=author.id, submitted_at=utcnow() if submitted else None)
    db.session.add(response)
    db.session.flush()
    answer = Answer(
        response_id=response.id,
        question_id=question.id,
        value=text or f"My answer {XSS} [x](javascript:alert(1))",
        status=status,
    )
    db.session.add(answer)
    db.session.commit()
    return answer


@pytest.fixture
def author(make_user):
    return make_user("resident")


@pytest.fixture
def items(consultation, author, officer):
    """One pending item of each kind, by ``author``."""
    idea = make_idea(consultation, author, status="pending")
    parent = make_idea(consultation, officer, status="published", title="The parent idea")
    comment = make_comment(parent, author, status="pending")
    answer = make_answer(consultation, author)
    return {"idea": idea, "comment": comment, "answer": answer}


@pytest.fixture
def published_idea(consultation, author):
    return make_idea(consultation, author, status="published")
