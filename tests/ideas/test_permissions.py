"""Role × stage matrices for the participation predicates."""

from datetime import timedelta

import pytest

from civic.core.models import utcnow
from civic.ideas import permissions as perms
from civic.ideas.services import collection_for
from tests.factories import make_consultation, make_idea

STAGES = ["draft", "scheduled", "open", "closed", "outcome_published"]
ROLES = ["resident", "councillor", "officer", "admin"]
# Only residents hold ideas:*:submit/support and ideas:comment:submit; only while open.
EXPECTED = {(role, stage): role == "resident" and stage == "open" for role in ROLES for stage in STAGES}


@pytest.mark.parametrize("stage", STAGES)
def test_role_by_stage_matrix_for_propose_support_comment(make_user, geography, stage):
    consultation = make_consultation([geography.authority], stage=stage, collects_ideas=True)
    someone = make_user("resident")
    idea = make_idea(consultation, someone)
    for role in ROLES:
        user = make_user(role)
        expected = EXPECTED[(role, stage)]
        assert (perms.cannot_propose(user, consultation, collection_for(consultation)) is None) == expected, (role, stage)
        assert (perms.cannot_support(user, idea) is None) == expected, (role, stage)
        assert (perms.cannot_comment(user, idea) is None) == expected, (role, stage)


def test_refusals_name_the_reason(make_user, geography, consultation):
    author = make_user("resident")
    idea = make_idea(consultation, author)
    assert perms.cannot_support(None, idea) is perms.SIGN_IN
    assert perms.cannot_support(make_user("resident", verified=False), idea) is perms.NOT_VERIFIED
    suspended = make_user("resident", suspended_at=utcnow(), suspension_reason="spam")
    assert perms.cannot_support(suspended, idea) is perms.NO_PERMISSION
    assert perms.cannot_support(author, idea) is perms.OWN_IDEA


def test_ward_scope_walks_up_to_borough_and_authority(make_user, geography):
    ward = geography.wards[0]
    assert perms.ward_in_scope(ward, [ward])
    assert perms.ward_in_scope(ward, [geography.boroughs[0]])
    assert perms.ward_in_scope(ward, [geography.authority])
    assert not perms.ward_in_scope(ward, [geography.boroughs[1]])
    assert not perms.ward_in_scope(ward, [geography.wards[1]])
    assert not perms.ward_in_scope(None, [geography.authority])


def test_not_eligible_outside_the_area(make_user, geography):
    consultation = make_consultation([geography.boroughs[1]], collects_ideas=True)
    outsider = make_user("resident", ward=geography.wards[0])
    assert perms.cannot_propose(outsider, consultation, collection_for(consultation)) is perms.NOT_IN_AREA


def test_consultation_without_collection_takes_no_ideas(make_user, geography):
    consultation = make_consultation([geography.authority])
    assert perms.cannot_propose(make_user("resident"), consultation, None) is perms.NO_IDEAS


def test_pending_idea_visible_only_to_author_and_officers(make_user, consultation):
    author, other, officer = make_user("resident"), make_user("resident"), make_user("resident", "officer")
    idea = make_idea(consultation, author, status="pending")
    assert perms.can_see_idea(author, idea)
    assert perms.can_see_idea(officer, idea)
    assert not perms.can_see_idea(other, idea)
    assert not perms.can_see_idea(None, idea)


def test_edit_window(make_user, consultation):
    author = make_user("resident")
    idea = make_idea(consultation, author)
    assert perms.can_edit_idea(author, idea)
    assert not perms.can_edit_idea(author, idea, now=idea.created_at + timedelta(minutes=31))
    idea.support_count = 1
    assert not perms.can_edit_idea(author, idea)
    assert not perms.can_edit_idea(make_user("resident"), idea)
