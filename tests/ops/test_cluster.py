"""Two app servers sharing PostgreSQL and Redis (`make cluster`): nothing either needs is kept
in one process. Sessions are server-side rows, rate limits live in Redis, writes are exact.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from ops.cluster import Cluster
from ops.http import Browser
from ops.servers import free_port
from tests.conftest import PASSWORD
from tests.ops.conftest import LOAD_ENV
from tests.ops.ledger import ConsultationResponse, DetailsUpdate, Ledger, Registration, run_client

SIGN_IN_LIMIT = 4


@pytest.fixture(scope="module")
def cluster(pg_site):
    env = {**LOAD_ENV, "RATELIMIT_SIGN_IN_ACCOUNT": f"{SIGN_IN_LIMIT} per 15 minutes"}
    running = Cluster(pg_site.url, pg_site.redis_url, [free_port(), free_port()], env).start(migrate=False)
    yield running
    running.stop()
    for server in running.servers:
        assert "WORKER TIMEOUT" not in server.log()


def _cookie_jar_for(url: str, cookies: dict) -> Browser:
    return Browser(url, cookies=dict(cookies))


def test_signed_in_on_one_server_is_signed_in_on_the_other(pg_site, cluster):
    a, b = cluster.urls
    on_a = Browser(a)
    on_a.sign_in(pg_site.emails[0], PASSWORD)
    on_b = _cookie_jar_for(b, on_a.cookies)  # the same browser, balanced to the other server

    response = on_b.get("/account")
    assert response.status == 200
    assert pg_site.emails[0] in response.body


def test_signing_out_on_one_server_ends_the_session_on_both(pg_site, cluster):
    a, b = cluster.urls
    on_a = Browser(a)
    on_a.sign_in(pg_site.emails[1], PASSWORD)
    copied = dict(on_a.cookies)  # e.g. a second tab balanced to server B, or a stolen cookie
    on_b = _cookie_jar_for(b, copied)
    assert on_b.sign_out().status == 302

    for url in (a, b):
        response = _cookie_jar_for(url, copied).get("/account")
        assert response.status == 302 and "/sign-in" in response.location, url


def test_the_sign_in_limit_is_counted_across_both_servers(pg_site, cluster):
    a, b = cluster.urls
    email = pg_site.emails[2]
    statuses = []
    for n in range(SIGN_IN_LIMIT):
        browser = Browser(a if n % 2 == 0 else b)  # alternate servers, as a load balancer would
        statuses.append(browser.submit("/sign-in", {"email": email, "password": "wrong guess"}).status)
    assert statuses == [400] * SIGN_IN_LIMIT
    for url in (a, b):
        response = Browser(url).submit("/sign-in", {"email": email, "password": PASSWORD})
        assert response.status == 429, url  # even the right password: the account's limit is reached
        assert int(response.headers["retry-after"]) > 0


def test_writes_split_across_both_servers_stay_exact(pg_site, cluster):
    kinds = [
        Registration(pg_site.ward_ids[0]),
        DetailsUpdate(pg_site.emails[10:], PASSWORD, pg_site.ward_ids[1]),
        ConsultationResponse(pg_site.url, pg_site.emails[20:], PASSWORD),
    ]
    ledger, stop, errors = Ledger(), threading.Event(), []
    threads = [
        threading.Thread(target=run_client, args=(cluster.urls[c % 2], kind, c, ledger, stop, errors), daemon=True)
        for kind in kinds
        for c in range(6)
    ]
    for thread in threads:
        thread.start()
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(30)

    engine = sa.create_engine(pg_site.url)
    verdicts = [kind.verify(engine, ledger) for kind in kinds]
    with engine.connect() as conn:
        registered = conn.execute(sa.text("""SELECT count(*) FROM "user" WHERE email LIKE 'load-%'""")).scalar_one()
    engine.dispose()
    assert errors == []
    for v in verdicts:
        assert v.acknowledged >= 10, v
        assert v.lost == [] and v.duplicates == [], v
    # No faults here, so every request was answered: rows = acknowledgements, exactly.
    assert set(ledger.outcomes) == {"302"}, ledger.outcomes
    assert registered == ledger.acknowledgements["registration"]
