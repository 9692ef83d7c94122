"""Suspension by an officer: what the account can no longer do, and that it is told why.

Ideas, comments, supports and responses check these permissions in their own services (tested
by their domains); reports are moderation's and are tested here and in test_services.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from civic.core.models import utcnow
from civic.core.permissions import Permission, has_permission
from civic.extensions import db
from civic.moderation import services
from tests.conftest import login

CONTRIBUTIONS = [
    Permission.IDEAS_IDEA_SUBMIT,  # post an idea
    Permission.IDEAS_COMMENT_SUBMIT,  # post a comment
    Permission.IDEAS_IDEA_SUPPORT,  # support
    Permission.CONSULTATIONS_RESPONSE_SUBMIT,  # respond
    Permission.MODERATION_CONTENT_REPORT,  # report
]


@pytest.fixture
def suspended(officer, author):
    services.suspend_account(officer, author, reason="Posting abuse", until=utcnow() + timedelta(days=7))
    db.session.refresh(author)
    return author


@pytest.mark.parametrize("permission", CONTRIBUTIONS)
def test_a_resident_may_contribute_until_suspended(author, officer, permission):
    assert has_permission(author, permission)
    services.suspend_account(officer, author, reason="Posting abuse", until=utcnow() + timedelta(days=7))
    db.session.refresh(author)
    assert not has_permission(author, permission)
    assert has_permission(author, Permission.ACCOUNTS_SELF_MANAGE)


@pytest.mark.parametrize("permission", CONTRIBUTIONS)
def test_the_suspension_ends_by_itself(suspended, permission):
    suspended.suspended_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert has_permission(suspended, permission)


def test_a_suspended_account_cannot_report(suspended, published_idea, make_user):
    from civic.core.errors import NotAllowed
    from tests.factories import make_idea

    other = make_idea(published_idea.consultation, make_user(), status="published")
    with pytest.raises(NotAllowed):
        services.report_content(suspended, "idea", other.id, "spam")


def test_the_suspended_person_sees_why_and_until_when(client, suspended):
    login(client, suspended)
    body = client.get("/").get_data(as_text=True)
    assert "Your account is suspended until" in body and "Posting abuse" in body
    assert "11:59pm" in body or "until" in body
