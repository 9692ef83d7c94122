"""Slices of the protected publication, and the fixed number of queries behind it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from civic.core.disclosure import Protected
from civic.core.models import utcnow
from civic.dashboards import queries
from civic.dashboards.queries import DimensionTable, GroupRow, _points, _similarity
from civic.extensions import db
from tests.dashboards.conftest import count_statements
from tests.factories import build_geography, make_user


def P(v, secondary=False):
    return Protected(v, 10, secondary)


class TestRunningTotal:
    def test_shown_while_every_day_so_far_is_published(self):
        points = _points(1, [P(12), P(15), P(None), P(20)], P(None))
        assert [p.cumulative for p in points] == [12, 27, None, None]

    def test_shown_back_from_a_published_total_after_the_last_withheld_day(self):
        points = _points(1, [P(12), P(None), P(None), P(20)], P(50))
        assert [p.cumulative for p in points] == [12, None, 30, 50]

    def test_never_between_two_withheld_days(self):
        points = _points(1, [P(None), P(30), P(None)], P(45))
        assert [p.cumulative for p in points] == [None, None, 45]


class TestIndex:
    def test_perfect_match_scores_100(self):
        cells = {"a": P(50), "b": P(50)}
        assert _similarity(cells, 100, {"a": 10, "b": 10}, 20, 10) == 100.0

    def test_withheld_groups_are_pooled_against_their_combined_census_share(self):
        cells = {"a": P(90), "b": P(None), "c": P(None)}
        # pooled b+c = 10 of 100 participants against (5+5)/20 = 50% of residents
        assert _similarity(cells, 100, {"a": 10, "b": 5, "c": 5}, 20, 10) == 60.0

    def test_too_few_participants_give_no_score(self):
        assert _similarity({"a": P(None)}, 5, {"a": 1}, 1, 10) is None


def test_councillor_ward_view_compares_with_the_census_of_the_ward(app, town):
    pub = queries.build_publication()
    ward = pub.areas["E05900001"]
    board = queries.dashboard(pub, queries.Filters(ward, "90d"))
    sex = next(t for t in board.representativeness.dimensions if t.dimension == "sex")
    female = next(r for r in sex.rows if r.group == "female")
    assert female.census == 5100  # the ward's own baseline
    assert board.ward_scope.code == "E08900001"  # a ward is shown among its borough's wards
    assert [w.code for w in board.wards] == ["E05900001", "E05900002"]


def test_shares_and_ratios_are_withheld_with_their_counts(app, town):
    pub = queries.build_publication()
    for area in pub.areas.values():
        board = queries.dashboard(pub, queries.Filters(area, "30d"))
        for table in board.representativeness.dimensions:
            for row in table.rows:
                if row.participants.value is None:
                    assert row.share is None and row.ratio is None


def test_the_number_of_queries_does_not_grow_with_the_number_of_wards(app):
    build_geography(wards_per_borough=2)
    small = count_statements(queries.build_publication)
    from civic.areas.models import Area

    db.session.execute(Area.__table__.update().values(parent_id=None))  # areas refer to areas
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    geo = build_geography(wards_per_borough=9)
    for ward in geo.wards:
        make_user("resident", ward=ward)
    large = count_statements(queries.build_publication)
    # On PostgreSQL the build also sets its own timeout, counts participants in a query, and
    # counts the activity since its cutoff apart (queries.History): the events and the people
    # active since, and what those did before.
    assert small == large <= 6 + (5 if db.engine.dialect.name == "postgresql" else 0)


def test_dates_of_the_window(app, town):
    pub = queries.build_publication()
    board = queries.dashboard(pub, queries.Filters(pub.areas["E47900001"], "30d"))
    assert (board.end - board.start).days == 29
    assert board.end == date.fromordinal(pub.today)
    assert isinstance(board.representativeness.dimensions[0], DimensionTable)
    assert isinstance(board.representativeness.dimensions[0].rows[0], GroupRow)


def test_one_thread_rebuilds_a_stale_publication_while_the_others_wait(app, monkeypatch):
    """On a busy server, requests arriving while the publication is stale must not each build it."""
    import threading
    import time
    from types import SimpleNamespace

    from civic.core.models import utcnow

    builds = []

    def slow_build(now):
        builds.append(now)
        time.sleep(0.2)
        return SimpleNamespace(built_at=utcnow())

    monkeypatch.setattr(queries, "build_publication", slow_build)
    monkeypatch.setitem(app.config, "DASHBOARD_MAX_AGE_SECONDS", 60)
    app.extensions.pop("civic_dashboards", None)
    seen = []

    def request():
        with app.app_context():
            seen.append(queries.current_publication())

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions.pop("civic_dashboards", None)
    assert len(builds) == 1
    assert len({id(p) for p in seen}) == 1


def test_while_one_thread_rebuilds_the_others_are_served_the_previous_publication(app, monkeypatch):
    import threading
    from datetime import timedelta
    from types import SimpleNamespace

    from civic.core.models import utcnow

    started, release = threading.Event(), threading.Event()

    def slow_build(now):
        started.set()
        release.wait(5)
        return SimpleNamespace(built_at=utcnow())

    stale = SimpleNamespace(built_at=utcnow() - timedelta(minutes=5))
    monkeypatch.setattr(queries, "build_publication", slow_build)
    monkeypatch.setitem(app.config, "DASHBOARD_MAX_AGE_SECONDS", 60)
    app.extensions["civic_dashboards"] = {"publication": stale}
    rebuilt = []

    def rebuilding_request():
        with app.app_context():
            rebuilt.append(queries.current_publication())

    builder = threading.Thread(target=rebuilding_request)
    builder.start()
    try:
        assert started.wait(5)
        assert queries.current_publication() is stale  # answered at once, not after the rebuild
    finally:
        release.set()
        builder.join()
        app.extensions.pop("civic_dashboards", None)
    assert rebuilt and rebuilt[0] is not stale


class TestDailyCellsByLevel:
    """One consultation's activity is counted per day for boroughs and the authority, not per
    ward (those cells would almost all be small); a ward's consultation page shows totals."""

    def test_no_ward_has_daily_cells_for_one_consultation(self, app, town, responses_source):
        counted = queries.count_cells()
        wards = {code for code, a in counted.areas.items() if a.level == "ward"}
        days = [k for k in counted.values if k[0] == "ev" and k[4] == k[5]]
        by_consultation = [k for k in days if k[3] not in (queries.ALL,)]
        assert by_consultation and not any(k[1] in wards and k[4] != counted.first for k in by_consultation)
        assert any(k[1] in wards for k in days if k[3] is queries.ALL)  # all activity: still per ward and day
        assert any(k[1] not in wards for k in by_consultation if k[3] == "bus-lanes")
        # The ward's periods still add up, through a remainder that is never published.
        rests = [k for k in counted.values if k[0] == "ev-rest"]
        assert rests and not any(k in counted.published for k in rests)
        assert all(k[1] in wards and k[3] is not queries.ALL for k in rests)

    def test_a_ward_page_with_a_consultation_shows_totals_and_no_days(self, app, town, responses_source):
        pub = queries.build_publication()
        bus = next(c for c in pub.consultations if c.slug == "bus-lanes")
        ward = queries.dashboard(pub, queries.Filters(pub.areas["E05900001"], "90d", bus))
        borough = queries.dashboard(pub, queries.Filters(pub.areas["E08900001"], "90d", bus))
        assert ward.series and all(s.points == [] for s in ward.series)
        assert [s.total for s in ward.series] == [h.value for h in ward.headline if h.key == "response"]
        assert all(len(s.points) == (borough.end - borough.start).days + 1 for s in borough.series)
        everything = queries.dashboard(pub, queries.Filters(pub.areas["E05900001"], "90d"))
        assert all(s.points for s in everything.series)

    def test_a_ward_with_a_consultation_says_why_there_is_no_daily_chart(self, client, town, responses_source, officer, login_as):
        login_as(officer)
        body = client.get("/dashboard/consultations/bus-lanes?area=E05900001&period=90d").get_data(as_text=True)
        assert "not for one ward" in body and 'id="chart-over-time"' not in body
        body = client.get("/dashboard/consultations/bus-lanes?area=E08900001&period=90d").get_data(as_text=True)
        assert "not for one ward" not in body and 'id="chart-over-time"' in body


