"""Dashboard pages and their CSV downloads (councillors, officers, admins; aggregates only)."""

from __future__ import annotations

import csv
import io

import click
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from civic.areas.models import AreaLevel
from civic.core.permissions import Permission, requires
from civic.core.templating import NAVIGATION, NavItem
from civic.dashboards import figures, lookups, queries
from civic.dashboards.forms import FilterForm
from civic.dashboards.metrics import PERIODS
from civic.dashboards.permissions import default_area_code

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard", cli_group="dashboards")
NAVIGATION.append(NavItem("Dashboards", "dashboards.overview", Permission.DASHBOARDS_DASHBOARD_VIEW, prefixes=("dashboards.",)))

LEVEL_ORDER = {AreaLevel.AUTHORITY: 0, AreaLevel.DISTRICT: 1, AreaLevel.WARD: 2}


def _area_choices(pub: queries.Publication):
    def label(a):
        parent = pub.areas.get(a.parent_code)
        kind = AreaLevel(a.level).label
        return f"{a.name} ({kind}{', ' + parent.name if parent and a.level == AreaLevel.WARD else ''})"

    areas = sorted(pub.areas.values(), key=lambda a: (LEVEL_ORDER.get(a.level, 3), a.name))
    return [(a, label(a)) for a in areas]


def _filters(pub, area_code=None, consultation_slug=None):
    """Parse the query string against the allow-lists: (form, filters or None)."""
    form = FilterForm(request.args, queries.cached(pub, ("area-choices",), lambda: _area_choices(pub)), pub.consultations)
    if area_code is not None:
        form.area.data = area_code
    if consultation_slug is not None:
        form.consultation.data = consultation_slug
    if not form.validate():
        return form, None
    code = form.area.data or default_area_code(current_user, pub.areas)
    if code is None:
        return form, None
    consultation = lookups.consultation_by_slug(form.consultation.data) if form.consultation.data else None
    filters = queries.Filters(pub.areas[code], form.period.data or form.period.default, consultation)
    form.area.data = code
    form.period.data = filters.period
    return form, filters


class _Chart:
    """A figure already turned into plain JSON data (what includes/figure.html needs of it)."""

    def __init__(self, data: dict):
        self.data = data

    def to_plotly_json(self) -> dict:
        return self.data


def _charts(board: queries.Dashboard) -> dict[str, _Chart]:
    charts = {
        "over_time": figures.over_time(board.series),
        "ward_map": figures.ward_map(board.wards, url_for("areas.wards_geojson")),
        "ward_bars": figures.ward_bars(board.wards),
        "funnel": figures.funnel(board.funnel),
        **{f"rep_{t.dimension}": figures.representativeness(t) for t in board.representativeness.dimensions},
    }
    if board.content:
        for q in board.content.questions:
            if q.options:
                charts[f"question_{q.id}"] = figures.question_results(q)
        charts["idea_statuses"] = figures.idea_statuses(board.content.idea_statuses)
        if board.content.top_ideas:
            charts["top_ideas"] = figures.top_ideas(board.content.top_ideas)
    if board.moderation:
        charts["moderation"] = figures.moderation(board.moderation)
    return {name: _Chart(fig.to_plotly_json()) for name, fig in charts.items()}


def _filter_key(filters: queries.Filters) -> tuple:
    return filters.area.code, filters.period, filters.consultation_slug


def _board(pub, filters: queries.Filters) -> queries.Dashboard:
    """The page's slice of the publication, made once per publication (pages and CSVs)."""
    return queries.cached(pub, ("board", *_filter_key(filters)), lambda: queries.dashboard(pub, filters))


def _page(pub, form, filters, status=200):
    """The dashboard page. Its body depends on the publication and the filters only: it is
    rendered once per publication and app server (a warm page is the layout around it)."""
    if filters is None:
        body = Markup(render_template("dashboards/_board.html", form=form, board=None, pub=pub))  # noqa: S704 - autoescaped
        return render_template("dashboards/dashboard.html", form=form, board=None, board_html=body), (400 if form.errors else 200)
    board = _board(pub, filters)
    body = queries.cached(pub, ("page", *_filter_key(filters)), lambda: _body(pub, form, board, filters))
    return render_template("dashboards/dashboard.html", form=form, board=board, board_html=body), status


def _body(pub, form, board: queries.Dashboard, filters: queries.Filters) -> Markup:
    args = {"area": filters.area.code, "period": filters.period}
    if filters.consultation:
        args["consultation"] = filters.consultation.slug
    link_args = {k: v for k, v in args.items() if k != "area"}
    html = render_template(
        "dashboards/_board.html",
        form=form,
        board=board,
        charts=_charts(board),
        pub=pub,
        csv_args=args,
        link_args=link_args,
        summaries=figures,
        period_label=PERIODS[filters.period].label,
    )
    return Markup(html)  # noqa: S704 - a template's autoescaped output


@bp.route("")
@requires(Permission.DASHBOARDS_DASHBOARD_VIEW)
def overview():
    pub = queries.current_publication()
    form, filters = _filters(pub)
    if filters and "area" in request.args:
        # One address per area: the filter form lands on the area's own page.
        args = {k: v for k, v in request.args.items() if k not in ("area", "consultation") and v}
        if filters.consultation:
            return redirect(url_for("dashboards.consultation", slug=filters.consultation.slug, area=filters.area.code, **args))
        return redirect(url_for("dashboards.area", gss_code=filters.area.code, **args))
    return _page(pub, form, filters)


