"""The acknowledged-write ledger: what clients were told was saved, checked against the database.

A *write kind* knows how to send its n-th write, whether a response acknowledges it, and how
to check the database afterwards. Clients keep sending; a write that gets no answer, or a
503, is sent again (as a person pressing the button again would) until it is acknowledged.
After the load, every acknowledged write must be in the database exactly once: lost = 0,
duplicates = 0. Writes that were never acknowledged may or may not be there.

Kinds that exist today: registration (an insert, unique by email), the account details
form (an update, last write wins), supports (an insert unique by (idea, person), with the
idea's counter kept equal to its rows) and consultation responses (insert-or-update by
(consultation, person)). A new write path adds its kind here and is listed in the fault and
cluster tests.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from ops.http import CSRF_INPUT, Browser, Response

MAX_TRIES = 40


@dataclass
class Verdict:
    kind: str
    attempts: int  # requests sent, retries included
    acknowledged: int
    lost: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)


@dataclass
class Ledger:
    """Thread-safe record of every attempt and its outcome."""

    outcomes: Counter = field(default_factory=Counter)
    acknowledgements: Counter = field(default_factory=Counter)  # kind -> writes acknowledged
    attempts: Counter = field(default_factory=Counter)  # kind -> requests sent (tries included)
    acked: dict = field(default_factory=dict)  # kind -> {key: value acknowledged}
    attempted: dict = field(default_factory=dict)  # kind -> {key: value sent}
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, key, value, outcome: str, acknowledged: bool) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            self.attempts[kind] += 1
            self.attempted.setdefault(kind, {})[key] = value
            if acknowledged:
                self.acked.setdefault(kind, {})[key] = value
                self.acknowledgements[kind] += 1


class Registration:
    """POST /register: one new account per email; a retry of a committed one must not add another."""

    name = "registration"

    def __init__(self, ward_id: int):
        self.ward_id = ward_id

    def start(self, browser: Browser, client: int) -> dict:
        return {"token": browser.csrf_token("/register"), "client": client}

    def send(self, browser: Browser, state: dict, n: int) -> tuple[str, str, Response]:
        email = f"load-{state['client']}-{n}@example.org"
        form = {
            "email": email,
            "display_name": f"Load {n}",
            "password": "copper lantern meadow 7",
            "ward_id": str(self.ward_id),
            "csrf_token": state["token"],
        }
        return email, email, browser.post("/register", form)

    @staticmethod
    def acknowledged(response: Response) -> bool:
        return response.status == 302 and (response.location or "").endswith("/register/check-your-email")

    def verify(self, engine: sa.Engine, ledger: Ledger) -> Verdict:
        acked = ledger.acked.get(self.name, {})
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text('SELECT email, count(*) FROM "user" WHERE email LIKE :p GROUP BY email'), {"p": "load-%@example.org"}
            ).all()
        counts = dict(rows)
        return Verdict(
            self.name,
            ledger.attempts[self.name],
            ledger.acknowledgements[self.name],
            lost=[k for k in acked if counts.get(k, 0) == 0],
            duplicates=[k for k, n in counts.items() if n > 1],
        )


def signed_in_token(browser: Browser, email: str, password: str, page: str) -> str:
    """The CSRF token of a page that needs a session, keeping the session across faults.

    Signing in again on every retry would soon meet the per-account sign-in limit, and a browser
    that still holds a session is sent away from the sign-in page. So a session is kept while the
    server is busy or away (503, reset connections) and replaced only once the page says it is
    gone (a redirect to sign in).
    """
    if browser.cookies:
        response = browser.get(page)
        match = CSRF_INPUT.search(response.body) if response.status == 200 else None
        if match:
            return match.group(1)
        if response.status not in (302, 303):
            raise RuntimeError(f"{page} answered {response.status}")
        browser.cookies.clear()
    browser.sign_in(email, password)
    return browser.csrf_token(page)


class DetailsUpdate:
    """POST /account/details by a signed-in person: the last acknowledged version must stick."""

    name = "details"

    def __init__(self, emails: list[str], password: str, ward_id: int):
        self.emails, self.password, self.ward_id = emails, password, ward_id

    def start(self, browser: Browser, client: int) -> dict:
        email = self.emails[client]
        return {"token": signed_in_token(browser, email, self.password, "/account/details"), "email": email}

    def send(self, browser: Browser, state: dict, n: int) -> tuple[str, int, Response]:
        form = {"display_name": f"Version {n}", "ward_id": str(self.ward_id), "csrf_token": state["token"]}
        return state["email"], n, browser.post("/account/details", form)

    @staticmethod
    def acknowledged(response: Response) -> bool:
        return response.status == 302 and (response.location or "").endswith("/account")

    def verify(self, engine: sa.Engine, ledger: Ledger) -> Verdict:
        acked = ledger.acked.get(self.name, {})
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text('SELECT email, display_name FROM "user" WHERE email IN :e').bindparams(sa.bindparam("e", expanding=True)),
                {"e": list(acked)},
            ).all()
        final = {email: int(name.split()[-1]) for email, name in rows if name.startswith("Version ")}
        # One client per person sends its versions in order: the stored version may be later
        # than the last acknowledged one (a write that committed but whose answer was lost),
        # never earlier.
        lost = [email for email, version in acked.items() if final.get(email, -1) < version]
        return Verdict(self.name, ledger.attempts[self.name], ledger.acknowledgements[self.name], lost=lost)


class Supports:
    """POST /ideas/<id>/support: insert unique by (idea, person); a retry must not count twice.

    ``prepare(url)`` makes an open consultation collecting ideas with a few ideas (once per
    database). Client c signs in as ``emails[c]`` and supports idea n mod len(ideas) with its
    n-th write; after the load every acknowledged (person, idea) has exactly one row and every
    idea's ``support_count`` equals its rows.
    """

    name = "support"

    def __init__(self, emails: list[str], password: str, idea_ids: list[int]):
        self.emails, self.password, self.idea_ids = emails, password, idea_ids

    @staticmethod
    def prepare(url: str, ideas: int = 10) -> list[int]:
        from civic import create_app
        from civic.accounts.models import User
        from civic.areas.models import Area, AreaLevel
        from civic.extensions import db
        from tests.conftest import make_config
        from tests.factories import make_consultation, make_idea

        app = create_app(make_config(url))
        with app.app_context():
            authority = db.session.execute(sa.select(Area).where(Area.level == AreaLevel.AUTHORITY)).scalar_one()
            author = db.session.execute(sa.select(User).order_by(User.id.desc()).limit(1)).scalar_one()
            consultation = make_consultation([authority], collects_ideas=True)
            ids = [make_idea(consultation, author).id for _ in range(ideas)]
            db.session.remove()
            db.engine.dispose()
        return ids

    def start(self, browser: Browser, client: int) -> dict:
        email = self.emails[client]
        page = f"/ideas/{self.idea_ids[0]}"
        # Signed in already (a sign-in that worked before a failed token fetch)? Then keep the
        # session: signing in again on every retry would soon hit the per-account sign-in limit.
        if browser.cookies:
            response = browser.get(page)
            if response.status != 200:  # the server is busy or away: keep the session, try later
                raise RuntimeError(f"{page} answered {response.status}")
            if "Sign out</button>" in response.body:
                return {"token": browser.csrf_token(page), "email": email}
            browser.cookies.clear()
        browser.sign_in(email, self.password)
        return {"token": browser.csrf_token(page), "email": email}

    def send(self, browser: Browser, state: dict, n: int) -> tuple[tuple, int, Response]:
        idea_id = self.idea_ids[n % len(self.idea_ids)]
        response = browser.post(f"/ideas/{idea_id}/support", {"csrf_token": state["token"]})
        return (state["email"], idea_id), idea_id, response

    @staticmethod
    def acknowledged(response: Response) -> bool:
        return response.status == 303 and "/ideas/" in (response.location or "")

    def verify(self, engine: sa.Engine, ledger: Ledger) -> Verdict:
        acked = ledger.acked.get(self.name, {})
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text('SELECT u.email, s.idea_id, count(*) FROM support s JOIN "user" u ON u.id = s.user_id GROUP BY 1, 2')
            ).all()
            drift = conn.execute(
                sa.text(
                    "SELECT i.id FROM idea i WHERE i.support_count <> (SELECT count(*) FROM support s WHERE s.idea_id = i.id)"
                )
            ).all()
        counts = {(email, idea_id): n for email, idea_id, n in rows}
        return Verdict(
            self.name,
            ledger.attempts[self.name],
            ledger.acknowledgements[self.name],
            lost=[k for k in acked if counts.get(k, 0) == 0],
            duplicates=[k for k, n in counts.items() if n > 1] + [f"idea {i} count drifted" for (i,) in drift],
        )


def prepare_consultation(database_url: str) -> tuple[str, dict, str]:
    """Add the benchmark's open 20-question consultation (whole authority) to a site's database.

    Returns its slug, one valid set of answers (form fields) and the name of a free-text field.
    """
    import random

    from civic import create_app
    from civic.areas.models import Area, AreaLevel
    from civic.consultations.models import QuestionKind
    from civic.consultations.seed import build_twenty_question_consultation, sample_form_data
    from civic.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(database_url))
    with app.app_context():
        authority = db.session.execute(sa.select(Area).where(Area.level == AreaLevel.AUTHORITY)).scalar_one()
        consultation = build_twenty_question_consultation([authority])
        form = sample_form_data(consultation, random.Random(7))
        text = next(f"q{q.id}" for q in reversed(consultation.questions) if q.kind == QuestionKind.FREE_TEXT)
        slug = consultation.slug
        db.session.remove()
        db.engine.dispose()
    return slug, form, text


class ConsultationResponse:
    """A signed-in resident answers a consultation: save the page, then send it from "check your
    answers" (insert-or-update by (consultation, person)). Each write puts its version number in
    a free-text answer; there must be one response per person, holding one copy of that answer,
    never older than the last acknowledged version."""

    name = "response"
    # Two POSTs a write: paced so that a client stays under the answering pages' limit of 300 a
    # minute per account (the fault and cluster runs last well under a minute per client).
    PACE_SECONDS = 0.2

    def __init__(self, database_url: str, emails: list[str], password: str):
        self.emails, self.password = emails, password
        self.slug, self.form, self.text_field = prepare_consultation(database_url)

    def start(self, browser: Browser, client: int) -> dict:
        email = self.emails[client]
        token = signed_in_token(browser, email, self.password, f"/consultations/{self.slug}/respond/1")
        return {"token": token, "email": email}

    def send(self, browser: Browser, state: dict, n: int) -> tuple[str, int, Response]:
        time.sleep(self.PACE_SECONDS)
        form = {**self.form, self.text_field: f"Version {n}", "csrf_token": state["token"]}
        saved = browser.post(f"/consultations/{self.slug}/respond/1", form)
        if saved.status != 302:
            return state["email"], n, saved
        return state["email"], n, browser.post(f"/consultations/{self.slug}/respond/check", {"csrf_token": state["token"]})

    @staticmethod
    def acknowledged(response: Response) -> bool:
        return response.status == 302 and (response.location or "").endswith("/respond/done")

    def verify(self, engine: sa.Engine, ledger: Ledger) -> Verdict:
        acked = ledger.acked.get(self.name, {})
        question_id = int(self.text_field[1:])
        with engine.connect() as conn:
            responses = conn.execute(
                sa.text(
                    'SELECT u.email, count(*) FROM response r JOIN "user" u ON u.id = r.user_id '
                    "JOIN consultation c ON c.id = r.consultation_id WHERE c.slug = :slug AND r.submitted_at IS NOT NULL "
                    "GROUP BY u.email"
                ),
                {"slug": self.slug},
            ).all()
            answers = conn.execute(
                sa.text(
                    'SELECT u.email, a.value FROM answer a JOIN response r ON r.id = a.response_id JOIN "user" u ON u.id = r.user_id '
                    "WHERE a.question_id = :q"
                ),
                {"q": question_id},
            ).all()
        counts = dict(responses)
        versions: dict[str, list[int]] = {}
        for email, value in answers:
            versions.setdefault(email, []).append(int(value.split()[-1]))
        lost = [e for e, v in acked.items() if counts.get(e, 0) == 0 or max(versions.get(e, [-1])) < v]
        duplicates = [e for e, n in counts.items() if n > 1] + [e for e, vs in versions.items() if len(vs) > 1]
        return Verdict(
            self.name, ledger.attempts[self.name], ledger.acknowledgements[self.name], lost=lost, duplicates=duplicates
        )


def run_client(base_url: str, kind, client: int, ledger: Ledger, stop: threading.Event, errors: list) -> None:
    """Send kind's writes one after another until told to stop, retrying each until acknowledged."""
    browser = Browser(base_url, timeout=20)
    state = None
    n = 0
    while not stop.is_set():
        tries = 0
        while tries < MAX_TRIES:
            tries += 1
            try:
                if state is None:
                    state = kind.start(browser, client)
                key, value, response = kind.send(browser, state, n)
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                ledger.note(kind.name, f"{client}-{n}", None, type(exc).__name__, False)
                time.sleep(0.2)
                continue
            acknowledged = kind.acknowledged(response)
            ledger.note(kind.name, key, value, str(response.status), acknowledged)
            if acknowledged:
                break
            if response.status >= 500 and response.status != 503:
                errors.append(f"{kind.name} got {response.status}: {response.body[:300]}")
            if response.status == 400:  # e.g. a form token from before a restart: start again
                state = None
            time.sleep(0.2)
        n += 1
    browser.close()
