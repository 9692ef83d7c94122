"""A description of the machine a benchmark ran on, stored with its results."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def describe(database_url: str) -> dict:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('shared_buffers', 'max_connections', 'synchronous_commit', 'fsync', 'work_mem')"
            ).fetchall()
        )
    root = Path(__file__).resolve().parent.parent
    commit = _version(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg,
        "postgresql_settings": settings,
        "wrk": _version(["wrk", "-v"]),
        "pgbench": _version(["pgbench", "--version"]),
        "gunicorn": _version([str(root / ".venv" / "bin" / "gunicorn"), "--version"]),
        "commit": commit,
        "load_average_at_start": os.getloadavg(),
    }
