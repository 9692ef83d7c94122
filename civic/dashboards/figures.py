"""Plotly figures for the dashboards: protected data in, ``go.Figure`` out. No queries here.

Every number drawn comes from a ``Protected`` value: a withheld count is drawn as a gap (None),
never as a number, so the figure JSON in the page holds nothing the tables do not show.
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from civic.areas.figures import PALETTE
from civic.consultations.models import QuestionKind
from civic.dashboards.queries import (
    DimensionTable,
    FunnelStep,
    IdeaStatusRow,
    Moderation,
    QuestionResult,
    Series,
    TopIdea,
    WardRow,
)

FONT = {"family": "arial, sans-serif", "size": 14, "color": "#0b0c0c"}
PARTICIPANT_COLOUR = PALETTE[0]
CENSUS_COLOUR = PALETTE[1]
WITHHELD_COLOUR = "#b1b4b6"
MODERATION_COLOUR = "#4c2c92"  # GOV.UK purple: 3:1 or more against white, like the palette colours used
# Sequential, colour-blind-safe (light to dark blue), for bands of rates on the map.
BAND_COLOURS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"]


def _layout(fig: go.Figure, title: str, **kwargs) -> go.Figure:
    """One palette, one font, a title; the layout set in one go (``update_layout`` is slow)."""
    settings = {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 60, "r": 20, "t": 60, "b": 60},
        "dragmode": False,
    }
    geo = fig.layout.geo.to_plotly_json() if fig.layout.geo else None
    layout = {**settings, **kwargs}
    if geo:
        layout["geo"] = geo
    return go.Figure(data=fig.data, layout=layout)


def over_time(series: list[Series]) -> go.Figure:
    """Daily counts (bars) and the running total (lines, right axis), one colour per kind."""
    fig = go.Figure()
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        days = [p.day.isoformat() for p in s.points]
        fig.add_trace(
            go.Bar(
                x=days,
                y=[p.count.value for p in s.points],
                name=f"{s.label} per day",
                marker={"color": colour},
                hovertemplate="%{x}: %{y}<extra>" + s.label + "</extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[p.cumulative for p in s.points],
                name=f"{s.label}, running total",
                mode="lines+markers",
                line={"color": colour, "dash": "dot", "width": 2},
                marker={"size": 4, "symbol": "diamond"},
                yaxis="y2",
                connectgaps=False,
                hovertemplate="%{x}: %{y} in total<extra>" + s.label + "</extra>",
            )
        )
    return _layout(
        fig,
        "Activity per day, and running total",
        xaxis={"title": {"text": "Day"}, "type": "date", "showgrid": False},
        yaxis={"title": {"text": "Per day"}, "rangemode": "tozero", "gridcolor": "#e5e5e5"},
        yaxis2={"title": {"text": "Running total"}, "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
        legend={"orientation": "h", "y": -0.25},
        barmode="group",
        height=420,
    )


def _bands(values: list[float], count: int = 4) -> list[tuple[float, float]]:
    """Equal-width bands from the lowest to the highest rate (one band when they are equal)."""
    low, high = min(values), max(values)
    if high == low:
        return [(low, high)]
    step = (high - low) / count
    return [(round(low + i * step, 1), round(low + (i + 1) * step, 1)) for i in range(count)]


def ward_map(rows: list[WardRow], geojson_url: str) -> go.Figure:
    """Participants per 1,000 residents aged 16+ by ward, in bands; withheld wards in grey.

    Bands with a legend rather than a continuous colour bar: the colour bar's gradient needs an
    inline style, which the Content-Security-Policy blocks, and a legend can be read as text.
    """
    known = [r for r in rows if r.per_thousand is not None]
    withheld = [r for r in rows if r.per_thousand is None]
    fig = go.Figure()
    if known:
        bands = _bands([r.per_thousand for r in known])
        for i, (low, high) in enumerate(bands):
            last = i == len(bands) - 1
            members = [r for r in known if low <= r.per_thousand and (r.per_thousand < high or last)]
            if not members:
                continue
            colour = BAND_COLOURS[round(i * (len(BAND_COLOURS) - 1) / max(len(bands) - 1, 1))]
            fig.add_trace(
                _choropleth(members, geojson_url, colour, f"{low:g} to {high:g} per 1,000", [r.per_thousand for r in members])
            )
    if withheld:
        fig.add_trace(_choropleth(withheld, geojson_url, WITHHELD_COLOUR, "Withheld (small numbers)", None))
    fig.update_geos(fitbounds="locations", visible=False)
    return _layout(
        fig,
        "Participants per 1,000 residents aged 16 and over",
        height=480,
        legend={"title": {"text": "Per 1,000 residents 16+"}},
    )


def _choropleth(rows: list[WardRow], geojson_url: str, colour: str, name: str, rates) -> go.Choropleth:
    return go.Choropleth(
        geojson=geojson_url,
        featureidkey="id",
        locations=[r.code for r in rows],
        z=[1] * len(rows),
        text=[
            r.name + (f": {rate:g} per 1,000" if rate is not None else ": withheld")
            for r, rate in zip(rows, rates or [None] * len(rows), strict=True)
        ],
        colorscale=[[0, colour], [1, colour]],
        showscale=False,
        showlegend=True,
        name=name,
        marker={"line": {"color": "#ffffff", "width": 0.8}},
        hovertemplate="%{text}<extra></extra>",
    )


def ward_bars(rows: list[WardRow]) -> go.Figure:
    """The same rates as bars, highest first; withheld wards listed at the end with no bar."""
    ordered = sorted(rows, key=lambda r: (r.per_thousand is None, -(r.per_thousand or 0), r.name))
    fig = go.Figure(
        go.Bar(
            x=[r.per_thousand for r in ordered],
            y=[r.name for r in ordered],
            orientation="h",
            marker={"color": PARTICIPANT_COLOUR},
            text=[("withheld" if r.per_thousand is None else f"{r.per_thousand:g}") for r in ordered],
            textposition="outside",
            hovertemplate="%{y}: %{x} per 1,000<extra></extra>",
            name="Participants per 1,000",
        )
    )
    return _layout(
        fig,
        "Participants per 1,000 residents aged 16 and over, by ward",
        xaxis={"title": {"text": "Participants per 1,000 residents aged 16+"}, "rangemode": "tozero", "gridcolor": "#e5e5e5"},
        yaxis={"title": {"text": "Ward"}, "autorange": "reversed", "automargin": True},
        height=max(300, 28 * len(rows) + 120),
        margin={"l": 160, "r": 60, "t": 60, "b": 60},
    )


def representativeness(table: DimensionTable) -> go.Figure:
    """Participants' share of each group beside the census share, for one question."""
    labels = [r.label for r in table.rows]
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=[r.share for r in table.rows],
                name="Participants (%)",
                marker={"color": PARTICIPANT_COLOUR},
                hovertemplate="%{x}: %{y}% of participants<extra></extra>",
            ),
            go.Bar(
                x=labels,
                y=[r.census_share for r in table.rows],
                name="Census 2021 (%)",
                marker={"color": CENSUS_COLOUR, "pattern": {"shape": "/"}},
                hovertemplate="%{x}: %{y}% of residents<extra></extra>",
            ),
        ]
    )
    return _layout(
        fig,
        f"{table.title}: participants compared with the census",
        barmode="group",
        xaxis={"title": {"text": table.title}},
        yaxis={"title": {"text": "Share (%)"}, "rangemode": "tozero", "gridcolor": "#e5e5e5"},
        legend={"orientation": "h", "y": -0.3},
        height=380,
    )


