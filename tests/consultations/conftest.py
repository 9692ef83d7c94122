"""Consultations test helpers: a consultation for the first borough, people inside and outside it."""

from __future__ import annotations

import pytest

from civic.core.models import utcnow
from tests.factories import make_consultation

STAGES = ["draft", "scheduled", "open", "closed", "outcome_published"]


@pytest.fixture
def borough_consultation(geography):
    """Open, for the first borough (wards 1 and 2), with one question of each kind."""

    def factory(stage: str = "open", **kwargs):
        return make_consultation([geography.boroughs[0]], stage=stage, questions=kwargs.pop("questions", 4), **kwargs)

    return factory


@pytest.fixture
def consultation(borough_consultation):
    return borough_consultation("open")


@pytest.fixture
def outsider(make_user, geography):
    return make_user("resident", ward=geography.wards[2])


@pytest.fixture
def suspended(make_user):
    return make_user("resident", suspended_at=utcnow())


def valid_form(consultation) -> dict[str, list[str]]:
    """A complete, valid answer to make_consultation's questions (as request.form lists)."""
    from civic.consultations.models import QuestionKind

    data = {}
    for q in consultation.questions:
        name = f"q{q.id}"
        if q.kind == QuestionKind.SINGLE_CHOICE:
            data[name] = [str(q.options[0].id)]
        elif q.kind == QuestionKind.MULTIPLE_CHOICE:
            data[name] = [str(q.options[0].id), str(q.options[2].id)]
        elif q.kind == QuestionKind.SCALE:
            data[name] = ["agree"]
        else:
            data[name] = ['I think <script>alert("x")</script> =1+1']
    return data
