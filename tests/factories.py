"""Test data. Free text carries markup by default so that escaping is always exercised."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from civic.accounts.models import User, UserRole
from civic.accounts.services import hash_password
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.core.models import utcnow
from civic.extensions import db
from tests.conftest import PASSWORD

XSS = '<script>alert("x")</script>'
_counter = itertools.count(1)


def square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Geography:
    authority: Area
    boroughs: list[Area] = field(default_factory=list)
    wards: list[Area] = field(default_factory=list)


def build_geography(wards_per_borough: int = 2) -> Geography:
    """An authority with two boroughs of two wards each, with boundaries and baselines."""
    authority = Area(level=AreaLevel.AUTHORITY, gss_code="E47900001", name="Testshire Combined Authority")
    geo = Geography(authority)
    db.session.add(authority)
    for b in range(2):
        borough = Area(level=AreaLevel.DISTRICT, gss_code=f"E0890000{b + 1}", name=f"Borough {b + 1}")
        db.session.add(borough)
        borough.parent = authority
        geo.boroughs.append(borough)
        for w in range(wards_per_borough):
            n = b * wards_per_borough + w + 1
            ward = Area(
                level=AreaLevel.WARD,
                gss_code=f"E0590{n:04d}",
                name=f"Ward {n} {XSS}" if n == 1 else f"Ward {n}",
                boundary=json.dumps(square(-2.3 + 0.01 * n, 53.4)),
                population=10000 + n,
                adult_population=8000 + n,
            )
            db.session.add(ward)
            ward.parent = borough
            ward.baselines = [
                AreaBaseline(dimension="sex", category="female", count=5100, source="test"),
                AreaBaseline(dimension="sex", category="male", count=4900 + n, source="test"),
            ]
            geo.wards.append(ward)
    db.session.commit()
    return geo


def make_user(*roles: str, ward: Area | None = None, verified: bool = True, password: str = PASSWORD, **kwargs) -> User:
    n = next(_counter)
    user = User(
        email=kwargs.pop("email", f"person{n}@example.org"),
        display_name=kwargs.pop("display_name", f"Person {n} {XSS}"),
        password_hash=hash_password(password),
        email_verified_at=utcnow() if verified else None,
        ward_id=ward.id if ward else None,
        **kwargs,
    )
    for role in roles or ("resident",):
        user.roles.append(UserRole(role=role, area_id=ward.id if role == "councillor" and ward else None))
    db.session.add(user)
    db.session.commit()
    return user


def make_consultation(
    areas: list[Area],
    *,
    stage: str = "open",
    slug: str | None = None,
    questions: int = 0,
    collects_ideas: bool = False,
    moderation: str = "post",
    **kwargs,
):
    """A consultation in the given stage (times relative to now), optionally with questions and ideas.

    Questions cycle through the four kinds: single choice, multiple choice (max 2), scale, free text.
    """
    from datetime import timedelta

    from civic.consultations.models import Consultation, Question, QuestionKind, QuestionOption
    from civic.ideas.models import IdeaCollection

    n = next(_counter)
    now = utcnow()
    opens, closes = {
        "draft": (now + timedelta(days=7), now + timedelta(days=35)),
        "scheduled": (now + timedelta(days=7), now + timedelta(days=35)),
        "open": (now - timedelta(days=7), now + timedelta(days=21)),
        "closed": (now - timedelta(days=35), now - timedelta(days=7)),
        "outcome_published": (now - timedelta(days=60), now - timedelta(days=30)),
    }[stage]
    consultation = Consultation(
        slug=slug or f"consultation-{n}",
        title=kwargs.pop("title", f"Consultation {n} {XSS}"),
        summary=kwargs.pop("summary", f"Summary {XSS}"),
        body=kwargs.pop("body", f"Body with [a link](javascript:alert(1)) {XSS}"),
        opens_at=kwargs.pop("opens_at", opens),
        closes_at=kwargs.pop("closes_at", closes),
        scheduled_at=None if stage == "draft" else opens - timedelta(days=14),
        outcome_published_at=now - timedelta(days=1) if stage == "outcome_published" else None,
        outcome_decision=f"We decided {XSS}" if stage == "outcome_published" else "",
        **kwargs,
    )
    consultation.areas = list(areas)
    kinds = list(QuestionKind)
    for i in range(questions):
        kind = kinds[i % len(kinds)]
        question = Question(position=i + 1, kind=kind.value, text=f"Question {i + 1} {XSS}", hint="", required=True)
        if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
            question.options = [QuestionOption(position=j + 1, label=f"Option {j + 1}") for j in range(3)]
        if kind == QuestionKind.MULTIPLE_CHOICE:
            question.max_choices = 2
        if kind == QuestionKind.FREE_TEXT:
            question.max_length = 500
        consultation.questions.append(question)
    db.session.add(consultation)
    db.session.flush()
    if collects_ideas:
        db.session.add(
            IdeaCollection(
                consultation_id=consultation.id,
                moderation=moderation,
                threshold_basis_points=100,
                categories_json=json.dumps(["Transport", "Parks", "Housing"]),
            )
        )
    db.session.commit()
    return consultation


def make_idea(consultation, author: User, *, status: str = "published", **kwargs):
    from civic.ideas.models import Idea

    n = next(_counter)
    idea = Idea(
        consultation_id=consultation.id,
        author_id=author.id if author else None,
        title=kwargs.pop("title", f"Idea {n} {XSS}"),
        body=kwargs.pop("body", f"Idea body {XSS} [click](javascript:alert(1))"),
        category=kwargs.pop("category", "Transport"),
        ward_id=kwargs.pop("ward_id", author.ward_id if author else None),
        status=status,
        **kwargs,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def make_comment(idea, author: User, *, parent=None, status: str = "published", **kwargs):
    from civic.ideas.models import Comment

    comment = Comment(
        idea_id=idea.id,
        author_id=author.id if author else None,
        parent_id=parent.id if parent else None,
        body=kwargs.pop("body", f"A comment {XSS}"),
        status=status,
        **kwargs,
    )
    db.session.add(comment)
    db.session.commit()
    return comment
