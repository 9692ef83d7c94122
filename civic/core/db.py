"""Database engine set-up for SQLite and PostgreSQL, and the retry/outage helpers.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and
``BEGIN IMMEDIATE`` for every transaction that may write (any request that is not GET/HEAD/
OPTIONS, and every CLI command). Taking the write lock at the start means a transaction never
reads, loses a race, and then fails to upgrade its lock with SQLITE_BUSY_SNAPSHOT; it waits
for the lock instead, up to the busy timeout.

If the lock is still held when the busy timeout runs out ("database is locked"), ``BEGIN
IMMEDIATE`` is tried again a bounded number of times after a short, jittered pause, and then
the request fails with ``DatabaseBusy`` (a 503 page that says nothing was saved). Retrying there
is safe because nothing has been read or written in that transaction yet. A GET view that
writes must say so with ``@write_lock``, so that its transaction starts the same way.

PostgreSQL: pre-ping pooled connections (so the pool recovers by itself after a restart) and
a server-side statement timeout.

Both: a forked process (gunicorn workers with ``preload_app``) starts with an empty pool, so no
two processes ever share a connection.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time

from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_BACKOFF_SECONDS = 0.05


class DatabaseBusy(Exception):
    """SQLite's write lock stayed taken through every retry; nothing was done."""


def write_lock(view):
    """Mark a GET view that writes, so that SQLite takes the write lock when it begins."""
    view.civic_write_lock = True
    return view


def all_or_nothing(service):
    """A service that refuses (raises a DomainError) leaves nothing behind: what it changed in
    the session before refusing is rolled back, so the caller (a view re-showing the form, the
    next unit of work in the same request) never sees or commits half a change."""
    from civic.core.errors import DomainError
    from civic.extensions import db

    @functools.wraps(service)
    def wrapped(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            raise

    return wrapped


def is_locked_error(error: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    return isinstance(error, OperationalError) and "locked" in str(error.orig).lower()


def engine_options(config: dict) -> dict:
    uri: str = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options: dict = {"connect_args": {"timeout": config["SQLITE_BUSY_TIMEOUT_MS"] / 1000, "check_same_thread": False}}
        if uri in {"sqlite://", "sqlite:///:memory:"}:
            from sqlalchemy.pool import StaticPool

            options["poolclass"] = StaticPool
        return options
    return {
        "pool_pre_ping": True,
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_POOL_SIZE"],
        "pool_timeout": 10,
        "connect_args": {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={config['DATABASE_STATEMENT_TIMEOUT_MS']}",
            "application_name": "civic",
        },
    }


def _wants_write_lock() -> bool:
    if has_request_context():
        if request.method not in SAFE_METHODS:
            return True
        view = current_app.view_functions.get(request.endpoint or "")
        return bool(getattr(view, "civic_write_lock", False))
    if has_app_context():
        return current_app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)
    return True


def _begin_immediate(conn, retries: int) -> None:
    """``BEGIN IMMEDIATE``, retried after a jittered pause while the lock stays taken."""
    for attempt in range(retries + 1):
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            if not is_locked_error(exc):
                raise
            if attempt == retries:
                raise DatabaseBusy(f"SQLite write lock not free after {retries + 1} attempts") from exc
            log.warning("SQLite write lock busy; retry %d of %d", attempt + 1, retries)
            time.sleep(_BACKOFF_SECONDS * (2**attempt) * (1 + random.random()))  # noqa: S311 - jitter, not a secret
        else:
            return


def install_engine_hooks(app: Flask, engine: Engine) -> None:
    # A worker forked from a master that already holds pooled connections (gunicorn's
    # preload_app) must not use them: its pool starts empty; the parent's stay the parent's.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    if engine.dialect.name != "sqlite":
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    retries = app.config["SQLITE_LOCK_RETRIES"]

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if _wants_write_lock():
            _begin_immediate(conn, retries)
        else:
            conn.exec_driver_sql("BEGIN")


def install_safe_session_teardown(app: Flask, db) -> None:
    """End each app context's session without letting a dead connection turn into a 500.

    Flask-SQLAlchemy removes the session when the app context ends, which rolls back the open
    transaction. If the database went away after the response was made (a restart terminates
    every connection), that rollback raises outside every error handler and the server answers
    500 although the request had been answered. The connection is already invalidated by then
    and there is nothing to roll back, so the error is logged and the session dropped.
    """
    original = db._teardown_session
    app.teardown_appcontext_funcs[:] = [f for f in app.teardown_appcontext_funcs if f != original]

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        try:
            db.session.remove()
        except SQLAlchemyError as error:
            log.warning("database connection lost while ending a request: %s", type(error).__name__)
            db.session.registry.clear()
