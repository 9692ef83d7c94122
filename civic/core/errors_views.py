"""Error pages in the service's own look, for every status a person may meet.

A database that does not answer becomes a 503 page that says nothing was saved, wherever the
error is raised: in a view, while loading the signed-in person, or in an ``after_request`` hook
(Flask turns those into a 500 that carries the original error, which is recognised here). The
page is drawn as for a signed-out visitor, so drawing it needs no database. The pooled
connections are pre-pinged, so the service recovers by itself when the database returns.
SQLite's write lock staying busy through every retry (``DatabaseBusy``) is a 503 as well.
"""

from __future__ import annotations

import logging
import math
import secrets
import time

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from civic.core.db import DatabaseBusy
from civic.core.errors import DomainError
from civic.extensions import db, login_manager

log = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 409, 429, 500, 503}


def _render(status: int, **context):
    template = f"errors/{status if status in PAGES else 400 if status < 500 else 500}.html"
    try:
        return render_template(template, status=status, **context), status
    except Exception:  # noqa: BLE001 - the page itself may need the database; fall back to plain
        log.exception("error page %s failed to render", status)
        return (
            f"Error {status}. Nothing was saved. Please try again later.",
            status,
            {"Content-Type": "text/plain; charset=utf-8"},
        )


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        log.debug("rollback failed after database error", exc_info=True)


DATABASE_DOWN_RETRY_AFTER = 30
DATABASE_BUSY_RETRY_AFTER = 5


def is_database_outage(error: BaseException | None) -> bool:
    """An error that means the database cannot be reached (rather than a bug in a query)."""
    if isinstance(error, OperationalError | PoolTimeout | DatabaseBusy):
        return True
    if isinstance(error, PendingRollbackError) and "invalid transaction" in str(error):
        # An earlier statement of this request lost its connection and something swallowed the
        # error (e.g. the rate limiter's key function reading the signed-in user): the database
        # is what failed, not the query now refused.
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _as_signed_out() -> None:
    # Flask-Login would query the database again to draw the header; draw it signed out.
    g._login_user = login_manager.anonymous_user()


def _database_unavailable(error):
    _rollback()
    _as_signed_out()
    if isinstance(error, DatabaseBusy):
        log.warning("database busy on %s %s", request.method, request.path)
        body, status = _render(503, busy=True)
        return body, status, {"Retry-After": str(DATABASE_BUSY_RETRY_AFTER)}
    log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
    body, status = _render(503, database_down=True)
    return body, status, {"Retry-After": str(DATABASE_DOWN_RETRY_AFTER)}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, reason="csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 429:
            retry = getattr(error, "retry_after", None) or _retry_after_from_limit(error)
            body, status = _render(429, retry_after=retry)
            return body, status, {"Retry-After": str(retry)}
        if error.code == 500 and is_database_outage(getattr(error, "original_exception", None)):
            # Raised outside the view (e.g. an after_request hook): Flask wraps it in a 500.
            return _database_unavailable(error.original_exception)
        if error.code == 503:
            body, status = _render(503)
            return body, status, {"Retry-After": str(DATABASE_DOWN_RETRY_AFTER)}
        return _render(error.code or 500)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _render(error.status_code, message=error.message)

    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    app.register_error_handler(DatabaseBusy, _database_unavailable)

    @app.errorhandler(DBAPIError)
    def dbapi_error(error: DBAPIError):
        if error.connection_invalidated:
            return _database_unavailable(error)
        return internal_error(error)

    @app.errorhandler(Exception)
    def internal_error(error):
        if is_database_outage(error):  # e.g. PendingRollbackError after a lost connection
            return _database_unavailable(error)
        _rollback()
        reference = secrets.token_hex(4)
        log.exception("unhandled error (reference %s) on %s %s", reference, request.method, request.path)
        return _render(500, reference=reference)


def _retry_after_from_limit(error) -> int:
    """Seconds until the breached limit's window resets (Flask-Limiter knows it)."""
    from civic.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    try:
        reset_at = current.reset_at  # read from the limiter's storage
    except Exception:  # noqa: BLE001 - the storage (Redis) may have gone away since the check
        log.warning("rate limit storage unavailable while reading the reset time")
        return 60
    return max(1, math.ceil(reset_at - time.time()))
