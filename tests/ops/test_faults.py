"""FT-01, FT-03, FT-04 against real servers: gunicorn (production configuration) on a private
PostgreSQL cluster or a SQLite file, with workers killed with SIGKILL and PostgreSQL stopped
and restarted while clients write. Every acknowledged write must survive, exactly once.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from ops.http import Browser
from tests.conftest import PASSWORD
from tests.ops.ledger import ConsultationResponse, DetailsUpdate, Ledger, Registration, Supports, run_client

MAX_SECONDS = 240
CLIENTS_PER_KIND = 4


def _wait_for_progress(ledger: Ledger, writes: int, deadline: float) -> None:
    start = sum(ledger.acknowledgements.values())
    while sum(ledger.acknowledgements.values()) < start + writes and time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_for_every_kind(ledger: Ledger, kinds: list, writes: int, deadline: float) -> None:
    """Keep the load on until every kind has had ``writes`` acknowledged (slow kinds, such as a
    response of two posts, would otherwise end the run with too few to show anything)."""
    while min(ledger.acknowledgements[k.name] for k in kinds) < writes and time.monotonic() < deadline:
        time.sleep(0.1)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url)


def test_acknowledged_writes_survive_killed_workers_and_database_restarts(site):
    server = site.server().start()
    kinds = [
        Registration(site.ward_ids[0]),
        DetailsUpdate(site.emails, PASSWORD, site.ward_ids[1]),
        ConsultationResponse(site.url, site.emails[30:], PASSWORD),
    ]
    kinds.append(Supports(site.emails[20:], PASSWORD, Supports.prepare(site.url)))
    ledger, stop, errors = Ledger(), threading.Event(), []
    clients = [
        threading.Thread(target=run_client, args=(server.base_url, kind, c, ledger, stop, errors), daemon=True)
        for kind in kinds
        for c in range(CLIENTS_PER_KIND)
    ]
    for thread in clients:
        thread.start()

    faults = {"worker SIGKILL": 0, "PostgreSQL restart (fast)": 0, "PostgreSQL restart (immediate)": 0}
    rng = random.Random(3)
    plan = ["kill", "kill", "pg-fast", "kill", "kill", "pg-immediate", "kill", "kill", "pg-fast"]
    if site.pg is None:
        plan = ["kill"] * 8
    deadline = time.monotonic() + MAX_SECONDS
    for fault in plan:
        # Each fault lands in the middle of the load: only after some writes got through since
        # the last one (on a busy machine that can take a while).
        _wait_for_progress(ledger, 3, deadline)
        if fault == "kill":
            server.kill_worker()
            faults["worker SIGKILL"] += 1
        else:
            mode = fault.removeprefix("pg-")
            site.pg.stop(mode)  # acknowledged commits must survive even a crash-like stop
            time.sleep(rng.uniform(0.2, 1.5))
            site.pg.start()
            faults[f"PostgreSQL restart ({mode})"] += 1
    _wait_for_progress(ledger, 5, deadline)
    _wait_for_every_kind(ledger, kinds, 5, deadline)
    stop.set()
    for thread in clients:
        thread.join(60)

    # The server is still serving, by itself, after all that.
    check = Browser(server.base_url)
    assert check.get("/readyz").status == 200
    check.close()
    server.stop()

    engine = _engine(site.url)
    verdicts = [kind.verify(engine, ledger) for kind in kinds]
    engine.dispose()
    print(f"\n{site.backend}: faults {faults}; outcomes {dict(ledger.outcomes)}")
    for v in verdicts:
        print(
            f"  {v.kind}: requests {v.attempts}, acknowledged {v.acknowledged}, lost {len(v.lost)}, duplicates {len(v.duplicates)}"
        )
    assert faults["worker SIGKILL"] >= 6
    if site.pg is not None:
        assert faults["PostgreSQL restart (fast)"] == 2 and faults["PostgreSQL restart (immediate)"] == 1
    for v in verdicts:
        assert v.acknowledged >= 5, v  # the load really ran
        assert v.lost == [], f"{v.kind}: acknowledged but lost: {v.lost[:10]}"
        assert v.duplicates == [], f"{v.kind}: duplicated: {v.duplicates[:10]}"
    assert errors == [], errors[:5]  # 503 while the database was away, never a 500
    assert "WORKER TIMEOUT" not in server.log()
    if site.backend == "sqlite":
        path = site.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_database_stopped_gives_503_pages_then_recovers_without_a_restart(site):
    if site.pg is None:
        pytest.skip("stopping the database server applies to PostgreSQL (SQLite's case is in tests/core)")
    server = site.server().start()
    browser = Browser(server.base_url)
    browser.sign_in(site.emails[0], PASSWORD)
    token = browser.csrf_token("/account/details")
    assert browser.get("/account").status == 200

    site.pg.stop("fast")
    try:
        for response in (
            browser.get("/account"),
            browser.get("/"),
            browser.post("/account/details", {"display_name": "While stopped", "ward_id": site.ward_ids[0], "csrf_token": token}),
        ):
            assert response.status == 503
            assert response.headers["retry-after"] == "30"
            assert "Nothing was saved" in response.body
        assert browser.get("/healthz").status == 200
        assert browser.get("/readyz").status == 503
    finally:
        site.pg.start()

    # Back without restarting gunicorn: the pool pre-pings and reconnects.
    deadline = time.monotonic() + 15
    while browser.get("/readyz").status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert browser.get("/account").status == 200
    response = browser.post("/account/details", {"display_name": "After", "ward_id": site.ward_ids[0], "csrf_token": token})
    assert response.status == 302
    browser.close()
    server.stop()
    assert "WORKER TIMEOUT" not in server.log()
