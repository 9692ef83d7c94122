"""`make cluster`: two app servers (gunicorn, production configuration) sharing PostgreSQL and Redis.

    DATABASE_URL=postgresql+psycopg://civic:civic@127.0.0.1:5432/civic make cluster

Both servers get the same SECRET_KEY (a session cookie from one is good on the other) and the
same Redis for rate limits. Without ``RATELIMIT_STORAGE_URI`` a private redis-server is started
for the run. Ports come from ``CLUSTER_PORTS`` (default 8001,8002). The database is migrated
first. Stop with Ctrl+C: each server finishes the requests it has in progress.

In production the servers sit behind a load balancer (docs/deploy.md); here you can open
either port, or point a proxy at both.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from ops.servers import ROOT, Gunicorn, PrivateRedis, production_env


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    ports: list[int]
    extra_env: dict[str, str] = field(default_factory=dict)
    servers: list[Gunicorn] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = production_env(self.database_url, self.redis_url, **self.extra_env)
        env["SECRET_KEY"] = os.environ.get("SECRET_KEY") or self.extra_env.get("SECRET_KEY") or env["SECRET_KEY"]
        return env

    def migrate(self, env: dict[str, str]) -> None:
        subprocess.run(
            [str(ROOT / ".venv/bin/flask"), "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, **env, "FLASK_APP": "wsgi"},
            check=True,
            capture_output=True,
        )

    def start(self, migrate: bool = True) -> Cluster:
        env = self.env()  # one secret key for all servers
        if migrate:
            self.migrate(env)
        for port in self.ports:
            self.servers.append(Gunicorn(env, port=port).start())
        return self

    def stop(self) -> None:
        for server in self.servers:  # all at once: each finishes its requests in parallel
            if server.process and server.process.poll() is None:
                server.process.terminate()
        for server in self.servers:
            server.stop()

    @property
    def urls(self) -> list[str]:
        return [s.base_url for s in self.servers]


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgresql", "postgres://")):
        print("make cluster needs DATABASE_URL=postgresql+psycopg://… (several servers share one PostgreSQL)", file=sys.stderr)
        return 2
    stopped = threading.Event()

    def on_term(*_):
        if not stopped.is_set():
            stopped.set()
            raise KeyboardInterrupt  # unwinds through the finally below, at any stage

    signal.signal(signal.SIGTERM, on_term)
    redis = cluster = None
    try:
        redis_url = os.environ.get("RATELIMIT_STORAGE_URI", "")
        if not redis_url.startswith("redis"):
            redis = PrivateRedis().start()
            redis_url = redis.url
            print(f"Started a private Redis for rate limits: {redis_url}", flush=True)
        ports = [int(p) for p in os.environ.get("CLUSTER_PORTS", "8001,8002").split(",")]
        secret = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)
        cluster = Cluster(database_url, redis_url, ports, {"SECRET_KEY": secret})
        cluster.start()
        for server in cluster.servers:
            print(f"App server on {server.base_url} (log: {server.log_path})", flush=True)
        print("Both share the database and Redis; sign in on one and you are signed in on the other. Ctrl+C stops.", flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if cluster:
            cluster.stop()
        if redis:
            redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
