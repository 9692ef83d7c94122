"""gunicorn settings for Civic in production: ``gunicorn -c gunicorn.conf.py`` (serves ``wsgi:app``).

Chosen for the reference machine (2 cores, 24 GiB, PostgreSQL on the same box) and explained
here; docs/deploy.md has the reasoning at more length and the figures behind it. Every number
can be overridden from the environment without editing this file.

* Threaded workers, one process per core. Python runs one thread at a time per process, so
  more processes than cores buys nothing but memory; threads overlap the waits on PostgreSQL.
  gunicorn's ``sync`` worker would be steadier in tail latency, but it cannot shed load (a
  request waits in the kernel's backlog, invisible to the application, until the client gives
  up) and a slow request gets the worker killed at ``timeout``. The ``gthread`` worker's
  heartbeat comes from its main thread, so a slow request never gets a worker killed.
* ``CivicThreadWorker`` is gunicorn's ``gthread`` worker that times each request's wait for a
  thread; ``civic.core.overload`` answers 503 + Retry-After to one that waited longer than
  ``OVERLOAD_QUEUE_TIMEOUT_MS`` instead of letting the queue grow past what clients will wait.
* ``preload_app``: the application is imported once in the master (1.7 s of CPU) and workers
  are forked from it, so a worker that is killed or recycled is back in milliseconds. Each
  forked worker starts with an empty database pool (``civic.core.db``). A code change therefore
  needs a restart (or ``kill -USR2`` for a new master), not ``kill -HUP``.
* No access log: it would hold IP addresses and paths, and paths carry one-time tokens
  (``/verify/<token>``, ``/reset-password/<token>``). Errors go to stderr.
* Forwarded headers: gunicorn believes ``X-Forwarded-Proto`` only from the proxies that the
  application also trusts (``TRUSTED_PROXY_COUNT`` > 0, proxies at ``FORWARDED_ALLOW_IPS``);
  with no proxy configured it believes nobody, so a client cannot claim HTTPS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Make `config` importable however gunicorn was started, and read .env the way the app does.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from config import env  # noqa: E402 - needs the path above

# --- Where and how many ----------------------------------------------------------------------
bind = env("GUNICORN_BIND", "127.0.0.1:8000").split(",")
wsgi_app = "wsgi:app"  # a command-line app (e.g. bench.hello:app) takes precedence
worker_class = "civic.core.worker.CivicThreadWorker"
workers = env("WEB_CONCURRENCY", os.cpu_count() or 2, int)
# Threads per worker, i.e. requests in progress at once in each process. 4 measured best on the
# 2-core box (docs/deploy.md). DATABASE_POOL_SIZE must be at least this, so that no thread ever
# waits for a connection.
threads = env("GUNICORN_THREADS", 4, int)
# Connections one worker holds open (in progress, queued for a thread, or kept alive). Generous,
# so that waiting happens where it is measured (the thread queue), not in the kernel's backlog.
worker_connections = env("GUNICORN_WORKER_CONNECTIONS", 1000, int)
backlog = env("GUNICORN_BACKLOG", 2048, int)

# --- Time limits -----------------------------------------------------------------------------
# For threaded workers this is the main loop's heartbeat, not a per-request limit: a worker
# whose main loop stops for 30 s is killed and replaced. Requests are bounded by the overload
# budget (1 s of queueing), the pool timeout (10 s) and PostgreSQL's statement_timeout.
timeout = env("GUNICORN_TIMEOUT", 30, int)
# On SIGTERM (deploy, shutdown) and when a worker is recycled, requests in progress get this long.
graceful_timeout = env("GUNICORN_GRACEFUL_TIMEOUT", 30, int)
# Idle kept-alive connections are closed after this; the proxy's upstream keepalive_timeout
# must be shorter, so that it never reuses a connection gunicorn is closing.
keepalive = env("GUNICORN_KEEPALIVE", 5, int)

# --- Recycling -------------------------------------------------------------------------------
# Replace each worker after about this many requests, to bound slow memory growth in any
# library; the jitter stops both workers restarting at the same moment.
max_requests = env("GUNICORN_MAX_REQUESTS", 20000, int)
max_requests_jitter = env("GUNICORN_MAX_REQUESTS_JITTER", 2000, int)
preload_app = True
# Heartbeat files on tmpfs: a slow disk must not look like a hung worker. gunicorn creates
# them with mkstemp (private, unpredictable names), so a shared tmpfs is safe.
_SHM = "/dev/shm"  # noqa: S108 - see above
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# --- Logging ---------------------------------------------------------------------------------
accesslog = None
errorlog = "-"
loglevel = env("GUNICORN_LOG_LEVEL", "info")
proc_name = "civic"

# --- Proxies ---------------------------------------------------------------------------------
_trusted_proxies = env("TRUSTED_PROXY_COUNT", 0, int)
forwarded_allow_ips = env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if _trusted_proxies else ""
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# --- Control ---------------------------------------------------------------------------------
# gunicorn's control socket defaults to one path per user, which two servers on one machine
# (make cluster, make bench) would fight over; name one with GUNICORN_CONTROL_SOCKET if wanted.
_control_socket = env("GUNICORN_CONTROL_SOCKET")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True
