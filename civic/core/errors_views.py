"""Error pages in the service's own look, for every status a person may meet.

A database that does not answer becomes a 503 page that says nothing was saved; the pooled
connections are pre-pinged, so the service recovers by itself when the database returns.
"""

from __future__ import annotations

import logging
import math
import secrets
import time

from flask import Flask, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from civic.core.errors import DomainError
from civic.extensions import db

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


def _database_unavailable(error):
    _rollback()
    # Render the page as signed out: loading the signed-in user needs the database too.
    g._login_user = AnonymousUserMixin()
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
    response = _render(503, database_down=True)
    return response[0], 503, {"Retry-After": "30"}


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
        return _render(error.code or 500)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _render(error.status_code, message=error.message)

    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)

    @app.errorhandler(DBAPIError)
    def dbapi_error(error: DBAPIError):
        if error.connection_invalidated:
            return _database_unavailable(error)
        return internal_error(error)

    @app.errorhandler(Exception)
    def internal_error(error):
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
    return max(1, math.ceil(current.reset_at - time.time()))
