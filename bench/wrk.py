"""Run wrk (with bench/lua/civic.lua) over a list of prepared requests and read its result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua" / "civic.lua"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""  # urlencoded form
    headers: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        fields = [self.method, self.path, self.body, *(f"{k}: {v}" for k, v in self.headers)]
        if any("\t" in f or "\n" in f for f in fields):
            raise ValueError("requests for wrk may not contain tabs or newlines")
        return "\t".join(fields)


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    base_url: str,
    requests: list[Request],
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 1,
    delay_ms: float = 0,
    timeout_s: float = 10,
) -> dict:
    """Run wrk for ``seconds``; returns the CIVIC_RESULT dict plus rps and the settings used."""
    if not requests:
        raise ValueError("no requests to send")
    with tempfile.NamedTemporaryFile("w", suffix=".requests", delete=False) as handle:
        handle.write("\n".join(r.line() for r in requests) + "\n")
        path = handle.name
    env = {**os.environ, "CIVIC_WRK_REQUESTS": path, "CIVIC_WRK_DELAY_MS": str(int(delay_ms))}
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s:g}s"]
    argv += ["-s", str(LUA), base_url]
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        os.unlink(path)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("CIVIC_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("CIVIC_RESULT ") :])
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6) if result["duration_us"] else 0.0
    result["settings"] = {"connections": connections, "threads": threads, "seconds": seconds, "delay_ms": delay_ms}
    return result