class TestCountedInTheDatabase:
    """On PostgreSQL the database counts activities, participants and supports (grouped); the
    same cells as reading every row here, London days included."""

    @staticmethod
    def _both_ways(monkeypatch):
        assert queries.counts_in_database()
        grouped = queries.count_cells()
        monkeypatch.setattr(queries, "counts_in_database", lambda: False)
        read = queries.count_cells()
        return grouped, read

    def test_the_same_cells_both_ways(self, app, consultation_town, monkeypatch):
        if db.engine.dialect.name != "postgresql":
            assert not queries.counts_in_database()
            return
        from datetime import UTC, datetime, timedelta

        from civic.accounts.models import User
        from civic.ideas.models import Support

        # Supports just before and after midnight in London, summer (BST) and winter (GMT): the
        # London day differs from the UTC day at 23:30 UTC in summer only.
        idea = consultation_town["ideas"][0]
        now = datetime.now(UTC)
        summer = datetime(now.year - 1, 7, 14, 23, 30, tzinfo=UTC)
        winter = datetime(now.year - 1, 12, 14, 23, 30, tzinfo=UTC)
        people = db.session.scalars(select(User).where(User.ward_id.is_not(None)).order_by(User.id).limit(8)).all()
        taken = set(db.session.scalars(select(Support.user_id).where(Support.idea_id == idea.id)))
        free = [p for p in people if p.id not in taken]
        for person, moment in zip(free, (summer, winter, summer + timedelta(hours=1), now + timedelta(days=2)), strict=False):
            db.session.add(Support(idea_id=idea.id, user_id=person.id, created_at=moment))
        db.session.commit()
        grouped, read = self._both_ways(monkeypatch)
        assert grouped.values == read.values
        assert grouped.relations == read.relations and grouped.published == read.published
        assert grouped.known == read.known and grouped.first == read.first
        days = {k[4] for k in grouped.values if k[0] == "ev" and k[2] == "support" and k[4] == k[5] and grouped.values[k]}
        assert date(summer.year, 7, 15).toordinal() in days  # 23:30 UTC in July is 00:30 the next day
        assert date(winter.year, 12, 14).toordinal() in days  # 23:30 UTC in December is 23:30
        assert any(k[0] == "pp" and k[5] is not None and v for k, v in grouped.values.items())