@bp.route("/areas/<gss_code>")
@requires(Permission.DASHBOARDS_DASHBOARD_VIEW)
def area(gss_code: str):
    pub = queries.current_publication()
    if gss_code not in pub.areas:
        abort(404)
    if "area" in request.args:
        return overview()
    form, filters = _filters(pub, area_code=gss_code)
    return _page(pub, form, filters)


@bp.route("/consultations/<slug>")
@requires(Permission.DASHBOARDS_DASHBOARD_VIEW)
def consultation(slug: str):
    pub = queries.current_publication()
    if lookups.consultation_by_slug(slug) is None or slug not in {c.slug for c in pub.consultations}:
        abort(404)
    form, filters = _filters(pub, consultation_slug=slug)
    return _page(pub, form, filters)


# --- CSV downloads ----------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _tables(board: queries.Dashboard):
    """Each downloadable table: (header, rows). The same protected values as the page."""
    period = f"{board.start.isoformat()} to {board.end.isoformat()}"
    yield (
        "headline",
        ["measure", "period", "count", "previous_period_count", "change"],
        [[h.label, period, h.value.csv, h.previous.csv if h.previous else "", _number(h.change)] for h in board.headline],
    )
    yield (
        "over-time",
        ["kind", "day", "count", "running_total"],
        [[s.label, p.day.isoformat(), p.count.csv, _number(p.cumulative)] for s in board.series for p in s.points],
    )
    yield (
        "wards",
        ["ward_code", "ward", "participants", "residents_aged_16_plus", "participants_per_1000"],
        [[r.code, r.name, r.participants.csv, _number(r.adults), _number(r.per_thousand)] for r in board.wards],
    )
    rows = []
    for t in board.representativeness.dimensions:
        for r in t.rows:
            rows.append(
                [
                    t.title,
                    r.label,
                    r.participants.csv,
                    _number(r.share),
                    _number(r.census),
                    _number(r.census_share),
                    _number(r.ratio),
                ]
            )
        rows.append([t.title, "Not stated", t.not_stated.csv, "", "", "", ""])
    rows.append(["Representativeness index", "", "", _number(board.representativeness.index), "", "", ""])
    yield (
        "representativeness",
        ["question", "group", "participants", "participant_share_pct", "census_residents", "census_share_pct", "ratio"],
        rows,
    )
    yield ("funnel", ["step", "count"], [[s.label, s.value.csv] for s in board.funnel])
    if board.content:
        content = board.content
        rows = []
        for q in content.questions:
            for o in q.options:
                rows.append([q.number, q.text, o.label, o.count.csv, _number(o.share), o.not_chosen.csv if o.not_chosen else ""])
            rows.append([q.number, q.text, "Answered", q.answered.csv, "", ""])
            rows.append([q.number, q.text, "Did not answer", q.skipped.csv, "", ""])
        yield (
            "results",
            ["question_number", "question", "answer", "responses", "share_of_those_answering_pct", "did_not_choose"],
            rows,
        )
        yield (
            "ideas",
            ["status", "ideas"],
            [[r.label, r.count.csv] for r in content.idea_statuses] + [["All ideas", content.ideas.csv]],
        )
        top = [[i, t.title, t.supports.csv] for i, t in enumerate(content.top_ideas, 1)]
        yield ("top-ideas", ["rank", "idea", "supports"], top)
    if board.moderation:
        mod = board.moderation
        yield (
            "moderation",
            ["outcome", "period", "decisions", "median_hours_to_decision"],
            [[r.label, period, r.decisions.csv, _hours(r.median_seconds)] for r in mod.outcomes]
            + [["All decisions", period, mod.total.csv, _hours(mod.median_seconds)]],
        )


def _hours(seconds: float | None) -> str:
    return "[withheld]" if seconds is None else f"{seconds / 3600:.1f}"


TABLES = ("headline", "over-time", "wards", "representativeness", "funnel")
CONSULTATION_TABLES = ("results", "ideas", "top-ideas")  # with a consultation filter only
SITE_TABLES = ("moderation",)  # without one


@bp.route("/<table>.csv")
@requires(Permission.DASHBOARDS_DASHBOARD_VIEW)
def download(table: str):
    if table not in (*TABLES, *CONSULTATION_TABLES, *SITE_TABLES):
        abort(404)
    pub = queries.current_publication()
    form, filters = _filters(pub)
    if filters is None:
        return _page(pub, form, filters)
    if (table in CONSULTATION_TABLES and not filters.consultation) or (table in SITE_TABLES and filters.consultation):
        abort(404)
    board = _board(pub, filters)
    header, rows = next((h, r) for name, h, r in _tables(board) if name == table)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    name = f"{table}-{filters.area.code}-{filters.period}{'-' + filters.consultation.slug if filters.consultation else ''}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


# --- The refresh worker -------------------------------------------------------------------------


@bp.cli.command("refresh")
@click.option("--loop", is_flag=True, help="Keep refreshing (every --every seconds) until stopped.")
@click.option("--every", type=int, default=None, help="Seconds between builds (default: DASHBOARD_MAX_AGE_SECONDS / 2).")
def refresh(loop: bool, every: int | None):
    """Build the dashboards' publication and store it for every app server to read."""
    from flask import current_app

    from civic.dashboards import worker

    every = every or max(5, current_app.config.get("DASHBOARD_MAX_AGE_SECONDS", 60) // 2)
    worker.run(loop, every, click.echo)
