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
