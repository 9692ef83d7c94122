"""Load shedding: a request that queued past the budget is refused at once, before any work."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event

from civic import create_app
from civic.core import overload
from civic.extensions import db
from tests.conftest import make_config

pytestmark = pytest.mark.faults


@pytest.fixture
def queries(app):
    """Count the SQL statements issued while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def queued(seconds: float | None) -> None:
    """What CivicThreadWorker does before handing a request to the app."""
    overload.note_queue_wait(seconds)


class TestLoadShedder:
    def test_request_that_queued_too_long_gets_503_with_retry_after(self, client, queries):
        queued(client.application.config["OVERLOAD_QUEUE_TIMEOUT_MS"] / 1000 + 0.5)
        response = client.get("/account")

        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(client.application.config["OVERLOAD_RETRY_AFTER"])
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_data(as_text=True)
        assert "Sorry, the service is busy" in body
        assert "Nothing was saved" in body
        assert queries == []  # refused before the database was touched

    def test_busy_page_carries_the_security_headers_without_a_nonce(self, client):
        queued(5)
        response = client.get("/")

        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "nonce" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    def test_request_within_the_budget_is_served(self, client):
        queued(client.application.config["OVERLOAD_QUEUE_TIMEOUT_MS"] / 1000 / 2)
        assert client.get("/").status_code == 200

    def test_a_noted_wait_applies_to_one_request_only(self, client):
        queued(5)
        assert client.get("/").status_code == 503
        assert client.get("/").status_code == 200

    @pytest.mark.parametrize("path", ["/healthz", "/readyz"])
    def test_health_checks_are_never_shed(self, client, path):
        queued(5)
        assert client.get(path).status_code == 200

    def test_posts_are_shed_too_and_change_nothing(self, client, resident, login_as):
        login_as(resident)
        queued(5)
        response = client.post("/account/details", data={"display_name": "Changed", "ward_id": resident.ward_id})
        assert response.status_code == 503
        db.session.refresh(resident)
        assert resident.display_name != "Changed"

    def test_budget_zero_turns_shedding_off(self, app):
        quiet = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], OVERLOAD_QUEUE_TIMEOUT_MS=0))
        queued(60)
        assert quiet.test_client().get("/").status_code == 200


class TestProxyRequestStart:
    """X-Request-Start (nginx: "t=${msec}") counts only behind a trusted proxy."""

    def started(self, seconds_ago: float) -> dict:
        return {"X-Request-Start": f"t={time.time() - seconds_ago:.3f}"}

    def test_ignored_without_a_trusted_proxy(self, client):
        assert client.application.config["TRUSTED_PROXY_COUNT"] == 0
        assert client.get("/", headers=self.started(30)).status_code == 200

    def test_counts_behind_a_trusted_proxy(self, app):
        proxied = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXY_COUNT=1))
        client = proxied.test_client()
        assert client.get("/", headers=self.started(30)).status_code == 503
        assert client.get("/", headers=self.started(0)).status_code == 200

    def test_milliseconds_and_nonsense_are_understood(self, app):
        proxied = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXY_COUNT=1))
        client = proxied.test_client()
        millis = {"X-Request-Start": str(int((time.time() - 30) * 1000))}
        assert client.get("/", headers=millis).status_code == 503
        assert client.get("/", headers={"X-Request-Start": "t=soon"}).status_code == 200
        assert client.get("/", headers={"X-Request-Start": "t=1"}).status_code == 200  # decades ago: a clock problem
