"""`make restore-check`: prove that last night's kind of backup can actually be restored.

    DATABASE_URL=postgresql+psycopg://civic:civic@127.0.0.1:5432/civic make restore-check

1. ``pg_dump --format=custom`` of DATABASE_URL (what the nightly backup job runs);
2. ``pg_restore`` into a new, empty database next to it;
3. ``flask audit verify`` on the restored copy: the hash chain is intact, and its head is the
   same as the source's;
4. row counts of every table, and every sequence's position, compared with the source;
5. the restored copy is dropped (``--keep`` keeps it).

The role in DATABASE_URL must be allowed to create databases. Exits non-zero on any difference.
Run it against a copy of production regularly, not only when a restore is needed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg
from psycopg import sql

from ops.servers import ROOT


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0] for t in tables}


def sequence_positions(url: str) -> dict[str, int | None]:
    with psycopg.connect(libpq_url(url)) as conn:
        return dict(conn.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"))


def flask(url: str, *args: str) -> str:
    env = {**os.environ, "CIVIC_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48)}
    env["FLASK_APP"] = "wsgi"
    done = subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def check(source: str, keep: bool = False) -> bool:
    source_db = urllib.parse.urlsplit(source).path.lstrip("/")
    copy_db = f"{source_db}_restore_{time.strftime('%Y%m%d%H%M%S')}"
    copy = with_database(source, copy_db)
    ok = True
    with tempfile.TemporaryDirectory(prefix="civic-backup-") as tmp:
        dump = Path(tmp) / f"{source_db}.dump"
        started = time.monotonic()
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq_url(source)], check=True)
        print(f"1. pg_dump: {dump.stat().st_size / 1024:.0f} KiB in {time.monotonic() - started:.1f} s")
        # Counted right after the dump; nothing else should be writing to the source meanwhile.
        counts, sequences = table_counts(source), sequence_positions(source)
        head = flask(source, "audit", "head")

        with psycopg.connect(libpq_url(with_database(source, "postgres")), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{copy_db}"')
        try:
            started = time.monotonic()
            subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--jobs=2", f"--dbname={libpq_url(copy)}", str(dump)],
                check=True,
            )
            print(f"2. pg_restore into {copy_db}: {time.monotonic() - started:.1f} s")

            verified = flask(copy, "audit", "verify", "--head", head)
            print(f"3. flask audit verify --head {head}: {verified}")

            restored, restored_sequences = table_counts(copy), sequence_positions(copy)
            for table in sorted(set(counts) | set(restored)):
                same = counts.get(table) == restored.get(table)
                ok &= same
                if not same:
                    print(f"   MISMATCH {table}: source {counts.get(table)} restored {restored.get(table)}")
            ok &= sequences == restored_sequences
            if sequences != restored_sequences:
                print(f"   MISMATCH sequences: source {sequences} restored {restored_sequences}")
            rows = sum(counts.values())
            print(f"4. row counts: {len(counts)} tables, {rows} rows, {'all equal' if ok else 'DIFFERENT'}; sequences equal")
        finally:
            if keep:
                print(f"5. kept {copy_db}")
            else:
                with psycopg.connect(libpq_url(with_database(source, "postgres")), autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{copy_db}" WITH (FORCE)')
                print(f"5. dropped {copy_db}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the restored database")
    args = parser.parse_args()
    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith("postgresql"):
        print("restore-check needs DATABASE_URL=postgresql+psycopg://… (the database to back up)", file=sys.stderr)
        return 2
    ok = check(source, keep=args.keep)
    print("RESTORE CHECK PASSED" if ok else "RESTORE CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