def test_a_build_on_postgresql_gets_its_own_statement_timeout_and_memory(app, town):
    """The request statement timeout would cut the build's grouped queries short at metro scale:
    the build's transaction gets DASHBOARD_BUILD_STATEMENT_TIMEOUT_MS and _WORK_MEM instead."""
    from sqlalchemy import text

    queries.count_cells()
    if db.engine.dialect.name != "postgresql":
        return
    assert db.session.execute(text("SHOW statement_timeout")).scalar() == "2min"
    assert db.session.execute(text("SHOW work_mem")).scalar() == "128MB"
    db.session.rollback()  # this transaction only
    assert db.session.execute(text("SHOW work_mem")).scalar() != "128MB"


class TestRecentDaysBelowTheAuthority:
    """Boroughs and wards have daily cells for the last DAILY_DAYS days only; the authority since
    the start. (The town's activity spans 60 days: DAILY_DAYS is shortened to 40 to see it.)"""

    def test_only_the_authority_has_days_before_the_last_DAILY_DAYS(self, app, town, responses_source, monkeypatch):
        monkeypatch.setattr(queries, "DAILY_DAYS", 40)
        counted = queries.count_cells()
        recent = counted.today - 40 + 1
        old = [k for k in counted.values if k[0] == "ev" and k[4] == k[5] and k[4] < recent]
        assert old and {counted.areas[k[1]].parent_code for k in old} == {None}
        assert any(k[0] == "ev" and k[4] == k[5] == recent and counted.areas[k[1]].level == "ward" for k in counted.values)
        rests = [k for k in counted.values if k[0] == "ev-rest"]
        assert any(k[3] is queries.ALL and counted.areas[k[1]].level == "ward" for k in rests)
        assert not any(k in counted.published for k in rests)

    def test_a_daily_chart_below_the_authority_only_for_periods_inside_the_recent_days(self, app, town, monkeypatch):
        monkeypatch.setattr(queries, "DAILY_DAYS", 40)
        pub = queries.build_publication()
        top = next(a for a in pub.areas.values() if a.parent_code is None)
        for area, period, shown in [
            (pub.areas["E05900001"], "30d", True),
            (pub.areas["E05900001"], "90d", False),
            (pub.areas["E08900001"], "90d", False),
            (top, "90d", True),
            (top, "all", True),
        ]:
            board = queries.dashboard(pub, queries.Filters(area, period))
            assert all(bool(s.points) == shown for s in board.series), (area.code, period)
            assert [s.total for s in board.series] == [h.value for h in board.headline[3:]]

    def test_the_attacker_recovers_nothing_with_the_shorter_days(self, app, town, responses_source, monkeypatch):
        from tests.dashboards import attacker

        monkeypatch.setattr(queries, "DAILY_DAYS", 40)
        counted = queries.count_cells()
        pub = queries.publish(counted, counted_now())
        meanings = attacker.collect(pub)
        public = attacker.known_public(pub, counted.values)
        eqs = attacker.equations(meanings, pub, public=public)
        assert sum(1 for v in meanings.values() if v.value is None) > 100
        assert attacker.fixed_suppressed(meanings, eqs, public) == []


def counted_now():
    from civic.core.models import utcnow

    return utcnow()


