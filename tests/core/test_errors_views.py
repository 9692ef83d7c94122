"""FT-01: with the database gone, every route answers 503 "nothing was saved", then recovers.

The database is taken away for real: PostgreSQL through a proxy whose line is cut (every open
connection dropped, new ones refused, as a stopped server looks), SQLite by its directory
disappearing. The application is not restarted: when the database comes back, the next
request is served (pre-pinged pool on PostgreSQL, fresh connections on SQLite).

Every route of the application is swept, anonymously and signed in, so routes added later are
covered without editing this test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy.engine import make_url
from werkzeug.routing import IntegerConverter

from civic import create_app
from civic.extensions import db
from ops.tcpproxy import TcpProxy
from tests.conftest import PASSWORD, CivicClient, make_config
from tests.factories import build_geography, make_user

pytestmark = pytest.mark.faults

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


@dataclass
class Outage:
    app: Flask
    down: callable
    up: callable
    email: str = ""
    user_id: int = 0
    ward_id: int = 0


def _faulty_app(url: str) -> Flask:
    faulty = create_app(make_config(url, PROPAGATE_EXCEPTIONS=False))
    faulty.test_client_class = CivicClient
    return faulty


@pytest.fixture
def outage(app, tmp_path):
    """A second app whose database can be taken away and given back."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
        faulty = _faulty_app(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        result = Outage(faulty, proxy.cut, proxy.restore)
    else:
        home, gone = tmp_path / "db", tmp_path / "gone"
        home.mkdir()
        faulty = _faulty_app(f"sqlite:///{home / 'civic.db'}")
        with faulty.app_context():
            db.create_all()

        def down():
            with faulty.app_context():
                db.engine.dispose()
            home.rename(gone)

        def up():
            if gone.exists():
                gone.rename(home)

        result = Outage(faulty, down, up)
    with faulty.app_context():
        geography = build_geography()
        user = make_user("resident", "officer", "councillor", "admin", ward=geography.wards[0])
        result.email, result.user_id, result.ward_id = user.email, user.id, user.ward_id
    yield result
    result.up()
    with faulty.app_context():
        db.session.remove()
        db.engine.dispose()
    if url.get_backend_name() == "postgresql":
        proxy.stop()


def _sample(rule, converter) -> object:
    if isinstance(converter, IntegerConverter):
        return 1
    items = getattr(converter, "items", None)
    return sorted(items)[0] if items else "sample"


def every_request(app: Flask):
    """(method, url) for every route and method the application has."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {name: _sample(rule, conv) for name, conv in rule._converters.items()}
            if rule.endpoint == "core.plotly_js":
                from civic.core.views import PLOTLY_VERSION

                values["version"] = PLOTLY_VERSION
            if rule.endpoint == "static":
                values["filename"] = "css/civic.css"
            url = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


def _send(client, method: str, url: str):
    if method == "POST":
        return client.post(url, data={})
    return client.open(url, method=method)


def _status(client, method: str, url: str) -> int:
    response = _send(client, method, url)
    response.close()
    return response.status_code


def assert_outage_page(response, where: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, (where, response.status_code, body[:300])
    assert "Nothing was saved" in body, where
    assert response.headers.get("Retry-After") == "30", where
    assert "Traceback" not in body and "psycopg" not in body and "sqlite3" not in body, where
    for header in SECURITY_HEADERS:
        assert header in response.headers, (where, header)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_route_answers_503_nothing_saved_while_the_database_is_down(outage, signed_in):
    client = outage.app.test_client()
    if signed_in:
        assert client.post("/sign-in", data={"email": outage.email, "password": PASSWORD}).status_code == 302
    # Signing out for real during the first pass would change what the rest of it sees.
    requests = [(m, u) for m, u in every_request(outage.app) if not (m == "POST" and u == "/sign-out")]
    assert len(requests) > 20
    when_up = {(m, u): _status(client, m, u) for m, u in requests}

    outage.down()
    needed_db = 0
    for (method, url), status_up in when_up.items():
        response = _send(client, method, url)
        where = f"{method} {url}"
        assert response.status_code != 500, where
        if url == "/readyz":  # for load balancers: JSON, checked on its own below
            assert response.status_code == 503
        elif response.status_code == 503:
            assert_outage_page(response, where)
            needed_db += 1
        else:
            # Only a route that can answer without the database may answer as usual.
            assert response.status_code == status_up, (where, status_up, response.status_code)
        response.close()
    assert needed_db >= 5
    if signed_in:
        # Signed-in pages must not quietly treat the person as signed out.
        assert_outage_page(client.get("/account"), "GET /account")
        assert_outage_page(_send(client, "GET", "/"), "GET /")


def test_writes_answer_503_and_nothing_is_saved(outage):
    client = outage.app.test_client()
    client.post("/sign-in", data={"email": outage.email, "password": PASSWORD})
    outage.down()
    response = client.post("/account/details", data={"display_name": "While down", "ward_id": outage.ward_id})
    assert_outage_page(response, "details")
    outage.up()
    with outage.app.app_context():
        from civic.accounts.models import User

        assert db.session.get(User, outage.user_id).display_name != "While down"


def test_sign_out_while_down_answers_503_and_the_session_survives(outage):
    client = outage.app.test_client()
    client.post("/sign-in", data={"email": outage.email, "password": PASSWORD})
    outage.down()
    assert_outage_page(client.post("/sign-out", data={}), "sign-out")
    outage.up()
    assert client.get("/account").status_code == 200  # nothing was done, as the page said


def test_sign_in_while_down_answers_503(outage):
    client = outage.app.test_client()
    outage.down()
    response = client.post("/sign-in", data={"email": outage.email, "password": PASSWORD})
    assert_outage_page(response, "sign-in")


def test_health_is_live_and_readiness_fails_while_down(outage):
    client = outage.app.test_client()
    outage.down()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_service_recovers_by_itself_when_the_database_returns(outage):
    client = outage.app.test_client()
    assert client.post("/sign-in", data={"email": outage.email, "password": PASSWORD}).status_code == 302
    assert client.get("/account").status_code == 200
    outage.down()
    assert client.get("/account").status_code == 503
    outage.up()
    # No restart: the pool notices the dead connections and opens new ones.
    assert client.get("/account").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.post("/account/details", data={"display_name": "After recovery", "ward_id": outage.ward_id})
    assert response.status_code == 302


def test_database_error_in_an_after_request_hook_is_a_503_not_a_500(app, tmp_path):
    """Flask turns an error raised after the view into a 500; the outage page must still win."""
    from sqlalchemy.exc import OperationalError

    faulty = _faulty_app(app.config["SQLALCHEMY_DATABASE_URI"])

    @faulty.route("/after-hook-fails")
    def ok():
        return "fine"

    @faulty.after_request
    def fails(response):
        if response.get_data() == b"fine":
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return response

    assert_outage_page(faulty.test_client().get("/after-hook-fails"), "after_request")


def test_the_busy_page_and_the_outage_page_differ(app):
    """A busy SQLite lock is "busy, try in a few seconds", not "cannot reach our database"."""
    from civic.core.db import DatabaseBusy

    faulty = _faulty_app(app.config["SQLALCHEMY_DATABASE_URI"])

    @faulty.route("/busy")
    def busy():
        raise DatabaseBusy("held")

    response = faulty.test_client().get("/busy")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Sorry, the service is busy" in body and "Nothing was saved" in body
    assert "cannot reach our database" not in body


def test_outage_page_does_not_need_the_database(tmp_path: Path):
    """The 503 page renders fully (header, footer) even for a signed-in cookie, with no database."""
    faulty = _faulty_app(f"sqlite:///{tmp_path}/missing/civic.db")
    client = faulty.test_client()
    with faulty.app_context():
        with client.session_transaction() as session:
            session["_user_id"] = "some-session-token"
            session["seen"] = 2_000_000_000
        response = client.get("/account")
    assert_outage_page(response, "signed-in cookie")
    assert "govuk-footer" in response.get_data(as_text=True)


def test_a_dropped_connection_anywhere_is_an_outage_and_a_query_bug_is_not(app):
    """InterfaceError "connection closed" (invalidated) is an outage; ProgrammingError is a bug (500)."""
    from sqlalchemy.exc import InterfaceError, ProgrammingError

    faulty = _faulty_app(app.config["SQLALCHEMY_DATABASE_URI"])

    @faulty.route("/dropped")
    def dropped():
        raise InterfaceError("SELECT 1", {}, Exception("the connection is closed"), connection_invalidated=True)

    @faulty.route("/bug")
    def bug():
        raise ProgrammingError("SELEC 1", {}, Exception("syntax error"))

    client = faulty.test_client()
    assert_outage_page(client.get("/dropped"), "dropped connection")
    response = client.get("/bug")
    assert response.status_code == 500 and "Nothing was saved" in response.get_data(as_text=True)


def test_a_deliberate_503_says_try_again_later(app):
    from flask import abort

    faulty = _faulty_app(app.config["SQLALCHEMY_DATABASE_URI"])

    @faulty.route("/maintenance")
    def maintenance():
        abort(503)

    response = faulty.test_client().get("/maintenance")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_429_page_survives_the_limiter_losing_its_storage(app, monkeypatch):
    """If Redis goes away between the limit being hit and the page being drawn: 60 s, not a 500."""
    from werkzeug.exceptions import TooManyRequests

    from civic.extensions import limiter

    faulty = _faulty_app(app.config["SQLALCHEMY_DATABASE_URI"])

    @faulty.route("/limited")
    def limited():
        raise TooManyRequests()

    class LimitWhoseStorageIsGone:
        @property
        def reset_at(self):
            raise ConnectionError("redis went away")

    monkeypatch.setattr(type(limiter), "current_limit", property(lambda self: LimitWhoseStorageIsGone()))
    response = faulty.test_client().get("/limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
