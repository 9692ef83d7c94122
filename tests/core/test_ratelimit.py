"""FT-05: rate limits kept in Redis; with Redis down or hung, limits carry on per process, never a 500.

The documented behaviour (docs/deploy.md, "Redis"): while Redis is unreachable, every limit
is counted in each process's memory instead (so it still holds, per process) and Flask-Limiter
checks Redis again with a growing back-off; nothing fails open to unlimited, nothing fails
closed, and a Redis that accepts connections but never answers costs a request at most the
socket timeout.
"""

from __future__ import annotations

import shutil
import socket
import time

import pytest
import redis

from civic import create_app
from civic.extensions import limiter
from ops.servers import PrivateRedis, free_port
from tests.conftest import PASSWORD, CivicClient, make_config

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

LIMIT = 3


def _app_with_redis(app, url: str):
    limited = create_app(
        make_config(
            app.config["SQLALCHEMY_DATABASE_URI"],
            RATELIMIT_STORAGE_URI=url,
            RATELIMIT_SIGN_IN_ACCOUNT=f"{LIMIT} per 15 minutes",
            PROPAGATE_EXCEPTIONS=False,
        )
    )
    limited.test_client_class = CivicClient
    # The limiter is one object per process: a test before this one (a storage failure on
    # purpose, tests/core/test_errors_views.py) may have left it using its fallback.
    limiter._storage_dead = False
    return limited


@pytest.fixture
def restore_limiter(app):
    yield
    # The limiter is one object shared by every app in this process; give it back its memory
    # storage (init_app does not add its hooks twice) and forget that Redis was dead.
    limiter.init_app(app)
    limiter._storage_dead = False


@pytest.fixture
def private_redis(restore_limiter):
    server = PrivateRedis().start()
    yield server
    server.kill()


def _wrong(client, email):
    return client.post("/sign-in", data={"email": email, "password": "not the password"})


def test_sign_in_limit_is_counted_in_redis(app, private_redis, resident):
    client = _app_with_redis(app, private_redis.url).test_client()
    for _ in range(LIMIT):
        assert _wrong(client, resident.email).status_code == 400
    response = _wrong(client, resident.email)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    keys = redis.Redis.from_url(private_redis.url).keys("*")
    assert any(b"acct:" in key and b"accounts.sign_in" in key for key in keys)  # counted in Redis, by hashed address


def test_redis_down_serves_pages_and_keeps_limiting_in_memory(app, private_redis, resident):
    client = _app_with_redis(app, private_redis.url).test_client()
    assert _wrong(client, resident.email).status_code == 400  # counted in Redis
    private_redis.kill()

    assert client.get("/").status_code == 200
    assert client.get("/sign-in").status_code == 200
    # The limit still holds (in this process's memory) rather than failing open…
    for _ in range(LIMIT):
        assert _wrong(client, resident.email).status_code == 400
    assert _wrong(client, resident.email).status_code == 429
    # …and other people can still sign in: no 500, no lock-out of everyone.
    assert client.post("/sign-in", data={"email": "someone@example.org", "password": "x"}).status_code == 400


def test_right_password_still_signs_in_with_redis_down(app, private_redis, resident):
    client = _app_with_redis(app, private_redis.url).test_client()
    private_redis.kill()
    response = client.post("/sign-in", data={"email": resident.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_a_hung_redis_delays_only_the_request_that_finds_it_hung(app, restore_limiter, resident):
    """A Redis that accepts connections and never answers (a black-holed host)."""
    port = free_port()
    silent = socket.socket()
    silent.bind(("127.0.0.1", port))
    silent.listen(16)  # the kernel completes connections; nobody ever reads or replies
    try:
        client = _app_with_redis(app, f"redis://127.0.0.1:{port}/0").test_client()
        timings = []
        for n in range(5):
            started = time.monotonic()
            assert _wrong(client, f"person-{n}@example.org").status_code == 400
            timings.append(time.monotonic() - started)
    finally:
        silent.close()
    timeout = app.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"]
    assert timings[0] < 10 * timeout  # a few timed-out calls, then in-memory limits
    # Redis is known to be down: a later request waits at most one timeout, when the limiter
    # looks again (after 1, 2, 4 … 32 seconds) to see whether it is back.
    assert max(timings[1:]) < timeout + 1.0
    assert sum(timings[1:]) < len(timings[1:]) * timeout  # most do not wait at all
