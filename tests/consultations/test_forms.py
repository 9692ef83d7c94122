"""Form helpers: times on the UK clock."""

from datetime import UTC, date, datetime, time

import pytest

from civic.consultations.forms import london_to_utc, parse_time


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("09:00", time(9)), ("17.30", time(17, 30)), (" 7:05 ", time(7, 5)), ("24:00", None), ("9", None), ("", None), (None, None)],
)
def test_parse_time(raw, parsed):
    assert parse_time(raw) == parsed


def test_london_to_utc_in_summer_and_winter():
    assert london_to_utc(date(2027, 7, 1), time(9)) == datetime(2027, 7, 1, 8, tzinfo=UTC)
    assert london_to_utc(date(2027, 1, 1), time(9)) == datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert london_to_utc(None, time(9)) is None
