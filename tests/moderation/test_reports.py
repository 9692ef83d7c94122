"""Reports: one per person per item, by residents who may report."""

import pytest

from civic.core.errors import NotAllowed, RuleViolation
from civic.moderation.services import AlreadyReported, distinct_reporters, report_content
from tests.factories import make_consultation, make_idea


@pytest.fixture
def idea(geography, officer):
    return make_idea(make_consultation([geography.authority], collects_ideas=True), officer)


def test_a_report_is_stored_and_counted(idea, make_user):
    report_content(make_user(), "idea", idea.id, "spam", "buy now")
    report_content(make_user(), "idea", idea.id, "offensive")
    assert distinct_reporters("idea", idea.id) == 2


def test_second_report_by_the_same_person_is_refused(idea, resident):
    report_content(resident, "idea", idea.id, "spam")
    with pytest.raises(AlreadyReported):
        report_content(resident, "idea", idea.id, "other")
    assert distinct_reporters("idea", idea.id) == 1


def test_unknown_reason_is_refused(idea, resident):
    with pytest.raises(RuleViolation):
        report_content(resident, "idea", idea.id, "boring")
    assert distinct_reporters("idea", idea.id) == 0


def test_unknown_kind_is_refused(idea, resident):
    with pytest.raises(RuleViolation):
        report_content(resident, "user", idea.id, "spam")


def test_suspended_or_councillor_cannot_report(idea, make_user):
    from civic.core.models import utcnow

    with pytest.raises(NotAllowed):
        report_content(make_user(suspended_at=utcnow()), "idea", idea.id, "spam")
    with pytest.raises(NotAllowed):
        report_content(make_user("councillor"), "idea", idea.id, "spam")


def test_unconfirmed_accounts_cannot_report(idea, make_user):
    with pytest.raises(NotAllowed):
        report_content(make_user(verified=False), "idea", idea.id, "spam")
    assert distinct_reporters("idea", idea.id) == 0
