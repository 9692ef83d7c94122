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
    counts = list(data["cells"].values())
    assert -1 in counts and all(isinstance(v, int) and v >= -2 for v in counts)  # -1, -2: withheld
    # Small counts only where a public page shows the same count (an idea's supports, say).
    small = {store.decode_key(key) for key, value in data["cells"].items() if 0 < value < pub.limit}
    assert small <= counted.known
    assert "must never reach" not in json.dumps(data)
    withheld = {k for k, v in pub.cells.items() if v.value is None}
    assert withheld and all(store.loads(store.dumps(pub)).cells[k].value is None for k in withheld)


@pytest.mark.parametrize(
    "key",
    [("ev", "E05900001", "idea", None, 739000, 739090), ("qo", "bus-lanes", 7, "3"), ("qo", "bus-lanes", 7, 3), ("reg", "")],
)
def test_cell_keys_are_stored_with_their_types(key):
    assert store.decode_key(store.encode_key(key)) == key
    assert store.encode_key(("qo", "x", 7, "3")) != store.encode_key(("qo", "x", 7, 3))


@pytest.mark.parametrize("key", [("ev", 1.5), ("ev", ("nested",)), ("ev", "a\x1fb")])
def test_a_key_that_cannot_be_stored_is_refused(key):
    with pytest.raises(ValueError):
        store.encode_key(key)


def test_stored_cells_read_like_the_built_ones(consultation_town):
    pub = queries.build_publication()
    cells = store.loads(store.dumps(pub)).cells
    key = next(iter(pub.cells))
    assert cells[key] == pub.cells[key] and key in cells and len(cells) == len(pub.cells)
    assert ("no", "such", "cell") not in cells and ("ev", 1.5) not in cells
    with pytest.raises(KeyError):
        cells[("no", "such", "cell")]
    assert cells.get(("ev", 1.5)) is None


def test_a_publication_stored_in_another_layout_is_not_read(app, town, reading_stored, monkeypatch):
    """After an upgrade the newest stored publication may be an older layout: the server builds
    its own until the worker stores a current one (built later, so it is not read again)."""
    import json
    import zlib

    old = queries.build_publication()
    data = json.loads(zlib.decompress(store.dumps(old)))
    data["format"] = store.FORMAT - 1
    db.session.add(StoredPublication(built_at=old.built_at, payload=zlib.compress(json.dumps(data).encode())))
    db.session.commit()
    assert store.load_newest() is None
    reads = []
    monkeypatch.setattr(store, "load_newest", lambda: reads.append(1))
    monkeypatch.setattr(queries, "STORED_CHECK_SECONDS", 0)
    pub = queries.current_publication()
    assert pub is not None and pub is not old  # built here
    assert queries.current_publication() is not None
    assert len(reads) == 1


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


def _refresh_loop(app, monkeypatch, iterations: int):
    """Run `flask dashboards refresh --loop` for ``iterations`` builds; what each build started
    from, and the output."""
    from civic.dashboards import worker

    started_from = []
    build = queries.build_publication

    def recording_build(now=None, warm=None):
        started_from.append(warm)
        return build(now, warm)

    class Stop(Exception):
        pass

    def sleep(seconds):
        if len(started_from) == iterations:
            raise Stop
        worker_time.sleep(0.05)

    import time as worker_time

    monkeypatch.setattr(queries, "build_publication", recording_build)
    monkeypatch.setattr(
        worker, "time", type("T", (), {"monotonic": staticmethod(worker_time.monotonic), "sleep": staticmethod(sleep)})
    )
    result = app.test_cli_runner().invoke(args=["dashboards", "refresh", "--loop", "--every", "1"])
    assert isinstance(result.exception, Stop), result.output
    return started_from, result.output


def test_the_refresh_loop_builds_cold_then_warm_from_its_last_build(app, town, monkeypatch):
    started_from, output = _refresh_loop(app, monkeypatch, 3)
    assert output.count("(cold)") == 1 and output.count("(warm)") == 2
    assert started_from[0] is None and started_from[1] is not None and started_from[2] is not started_from[1]
    assert started_from[1].partners  # the town has cells withheld as partners
    assert "in the background" not in output  # DASHBOARD_COLD_BUILD_SECONDS not reached


def test_cold_builds_run_in_a_child_process_and_the_loop_adopts_them(app, town, monkeypatch):
    """With DASHBOARD_COLD_BUILD_SECONDS at 0 a cold build starts beside every warm one; the
    loop goes on warm meanwhile, and starts from the child's result when it arrives."""
    import os

    from civic.dashboards import worker

    def child(app_, sender):  # pragma: no cover - runs in the child
        sender.send(("ok", queries.WarmStart(-1, [("child", os.getpid())], None)))
        sender.close()

    monkeypatch.setitem(app.config, "DASHBOARD_COLD_BUILD_SECONDS", 0)
    monkeypatch.setattr(worker, "_cold_child", child)
    started_from, output = _refresh_loop(app, monkeypatch, 6)
    assert "cold build in the background finished" in output
    adopted = [w for w in started_from if w is not None and w.today == -1]
    assert adopted, output
    pids = {w.partners[0][1] for w in adopted}
    assert os.getpid() not in pids  # built in another process


def test_a_failed_cold_build_is_reported_and_the_loop_goes_on_warm(app, town, monkeypatch):
    from civic.dashboards import worker

    def child(app_, sender):  # pragma: no cover - runs in the child
        sender.send(("error", "RuntimeError: no database"))
        sender.close()

    monkeypatch.setitem(app.config, "DASHBOARD_COLD_BUILD_SECONDS", 0)
    monkeypatch.setattr(worker, "_cold_child", child)
    started_from, output = _refresh_loop(app, monkeypatch, 5)
    assert "cold build in the background failed: RuntimeError: no database" in output
    assert all(w is not None for w in started_from[1:]) and output.count("(warm)") == 4


def test_a_cold_build_in_a_child_process_builds_the_same_publication(app, town):
    """The real child: a forked process with its own connections builds what this one does."""
    from civic.dashboards import worker

    job = worker.ColdBuild(app)
    deadline = utcnow() + timedelta(seconds=120)
    while not job.done() and utcnow() < deadline:
        job.process.join(timeout=0.2)
    result, why = job.result()
    assert result is not None, why
    here = queries.build_publication()
    assert result.today == here.today and sorted(result.partners) == sorted(here.withheld_partners())
    assert (result.history is None) == (db.engine.dialect.name != "postgresql")


def test_a_publication_of_another_day_gives_no_warm_start(app, town):
    cold = queries.build_publication()
    assert cold.withheld_partners()
    yesterday = queries.WarmStart(cold.today - 1, list(cold.cells), None)
    assert queries.build_publication(warm=yesterday).cells == cold.cells
