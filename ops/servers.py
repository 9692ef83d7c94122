"""Start and stop the processes Civic runs with, for benchmarks, fault tests and `make cluster`.

Everything here starts its own private instance on a free port (a private PostgreSQL cluster
in a temporary directory, a private Redis, gunicorn with ``gunicorn.conf.py``) so that it can be
stopped, killed or restarted without touching a server someone else is using.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} did not become ready in {timeout:.0f} s ({last_error!r})")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


# --- Redis ------------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A throw-away redis-server on a free port, with no persistence."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), 10, "redis-server")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_for(lambda: not port_open(self.port), 5, "redis-server shutdown")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


# --- PostgreSQL -------------------------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    """Run a PostgreSQL server binary as `postgres` when we are root (it refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory, which tests may stop and restart.

    Durable settings are left at their defaults (fsync and synchronous_commit on), because the
    fault tests check that an acknowledged write survives a restart.
    """

    port: int = field(default_factory=free_port)
    directory: Path | None = None
    user: str = "civic"
    password: str = "civic"  # noqa: S105 - a throw-away local cluster

    @property
    def data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    def url(self, database: str = "civic") -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> PrivatePostgres:
        self.directory = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        self.directory.chmod(0o755)
        self._chown(self.directory)
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.directory}'\n"
                "max_connections = 100\nshared_buffers = 128MB\n"
            )
        self.start()
        self.psql(
            f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}' CREATEDB",
            f"CREATE DATABASE civic OWNER {self.user}",
        )
        return self

    def psql(self, *statements: str, database: str = "postgres") -> str:
        argv = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        argv += ["-v", "ON_ERROR_STOP=1", "-Atq"]
        for statement in statements:
            argv += ["-c", statement]
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout

    def _ctl(self, *args: str) -> None:
        log = self.directory / "server.log"
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "60", *args]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clean shutdown) or ``immediate`` (like a crash; WAL replay on start)."""
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        if self.directory is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None


# --- gunicorn --------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """gunicorn with the production configuration (gunicorn.conf.py) on a free port."""

    env: dict[str, str]
    app: str | None = None  # None: the wsgi_app named in gunicorn.conf.py (wsgi:app)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Gunicorn:
        if port_open(self.port):  # else the health check below would be answered by someone else
            raise RuntimeError(f"port {self.port} is already in use")
        env = {**os.environ, **self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        argv = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), *self.extra_args]
        if self.app:
            argv.append(self.app)
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="civic-gunicorn-", suffix=".log")[1])
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_for(self._healthy, timeout, f"gunicorn on port {self.port}", interval=0.1)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"gunicorn did not start; its log:\n{self.log()[-4000:]}") from None
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-4000:]}")
        with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def worker_pids(self) -> list[int]:
        """The master's live worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill_worker(self) -> int:
        """SIGKILL one worker (the master starts a new one); returns its pid."""
        deadline = time.monotonic() + 10
        while not (pids := self.worker_pids()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the master is still starting a replacement
        if not pids:
            raise RuntimeError("no worker to kill")
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def stop(self, timeout: float = 40) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def production_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a production app server, with a fresh secret key."""
    import secrets

    env = {
        "CIVIC_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "MAIL_DELIVERY": "worker",
        "MAIL_BACKEND": "locmem",
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["RATELIMIT_STORAGE_URI"] = redis_url
    env.update(extra)
    return env
