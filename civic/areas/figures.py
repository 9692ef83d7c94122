"""Plotly figures for the geography pages (data in, ``go.Figure`` out; no queries here)."""

from __future__ import annotations

import plotly.graph_objects as go

from civic.areas.models import Area

# Colour-blind-safe qualitative palette (Okabe–Ito), shared by every map of boroughs.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999", "#882255"]


def ward_map(wards: list[Area], geojson_url: str = "/areas/wards.geojson") -> go.Figure:
    """Wards coloured by borough; the boundaries load from a cached URL, not the figure."""
    boroughs: dict[str, list[Area]] = {}
    for ward in wards:
        if ward.boundary:
            boroughs.setdefault(ward.parent.name if ward.parent else "Other", []).append(ward)
    fig = go.Figure()
    for index, (borough, members) in enumerate(sorted(boroughs.items())):
        colour = PALETTE[index % len(PALETTE)]
        fig.add_trace(
            go.Choropleth(
                geojson=geojson_url,
                featureidkey="id",
                locations=[w.gss_code for w in members],
                z=[1] * len(members),
                text=[w.name for w in members],
                name=borough,
                colorscale=[[0, colour], [1, colour]],
                showscale=False,
                showlegend=True,
                marker={"line": {"color": "#ffffff", "width": 0.6}},
                hovertemplate="%{text}<br>" + borough + "<extra></extra>",
            )
        )
    fig.update_geos(fitbounds="locations", visible=False)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=520,
        legend={"title": {"text": "Borough"}},
        dragmode=False,
    )
    return fig
