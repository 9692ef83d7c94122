"""Plotly figures for consultation results: tallies in, ``go.Figure`` out. No queries here."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from civic.areas.figures import PALETTE

FONT = {"family": "arial, sans-serif", "size": 14, "color": "#0b0c0c"}


@dataclass
class QuestionFigure:
    figure_id: str
    summary: str
    figure: go.Figure | None  # None for free text (a count, and published answers, only)


def _summary(result) -> str:
    if result.is_free_text:
        return f"{result.answered:,} people answered this question in their own words."
    if not result.answered:
        return "Nobody has answered this question yet."
    top = result.top
    share = round(top.share * 100)
    return f"{result.answered:,} people answered. The most common answer was “{top.label}” ({top.count:,}, {share}%)."


def question_figure(result) -> QuestionFigure:
    """A horizontal bar per option (or scale point), largest first down the page in the questionnaire's order."""
    figure_id = f"question-{result.question.id}"
    if result.is_free_text:
        return QuestionFigure(figure_id, _summary(result), None)
    labels = [r.label for r in result.rows][::-1]
    counts = [r.count for r in result.rows][::-1]
    shares = [f"{round(r.share * 100)}%" for r in result.rows][::-1]
    fig = go.Figure(
        data=[
            go.Bar(
                x=counts,
                y=labels,
                orientation="h",
                marker={"color": PALETTE[0]},
                text=[f"{c:,} ({s})" for c, s in zip(counts, shares, strict=True)],
                textposition="auto",
                hovertemplate="%{y}: %{x}<extra></extra>",
            )
        ],
        layout={
            "font": FONT,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "margin": {"l": 200, "r": 20, "t": 20, "b": 40},
            "height": 80 + 40 * len(labels),
            "xaxis": {"title": {"text": "Responses"}, "rangemode": "tozero", "fixedrange": True},
            "yaxis": {"automargin": True, "fixedrange": True},
            "dragmode": False,
            "showlegend": False,
        },
    )
    return QuestionFigure(figure_id, _summary(result), fig)
