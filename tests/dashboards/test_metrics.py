"""One definition per metric: who is registered, verified, an active participant; periods."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civic.core.models import utcnow
from civic.dashboards import metrics, queries
from civic.dashboards.metrics import NOT_STATED, PERIODS, group_of
from civic.extensions import db


def _counts(ward_code):
    counted = queries.count_cells()
    return counted, counted.values[("reg", ward_code)], counted.values[("ver", ward_code)]


def _window(counted, period):
    start, end = PERIODS[period].window(date.fromordinal(counted.today), date.fromordinal(counted.first))
    return start.toordinal(), end.toordinal()


def _people(make_user, geography, n, **kwargs):
    return [make_user("resident", ward=geography.wards[0], **kwargs) for _ in range(n)]


def test_registered_means_a_resident_with_a_ward_and_not_deleted(app, make_user, geography):
    _people(make_user, geography, 12)
    make_user("admin", ward=geography.wards[0])  # not a resident
    make_user("resident", ward=None)  # no ward: in no area
    gone = make_user("resident", ward=geography.wards[0])
    gone.deleted_at = utcnow()
    db.session.commit()
    _, registered, _ = _counts(geography.wards[0].gss_code)
    assert registered == 12


def test_verified_means_the_email_address_is_confirmed(app, make_user, geography):
    _people(make_user, geography, 12)
    _people(make_user, geography, 3, verified=False)
    _, registered, verified = _counts(geography.wards[0].gss_code)
    assert (registered, verified) == (15, 12)


def test_an_unverified_resident_is_not_an_active_participant(app, make_user, geography):
    _people(make_user, geography, 11)
    _people(make_user, geography, 4, verified=False)  # registered (an activity) but unverified
    counted = queries.count_cells()
    s, e = _window(counted, "30d")
    assert counted.values[("ev", geography.wards[0].gss_code, "registration", None, s, e)] == 15
    assert counted.values[("pp", geography.wards[0].gss_code, s, e, None, None, None)] == 11


def test_activity_outside_the_period_does_not_count(app, make_user, geography):
    people = _people(make_user, geography, 12)
    for p in people[:2]:
        p.created_at = utcnow() - timedelta(days=45)
    db.session.commit()
    counted = queries.count_cells()
    code = geography.wards[0].gss_code
    assert counted.values[("pp", code, *_window(counted, "30d"), None, None, None)] == 10
    assert counted.values[("pp", code, *_window(counted, "90d"), None, None, None)] == 12


def test_a_source_that_does_not_count_as_participation(app, make_user, geography, monkeypatch):
    _people(make_user, geography, 12)
    quiet = metrics.ActivitySource("registration", "Registrations", metrics.REGISTRATION.query, counts_as_participation=False)
    monkeypatch.setitem(metrics.ACTIVITY_SOURCES, "registration", quiet)
    counted = queries.count_cells()
    assert counted.values[("pp", geography.wards[0].gss_code, *_window(counted, "30d"), None, None, None)] == 0


def test_registering_a_source_adds_its_kind_everywhere(app, town, responses_source):
    """How a domain plugs in: register_activity_source(ActivitySource(kind, label, query))."""
    pub = queries.build_publication()
    assert list(pub.kinds) == ["registration", "response"]
    assert pub.consultation_kinds == ("response",)
    board = queries.dashboard(pub, queries.Filters(pub.areas["E47900001"], "90d"))
    assert [h.key for h in board.headline] == ["registered", "verified", "participants", "registration", "response"]
    assert [s.kind for s in board.series] == ["registration", "response"]


def test_prefer_not_to_say_and_unanswered_are_counted_together():
    assert group_of("sex", None) == NOT_STATED
    assert group_of("sex", "prefer_not_to_say") == NOT_STATED
    assert group_of("sex", "nonsense") == NOT_STATED
    assert group_of("sex", "female") == "female"


def test_periods_end_today_and_the_previous_one_has_the_same_length():
    today, first = date(2026, 11, 27), date(2025, 1, 1)
    assert PERIODS["30d"].window(today, first) == (date(2026, 10, 29), today)
    assert PERIODS["30d"].previous(today, first) == (date(2026, 9, 29), date(2026, 10, 28))
    assert PERIODS["all"].window(today, first) == (first, today)
    assert PERIODS["all"].previous(today, first) is None


def test_periods_start_no_earlier_than_the_first_activity():
    today, first = date(2026, 11, 27), date(2026, 11, 20)
    assert PERIODS["90d"].window(today, first) == (first, today)
    assert PERIODS["30d"].previous(today, first) is None


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 7, 15), date(2026, 3, 28), date(2026, 10, 24)])
def test_a_london_day_ends_at_london_midnight_in_summer_and_winter(day):
    from civic.dashboards.queries import london_day, london_day_end

    end = london_day_end(day.toordinal())
    assert london_day(end) == day.toordinal() + 1
    assert london_day(end - timedelta(microseconds=1)) == day.toordinal()
    assert end.utcoffset() == timedelta(0)
