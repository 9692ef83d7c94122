"""Fixtures: the app on each database, a clean database per test, clients, people, places.

Every test that asks for ``app`` (directly or through another fixture) runs on SQLite, and on
PostgreSQL too when ``TEST_DATABASE_URL`` is set. Tests that do not touch the app run once.
"""

from __future__ import annotations

import contextvars
import os
import secrets

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from civic import create_app
from civic.extensions import db, limiter
from config import TestingConfig, normalise_database_url

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
if os.environ.get("CIVIC_REQUIRE_POSTGRES") == "1" and "postgresql" not in BACKENDS:
    raise pytest.UsageError("CIVIC_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the PostgreSQL tests would not run")
PASSWORD = "violet harbour lantern 42"


def make_config(url: str, **overrides) -> TestingConfig:
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def database_url(backend: str, tmp_path_factory) -> str:
    if backend == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    # A file, not :memory:, so that a live server thread or process sees the same data.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'civic-test.db'}"


def reset_schema(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    app = create_app(make_config(database_url(request.param, tmp_path_factory)))
    app.test_client_class = CivicClient
    app.extensions["mailman"].outbox = []
    reset_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("PRAGMA defer_foreign_keys=ON"))  # areas refer to their parents
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _forget_reference_data():
    """Each test starts with nothing remembered from another test's database (civic/core/memo.py)."""
    from civic.core import memo

    memo.clear_all()
    yield


@pytest.fixture(autouse=True)
def _app_context(request):
    """For tests that use the app: an app context, then an empty database afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        _empty_tables()
        limiter.reset()
        app.extensions["mailman"].outbox = []


class CivicClient(FlaskClient):
    """A test client that behaves like a separate browser.

    Each request runs in a fresh context (its own app context, ``g`` and database session), as
    it would in a server, even though the test itself holds an app context; and form posts get
    a valid CSRF token, as a browser's would.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction first: what it wrote becomes visible to the request,
        # and what it reads afterwards comes from a fresh snapshot that includes the request's.
        if has_app_context():  # not when following a redirect inside the request's own context
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.get("csrf_token") or secrets.token_hex(20)
            session["csrf_token"] = raw
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf: bool = True, csrf_field: str = "csrf_token", **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault(csrf_field, self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Outbox(list):
    """The emails sent so far; reading it first delivers what the test's own code queued."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def _sync(self):
        from civic.core.mail import deliver_pending

        deliver_pending()
        super().clear()
        super().extend(self.app.extensions["mailman"].outbox)

    def __getitem__(self, index):
        self._sync()
        return super().__getitem__(index)

    def __len__(self):
        self._sync()
        return super().__len__()

    def __iter__(self):
        self._sync()
        return super().__iter__()

    def __eq__(self, other):
        self._sync()
        return list(self) == other

    __hash__ = None


@pytest.fixture
def outbox(app):
    """Emails sent during the test (the locmem backend), including those queued outside requests."""
    return Outbox(app)


@pytest.fixture
def geography(app):
    from tests.factories import build_geography

    return build_geography()


@pytest.fixture
def make_user(app, geography):
    from tests.factories import make_user as _make_user

    def factory(*roles, **kwargs):
        kwargs.setdefault("ward", geography.wards[0])
        return _make_user(*roles, **kwargs)

    return factory


@pytest.fixture
def resident(make_user):
    return make_user("resident")


@pytest.fixture
def officer(make_user):
    return make_user("resident", "officer")


@pytest.fixture
def councillor(make_user):
    return make_user("resident", "councillor")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def login(client, user, password: str = PASSWORD):
    response = client.post("/sign-in", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client):
    def do(user, password: str = PASSWORD):
        return login(client, user, password)

    return do
