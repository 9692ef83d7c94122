"""`make pitr-drill`: a point-in-time recovery rehearsal on a private PostgreSQL cluster.

What docs/deploy.md asks production to do, done end to end on a throw-away cluster:

1. a cluster with WAL archiving on (``archive_mode``, ``archive_command`` copying segments);
2. Civic's schema (``flask db upgrade``), some accounts and audited actions;
3. a base backup with ``pg_basebackup``;
4. more writes after the base backup (they exist only in the archived WAL), then a moment T,
   then writes after T, which the recovery must leave out;
5. the cluster is destroyed (the "disaster");
6. the base backup is restored with ``restore_command`` and ``recovery_target_time = T``;
7. checks: the rows written before T are there, those after T are not, and
   ``flask audit verify`` passes on the recovered database.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime

import psycopg

from ops.servers import PG_BIN, ROOT, PrivatePostgres, _as_postgres, free_port


def flask(url: str, *args: str) -> str:
    env = {**os.environ, "CIVIC_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48)}
    env["FLASK_APP"] = "wsgi"
    return subprocess.run(
        [str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def accounts(url: str) -> set[str]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {r[0] for r in conn.execute('SELECT email FROM "user"')}


def add_admins(url: str, label: str, n: int) -> None:
    for i in range(n):
        flask(url, "users", "create-admin", f"{label}-{i}@example.org", "--password", "granite harbour violin 8")


def main() -> int:
    source = PrivatePostgres()
    source.init()
    archive = source.directory / "wal-archive"
    archive.mkdir()
    source._chown(archive)
    with open(source.data / "postgresql.conf", "a") as conf:
        conf.write(f"\narchive_mode = on\narchive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n")
    source.restart()
    url = source.url()
    restored = None
    try:
        flask(url, "db", "upgrade")
        add_admins(url, "before-backup", 2)
        print(f"1-2. cluster with WAL archiving in {archive}; schema and 2 audited accounts")

        base = source.directory / "base-backup"
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(source.port), "-U", "postgres"])
            + ["-D", str(base), "-Fp", "-Xstream", "--checkpoint=fast"],
            check=True,
            capture_output=True,
        )
        print(f"3. pg_basebackup to {base}")

        add_admins(url, "after-backup", 2)
        time.sleep(1.5)
        target = datetime.now(UTC)
        time.sleep(1.5)
        add_admins(url, "after-target", 2)
        source.psql("SELECT pg_switch_wal()")
        time.sleep(2)  # let the archiver copy the last segment
        print(f"4. 2 more accounts, then T = {target.isoformat(timespec='milliseconds')}, then 2 accounts after T")

        source.stop("immediate")
        shutil.rmtree(source.data)
        print("5. the source cluster is stopped and its data directory deleted")

        restored = PrivatePostgres(port=free_port(), directory=source.directory)
        shutil.copytree(base, restored.data)
        with open(restored.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {restored.port}\narchive_mode = off\nrestore_command = 'cp {archive}/%f %p'\n"
                f"recovery_target_time = '{target.isoformat()}'\nrecovery_target_action = 'promote'\n"
            )
        (restored.data / "recovery.signal").touch()
        for path in [restored.data, *restored.data.rglob("*")]:
            restored._chown(path)
        restored.data.chmod(0o700)
        restored.start()
        for _ in range(60):
            if restored.psql("SELECT pg_is_in_recovery()").strip() == "f":
                break
            time.sleep(0.5)
        print(f"6. restored the base backup and replayed the archived WAL up to T (port {restored.port})")

        present = accounts(restored.url())
        expected = {f"before-backup-{i}@example.org" for i in range(2)} | {f"after-backup-{i}@example.org" for i in range(2)}
        missing, extra = expected - present, {e for e in present if e.startswith("after-target")}
        verified = flask(restored.url(), "audit", "verify")
        print(f"7. accounts before T present: {not missing}; after T absent: {not extra}; {verified}")
        ok = not missing and not extra and "Audit log OK: 4 entries" in verified
        print("PITR DRILL PASSED" if ok else f"PITR DRILL FAILED (missing {missing}, extra {extra})")
        return 0 if ok else 1
    finally:
        if restored is not None:
            restored.destroy()
        else:
            source.destroy()


if __name__ == "__main__":
    raise SystemExit(main())
