"""Figure contents: data in, go.Figure out; withheld values are gaps, never numbers."""

from __future__ import annotations

from datetime import date

from civic.core.disclosure import Protected
from civic.dashboards import figures
from civic.dashboards.queries import DimensionTable, FunnelStep, GroupRow, Series, SeriesPoint, WardRow


def P(v):
    return Protected(v, 10)


def test_over_time_has_daily_bars_and_a_running_total_per_kind():
    points = [SeriesPoint(date(2026, 11, d), P(v), c) for d, v, c in ((1, 12, 12), (2, None, None), (3, 15, None))]
    fig = figures.over_time([Series("registration", "Registrations", points, P(40))])
    bars, line = fig.data
    assert bars.type == "bar" and list(bars.y) == [12, None, 15]
    assert line.type == "scatter" and list(line.y) == [12, None, None] and line.yaxis == "y2"
    assert fig.layout.title.text == "Activity per day, and running total"
    assert fig.layout.xaxis.title.text == "Day" and fig.layout.yaxis.title.text == "Per day"


def test_ward_map_bands_and_withheld_wards_in_grey():
    rows = [
        WardRow("E05000001", "North", P(20), 10000, 2.0),
        WardRow("E05000002", "South", P(40), 10000, 4.0),
        WardRow("E05000003", "Quiet", P(None), 10000, None),
    ]
    fig = figures.ward_map(rows, "/areas/wards.geojson")
    names = [t.name for t in fig.data]
    assert names[-1] == "Withheld (small numbers)"
    assert list(fig.data[-1].locations) == ["E05000003"]
    assert all(t.geojson == "/areas/wards.geojson" and t.showscale is False for t in fig.data)
    shown = [loc for t in fig.data[:-1] for loc in t.locations]
    assert sorted(shown) == ["E05000001", "E05000002"]
    assert "withheld" in fig.data[-1].text[0]


def test_ward_bars_sorted_by_rate_with_withheld_last():
    rows = [WardRow("a", "A", P(20), 10000, 2.0), WardRow("b", "B", P(None), 10000, None), WardRow("c", "C", P(40), 10000, 4.0)]
    fig = figures.ward_bars(rows)
    assert list(fig.data[0].y) == ["C", "A", "B"]
    assert list(fig.data[0].x) == [4.0, 2.0, None]
    assert fig.data[0].text[-1] == "withheld"
    assert fig.layout.xaxis.title.text.startswith("Participants per 1,000")


def test_representativeness_shows_both_shares_side_by_side():
    table = DimensionTable(
        "sex",
        "Sex",
        [GroupRow("female", "Female", P(60), 60.0, 51, 51.0, 1.18), GroupRow("male", "Male", P(None), None, 49, 49.0, None)],
        P(12),
        90.0,
    )
    fig = figures.representativeness(table)
    ours, census = fig.data
    assert list(ours.y) == [60.0, None] and list(census.y) == [51.0, 49.0]
    assert fig.layout.barmode == "group"
    assert "Sex" in fig.layout.title.text


def test_funnel_and_its_summary():
    steps = [FunnelStep("Registered", P(200)), FunnelStep("Verified", P(170)), FunnelStep("Took part in the period", P(None))]
    fig = figures.funnel(steps)
    assert list(fig.data[0].x) == [200, 170, None]
    assert list(fig.data[0].text) == ["200", "170", "fewer than 10"]
    assert figures.summary_funnel(steps) == "200 registered, 170 verified, fewer than 10 took part in the period."


def test_figure_json_never_holds_a_withheld_number():
    rows = [WardRow("a", "A", P(None), 10000, None)]
    assert '"fewer' not in figures.ward_bars(rows).to_json()
    assert "null" in figures.ward_bars(rows).to_json()
