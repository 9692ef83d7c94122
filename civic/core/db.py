"""Database engine set-up for SQLite and PostgreSQL, and the retry/outage helpers.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and
``BEGIN IMMEDIATE`` for every transaction that may write (any request that is not GET/HEAD/
OPTIONS, and every CLI command). Taking the write lock at the start means a transaction never
reads, loses a race, and then fails to upgrade its lock with SQLITE_BUSY_SNAPSHOT; it waits
for the lock instead, up to the busy timeout.

PostgreSQL: pre-ping pooled connections (so the pool recovers by itself after a restart) and
a server-side statement timeout.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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
        return request.method not in SAFE_METHODS
    if has_app_context():
        return current_app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)
    return True


def install_engine_hooks(app: Flask, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]

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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
