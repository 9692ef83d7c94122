"""`make bench [TIER=district|metro]`: Civic under gunicorn against its ceilings, in one run.

1. Creates a PostgreSQL database for the run (dropped at the end), migrates it with
   ``flask db upgrade`` and loads the tier's dataset (bench/dataset.py).
2. Starts a private Redis for the rate limits and gunicorn with gunicorn.conf.py and the
   production configuration.
3. Measures the ceilings in the same run: ``C_hello``, a hello-world Flask app served by the
   same gunicorn.conf.py, and ``C_sql`` for each scenario, its own SQL replayed by pgbench.
4. Runs every scenario that exists (bench/scenarios.py) with wrk, then the deadline surge:
   the 80/15/4/1 mix, paced from the baseline rate up to 25× and beyond, to find where the
   service saturates and check that it sheds load (503/429 + Retry-After) rather than failing.
5. Prints one table and writes it, with the machine's description, to bench/results/.

wrk runs with one thread on the same two cores as the server and PostgreSQL, so absolute
figures are lower bounds; the ratios to ceilings measured in the same run are what compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset, machine, sqlceiling, wrk  # noqa: E402
from bench.scenarios import (  # noqa: E402
    CONTENT,
    SCENARIOS,
    SURGE_BEYOND,
    SURGE_MIX,
    SURGE_RAMP,
    Actor,
    Scenario,
    availability,
)
from ops.http import Browser  # noqa: E402
from ops.servers import Gunicorn, PrivateRedis, production_env  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WARM_UP_SECONDS = 2
# People signed in through the real form (each costs a production argon2 hash, ~0.4 s here);
# the rest of a pool gets sessions written directly, which the server cannot tell apart.
SIGNED_IN_FOR_REAL = 8
# In the surge, each wrk connection is an agent sending at most this many requests a second.
SURGE_AGENT_RPS = 2
# A paced run's agents think this long between requests (so 300/s takes 60 agents).
PACED_THINK_MS = 200


@dataclass
class Row:
    name: str
    kind: str  # ceiling | scenario | sql | paced | surge | waiting
    rps: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int | None = None
    shed: int | None = None
    vs_hello: float | None = None
    vs_sql: float | None = None
    note: str = ""
    detail: dict = field(default_factory=dict)


def _from_wrk(name: str, kind: str, result: dict, expect: tuple[int, ...] | None) -> Row:
    statuses = result["statuses"]
    ok = sum(n for code, n in statuses.items() if (code in expect if expect else 200 <= code < 400))
    shed = result["shed"]
    socket = sum(result["socket_errors"].values())
    errors = socket + sum(statuses.values()) - ok - shed
    lat = result["latency_us"]
    seconds = result["duration_us"] / 1e6 or 1
    result["ok"] = ok
    return Row(
        name,
        kind,
        rps=ok / seconds,  # answered as expected: shed and failed requests are not throughput
        p50=lat["p50"] / 1000,
        p95=lat["p95"] / 1000,
        p99=lat["p99"] / 1000,
        errors=errors,
        shed=shed,
        detail=result,
    )


# The worker's pace: DASHBOARD_MAX_AGE_SECONDS (60) / 2, its default as deployed. Given explicitly,
# because the app servers of the run get a longer DASHBOARD_MAX_AGE_SECONDS (see Bench.run).
WORKER_EVERY = 30


class DashboardsWorker:
    """``flask dashboards refresh --loop`` beside the app servers, as deployed (docs/deploy.md).

    Runs only while dashboard scenarios are measured (it takes a core while it builds); its
    output says how long each build took, so the run can state how old the data can get.
    """

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.process: subprocess.Popen | None = None
        # Kept open for the worker's lifetime (it writes there), read back by build_seconds.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="civic-dashboards-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self) -> None:
        if self.process is None:
            argv = [str(ROOT / ".venv/bin/flask"), "dashboards", "refresh", "--loop", "--every", str(WORKER_EVERY)]
            env = {**os.environ, **self.env, "FLASK_APP": "wsgi"}
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def builds(self) -> list[tuple[float, str]]:
        """(seconds, "warm" or "cold") of each build stored so far."""
        self.log.flush()
        text = Path(self.log.name).read_text()
        return [(float(s), kind) for s, kind in re.findall(r"stored in ([0-9.]+) s \((warm|cold)\)", text)]

    def background_cold_builds(self) -> int:
        self.log.flush()
        return Path(self.log.name).read_text().count("cold build in the background finished")

    def wait_for_builds(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.builds()) >= n:
                return True
            time.sleep(1)
        return False


class Bench:
    def __init__(self, args):
        self.args = args
        self.tier = dataset.TIERS[args.tier]
        self.seconds = args.seconds or self.tier.seconds
        self.rows: list[Row] = []
        self.hello_rps: float | None = None
        self.actors: dict[tuple, list[Actor]] = {}
        self.started = datetime.now(UTC)

    # --- set-up ------------------------------------------------------------------------------

    def create_database(self) -> str:
        admin = self.args.admin_url
        self.db_name = f"civic_bench_{self.tier.name}_{self.started:%Y%m%d%H%M%S}_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        parts = urllib.parse.urlsplit(admin)
        return urllib.parse.urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{self.db_name}"))

    def drop_database(self) -> None:
        with psycopg.connect(self.args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def migrate(self) -> None:
        env = {**os.environ, **self.env, "FLASK_APP": "wsgi"}
        subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)

    def in_process_app(self):
        """The same application in this process: for capturing SQL and minting sessions."""
        os.environ.update(self.env)
        from civic import create_app

        return create_app()

    # --- people ------------------------------------------------------------------------------

    def _cookie(self, session: dict) -> str:
        session = {**session, "seen": int(time.time())}  # as a browser's cookie would be now
        value = self.app.session_interface.get_signing_serializer(self.app).dumps(session)
        return f"{self.app.config['SESSION_COOKIE_NAME']}={value}"

    def _decode(self, cookie_value: str) -> dict:
        return self.app.session_interface.get_signing_serializer(self.app).loads(cookie_value)

    def people_for(self, scenario: Scenario) -> list[Actor]:
        key = (scenario.people, scenario.sessions, scenario.pool, scenario.csrf_from)
        if key in self.actors:
            return self.actors[key]
        if scenario.people is None:
            actors = [self._anonymous(scenario)]
        elif scenario.sessions == "sign-in":
            actors = self._sign_in(scenario)
        else:
            actors = self._mint(scenario)
        self.actors[key] = actors
        return actors

    def _anonymous(self, scenario: Scenario) -> Actor:
        if not scenario.csrf_from:
            return Actor(0, 0, "", None)
        browser = Browser(self.server.base_url)
        token = browser.csrf_token(scenario.csrf_from)
        session = self._decode(browser.cookies[self.app.config["SESSION_COOKIE_NAME"]])
        browser.close()
        return Actor(0, 0, "", None, cookie=json.dumps(session), csrf_token=token)

    def _sign_in(self, scenario: Scenario) -> list[Actor]:
        """The first few through the real sign-in form (argon2 and all); the rest minted."""
        name = self.app.config["SESSION_COOKIE_NAME"]
        actors = []
        people = self.facts.people[scenario.people][: scenario.pool]
        for index, (user_id, email, ward_id) in enumerate(people[:SIGNED_IN_FOR_REAL]):
            browser = Browser(self.server.base_url)
            browser.sign_in(email, dataset.BENCH_PASSWORD)
            token = browser.csrf_token(scenario.csrf_from or "/sign-out")
            session = self._decode(browser.cookies[name])
            browser.close()
            actors.append(Actor(index, user_id, email, ward_id, cookie=json.dumps(session), csrf_token=token))
        if len(people) > SIGNED_IN_FOR_REAL:
            minted = self._mint(scenario, people[SIGNED_IN_FOR_REAL:])
            actors += [replace(a, index=a.index + SIGNED_IN_FOR_REAL) for a in minted]
        return actors

    def _mint(self, scenario: Scenario, people=None) -> list[Actor]:
        """Server-side sessions written directly (what signing in writes), cookies signed here."""
        from itsdangerous import URLSafeTimedSerializer

        csrf_signer = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token")
        now = datetime.now(UTC)
        rows, actors = [], []
        people = self.facts.people[scenario.people][: scenario.pool] if people is None else people
        for index, (user_id, email, ward_id) in enumerate(people):
            token, raw_csrf = secrets.token_urlsafe(32), secrets.token_hex(20)
            rows.append((hashlib.sha256(token.encode()).hexdigest(), user_id, now, now, now + timedelta(days=14)))
            session = {"_user_id": token, "_fresh": True, "_permanent": True, "csrf_token": raw_csrf}
            actors.append(
                Actor(index, user_id, email, ward_id, cookie=json.dumps(session), csrf_token=csrf_signer.dumps(raw_csrf))
            )
        with psycopg.connect(self.db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            with (
                conn.cursor() as cur,
                cur.copy("COPY user_session (token_hash, user_id, created_at, last_seen_at, expires_at) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
        check = Browser(self.server.base_url, cookies=dict([self._cookie(json.loads(actors[0].cookie)).split("=", 1)]))
        if check.get("/account").status != 200:
            raise RuntimeError("a minted session was not accepted by the server")
        return actors

    # --- requests ----------------------------------------------------------------------------

    def requests_for(self, scenario: Scenario) -> list[wrk.Request]:
        actors = self.people_for(scenario)
        cookies = {a.index: self._cookie(json.loads(a.cookie)) if a.cookie else "" for a in actors}
        out = []
        for n in range(scenario.variants):
            for actor in actors:
                form = scenario.form_for(self.facts, actor, n)
                headers = (("Cookie", cookies[actor.index]),) if cookies[actor.index] else ()
                body = urllib.parse.urlencode(form, doseq=True) if form is not None else ""
                out.append(wrk.Request(scenario.method, scenario.path_for(self.facts, actor, n), body, headers))
        return out

    # --- measurements ------------------------------------------------------------------------

    def measure_hello(self) -> None:
        hello = Gunicorn(self.env, app="bench.hello:app").start()
        try:
            requests = [wrk.Request("GET", "/")]
            wrk.run(hello.base_url, requests, seconds=WARM_UP_SECONDS, connections=self.args.connections)
            result = wrk.run(hello.base_url, requests, seconds=self.seconds, connections=self.args.connections)
        finally:
            hello.stop()
        row = _from_wrk("C_hello: hello world, same gunicorn.conf.py", "ceiling", result, (200,))
        self.hello_rps = row.rps
        self.rows.append(row)

    def measure_scenario(self, scenario: Scenario) -> None:
        requests = self.requests_for(scenario)
        wrk.run(self.server.base_url, requests, seconds=scenario.warm_up, connections=self.args.connections)
        result = wrk.run(self.server.base_url, requests, seconds=self.seconds, connections=self.args.connections)
        row = _from_wrk(scenario.name, "scenario", result, scenario.expect)
        row.vs_hello = row.rps / self.hello_rps if self.hello_rps else None
        row.detail["requests_prepared"] = len(requests)
        self.rows.append(row)
        if scenario.sql == "capture" and not self.args.no_sql:
            self.rows.append(self.measure_sql(scenario, row))
        if scenario.paced_rps and not self.args.no_paced:
            self.rows.append(self.measure_paced(scenario, requests))

    def measure_paced(
        self, scenario: Scenario, requests: list[wrk.Request], condition: str = "", seconds: float | None = None
    ) -> Row:
        """The scenario at a stated rate: its latency when the server is not saturated.

        Each wrk connection is an agent that waits PACED_THINK_MS after each answer, so the
        offered rate is connections / (think + latency): it falls if the server slows down,
        and the row shows the rate achieved beside the offered one.
        """
        rate = scenario.paced_rps
        connections = max(4, math.ceil(rate * PACED_THINK_MS / 1000))
        delay_ms = connections / rate * 1000
        result = wrk.run(
            self.server.base_url, requests, seconds=seconds or self.seconds, connections=connections, delay_ms=delay_ms
        )
        label = f"  paced: {rate:g}/s offered, {connections} agents" + (f", {condition}" if condition else "")
        row = _from_wrk(label, "paced", result, scenario.expect)
        row.vs_hello = row.rps / self.hello_rps if self.hello_rps else None
        row.detail.update(offered_rps=rate, think_ms=delay_ms)
        row.note = f"{row.rps / rate:.0%} of offered"
        return row

    def measure_sql(self, scenario: Scenario, row: Row) -> Row:
        actors = self.people_for(scenario)[:8]
        scripts = []
        for n, actor in enumerate(actors):
            form = scenario.form_for(self.facts, actor, n % scenario.variants)
            cookie = self._cookie(json.loads(actor.cookie)) if actor.cookie else ""
            path = scenario.path_for(self.facts, actor, n % scenario.variants)
            scripts.append(sqlceiling.capture(self.app, self.db_url, scenario.method, path, form, cookie, scenario.expect))
        statements = sum(1 for line in scripts[0] if line not in ("BEGIN;", "COMMIT;", "ROLLBACK;"))
        if statements == 0:
            return Row("  C_sql: the endpoint issues no SQL", "sql")
        with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
            paths = sqlceiling.write_scripts(scripts, scenario.replay, Path(tmp))
            result = sqlceiling.pgbench(self.db_url, paths, seconds=self.seconds)
        result["statements_per_request"] = statements
        result["example_script"] = scripts[0]
        row.vs_sql = row.rps / result["tps"] if result["tps"] else None
        return Row(
            f"  C_sql: {statements} statements, pgbench -c{result['clients']}",
            "sql",
            rps=result["tps"],
            p50=result["p50_ms"],
            p95=result["p95_ms"],
            p99=result["p99_ms"],
            errors=result["errors"],
            detail=result,
        )

    # --- the dashboards' publication ----------------------------------------------------------

    def build_publication(self) -> bool:
        """One cold build with ``flask dashboards refresh``, before any app server starts.

        App servers then run with ``DASHBOARD_STORED_PUBLICATION`` and only read what the worker
        stores, as deployed; the dashboard scenarios measure those warm pages.
        """
        self._say("building the dashboards' publication (flask dashboards refresh)")
        env = {**os.environ, **self.env, "FLASK_APP": "wsgi"}
        argv = [str(ROOT / ".venv/bin/flask"), "dashboards", "refresh"]
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=self.args.publication_timeout, check=False
            )
        except subprocess.TimeoutExpired:
            note = f"not finished in {self.args.publication_timeout} s"
            self.rows.append(Row("dashboards: cold publication build", "publication", note=note))
            return False
        seconds = time.monotonic() - started
        ok = done.returncode == 0
        note = done.stdout.strip().splitlines()[-1] if ok and done.stdout.strip() else f"failed: {done.stderr[-300:]}"
        self.rows.append(
            Row(
                "dashboards: cold publication build",
                "publication",
                note=f"{seconds:.1f} s including the command's start; {note}",
                detail={"seconds": seconds, "stdout": done.stdout[-2000:]},
            )
        )
        return ok

    def report_freshness(self, worker: DashboardsWorker) -> None:
        builds = worker.builds()
        warm = [seconds for seconds, kind in builds[1:] if kind == "warm"]  # the first is cold
        if not warm:
            self.rows.append(Row("dashboards: worker builds while measured", "publication", note="no warm build finished"))
            return
        every = WORKER_EVERY
        # A publication's data is one build old when stored; the next is stored max(every, build)
        # later; an app server notices a new one within 5 s. So a page's data is at most:
        oldest = max(warm) + max(every, max(warm)) + 5
        cold = [seconds for seconds, kind in builds if kind == "cold"]
        background = worker.background_cold_builds()
        self.rows.append(
            Row(
                "dashboards: worker builds while measured",
                "publication",
                note=(
                    f"{len(warm)} warm builds, {min(warm):.1f}–{max(warm):.1f} s each, every {every} s: "
                    f"data at most {oldest:.0f} s old; first (cold) build {cold[0]:.1f} s; "
                    f"{background} cold build(s) finished in the background meanwhile"
                ),
                detail={"builds": builds, "every": every, "oldest_seconds": oldest, "background_cold": background},
            )
        )

    # --- the deadline surge ------------------------------------------------------------------

    def surge_requests(self, runnable: dict[str, Scenario]) -> tuple[list[wrk.Request], dict[str, list[str]]]:
        """One long interleaved sequence in the mix's proportions."""
        by_class: dict[str, list[list[wrk.Request]]] = {}
        used: dict[str, list[str]] = {}
        for cls in SURGE_MIX:
            names = [s.name for s in runnable.values() if s.surge_class == cls.name]
            if not names:
                names = [n for n in cls.stand_ins if n in runnable]
                used[cls.name] = [f"{n} (stand-in)" for n in names]
            else:
                used[cls.name] = names
            if names:
                by_class[cls.name] = [self.requests_for(runnable[n]) for n in names]
        classes = [c for c in SURGE_MIX if c.name in by_class]
        rng = random.Random(7)
        sequence: list[wrk.Request] = []
        cursors = {c.name: 0 for c in classes}
        for _ in range(4000):
            cls = rng.choices(classes, weights=[c.share for c in classes])[0]
            lists = by_class[cls.name]
            i = cursors[cls.name]
            cursors[cls.name] += 1
            chosen = lists[i % len(lists)]
            sequence.append(chosen[(i // len(lists)) % len(chosen)])
        return sequence, used

    def run_surge(self, runnable: dict[str, Scenario]) -> dict:
        sequence, used = self.surge_requests(runnable)
        base = self.tier.surge_baseline_rps
        stages = list(SURGE_RAMP) + ([] if self.args.no_beyond else list(SURGE_BEYOND))
        seconds = self.args.stage_seconds or self.tier.surge_stage_seconds
        results: list[Row] = []
        saturated_in_a_row = 0
        for multiple in stages:
            rate = base * multiple
            # Each connection is one person-agent pausing between requests (a closed loop with
            # think time), at most SURGE_AGENT_RPS requests a second each; as the service
            # slows down, agents send less, as people do.
            connections = max(2, math.ceil(rate / SURGE_AGENT_RPS))
            delay_ms = connections / rate * 1000
            result = wrk.run(self.server.base_url, sequence, seconds=seconds, connections=connections, delay_ms=delay_ms)
            row = _from_wrk(f"surge ×{multiple:g} (offered {rate:.0f}/s, {connections} conns)", "surge", result, None)
            row.vs_hello = row.rps / self.hello_rps if self.hello_rps else None
            row.detail.update(offered_rps=rate, multiple=multiple)
            previous = results[-1] if results else None
            # Saturated: shedding, failing, or no more throughput for much more offered load.
            plateau = previous is not None and rate >= 1.4 * previous.detail["offered_rps"] and row.rps < 1.1 * previous.rps
            row.detail["saturated"] = bool(row.shed or row.errors or plateau)
            row.note = f"{row.rps / rate:.0%} of offered" + ("; saturated" if row.detail["saturated"] else "")
            self.rows.append(row)
            results.append(row)
            saturated_in_a_row = saturated_in_a_row + 1 if row.detail["saturated"] else 0
            if multiple > SURGE_RAMP[-1] and saturated_in_a_row >= 2:
                break
        peak = max(results, key=lambda r: r.rps)
        first_saturated = next((r for r in results if r.detail["saturated"]), None)
        return {
            "mix": {c.name: c.share for c in SURGE_MIX},
            "scenarios_used": used,
            "baseline_rps": base,
            "stage_seconds": seconds,
            "agent_rps": SURGE_AGENT_RPS,
            "peak_throughput_rps": peak.rps,
            "peak_vs_hello": peak.vs_hello,
            "first_saturated_stage": first_saturated.name if first_saturated else None,
            "errors_total": sum(r.errors for r in results),
            "shed_total": sum(r.shed for r in results),
        }

    # --- the whole run -----------------------------------------------------------------------

    def run(self) -> int:
        for tool in ("wrk", "pgbench", "redis-server"):
            if shutil.which(tool) is None:
                print(f"make bench needs {tool} (apt-get install wrk postgresql-client redis-server)", file=sys.stderr)
                return 2
        self.db_url = self.create_database()
        redis = self.server = worker = None
        try:
            redis = PrivateRedis().start()
            # All benchmark clients come from 127.0.0.1: the per-address sign-in limit would
            # stop the harness signing its people in. Every other limit is as in production.
            self.env = production_env(self.db_url, redis.url, RATELIMIT_SIGN_IN_ADDRESS="1000000 per 15 minutes")
            self.migrate()
            t0 = time.monotonic()
            self.facts = dataset.load(self.db_url, self.tier)
            load_seconds = time.monotonic() - t0
            description = machine.describe(self.db_url)
            self.app = self.in_process_app()
            dataset.build_with_app(self.app, self.tier, self.facts)
            endpoints = set(self.app.view_functions)
            self._say(f"dataset {self.tier.name} loaded in {load_seconds:.1f} s; measuring C_hello")
            self.measure_hello()
            wanted = [s for s in SCENARIOS + CONTENT if not self.args.only or s.name in self.args.only]
            dashboards_ready = True
            if any(s.endpoint.startswith("dashboards.") for s in wanted):
                dashboards_ready = self.build_publication()
                self.env["DASHBOARD_STORED_PUBLICATION"] = "1"
                # The warm measurements run without the worker, minutes after the first build:
                # app servers would take a publication older than 5 x the maximum age for a
                # stopped worker and build their own. The worker's pace is given apart.
                self.env["DASHBOARD_MAX_AGE_SECONDS"] = "900"
                # A cold build in the background during the measurement, not only every 15 min.
                self.env.setdefault("DASHBOARD_COLD_BUILD_SECONDS", "120")
                worker = DashboardsWorker(self.env)
            self.server = Gunicorn(self.env).start()
            runnable: dict[str, Scenario] = {}
            for scenario in wanted:
                available = availability(scenario, endpoints, self.facts)
                if scenario.endpoint.startswith("dashboards.") and not dashboards_ready:
                    available.runnable, available.waiting_for = False, ["a publication (the build did not finish)"]
                if not available.runnable:
                    self.rows.append(Row(scenario.name, "waiting", note="waiting for " + ", ".join(available.waiting_for)))
                    continue
                self._say(f"measuring {scenario.name}")
                self.measure_scenario(scenario)  # warm: the publication does not change meanwhile
                runnable[scenario.name] = scenario
            paced_dashboards = [s for s in runnable.values() if s.endpoint.startswith("dashboards.") and s.paced_rps]
            if worker and paced_dashboards:
                # The same pace while the worker rebuilds beside the servers and they swap each
                # new publication in (its figures are then built again, once per page). The
                # worker's first build is cold; measured from its second (warm) on, as deployed.
                self._say("starting the dashboards worker; waiting for its first warm build")
                worker.start()
                if worker.wait_for_builds(2, self.args.publication_timeout * 2):
                    for scenario in paced_dashboards:
                        self._say(f"measuring {scenario.name} while the worker rebuilds")
                        requests = self.requests_for(scenario)
                        condition = "while the worker rebuilds"
                        self.rows.append(self.measure_paced(scenario, requests, condition, self.args.worker_seconds))
                self.report_freshness(worker)
                worker.stop()
            surge = None
            if not self.args.no_surge:
                for scenario in SCENARIOS + CONTENT:  # the surge may use scenarios not measured alone
                    if scenario.name not in runnable and availability(scenario, endpoints, self.facts).runnable:
                        runnable[scenario.name] = scenario
                self._say("deadline surge")
                surge = self.run_surge(runnable)
            self.report(description, surge, load_seconds)
        finally:
            if worker:
                worker.stop()
            if self.server:
                self.server.stop()
            if redis:
                redis.stop()
            if not self.args.keep_db:
                self.drop_database()
        return 0

    def _say(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # --- output ------------------------------------------------------------------------------

    def settings(self) -> dict:
        import gunicorn.config  # noqa: F401 - only to be sure the version described is installed

        conf = {"__file__": str(ROOT / "gunicorn.conf.py")}
        exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), conf)  # noqa: S102 - our own file
        return {
            "tier": asdict(self.tier),
            "seconds_per_run": self.seconds,
            "wrk": f"-t1 -c{self.args.connections}, warm-up ≥{WARM_UP_SECONDS} s",
            "pgbench": "-c8 -j1 -M simple",
            "gunicorn": {k: conf.get(k) for k in ("worker_class", "workers", "threads", "timeout", "keepalive", "preload_app")},
            "overload_queue_timeout_ms": self.app.config["OVERLOAD_QUEUE_TIMEOUT_MS"],
            "database_pool_size": self.app.config["DATABASE_POOL_SIZE"],
        }

    def report(self, description: dict, surge: dict | None, load_seconds: float) -> None:
        settings = self.settings()
        g = settings["gunicorn"]
        title = (
            f"Civic benchmark: tier {self.tier.name}, {self.seconds} s per run, wrk {settings['wrk']}; "
            f"gunicorn {g['workers']} workers × {g['threads']} threads; {description['cores']} cores, "
            f"load average at start {description['load_average_at_start'][0]:.2f}"
        )
        print(title)
        print(format_table(self.rows))
        if surge:
            print(
                f"Surge: peak {surge['peak_throughput_rps']:.0f} req/s = {surge['peak_vs_hello'] or 0:.2f} × C_hello; "
                f"first saturated stage: {surge['first_saturated_stage'] or 'none'}; "
                f"errors {surge['errors_total']}, shed {surge['shed_total']}; mix used: "
                + "; ".join(f"{k}: {', '.join(v) or 'nothing yet'}" for k, v in surge["scenarios_used"].items())
            )
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"{self.started:%Y%m%dT%H%M%SZ}-{self.tier.name}.json"
        payload = {
            "machine": description,
            "settings": settings,
            "dataset_load_seconds": load_seconds,
            "rows": [asdict(r) for r in self.rows],
            "surge": surge,
        }
        out.write_text(json.dumps(payload, indent=2, default=str))
        print(f"Results: {out.relative_to(ROOT)}")


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_table(rows: list[Row]) -> str:
    header = f"{'scenario':<64} {'ok/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'shed':>6} "
    header += f"{'÷C_hello':>9} {'÷C_sql':>7}  note"
    lines = [header, "-" * len(header)]
    for r in rows:
        if r.kind == "waiting":
            lines.append(f"{r.name:<64} {'(not measured: ' + r.note + ')'}")
            continue
        lines.append(
            f"{r.name[:64]:<64} {_fmt(r.rps, '9.1f')} {_fmt(r.p50, '8.1f')} {_fmt(r.p95, '8.1f')} {_fmt(r.p99, '8.1f')} "
            f"{_fmt(r.errors, '7d')} {_fmt(r.shed, '6d')} {_fmt(r.vs_hello, '9.3f')} {_fmt(r.vs_sql, '7.3f')}  {r.note}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=sorted(dataset.TIERS), default="district")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (default: the tier's)")
    parser.add_argument("--stage-seconds", type=float, help="seconds per surge stage (default: the tier's)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for the scenarios")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--no-sql", action="store_true", help="skip the SQL ceilings")
    parser.add_argument("--no-surge", action="store_true", help="skip the deadline surge")
    parser.add_argument("--no-paced", action="store_true", help="skip the runs paced at a scenario's stated rate")
    parser.add_argument(
        "--publication-timeout",
        type=float,
        default=1800,
        help="seconds the cold dashboards build may take before the dashboard scenarios are skipped",
    )
    parser.add_argument("--no-beyond", action="store_true", help="stop the surge at 25× (no saturation search)")
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database")
    parser.add_argument(
        "--worker-seconds",
        type=float,
        default=90,
        help="seconds of each dashboard scenario paced while the worker rebuilds (long enough to see a cold build beside it)",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://civic:civic@127.0.0.1:5432/postgres"),
        help="a PostgreSQL role that may create databases (default: $BENCH_ADMIN_URL or civic@localhost)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return Bench(args).run()


if __name__ == "__main__":
    raise SystemExit(main())
