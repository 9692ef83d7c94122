"""Role × stage matrices for every predicate (one per officer action), and eligibility to answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from civic.consultations import permissions as rules
from civic.core.models import utcnow
from tests.consultations.conftest import STAGES

ROLES = ["anonymous", "resident", "councillor", "officer", "admin", "suspended_officer"]

# Which stages allow each officer action (for an officer; every other role: never).
OFFICER_ACTIONS = {
    "can_edit": {"draft", "scheduled"},
    "can_edit_questions": {"draft", "scheduled"},
    "can_schedule": {"draft"},
    "can_unschedule": {"scheduled"},
    "can_close_early": {"open"},
    "can_extend": {"scheduled", "open"},
    "can_write_outcome": {"closed"},
    "can_publish_outcome": {"closed"},
    "can_preview": set(STAGES),
    "can_export": {"open", "closed", "outcome_published"},
}


@pytest.fixture
def person(request, make_user):
    def build(role: str):
        if role == "anonymous":
            return AnonymousUserMixin()
        if role == "suspended_officer":
            return make_user("resident", "officer", suspended_at=utcnow())
        if role == "admin":
            return make_user("admin")
        if role == "resident":
            return make_user("resident")
        return make_user("resident", role)

    return build


@pytest.mark.parametrize("predicate", sorted(OFFICER_ACTIONS))
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("role", ROLES)
def test_officer_action_matrix(predicate, stage, role, person, borough_consultation):
    consultation = borough_consultation(stage)
    allowed = role == "officer" and stage in OFFICER_ACTIONS[predicate]
    assert getattr(rules, predicate)(person(role), consultation, utcnow()) is allowed


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("role", ROLES)
def test_view_matrix(stage, role, person, borough_consultation):
    consultation = borough_consultation(stage)
    user = person(role)
    assert rules.can_view(user, consultation, utcnow()) is (stage != "draft" or role == "officer")
    assert rules.can_view_results(user, consultation, utcnow()) is (stage in {"closed", "outcome_published"})
    assert rules.can_view_outcome(user, consultation, utcnow()) is (stage == "outcome_published")


@pytest.mark.parametrize("stage", STAGES)
def test_results_while_open_only_when_allowed(stage, borough_consultation):
    consultation = borough_consultation(stage, results_while_open=True)
    assert rules.can_view_results(None, consultation, utcnow()) is (stage in {"open", "closed", "outcome_published"})


RESPOND_PEOPLE = ["anonymous", "resident", "officer", "councillor", "admin", "unverified", "suspended", "outsider", "no_ward"]


@pytest.fixture
def respondent(make_user, geography):
    def build(kind: str):
        return {
            "anonymous": lambda: AnonymousUserMixin(),
            "resident": lambda: make_user("resident"),
            "officer": lambda: make_user("resident", "officer"),
            "councillor": lambda: make_user("resident", "councillor"),
            "admin": lambda: make_user("admin"),
            "unverified": lambda: make_user("resident", verified=False),
            "suspended": lambda: make_user("resident", suspended_at=utcnow()),
            "outsider": lambda: make_user("resident", ward=geography.wards[2]),
            "no_ward": lambda: make_user("resident", ward=None),
        }[kind]()

    return build


EXPECTED_REASON = {
    "anonymous": "sign_in",
    "resident": None,
    "officer": None,  # officers who live in the area are residents too
    "councillor": None,
    "admin": "not_resident",
    "unverified": "unverified",
    "suspended": "suspended",
    "outsider": "outside_scope",
    "no_ward": "no_ward",
}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("who", RESPOND_PEOPLE)
def test_can_respond_matrix(stage, who, respondent, borough_consultation):
    consultation = borough_consultation(stage)
    result = rules.can_respond(respondent(who), consultation, utcnow())
    if stage in ("draft", "scheduled"):
        assert (result.allowed, result.reason) == (False, "not_open")
    elif stage != "open":
        assert (result.allowed, result.reason) == (False, "closed")
    else:
        assert result.reason == EXPECTED_REASON[who]
        assert result.allowed is (EXPECTED_REASON[who] is None)
    assert result.allowed or result.message  # a refusal always explains itself


class TestEligibilityByArea:
    def test_ward_inside_a_borough_in_scope_counts(self, make_user, geography, borough_consultation):
        consultation = borough_consultation("open")
        assert rules.can_respond(make_user("resident", ward=geography.wards[1]), consultation, utcnow()).allowed

    def test_ward_in_another_borough_does_not(self, make_user, geography, borough_consultation):
        consultation = borough_consultation("open")
        assert not rules.can_respond(make_user("resident", ward=geography.wards[3]), consultation, utcnow()).allowed

    def test_whole_authority_includes_every_ward(self, make_user, geography):
        from tests.factories import make_consultation

        consultation = make_consultation([geography.authority], questions=1)
        for ward in geography.wards:
            assert rules.can_respond(make_user("resident", ward=ward), consultation, utcnow()).allowed

    def test_a_single_ward_scope_excludes_its_neighbour(self, make_user, geography):
        from tests.factories import make_consultation

        consultation = make_consultation([geography.wards[0]], questions=1)
        assert rules.can_respond(make_user("resident", ward=geography.wards[0]), consultation, utcnow()).allowed
        assert not rules.can_respond(make_user("resident", ward=geography.wards[1]), consultation, utcnow()).allowed

    def test_not_before_opening_nor_at_the_close(self, resident, borough_consultation):
        consultation = borough_consultation("open")
        assert not rules.can_respond(resident, consultation, consultation.opens_at - timedelta(seconds=1)).allowed
        assert not rules.can_respond(resident, consultation, consultation.closes_at).allowed
        assert rules.can_respond(resident, consultation, consultation.opens_at).allowed