def funnel(steps: list[FunnelStep]) -> go.Figure:
    """Registered → verified → took part; a withheld step has no bar."""
    fig = go.Figure(
        go.Funnel(
            y=[s.label for s in steps],
            x=[s.value.value for s in steps],
            text=[s.value.label for s in steps],
            textinfo="text",
            marker={"color": [PALETTE[0], PALETTE[4], PALETTE[2]][: len(steps)]},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    return _layout(fig, "From registering to taking part", height=320, margin={"l": 200, "r": 20, "t": 60, "b": 40})


def _text(value: str) -> str:
    """Text from residents or officers, for Plotly: its markup is escaped (Plotly reads a few tags)."""
    return escape(value, quote=False)


def _hbars(labels, cells, title: str, axis: str, colour: str = PARTICIPANT_COLOUR, height: int | None = None) -> go.Figure:
    """Horizontal bars in the order given, a withheld count drawn as a gap with its label."""
    fig = go.Figure(
        go.Bar(
            x=[c.value for c in cells],
            y=[_text(label) for label in labels],
            orientation="h",
            marker={"color": colour},
            text=[c.label for c in cells],
            textposition="outside",
            hovertemplate="%{y}: %{text}<extra></extra>",
            name=axis,
        )
    )
    return _layout(
        fig,
        title,
        xaxis={"title": {"text": axis}, "rangemode": "tozero", "gridcolor": "#e5e5e5"},
        yaxis={"autorange": "reversed", "automargin": True},
        height=height or max(260, 40 * len(labels) + 120),
        margin={"l": 200, "r": 80, "t": 60, "b": 60},
    )


def question_results(question: QuestionResult) -> go.Figure:
    """Responses per option or scale point of one question (never free text)."""
    return _hbars(
        [o.label for o in question.options],
        [o.count for o in question.options],
        f"Question {question.number}: responses per {'point of the scale' if question.kind == QuestionKind.SCALE else 'option'}",
        "Responses",
    )


def idea_statuses(rows: list[IdeaStatusRow]) -> go.Figure:
    return _hbars([r.label for r in rows], [r.count for r in rows], "Ideas by status", "Ideas", PALETTE[5])


def top_ideas(ideas: list[TopIdea]) -> go.Figure:
    return _hbars([t.title for t in ideas], [t.supports for t in ideas], "Most supported ideas", "Supports", PALETTE[2])


def moderation(mod: Moderation) -> go.Figure:
    labels = [r.label for r in mod.outcomes]
    return _hbars(labels, [r.decisions for r in mod.outcomes], "Moderation decisions by outcome", "Decisions", MODERATION_COLOUR)


# --- One-line summaries (the text alternative of each chart) ----------------------------------


def duration(seconds: float | None) -> str:
    """A time to decision in words: minutes under an hour, hours under two days, else days."""
    if seconds is None:
        return "withheld"
    if seconds < 3600:
        minutes = round(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def _most(rows, value, label) -> str | None:
    shown = [r for r in rows if value(r).value]
    if not shown:
        return None
    top = max(shown, key=lambda r: value(r).value)
    return f"{label(top)} ({value(top).label})"


def summary_question(question: QuestionResult) -> str:
    if question.kind == QuestionKind.FREE_TEXT:
        return f"Question {question.number}: {question.answered.label} answered in their own words (not shown on dashboards)."
    most = _most(question.options, lambda o: o.count, lambda o: o.label)
    text = f"Question {question.number}: {question.answered.label} answered"
    if most:
        text += f"; the most chosen was {most}"
        top = max((o for o in question.options if o.count.value), key=lambda o: o.count.value)
        if top.share is not None:
            text += f", {top.share:g}% of those who answered"
    else:
        text += "; the counts per option are withheld because they are small"
    return text + "."


def summary_idea_statuses(rows: list[IdeaStatusRow], total) -> str:
    most = _most(rows, lambda r: r.count, lambda r: r.label.lower())
    text = f"{total.label} ideas"
    return text + (f"; the largest group: {most}." if most else "; the numbers per status are withheld because they are small.")


def summary_top_ideas(ideas: list[TopIdea]) -> str:
    if not ideas:
        return "No ideas have been published yet."
    first = ideas[0]
    return f"The most supported idea shown is “{first.title}” with {first.supports.label} supports, of {len(ideas)} listed."


def summary_moderation(mod: Moderation) -> str:
    text = f"{mod.total.label} decisions"
    most = _most(mod.outcomes, lambda r: r.decisions, lambda r: r.label.lower())
    if most:
        text += f", most often {most}"
    return text + f"; median time to decision {duration(mod.median_seconds)}."


def _day(d) -> str:
    return f"{d.day} {d:%B %Y}"


def summary_over_time(series: list[Series], period_label: str) -> str:
    if not series:
        return "No kinds of activity are counted yet."
    if not any(s.points for s in series):
        totals = "; ".join(f"{s.label}: {s.total.label} {period_label.lower()}" for s in series)
        return (
            f"{totals}. Daily figures are shown for the whole authority over every period, and for boroughs and"
            " wards over the last 30 or 90 days (not for one ward in one consultation): most of their days would"
            " be fewer than 10."
        )
    parts = []
    for s in series:
        busiest = max((p for p in s.points if p.count.value), key=lambda p: p.count.value, default=None)
        text = f"{s.label}: {s.total.label} {period_label.lower()}"
        if busiest:
            text += f" (busiest day shown: {_day(busiest.day)}, {busiest.count.label})"
        parts.append(text)
    return "; ".join(parts) + "."


def summary_wards(rows: list[WardRow], scope_name: str) -> str:
    known = [r for r in rows if r.per_thousand is not None]
    withheld = len(rows) - len(known)
    if not known:
        return f"Participation in every ward of {scope_name} is withheld because the numbers are small."
    high = max(known, key=lambda r: r.per_thousand)
    low = min(known, key=lambda r: r.per_thousand)
    text = f"Highest: {high.name}, {high.per_thousand:g} per 1,000; lowest: {low.name}, {low.per_thousand:g} per 1,000"
    if withheld:
        text += f"; {withheld} of {len(rows)} wards withheld (small numbers)"
    return text + "."


def summary_representativeness(table: DimensionTable) -> str:
    rated = [r for r in table.rows if r.ratio is not None]
    if not rated:
        return f"{table.title}: shares are withheld because the numbers are small."
    low = min(rated, key=lambda r: r.ratio)
    high = max(rated, key=lambda r: r.ratio)
    return (
        f"{table.title}: most under-represented {low.label} "
        f"({low.share:g}% of participants, {low.census_share:g}% of residents); "
        f"most over-represented {high.label} ({high.share:g}% against {high.census_share:g}%)."
    )


def summary_funnel(steps: list[FunnelStep]) -> str:
    registered, verified, took_part = (s.value for s in steps)
    text = f"{registered.label} registered, {verified.label} verified, {took_part.label} took part in the period"
    if registered.value and took_part.value is not None:
        text += f" ({100 * took_part.value / registered.value:.0f}% of those registered)"
    return text + "."