class TestWarmCounts:
    """The refresh worker's warm counts on PostgreSQL (``History``): what was counted before the
    cutoff, plus the activity since, gives the same cells as counting everything again."""

    @staticmethod
    def _new_activity(consultation_town, geography, town):
        from civic.ideas.models import Support
        from tests.dashboards.conftest import add_response
        from tests.factories import make_idea, make_user

        bus, parks = consultation_town["bus"], consultation_town["parks"]
        now = utcnow()
        newcomers = [
            make_user("resident", ward=geography.wards[n % 4], verified=n != 3, email=f"warm{n}@example.org", age_band="25-34")
            for n in range(6)
        ]
        db.session.flush()
        single, multiple, scale, _ = bus.questions
        for n, person in enumerate(newcomers[:4]):
            add_response(bus, person, now, {single: single.options[n % 3], multiple: [multiple.options[0]], scale: "agree"})
        add_response(parks, newcomers[4], now, {parks.questions[0]: parks.questions[0].options[0]})
        idea = make_idea(bus, newcomers[5], status="published", title="A new idea")
        idea.created_at = now
        db.session.flush()
        # Earlier participants come back, and one who only answered on parks supports on bus.
        backers = [*town[:6], *newcomers[:2]]
        for person in backers:
            db.session.add(Support(idea_id=idea.id, user_id=person.id, created_at=now))
        idea.support_count = len(backers)
        db.session.commit()

    def test_a_warm_count_equals_counting_everything_again(self, app, consultation_town, geography, town):
        if db.engine.dialect.name != "postgresql":
            assert queries.count_cells().history is None  # SQLite reads every row each time
            return
        first = queries.count_cells()
        history = first.history
        assert history is not None and history.cutoff < utcnow()
        self._new_activity(consultation_town, geography, town)
        warm = queries.count_cells(history=history)
        cold = queries.count_cells()
        assert warm.history is history and cold.history is not history
        assert warm.values != first.values  # something was added
        assert warm.values == cold.values
        assert warm.relations == cold.relations and warm.published == cold.published
        assert warm.known == cold.known and warm.first == cold.first

    def test_a_history_of_another_day_or_other_consultations_is_not_used(self, app, consultation_town):
        import dataclasses

        if db.engine.dialect.name != "postgresql":
            return
        history = queries.count_cells().history
        for stale in (
            dataclasses.replace(history, today=history.today - 1),
            dataclasses.replace(history, consultation_by_id={}),
            dataclasses.replace(history, sources=()),
        ):
            assert queries.count_cells(history=stale).history is not stale

    def test_what_changed_before_the_cutoff_shows_at_the_next_cold_count(self, app, consultation_town, geography):
        """A support withdrawn and a resident deleted after a cold count: the warm counts still
        hold them (they read nothing before the cutoff), consistently enough to protect; the
        next cold count drops them."""
        from datetime import timedelta

        from civic.core.disclosure import protect_linked
        from civic.ideas.models import Support

        if db.engine.dialect.name != "postgresql":
            return
        gone = make_user("resident", ward=geography.wards[0], verified=True, email="gone@example.org")
        gone.created_at = utcnow() - timedelta(days=1)
        db.session.commit()
        first = queries.count_cells()
        old = db.session.scalars(select(Support).where(Support.created_at < first.history.cutoff).limit(1)).one()
        db.session.delete(old)
        gone.deleted_at = utcnow()
        db.session.commit()
        warm = queries.count_cells(history=first.history)
        cold = queries.count_cells()
        top = "E47900001"
        supports, registrations = (("ev", top, kind, None, first.first, first.today) for kind in ("support", "registration"))
        assert warm.values[supports] == first.values[supports] == cold.values[supports] + 1
        assert warm.values[registrations] == first.values[registrations] == cold.values[registrations] + 1
        assert warm.values[("reg", top)] == cold.values[("reg", top)] == first.values[("reg", top)] - 1
        assert (("reg", top), (registrations,)) not in warm.relations  # they no longer agree: not said
        assert (("reg", top), (registrations,)) in cold.relations
        protect_linked(warm.values, warm.relations, warm.published, limit=warm.limit, zero_is_small=True, known=warm.known)

    def test_any_number_of_people_active_since_the_cutoff_is_one_parameter(self, app, town):
        """A cold count after a bulk import: everybody registered since the cutoff. PostgreSQL
        takes at most 65,535 parameters; the people go as one array."""
        from civic.dashboards import metrics

        if db.engine.dialect.name != "postgresql":
            return
        span = metrics.Span(until=utcnow(), users=tuple(range(1, 70_001)))
        rows = db.session.execute(metrics.last_active_days([date.today()], span)).all()
        assert {row.user_id for row in rows} == {u.id for u in town}
