"""Dashboard pages and downloads: who may see them, filters in the URL, bad filters, CSVs."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import event

from civic.areas.models import Area, AreaLevel
from civic.dashboards import queries
from civic.extensions import db
from tests.factories import build_geography, make_user

PAGES = ["/dashboard", "/dashboard/areas/E47900001", "/dashboard/wards.csv?area=E47900001"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_people_are_sent_to_sign_in(client, town, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_residents_may_not_see_dashboards(client, town, resident, login_as, path):
    login_as(resident)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["councillor", "officer", "admin"])
def test_councillors_officers_and_admins_may(client, town, make_user, login_as, role):
    login_as(make_user(role))
    response = client.get("/dashboard/areas/E08900001")
    assert response.status_code == 200
    assert "Borough 1" in response.get_data(as_text=True)


def _h1(response):
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1).strip()


def test_a_councillor_lands_on_their_own_ward(client, town, geography, login_as):
    councillor = make_user("resident", "councillor", ward=geography.wards[2])
    login_as(councillor)
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert _h1(response) == "Ward 3"


def test_an_officer_lands_on_the_authority(client, town, officer, login_as):
    login_as(officer)
    assert _h1(client.get("/dashboard")) == "Testshire Combined Authority"


def test_filters_are_kept_in_the_url(client, town, officer, login_as):
    login_as(officer)
    response = client.get("/dashboard?area=E05900002&period=30d")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/areas/E05900002?period=30d"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="30d" selected' in page
    assert "/dashboard/wards.csv?area=E05900002&amp;period=30d" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=forever", "Choose a period from the list"),
        ("area=E05999999", "Choose an area from the list"),
        ("consultation=nope", "Choose a consultation from the list"),
        ("period=30d&period=90d", "Choose only one period"),
        ("colour=red", "The address has options this page does not use: colour"),
        ("period=%00%27%3Cscript%3E", "Choose a period from the list"),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, town, officer, login_as, query, message):
    login_as(officer)
    response = client.get(f"/dashboard?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in body and message in body
    assert client.get(f"/dashboard/headline.csv?{query}").status_code == 400


def test_unknown_area_and_table_are_404(client, town, officer, login_as):
    login_as(officer)
    assert client.get("/dashboard/areas/E05999999").status_code == 404
    assert client.get("/dashboard/secrets.csv").status_code == 404


def test_consultation_page_is_404_until_consultations_are_plugged_in(client, town, officer, login_as):
    login_as(officer)
    assert client.get("/dashboard/consultations/bus-lanes").status_code == 404


def test_consultation_page_with_the_lookup_plugged_in(client, town, responses_source, officer, login_as):
    login_as(officer)
    response = client.get("/dashboard/consultations/bus-lanes?period=90d")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bus lanes" in body and "Consultation responses" in body
    assert "Registrations" not in body  # registration belongs to no consultation
    assert client.get("/dashboard/consultations/no-such-thing").status_code == 404
    redirect = client.get("/dashboard?area=E08900001&consultation=parks")
    assert redirect.headers["Location"] == "/dashboard/consultations/parks?area=E08900001"


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("table", ["headline", "over-time", "wards", "representativeness", "funnel"])
def test_csv_downloads_hold_no_small_counts_and_no_personal_data(client, town, officer, login_as, table):
    login_as(officer)
    for area in ("E47900001", "E08900002", "E05900004"):
        response = client.get(f"/dashboard/{table}.csv?area={area}&period=30d")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{table}-{area}-30d.csv"'
        rows = _csv(response)
        header = rows[0]
        count_columns = [i for i, h in enumerate(header) if h in ("count", "previous_period_count", "participants")]
        for row in rows[1:]:
            for i in count_columns:
                assert row[i] in ("", "[fewer than 10]", "[withheld]") or int(row[i]) >= 10, (table, row)
        text = response.get_data(as_text=True)
        assert "@example.org" not in text and "Person " not in text


def test_csv_cells_cannot_run_as_formulas(client, town, geography, officer, login_as):
    geography.wards[3].name = '=HYPERLINK("http://evil")'
    db.session.commit()
    login_as(officer)
    rows = _csv(client.get("/dashboard/wards.csv?area=E08900002&period=90d"))
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in names


def test_every_chart_has_a_summary_a_table_and_a_download(client, town, officer, login_as):
    login_as(officer)
    body = client.get("/dashboard/areas/E47900001?period=90d").get_data(as_text=True)
    charts = re.findall(r'data-figure="([^"]+)-data"', body)
    assert len(charts) == 9  # eight about participation, one about moderation
    for chart in charts:
        assert f'id="{chart}-summary"' in body
    assert body.count("govuk-table__caption") >= 9
    assert body.count("(CSV)</a>") == 6
    assert "Representativeness index" in body and "How the index is worked out" in body
    assert "fewer than 10" in body  # the town has small cells


def _statements(client, path):
    count = []
    listener = lambda *args: count.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(count)


def test_page_queries_do_not_grow_with_the_number_of_wards(client, app, login_as):
    geo = build_geography(wards_per_borough=2)
    officer = make_user("resident", "officer", ward=geo.wards[0])
    login_as(officer)
    small = _statements(client, "/dashboard")
    # Add seven more wards to each borough, with residents.
    for b, borough in enumerate(geo.boroughs):
        for w in range(7):
            ward = Area(level=AreaLevel.WARD, gss_code=f"E0591{b}{w:03d}", name=f"Extra {b}{w}", parent=borough)
            db.session.add(ward)
            db.session.flush()
            make_user("resident", ward=ward)
    db.session.commit()
    large = _statements(client, "/dashboard")
    assert large == small


# --- The consultation page's results, ideas and top ideas; moderation --------------------------

CONSULTATION_PAGES = [
    "/dashboard/consultations/bus-lanes",
    "/dashboard/consultations/bus-lanes?area=E08900001&period=30d",
    "/dashboard/results.csv?consultation=bus-lanes",
    "/dashboard/top-ideas.csv?consultation=bus-lanes",
    "/dashboard/moderation.csv?area=E47900001",
]


@pytest.mark.parametrize("path", CONSULTATION_PAGES)
def test_AZ_consultation_dashboards_are_for_councillors_officers_and_admins_only(
    client, consultation_town, make_user, login_as, path
):
    assert client.get(path).status_code == 302  # anonymous: to sign in
    login_as(make_user("resident", ward=None))
    assert client.get(path).status_code == 403
    for role in ("councillor", "officer", "admin"):
        client.post("/sign-out")
        login_as(make_user(role))
        assert client.get(path).status_code == 200, role


def test_consultation_page_shows_results_ideas_and_top_ideas(client, consultation_town, officer, login_as):
    login_as(officer)
    response = client.get("/dashboard/consultations/bus-lanes?period=all")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for heading in ("Results of the consultation", "Question 1: Question 1", "Ideas by status", "Most supported ideas"):
        assert heading in body
    # Charts: the eight about participation, three questions with options, ideas by status, top ideas.
    charts = re.findall(r'data-figure="([^"]+)-data"', body)
    assert len(charts) == 13 and "chart-moderation" not in charts
    for chart in charts:
        assert f'id="{chart}-summary"' in body
    assert body.count("(CSV)</a>") == 8
    # Free text never reaches the page; titles and questions are escaped.
    assert "must never reach" not in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert "fewer than 10" in body and "withheld" in body


def test_the_site_pages_show_moderation_and_no_consultation_results(client, consultation_town, officer, login_as):
    login_as(officer)
    body = client.get("/dashboard/areas/E47900001?period=30d").get_data(as_text=True)
    assert "Moderation across the site" in body and 'data-figure="chart-moderation-data"' in body
    assert "Median time to decision" in body
    assert "Results of the consultation" not in body
    assert client.get("/dashboard/results.csv?area=E47900001").status_code == 404
    assert client.get("/dashboard/moderation.csv?consultation=bus-lanes").status_code == 404


@pytest.mark.parametrize("table", ["results", "ideas", "top-ideas"])
def test_consultation_csvs_hold_no_small_counts_and_no_free_text(client, consultation_town, officer, login_as, table):
    login_as(officer)
    response = client.get(f"/dashboard/{table}.csv?consultation=bus-lanes&period=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{table}-E47900001-all-bus-lanes.csv"'
    rows = _csv(response)
    count_columns = [i for i, h in enumerate(rows[0]) if h in ("responses", "ideas", "supports", "did_not_choose")]
    assert count_columns
    # A small count only where a public page shows the same count (the published ideas, an idea's
    # supports; results too once public): its value is then one of those of the known cells.
    counted = queries.count_cells()
    kinds = {"results": ("res", "qa", "qs", "qo", "qn"), "ideas": ("ideas", "is"), "top-ideas": ("sup",)}[table]
    public = {counted.values[k] for k in counted.known if k[0] in kinds and k[1] == "bus-lanes"}
    for row in rows[1:]:
        for i in count_columns:
            assert row[i] in ("", "[fewer than 10]", "[withheld]") or int(row[i]) >= 10 or int(row[i]) in public, (table, row)
    text = response.get_data(as_text=True)
    assert "must never reach" not in text and "@example.org" not in text


def test_moderation_csv(client, consultation_town, officer, login_as):
    login_as(officer)
    rows = _csv(client.get("/dashboard/moderation.csv?area=E47900001&period=all"))
    assert rows[0] == ["outcome", "period", "decisions", "median_hours_to_decision"]
    by = {r[0]: r for r in rows[1:]}
    assert by["Approved"][2] == "30" and float(by["Approved"][3]) > 0
    assert by["Rejected"][2:] == ["[fewer than 10]", "[withheld]"]
    assert by["All decisions"][2] == "57"


def test_idea_titles_and_option_labels_cannot_run_as_formulas(client, consultation_town, officer, login_as):
    idea = consultation_town["ideas"][0]
    idea.title = "=cmd|' /C calc'!A0"
    consultation_town["bus"].questions[0].options[0].label = "@SUM(1+1)"
    db.session.commit()
    login_as(officer)
    top = _csv(client.get("/dashboard/top-ideas.csv?consultation=bus-lanes"))
    assert top[1][:2] == ["1", "'=cmd|' /C calc'!A0"]
    results = _csv(client.get("/dashboard/results.csv?consultation=bus-lanes"))
    assert any(r[2] == "'@SUM(1+1)" for r in results[1:])


def test_consultation_page_queries_do_not_grow_with_questions_or_ideas(client, consultation_town, geography, officer, login_as):
    from tests.dashboards.conftest import add_response
    from tests.factories import make_consultation, make_idea

    login_as(officer)
    path = "/dashboard/consultations/bus-lanes?period=all"
    small = _statements(client, path)
    more = make_consultation([geography.authority], slug="more", questions=12, collects_ideas=True)
    for n in range(20):
        make_idea(more, officer, title=f"More {n}")
    add_response(more, officer, None, {})
    db.session.commit()
    large = _statements(client, path)
    assert large == small


def test_a_page_body_is_made_once_per_publication_and_filters(client, app, town, geography, officer, login_as, monkeypatch):
    """A warm page is the layout around a body rendered once per publication and filters (its
    figures included); anyone allowed who asks for the same filters is given the same body."""
    from civic.dashboards import views

    made = []
    charts = views._charts
    monkeypatch.setattr(views, "_charts", lambda board: made.append(board.filters.period) or charts(board))
    monkeypatch.setitem(app.config, "DASHBOARD_MAX_AGE_SECONDS", 60)  # one publication for the test
    monkeypatch.setitem(app.extensions, "civic_dashboards", {})
    councillor = make_user("resident", "councillor", ward=geography.wards[0], email="cllr-body@example.org")
    login_as(officer)
    first = client.get("/dashboard/areas/E47900001?period=30d")
    assert client.get("/dashboard/areas/E47900001?period=30d").status_code == 200
    assert made == ["30d"]
    client.get("/dashboard/areas/E47900001?period=90d")
    assert made == ["30d", "90d"]
    login_as(councillor)
    again = client.get("/dashboard/areas/E47900001?period=30d")
    assert made == ["30d", "90d"]
    body = re.compile(r'<span class="govuk-caption-l">Participation dashboard</span>.*</main>', re.S)
    assert body.search(first.text).group(0) == body.search(again.text).group(0)
    app.extensions["civic_dashboards"]["publication"] = queries.build_publication()  # a new publication
    client.get("/dashboard/areas/E47900001?period=30d")
    assert made == ["30d", "90d", "30d"]
