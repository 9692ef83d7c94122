"""The stored publication: one worker builds it (`flask dashboards refresh`), app servers read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.core.models import utcnow
from civic.dashboards import queries, store
from civic.dashboards.models import StoredPublication
from civic.extensions import db


def test_a_stored_publication_reads_back_exactly(consultation_town):
    pub = queries.build_publication()
    back = store.loads(store.dumps(pub))
    assert back.cells == pub.cells
    assert back.areas == pub.areas and back.baselines == pub.baselines
    assert back.content == pub.content and back.medians == pub.medians
    assert back.consultations == pub.consultations and back.kinds == pub.kinds
    assert (back.built_at, back.today, back.first, back.limit) == (pub.built_at, pub.today, pub.first, pub.limit)
    area = pub.areas["E47900001"]
    for period in ("30d", "all"):
        for consultation in (None, pub.consultations[0]):
            filters = queries.Filters(area, period, consultation)
            assert queries.dashboard(back, filters) == queries.dashboard(pub, filters)


def test_PV04_what_is_stored_is_the_protected_cells_only(consultation_town):
    """The store holds what pages show, never a true count below the threshold."""
    import json
    import zlib

    counted = queries.count_cells()
    pub = queries.publish(counted, utcnow())
    data = json.loads(zlib.decompress(store.dumps(pub)))
    counts = [value for _, value, _ in data["cells"]]
    assert None in counts
    # Small counts only where a public page shows the same count (an idea's supports, say).
    small = {_key(key) for key, value, _ in data["cells"] if value is not None and 0 < value < pub.limit}
    assert small <= counted.known
    assert "must never reach" not in json.dumps(data)


def _key(value):
    return tuple(_key(v) for v in value) if isinstance(value, list) else value


def _stored_count():
    return db.session.execute(select(func.count()).select_from(StoredPublication)).scalar_one()


def test_refresh_stores_a_publication_and_keeps_the_newest_few(app, town):
    runner = app.test_cli_runner()
    for _ in range(store.KEEP + 2):
        result = runner.invoke(args=["dashboards", "refresh"])
        assert result.exit_code == 0, result.output
        assert "publication of" in result.output
    assert _stored_count() == store.KEEP


@pytest.fixture
def reading_stored(app, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_STORED_PUBLICATION", True)
    monkeypatch.setitem(app.config, "DASHBOARD_MAX_AGE_SECONDS", 60)
    app.extensions.pop("civic_dashboards", None)
    yield
    app.extensions.pop("civic_dashboards", None)


def test_app_servers_read_the_stored_publication_and_never_build(app, town, reading_stored, monkeypatch):
    store.store(queries.build_publication())

    def no_build(*args, **kwargs):  # pragma: no cover - the assertion
        raise AssertionError("a request built the publication")

    monkeypatch.setattr(queries, "build_publication", no_build)
    first = queries.current_publication()
    assert queries.current_publication() is first  # loaded once
    assert first.cells and "E47900001" in first.areas


def test_a_newer_stored_publication_is_swapped_in(app, town, reading_stored, monkeypatch):
    older = queries.build_publication(utcnow() - timedelta(seconds=30))
    store.store(older)
    assert queries.current_publication().built_at == older.built_at
    newer = queries.build_publication()
    store.store(newer)
    assert queries.current_publication().built_at == older.built_at  # until the next check
    monkeypatch.setattr(queries, "STORED_CHECK_SECONDS", 0)
    assert queries.current_publication().built_at == newer.built_at


def test_without_a_recent_stored_publication_the_server_builds_its_own(app, town, reading_stored):
    store.store(queries.build_publication(utcnow() - timedelta(minutes=10)))  # the worker stopped
    pub = queries.current_publication()
    assert (utcnow() - pub.built_at).total_seconds() < 60
    app.extensions.pop("civic_dashboards", None)
    db.session.execute(StoredPublication.__table__.delete())
    db.session.commit()
    assert queries.current_publication() is not None  # none stored at all


def test_pages_work_from_the_stored_publication(app, client, consultation_town, officer, login_as, reading_stored):
    store.store(queries.build_publication())
    login_as(officer)
    assert client.get("/dashboard/consultations/bus-lanes?period=all").status_code == 200
    assert client.get("/dashboard/areas/E05900001?period=30d").status_code == 200
