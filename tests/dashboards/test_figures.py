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


# --- Consultation content and moderation ------------------------------------------------------

from civic.dashboards.queries import IdeaStatusRow, Moderation, OptionResult, OutcomeRow, QuestionResult, TopIdea  # noqa: E402


def _question(kind="single_choice", counts=(40, None, 12)):
    options = [
        OptionResult(i, f"Option {i} <b>", P(v), None if v is None else round(100 * v / 60, 1)) for i, v in enumerate(counts, 1)
    ]
    return QuestionResult(7, 2, "Should we? <script>", kind, P(60), P(None), options)


def test_question_results_draw_one_bar_per_option_and_a_gap_for_a_withheld_one():
    fig = figures.question_results(_question())
    (bars,) = fig.data
    assert bars.orientation == "h"
    assert list(bars.x) == [40, None, 12]
    assert list(bars.text) == ["40", "fewer than 10", "12"]
    assert list(bars.y) == ["Option 1 &lt;b&gt;", "Option 2 &lt;b&gt;", "Option 3 &lt;b&gt;"]  # Plotly reads some tags: escaped
    assert fig.layout.title.text == "Question 2: responses per option"
    assert fig.layout.xaxis.title.text == "Responses"
    assert figures.question_results(_question("scale")).layout.title.text == "Question 2: responses per point of the scale"


def test_question_summaries():
    assert figures.summary_question(_question()) == (
        "Question 2: 60 answered; the most chosen was Option 1 <b> (40), 66.7% of those who answered."
    )
    assert figures.summary_question(_question(counts=(None, None))) == (
        "Question 2: 60 answered; the counts per option are withheld because they are small."
    )
    free = QuestionResult(8, 3, "Tell us", "free_text", P(25), P(35), [])
    assert figures.summary_question(free) == "Question 3: 25 answered in their own words (not shown on dashboards)."


def test_ideas_by_status_and_top_ideas():
    rows = [
        IdeaStatusRow("published", "Published, no response yet", P(30)),
        IdeaStatusRow("hidden", "Hidden by moderators", P(None)),
    ]
    fig = figures.idea_statuses(rows)
    assert list(fig.data[0].x) == [30, None] and fig.layout.title.text == "Ideas by status"
    assert figures.summary_idea_statuses(rows, P(34)) == "34 ideas; the largest group: published, no response yet (30)."
    top = [TopIdea(1, "Wider <script>alert(1)</script> pavements", P(120)), TopIdea(2, "Benches", P(None))]
    fig = figures.top_ideas(top)
    assert list(fig.data[0].x) == [120, None]
    assert "<script>" not in fig.to_json()
    assert fig.data[0].y[0] == "Wider &lt;script&gt;alert(1)&lt;/script&gt; pavements"
    assert figures.summary_top_ideas(top).startswith("The most supported idea shown is “Wider")
    assert figures.summary_top_ideas([]) == "No ideas have been published yet."


def test_moderation_figure_and_the_median_in_words():
    mod = Moderation(
        P(40),
        5400.0,
        [OutcomeRow("approve", "Approved", P(31), 3600.0), OutcomeRow("reject", "Rejected", P(None), None)],
    )
    fig = figures.moderation(mod)
    assert list(fig.data[0].y) == ["Approved", "Rejected"] and list(fig.data[0].x) == [31, None]
    assert figures.summary_moderation(mod) == "40 decisions, most often approved (31); median time to decision 1.5 hours."
    assert figures.duration(None) == "withheld"
    assert figures.duration(90) == "2 minutes"
    assert figures.duration(60) == "1 minute"
    assert figures.duration(3 * 86400) == "3.0 days"
