"""The gunicorn worker class for Civic: gunicorn's threaded worker, timing each request's queue.

gunicorn's ``gthread`` worker accepts connections in its main thread and hands each ready
request to a pool of threads; when every thread is busy, requests wait in the pool's queue,
where the application cannot see them. This subclass notes when a request joined that queue and
tells ``civic.core.overload`` how long it waited once a thread takes it up, so that a request
which has already waited too long is refused at once (503) instead of adding to the backlog.
Named in ``gunicorn.conf.py``: ``worker_class = "civic.core.worker.CivicThreadWorker"``.
"""

from __future__ import annotations

import time

from gunicorn.workers.gthread import ThreadWorker

from civic.core.overload import note_queue_wait


class CivicThreadWorker(ThreadWorker):
    def enqueue_req(self, conn):
        conn.civic_enqueued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        enqueued = getattr(conn, "civic_enqueued_at", None)
        note_queue_wait(None if enqueued is None else time.monotonic() - enqueued)
        try:
            return super().handle(conn)
        finally:
            note_queue_wait(None)
