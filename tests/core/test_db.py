"""CC-10: SQLite's "database is locked" becomes a bounded retry, then a 503; and forks get their own pool."""

from __future__ import annotations

import logging
import os
import sqlite3
import time

import pytest
from sqlalchemy.exc import OperationalError

from civic import create_app
from civic.accounts.models import User
from civic.core import db as civic_db
from civic.extensions import db
from tests.conftest import PASSWORD, CivicClient, make_config
from tests.factories import build_geography, make_user

pytestmark = pytest.mark.faults

BUSY_MS = 200
RETRIES = 2


@pytest.fixture
def locked(tmp_path):
    """An app on its own SQLite file, a signed-in resident, and a way to hold the write lock."""
    path = tmp_path / "civic.db"
    app = create_app(
        make_config(f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_MS=BUSY_MS, SQLITE_LOCK_RETRIES=RETRIES, PROPAGATE_EXCEPTIONS=False)
    )
    app.test_client_class = CivicClient
    with app.app_context():
        db.create_all()
        user = make_user("resident", ward=build_geography().wards[0])
        client = app.test_client()
        assert client.post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 302
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        yield app, client, user, holder
        holder.close()
        db.session.remove()
        db.engine.dispose()


def _details(client, user, name):
    return client.post("/account/details", data={"display_name": name, "ward_id": user.ward_id})


def test_write_lock_held_throughout_gives_busy_503_after_bounded_retries(locked, caplog):
    app, client, user, holder = locked
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="civic.core.db"):
        response = _details(client, user, "Renamed while locked")
    elapsed = time.monotonic() - started
    holder.execute("ROLLBACK")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_data(as_text=True)
    assert "Sorry, the service is busy" in body and "Nothing was saved" in body
    assert [r.message for r in caplog.records].count(f"SQLite write lock busy; retry 1 of {RETRIES}") == 1
    assert sum("SQLite write lock busy" in r.message for r in caplog.records) == RETRIES
    assert (RETRIES + 1) * BUSY_MS / 1000 <= elapsed < 10  # bounded
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name != "Renamed while locked"


class ReleaseOnFirstRetry(logging.Handler):
    """Frees the lock the moment the first retry is announced, so the second attempt gets it."""

    def __init__(self, holder):
        super().__init__(logging.WARNING)
        self.holder, self.retries = holder, 0

    def emit(self, record):
        if "SQLite write lock busy" in record.getMessage():
            self.retries += 1
            if self.retries == 1:
                self.holder.execute("ROLLBACK")


def test_lock_freed_during_the_retries_lets_the_write_through(locked):
    app, client, user, holder = locked
    holder.execute("BEGIN IMMEDIATE")
    release = ReleaseOnFirstRetry(holder)
    logger = logging.getLogger("civic.core.db")
    logger.addHandler(release)
    try:
        response = _details(client, user, "Renamed after a wait")
    finally:
        logger.removeHandler(release)

    assert response.status_code == 302
    assert release.retries == 1
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Renamed after a wait"


def test_reads_go_on_while_a_writer_holds_the_lock(locked):
    app, client, user, holder = locked
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/account").status_code == 200  # WAL: readers never wait for the writer
    finally:
        holder.execute("ROLLBACK")


def test_get_views_that_write_take_the_write_lock(locked):
    app = locked[0]
    with app.test_request_context("/verify/some-token"):
        assert civic_db._wants_write_lock()
    with app.test_request_context("/account"):
        assert not civic_db._wants_write_lock()
    with app.test_request_context("/account/details", method="POST"):
        assert civic_db._wants_write_lock()


class FakeConnection:
    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def exec_driver_sql(self, sql):
        assert sql == "BEGIN IMMEDIATE"
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


def _error(message: str) -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(message))


def test_other_errors_at_begin_are_not_retried():
    conn = FakeConnection(_error("disk I/O error"))
    with pytest.raises(OperationalError):
        civic_db._begin_immediate(conn, retries=3)
    assert conn.calls == 1


def test_retries_stop_at_the_bound():
    conn = FakeConnection(*[_error("database is locked")] * 5)
    with pytest.raises(civic_db.DatabaseBusy):
        civic_db._begin_immediate(conn, retries=2)
    assert conn.calls == 3


def test_a_forked_worker_starts_with_an_empty_pool(app):
    """gunicorn's preload_app forks workers from a master that may hold connections."""
    with db.engine.connect():
        pass
    assert db.engine.pool.checkedin() >= 1
    pid = os.fork()
    if pid == 0:  # the child: it must not reuse the parent's connection
        os._exit(0 if db.engine.pool.checkedin() == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert db.engine.pool.checkedin() >= 1  # the parent keeps its own


def test_a_connection_killed_before_the_app_context_ends_is_not_a_500(app):
    """A database restart after the response was made: ending the context must not raise."""
    from sqlalchemy import text

    from civic.extensions import db as _db

    if _db.engine.dialect.name != "postgresql":
        pytest.skip("terminating a server connection applies to PostgreSQL")
    with app.app_context():
        pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # a transaction is open
        with _db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        time.sleep(0.2)
    # Leaving the context ran the teardown without raising; the next context works.
    with app.app_context():
        assert _db.session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_query_after_a_swallowed_connection_loss_counts_as_an_outage(app):
    """Something swallowed the first error of a lost connection; the next query's refusal is
    the database's fault (a 503 page), not a bug (a 500)."""
    from sqlalchemy import text
    from sqlalchemy.exc import PendingRollbackError

    from civic.core.errors_views import is_database_outage
    from civic.extensions import db as _db

    if _db.engine.dialect.name != "postgresql":
        pytest.skip("terminating a server connection applies to PostgreSQL")
    with app.app_context():
        pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with _db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        time.sleep(0.2)
        with pytest.raises(OperationalError):  # swallowed by someone, as flask-limiter does
            _db.session.execute(text("SELECT 1"))
        with pytest.raises(PendingRollbackError) as refused:
            _db.session.execute(text("SELECT 1"))
        assert is_database_outage(refused.value)
        _db.session.rollback()
