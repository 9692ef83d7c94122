"""The SQL ceiling of an endpoint: its own statements, replayed straight against PostgreSQL.

The endpoint is called once in-process (same code, same database, same session cookie as the
benchmark sends) while SQLAlchemy's events record every statement with its parameters and the
transaction boundaries. The statements are written out with their parameters inlined, one
pgbench script per person, and ``pgbench -f`` runs them with several clients. The result is
the rate at which PostgreSQL alone could serve this endpoint's SQL on this machine: the
ceiling the endpoint's own rate is divided by.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy import event


class StatementRecorder:
    """Records SQL text (with parameters inlined) and BEGIN/COMMIT/ROLLBACK on one engine."""

    def __init__(self, engine, database_url: str):
        self.engine = engine
        self.lines: list[str] = []
        self._open = False
        self._pg = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))

    def close(self) -> None:
        self._pg.close()

    def _render(self, statement: str, parameters) -> str:
        cursor = psycopg.ClientCursor(self._pg)
        return cursor.mogrify(statement, parameters or None).strip().rstrip(";") + ";"

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not self._open:
            self.lines.append("BEGIN;")
            self._open = True
        for params in parameters if executemany else [parameters]:
            self.lines.append(self._render(statement, params))

    def _on_begin(self, conn):
        if not self._open:
            self.lines.append("BEGIN;")
            self._open = True

    def _on_end(self, word):
        def handler(conn):
            if self._open:
                self.lines.append(f"{word};")
                self._open = False

        return handler

    def __enter__(self) -> StatementRecorder:
        self.lines = []
        self._open = False
        self._handlers = [
            ("before_cursor_execute", self._on_execute),
            ("begin", self._on_begin),
            ("commit", self._on_end("COMMIT")),
            ("rollback", self._on_end("ROLLBACK")),
        ]
        for name, fn in self._handlers:
            event.listen(self.engine, name, fn)
        return self

    def __exit__(self, *exc) -> None:
        for name, fn in self._handlers:
            event.remove(self.engine, name, fn)
        if self._open:  # the pool rolls back what the request left open
            self.lines.append("ROLLBACK;")
            self._open = False


def capture(app, database_url: str, method: str, path: str, form: dict | None, cookie: str, expect) -> list[str]:
    """The statements one request issues (after a first, warming, request)."""
    from civic.extensions import db

    client = app.test_client(use_cookies=False)
    headers = {"Cookie": cookie} if cookie else {}

    def call():
        # Plain HTTP from loopback, as the benchmark talks to gunicorn (the test client would
        # otherwise follow PREFERRED_URL_SCHEME, https, and the CSRF check would want a Referer).
        response = client.open(
            path,
            base_url="http://127.0.0.1",
            method=method,
            data=form,
            headers=headers,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        if response.status_code not in expect:
            body = response.get_data(as_text=True)
            raise RuntimeError(f"{method} {path} answered {response.status_code} while capturing its SQL:\n{body[-3000:]}")

    with app.app_context():
        engine = db.engine
    call()
    recorder = StatementRecorder(engine, database_url)
    try:
        with recorder:
            call()
    finally:
        recorder.close()
    return recorder.lines


def write_scripts(scripts: list[list[str]], replay: str, directory: Path) -> list[Path]:
    paths = []
    for i, lines in enumerate(scripts):
        if replay == "rollback":
            lines = ["ROLLBACK;" if line == "COMMIT;" else line for line in lines]
        path = directory / f"script{i}.sql"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def pgbench(database_url: str, scripts: list[Path], *, seconds: float, clients: int = 8) -> dict:
    """Run the scripts (chosen at random per transaction) and return tps and latency percentiles."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with tempfile.TemporaryDirectory(prefix="civic-pgbench-") as tmp:
        argv = ["pgbench", "-n", "-M", "simple", f"-c{clients}", "-j1", f"-T{max(1, round(seconds))}"]
        argv += ["-l", f"--log-prefix={tmp}/tx"]
        for script in scripts:
            argv += ["-f", str(script)]
        argv.append(url)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
        latencies = []
        for log in Path(tmp).glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]))
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    aborted = len(re.findall(r"aborted", done.stderr))
    if tps is None:
        raise RuntimeError(f"pgbench failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-2000:]}")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] / 1000 if latencies else 0.0

    return {
        "tps": float(tps.group(1)),
        "transactions": len(latencies),
        "errors": (int(failed.group(1)) if failed else 0) + aborted,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(latencies) / 1000 if latencies else 0.0,
        "clients": clients,
        "scripts": len(scripts),
        "statements_per_request": None,
    }
