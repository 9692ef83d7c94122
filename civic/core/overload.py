"""Graceful overload: a request that waited too long for a thread is refused at once with 503.

Beyond capacity, requests queue. Left alone, the queue grows until every request waits longer
than a person (or the reverse proxy) will, and the service answers nobody. Instead, each
request's time in the queue is measured, and one that has already waited longer than
``OVERLOAD_QUEUE_TIMEOUT_MS`` is answered straight away with ``503 Service Unavailable``, a
``Retry-After`` header and a page that says nothing was saved, before any database work.
Refusing costs a fraction of a millisecond, so the queue drains and the requests that are
admitted are served in normal time.

Where the wait is measured:

* inside gunicorn, by ``civic.core.worker.CivicThreadWorker`` (the worker class in
  ``gunicorn.conf.py``): the time from a connection being ready to a thread taking it up;
* behind a trusted reverse proxy (``TRUSTED_PROXY_COUNT`` > 0), also from the proxy's
  ``X-Request-Start: t=<epoch seconds>`` header, which covers the time spent in gunicorn's
  listen backlog. The header is ignored without a trusted proxy, so a client cannot use it.

How many requests run at once is bounded by gunicorn's threads per worker (and the database
pool is at least that large, so no thread waits for a connection). Health checks are never shed:
a load balancer must not take a busy server out of service and overload the others.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, render_template

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
_MAX_CREDIBLE_WAIT = 3600.0  # a header further off than this is a clock problem, not a queue

_local = threading.local()


def note_queue_wait(seconds: float | None) -> None:
    """Record, for the request this thread is about to serve, how long it queued (the worker calls this)."""
    _local.queue_wait = seconds


def _take_queue_wait() -> float | None:
    wait = getattr(_local, "queue_wait", None)
    _local.queue_wait = None
    return wait


def _proxy_wait(environ) -> float | None:
    """Seconds since the proxy received the request, from ``X-Request-Start: t=1700000000.123``."""
    raw = environ.get("HTTP_X_REQUEST_START", "")
    value = raw[2:] if raw.startswith("t=") else raw
    try:
        started = float(value)
    except ValueError:
        return None
    if started > 1e11:  # some proxies send milliseconds or microseconds
        started /= 1e3 if started < 1e14 else 1e6
    wait = time.time() - started
    return wait if 0 <= wait <= _MAX_CREDIBLE_WAIT else None


class LoadShedder:
    """WSGI middleware that answers 503 to requests that queued past the budget."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.budget = app.config["OVERLOAD_QUEUE_TIMEOUT_MS"] / 1000
        self.retry_after = str(app.config["OVERLOAD_RETRY_AFTER"])
        self.trust_proxy_header = app.config["TRUSTED_PROXY_COUNT"] > 0
        self.shed = 0
        self._page: bytes | None = None
        self._lock = threading.Lock()
        self._last_log = 0.0

    def waited(self, environ) -> float | None:
        waits = [_take_queue_wait()]
        if self.trust_proxy_header:
            waits.append(_proxy_wait(environ))
        known = [w for w in waits if w is not None]
        return max(known) if known else None

    def __call__(self, environ, start_response):
        wait = self.waited(environ)
        if self.budget > 0 and wait is not None and wait > self.budget and environ.get("PATH_INFO") not in EXEMPT_PATHS:
            return self.refuse(environ, start_response, wait)
        return self.wsgi_app(environ, start_response)

    def refuse(self, environ, start_response, wait: float):
        self.shed += 1
        now = time.monotonic()
        if now - self._last_log > 1:
            self._last_log = now
            log.warning("overloaded: shed a request that queued %.0f ms (%d shed by this process)", wait * 1000, self.shed)
        from civic.core.security import baseline_headers

        body = self.page()
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", self.retry_after),
            ("Cache-Control", "no-store"),
            *baseline_headers(self.app, secure=environ.get("wsgi.url_scheme") == "https").items(),
        ]
        start_response("503 Service Unavailable", headers)
        return [body]

    def page(self) -> bytes:
        """The busy page, rendered once per process (it needs neither the database nor a session)."""
        if self._page is None:
            with self._lock:
                if self._page is None:
                    with self.app.test_request_context("/service-busy"):
                        html = render_template("errors/503.html", status=503, busy=True)
                    self._page = html.encode()
        return self._page


def init_app(app: Flask) -> None:
    """Wrap the WSGI app (call before ProxyFix is added, so that ProxyFix runs first)."""
    app.wsgi_app = LoadShedder(app, app.wsgi_app)
