"""The gunicorn worker class tells the app how long each request queued for a thread."""

from __future__ import annotations

import time

import pytest
from gunicorn.workers.gthread import ThreadWorker

from civic.core import overload
from civic.core.worker import CivicThreadWorker

pytestmark = pytest.mark.faults


class Conn:
    pass


@pytest.fixture
def worker(monkeypatch):
    seen = {}

    def fake_handle(self, conn):
        seen["wait"] = overload._take_queue_wait()
        return True

    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: None)
    monkeypatch.setattr(ThreadWorker, "handle", fake_handle)
    worker = CivicThreadWorker.__new__(CivicThreadWorker)  # no sockets or arbiter needed
    worker.seen = seen
    return worker


def test_time_between_enqueue_and_handling_is_noted(worker):
    conn = Conn()
    worker.enqueue_req(conn)
    time.sleep(0.05)
    assert worker.handle(conn) is True
    assert 0.05 <= worker.seen["wait"] < 1


def test_nothing_is_left_behind_for_the_next_request_on_the_thread(worker):
    conn = Conn()
    worker.enqueue_req(conn)
    worker.handle(conn)
    assert overload._take_queue_wait() is None


def test_a_connection_never_enqueued_has_no_wait(worker):
    worker.handle(Conn())
    assert worker.seen["wait"] is None
