"""Fixtures for the dashboards: a small town with residents, activity and two consultations."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import case, select

from civic.accounts.models import User
from civic.core.models import utcnow
from civic.dashboards import lookups
from civic.dashboards.metrics import ACTIVITY_SOURCES, ActivitySource, register_activity_source
from civic.dashboards.sources import register_content_sources
from civic.extensions import db
from tests.factories import make_user

AGES = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
CONSULTATIONS = (lookups.ConsultationRef(1, "bus-lanes", "Bus lanes"), lookups.ConsultationRef(2, "parks", "Parks"))


def _responses():
    """A stand-in for the consultations domain's source: a "response" at each sign-in, in
    consultation 1 or 2 by the parity of the account id. It shows how a domain plugs in."""
    return select(
        User.id.label("user_id"),
        User.last_sign_in_at.label("occurred_at"),
        case((User.id % 2 == 0, 1), else_=2).label("consultation_id"),
    ).where(User.last_sign_in_at.is_not(None))


RESPONSES = ActivitySource("response", "Consultation responses", _responses)


@pytest.fixture
def responses_source():
    """Register the response source and two consultations for one test."""
    saved = dict(ACTIVITY_SOURCES)
    # Only registration and this stand-in, whatever other domains have registered (ideas: idea, support, comment).
    ACTIVITY_SOURCES.clear()
    ACTIVITY_SOURCES["registration"] = saved["registration"]
    register_activity_source(RESPONSES)
    lookups.set_consultation_lookup(lambda: CONSULTATIONS)
    yield RESPONSES
    ACTIVITY_SOURCES.clear()
    ACTIVITY_SOURCES.update(saved)
    lookups.reset_consultation_lookup()


@pytest.fixture
def town(geography):
    """About 130 residents over four wards, skewed old, with some small groups, over 60 days."""
    rng = random.Random(6)
    now = utcnow()
    people = []
    for n in range(130):
        ward = geography.wards[min(3, int(rng.random() ** 1.6 * 4))]  # busier first ward
        created = now - timedelta(days=rng.uniform(0, 60))
        user = make_user(
            "resident",
            ward=ward,
            verified=rng.random() < 0.85,
            age_band=rng.choices(AGES, weights=[1, 2, 3, 4, 5, 5, 3])[0] if rng.random() > 0.1 else None,
            sex=rng.choice(["female", "female", "male", "prefer_not_to_say"]),
            ethnic_group=rng.choices(["white", "asian", "black", "mixed", "other"], weights=[20, 3, 1, 1, 1])[0],
            disability=rng.choice(["disabled", "not_disabled", "not_disabled", "not_disabled", None]),
            email=f"town{n}@example.org",
        )
        user.created_at = created
        if rng.random() < 0.6:
            user.last_sign_in_at = created + timedelta(days=rng.uniform(0, (now - created).days))
        people.append(user)
    db.session.commit()
    return people


# --- Consultation content: real sources over the consultations and ideas tables -----------------
#
# The consultations and ideas domains register their sources and the consultation lookup from their
# own packages; the dashboards' tests register the reference shapes (civic/dashboards/sources.py).


@pytest.fixture
def content_sources():
    """Register the four content sources and the lookup of the consultations table."""
    saved = dict(ACTIVITY_SOURCES)
    register_content_sources()
    yield
    ACTIVITY_SOURCES.clear()
    ACTIVITY_SOURCES.update(saved)
    lookups.reset_consultation_lookup()


def add_response(consultation, user, submitted_at, choices: dict):
    """A submitted response: ``choices`` maps a question to an option, a list of options, a
    scale key or a text."""
    from civic.consultations.models import Answer, Response

    response = Response(consultation_id=consultation.id, user_id=user.id, submitted_at=submitted_at)
    for question, choice in choices.items():
        for one in choice if isinstance(choice, list) else [choice]:
            if hasattr(one, "question_id"):
                response.answers.append(Answer(question_id=question.id, option_id=one.id))
            else:
                response.answers.append(Answer(question_id=question.id, value=one))
    db.session.add(response)
    return response


def add_decision(outcome, submitted_at, hours, subject_type="idea", subject_id=1):
    from civic.moderation.models import Decision

    decision = Decision(
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
        submitted_at=submitted_at,
        decided_at=submitted_at + timedelta(hours=hours),
    )
    db.session.add(decision)
    return decision


@pytest.fixture
def consultation_town(town, geography, content_sources):
    """The town with two consultations: responses (every kind of question), ideas in several
    statuses with supports and comments, and moderation decisions. Some cells are small."""
    from civic.consultations.models import SCALE_POINTS
    from civic.ideas.models import Support
    from tests.factories import make_comment, make_consultation, make_idea

    rng = random.Random(66)
    now = utcnow()
    bus = make_consultation([geography.authority], slug="bus-lanes", title="Bus lanes <script>", questions=4, collects_ideas=True)
    parks = make_consultation([geography.boroughs[0]], slug="parks", title="Parks", questions=2, collects_ideas=True)
    single, multiple, scale, text = bus.questions
    p_single, p_multiple = parks.questions
    scale_weights = [30, 25, 10, 8, 3, 1]  # "don't know" rare: a small cell
    for person in town:
        if rng.random() < 0.75:
            choices = {
                single: rng.choices(single.options, weights=[12, 6, 1])[0],  # option 3 is small
                multiple: rng.sample(multiple.options, rng.choice([1, 1, 2])),
                scale: rng.choices([k for k, _ in SCALE_POINTS], weights=scale_weights)[0],
            }
            if rng.random() < 0.3:
                choices[text] = "Free text that must never reach a dashboard <script>"
            add_response(bus, person, now - timedelta(days=rng.uniform(0, 6.9)), choices)
        if rng.random() < 0.2:
            add_response(parks, person, now - timedelta(days=rng.uniform(0, 6.9)), {p_single: rng.choice(p_single.options)})
    db.session.commit()
    statuses = [
        ("published", None),
        ("published", None),
        ("published", "accepted"),
        ("published", "under_consideration"),
        ("published", None),
        ("published", None),
        ("pending", None),
        ("hidden", None),
        ("rejected", None),
    ]
    ideas = []
    for i, (status, response_status) in enumerate(statuses * 2):
        idea = make_idea(
            bus, town[i * 3], status=status, title=f"Idea {i} <script>alert(1)</script>", response_status=response_status
        )
        idea.created_at = now - timedelta(days=rng.uniform(0, 6.5))
        ideas.append(idea)
    for n, idea in enumerate(ideas):
        backers = rng.sample(town, max(0, 40 - 6 * n)) if n < 7 else []
        for person in backers:
            db.session.add(Support(idea_id=idea.id, user_id=person.id, created_at=now - timedelta(days=rng.uniform(0, 6))))
        idea.support_count = len(backers)
    db.session.commit()
    for person in town[:25]:
        make_comment(ideas[0], person)
    outcomes = ["approve"] * 30 + ["reject"] * 4 + ["hide"] * 12 + ["restore"] * 11  # rejections: a small cell
    for i, outcome in enumerate(outcomes):
        add_decision(outcome, now - timedelta(days=rng.uniform(1, 50)), hours=1 + i % 9, subject_id=i + 1)
    db.session.commit()
    return {"bus": bus, "parks": parks, "ideas": ideas}


def add_demo_content(seed: int = 5) -> str:
    """Content on top of ``flask seed demo`` as the consultations, ideas and moderation seeders
    are expected to add it (a consultation with every kind of question answered by about a
    quarter of the residents, fifteen ideas with supports, a hundred and forty decisions).
    Returns the consultation's slug."""
    from civic.areas.models import Area, AreaLevel
    from civic.consultations.models import SCALE_POINTS
    from civic.ideas.models import Support
    from tests.factories import make_consultation, make_idea

    rng = random.Random(seed)
    now = utcnow()
    authority = db.session.execute(select(Area).where(Area.level == AreaLevel.AUTHORITY)).scalars().first()
    people = list(db.session.execute(select(User).where(User.email.like("resident%")).order_by(User.id)).scalars())
    consultation = make_consultation([authority], slug="town-centre", title="Town centre plan", questions=4, collects_ideas=True)
    single, multiple, scale, text = consultation.questions
    for person in people:
        if rng.random() < 0.25:
            choices = {
                single: rng.choices(single.options, weights=[10, 5, 0.2])[0],
                multiple: rng.sample(multiple.options, rng.choice([1, 2])),
                scale: rng.choices([k for k, _ in SCALE_POINTS], weights=[30, 25, 10, 8, 3, 0.5])[0],
            }
            if rng.random() < 0.5:
                choices[text] = "Free text that must never reach a dashboard"
            add_response(consultation, person, now - timedelta(days=rng.uniform(0, 6.9)), choices)
    db.session.commit()
    statuses = ["published"] * 12 + ["pending", "hidden", "rejected"]
    ideas = []
    for i, status in enumerate(statuses):
        ideas.append(
            make_idea(consultation, people[i], status=status, title=f"Idea {i}", response_status="accepted" if i < 2 else None)
        )
    for n, idea in enumerate(ideas):
        for person in rng.sample(people, max(0, 120 - 15 * n)):
            db.session.add(Support(idea_id=idea.id, user_id=person.id, created_at=now - timedelta(days=rng.uniform(0, 6))))
    for i in range(140):
        outcome = rng.choices(["approve", "reject", "hide", "restore"], weights=[60, 8, 6, 1])[0]
        add_decision(outcome, now - timedelta(days=rng.uniform(1, 100)), hours=rng.uniform(0.2, 40), subject_id=i)
    db.session.commit()
    return consultation.slug


def count_statements(fn) -> int:
    """The statements ``fn`` sends to the database (a transaction's BEGIN is not one)."""
    from sqlalchemy import event

    count = []

    def listener(conn, cursor, statement, *args):
        if statement != "BEGIN":
            count.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(count)
