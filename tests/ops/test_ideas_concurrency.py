"""Supports are exact under real concurrency: gunicorn with 4 workers × threads, on PostgreSQL
and SQLite (marker ``serving``: `make faults` runs these).

* 50 parallel identical supports by one resident give exactly one;
* 1,000 residents supporting in parallel give exactly the expected counts;
* a support/unsupport storm ends with each resident's last acknowledged action, and counts equal
  to the rows;
* never a 500 (a 503 "busy, nothing saved" is answered by sending again, as a person would).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from ops.http import Browser
from tests.conftest import PASSWORD

RESIDENTS = 1000
IDEAS = 5


def _prepare(url: str) -> tuple[list[int], list[str]]:
    """An open consultation for the authority with a few ideas, and 1,000 more residents."""
    from civic import create_app
    from civic.accounts.models import User, UserRole
    from civic.accounts.services import hash_password
    from civic.areas.models import Area, AreaLevel
    from civic.core.models import utcnow
    from civic.extensions import db
    from tests.conftest import make_config
    from tests.factories import make_consultation, make_idea

    app = create_app(make_config(url))
    with app.app_context():
        authority = db.session.execute(sa.select(Area).where(Area.level == AreaLevel.AUTHORITY)).scalar_one()
        ward = db.session.execute(sa.select(Area).where(Area.level == AreaLevel.WARD).limit(1)).scalar_one()
        author = db.session.execute(sa.select(User).order_by(User.id).limit(1)).scalar_one()
        consultation = make_consultation([authority], collects_ideas=True)
        ideas = [make_idea(consultation, author).id for _ in range(IDEAS)]
        password_hash, now = hash_password(PASSWORD), utcnow()
        emails = [f"crowd{n}@example.org" for n in range(RESIDENTS)]
        for email in emails:
            user = User(email=email, display_name="Crowd", password_hash=password_hash, email_verified_at=now, ward_id=ward.id)
            user.roles.append(UserRole(role="resident"))
            db.session.add(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ideas, emails


def _signed_in(base_url: str, email: str) -> tuple[Browser, str]:
    """Sign in and fetch a form token, trying again after a 503 (shedding or a busy database)."""
    for _ in range(40):
        browser = Browser(base_url, timeout=60)
        try:
            browser.sign_in(email, PASSWORD)
            return browser, browser.csrf_token("/account")
        except (RuntimeError, OSError):
            browser.close()
            time.sleep(0.3)
    raise AssertionError(f"could not sign in as {email}")


def _post_until_answered(browser: Browser, path: str, token: str, errors: list) -> dict | None:
    """Send until the server gives an answer that is not "busy"; return the JSON it acknowledged."""
    for _ in range(40):
        try:
            response = browser.post(path, {"csrf_token": token}, headers={"Accept": "application/json"})
        except OSError:
            time.sleep(0.1)
            continue
        if response.status == 503:
            time.sleep(0.1)
            continue
        if response.status >= 500:
            errors.append(f"{path}: {response.status} {response.body[:200]}")
            return None
        assert response.status == 200, (response.status, response.body[:300])
        return json.loads(response.body)
    errors.append(f"{path}: never answered")
    return None


def _counts(url: str) -> tuple[dict[int, int], dict[int, int], set[tuple[str, int]]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, support_count FROM idea")).all())
        rows = dict(conn.execute(sa.text("SELECT idea_id, count(*) FROM support GROUP BY idea_id")).all())
        pairs = set(conn.execute(sa.text('SELECT u.email, s.idea_id FROM support s JOIN "user" u ON u.id = s.user_id')).all())
    engine.dispose()
    return stored, rows, pairs


def test_cc01_supports_are_exact_under_concurrency(site):
    ideas, emails = _prepare(site.url)
    server = site.server(WEB_CONCURRENCY="4", GUNICORN_THREADS="8").start()
    errors: list[str] = []
    try:
        # 1. Fifty identical supports at once by one person (one session, fifty connections).
        browser, token = _signed_in(server.base_url, emails[0])
        copies = [Browser(server.base_url, timeout=60) for _ in range(50)]
        for copy in copies:
            copy.cookies = dict(browser.cookies)
        barrier = threading.Barrier(50)

        def once(copy):
            barrier.wait()
            return _post_until_answered(copy, f"/ideas/{ideas[0]}/support", token, errors)

        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(once, copies))
        assert errors == [], errors[:5]
        assert all(a and a["supported"] for a in answers)
        stored, rows, _ = _counts(site.url)
        assert rows.get(ideas[0]) == 1 and stored[ideas[0]] == 1

        # 2. A thousand residents at once: resident n supports ideas[n % 5] and ideas[(n + 1) % 5].
        with ThreadPoolExecutor(16) as pool:
            sessions = list(pool.map(lambda e: _signed_in(server.base_url, e), emails))

        def crowd(n):
            b, t = sessions[n]
            for idea in {ideas[n % IDEAS], ideas[(n + 1) % IDEAS]}:
                _post_until_answered(b, f"/ideas/{idea}/support", t, errors)

        with ThreadPoolExecutor(64) as pool:
            list(pool.map(crowd, range(RESIDENTS)))
        assert errors == [], errors[:5]
        expected = dict.fromkeys(ideas, 0)
        for n in range(RESIDENTS):
            for idea in {ideas[n % IDEAS], ideas[(n + 1) % IDEAS]}:
                expected[idea] += 1
        stored, rows, pairs = _counts(site.url)
        assert stored == rows == expected, (stored, rows, expected)

        # 3. A storm on one idea: 200 residents each toggle 8 times, in parallel with each other.
        target = ideas[2]
        last: dict[str, bool] = {}

        def storm(n):
            b, t = sessions[n]
            state = None
            for k in range(8):
                action = "support" if (n + k) % 3 else "unsupport"
                answer = _post_until_answered(b, f"/ideas/{target}/{action}", t, errors)
                if answer is not None:
                    state = answer["supported"]
            last[emails[n]] = state

        with ThreadPoolExecutor(64) as pool:
            list(pool.map(storm, range(200)))
        assert errors == [], errors[:5]
        stored, rows, pairs = _counts(site.url)
        for n in range(200):
            assert ((emails[n], target) in pairs) == last[emails[n]], emails[n]
        assert stored == rows
        assert " 500 " not in server.log() and "Traceback" not in server.log()
    finally:
        server.stop()
