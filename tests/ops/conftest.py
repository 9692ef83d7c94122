"""Fixtures for tests that run Civic for real: gunicorn with gunicorn.conf.py and the production
configuration, against a private PostgreSQL cluster (which tests stop and restart) or a SQLite
file, with a private Redis. Every test here is marked ``serving``: `make faults` runs them,
`make test` does not (they take tens of seconds each).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ops.servers import PG_BIN, ROOT, Gunicorn, PrivatePostgres, PrivateRedis, production_env


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.serving)


@pytest.fixture(scope="session")
def private_pg():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN} (set PG_BIN)")
    cluster = PrivatePostgres().init()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    server = PrivateRedis().start()
    yield server
    server.kill()


# Cheap password hashing and generous limits for the load: the tests are about durability
# and shared state, not about argon2's cost or the limits' values (tested elsewhere).
LOAD_ENV = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST": "1024",
    "ARGON2_PARALLELISM": "1",
    "RATELIMIT_REGISTER": "1000000 per hour",
    "RATELIMIT_SIGN_IN_ADDRESS": "1000000 per 15 minutes",
}


@dataclass
class Site:
    """A migrated database with a few wards and people, and how to start app servers on it."""

    backend: str
    url: str
    redis_url: str
    pg: PrivatePostgres | None
    tmp: Path
    ward_ids: list[int]
    emails: list[str]

    def env(self, **extra: str) -> dict[str, str]:
        return production_env(self.url, self.redis_url, **{**LOAD_ENV, **extra})

    def server(self, env: dict[str, str] | None = None, **extra: str) -> Gunicorn:
        return Gunicorn(env or self.env(**extra), log_path=self.tmp / f"gunicorn-{len(list(self.tmp.glob('gunicorn-*')))}.log")


def _migrate(url: str) -> None:
    env = {**os.environ, "CIVIC_ENV": "development", "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)


def _people(url: str, count: int) -> tuple[list[int], list[str]]:
    from civic import create_app
    from civic.extensions import db
    from tests.conftest import make_config
    from tests.factories import build_geography, make_user

    app = create_app(make_config(url))
    with app.app_context():
        geography = build_geography()
        emails = [make_user("resident", ward=geography.wards[i % 4]).email for i in range(count)]
        ward_ids = [w.id for w in geography.wards]
        db.session.remove()
        db.engine.dispose()
    return ward_ids, emails


def _site(request, backend: str, tmp_path: Path, redis_url: str):
    if backend == "postgresql":
        pg = request.getfixturevalue("private_pg")
        name = f"site_{abs(hash(request.node.nodeid)) % 10**8}"
        pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" OWNER civic')
        url = pg.url(name)
        request.addfinalizer(lambda: pg.directory and pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        pg = None
        url = f"sqlite:///{tmp_path / 'civic.db'}"
    _migrate(url)
    ward_ids, emails = _people(url, 40)
    return Site(backend, url, redis_url, pg, tmp_path, ward_ids, emails)


@pytest.fixture(params=["postgresql", "sqlite"])
def site(request, tmp_path, private_redis):
    """A fresh site on each database (PostgreSQL: a new database in the private cluster)."""
    return _site(request, request.param, tmp_path, private_redis.url)


@pytest.fixture(scope="module")
def pg_site(request, tmp_path_factory, private_redis):
    """A site on PostgreSQL shared by a module's tests, for what needs a database server."""
    return _site(request, "postgresql", tmp_path_factory.mktemp("site"), private_redis.url)
