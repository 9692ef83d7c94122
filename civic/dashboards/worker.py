"""The refresh worker (``flask dashboards refresh --loop``): builds the publication and stores it
for every app server to read, warm from its last build, with a cold build now and then.

A *cold* build counts every activity and protects every cell from nothing. A *warm* build reads
only the activity since the last cold count's cutoff (``queries.History``) and starts the
disclosure control from the partners the last build withheld: at the metro tier on two cores,
~15 s instead of ~100 s. Cold builds are still needed, for what changes before the cutoff (a
support withdrawn, a resident who moves ward or leaves) and to release partners no longer
needed, every ``DASHBOARD_COLD_BUILD_SECONDS``. They run in a child process beside the warm
loop, so that the stored figures stay fresh meanwhile (the child has its own core and its own
connections); when one finishes, the next warm build starts from it. Its publication is not
stored: the warm ones built meanwhile are newer.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable

from flask import Flask, current_app

from civic.core.models import utcnow
from civic.dashboards import queries, store
from civic.extensions import db


class ColdBuild:
    """A cold build in a forked child process; its result is the next warm start."""

    def __init__(self, app: Flask):
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=_cold_child, args=(app, sender), daemon=True)
        self.process.start()
        sender.close()
        self.started = time.monotonic()

    def done(self) -> bool:
        return self.receiver.poll() or not self.process.is_alive()

    def result(self) -> tuple[queries.WarmStart | None, str]:
        """The warm start it built, or None and why not."""
        try:
            status, payload = self.receiver.recv() if self.receiver.poll() else ("error", "the child ended without a result")
        except EOFError:
            status, payload = "error", "the child ended without a result"
        self.stop()
        return (payload, "") if status == "ok" else (None, payload)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self.receiver.close()


def _cold_child(app: Flask, sender) -> None:  # pragma: no cover - runs in the child (tests see its result)
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's connections stay the parent's
            pub = queries.build_publication(utcnow())
            sender.send(("ok", pub.warm_start()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which carries on warm
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def run(loop: bool, every: int, echo: Callable[[str], None]) -> None:
    """Build and store publications: the first cold, then warm every ``every`` seconds (when
    ``loop``), with a cold build in the background every DASHBOARD_COLD_BUILD_SECONDS."""
    app = current_app._get_current_object()
    cold_every = app.config["DASHBOARD_COLD_BUILD_SECONDS"]
    warm: queries.WarmStart | None = None
    cold: ColdBuild | None = None
    cold_at = 0.0
    try:
        while True:
            started = time.monotonic()
            if cold is not None and cold.done():
                result, why = cold.result()
                echo(f"dashboards: cold build in the background {'finished' if result else 'failed: ' + why}")
                warm = result or warm
                cold = None
            if warm is not None and cold is None and started - cold_at >= cold_every:
                cold, cold_at = ColdBuild(app), started
            pub = queries.build_publication(utcnow(), warm)
            store.store(pub)
            took = time.monotonic() - started
            # Warm unless it had nothing to start from, or its history was of another day.
            was_warm = warm is not None and (warm.history is None or pub.history is warm.history)
            if warm is None:
                cold_at = started
            echo(f"dashboards: publication of {len(pub.cells):,} cells stored in {took:.1f} s ({'warm' if was_warm else 'cold'})")
            if not loop:
                return
            warm = pub.warm_start()
            db.session.remove()
            time.sleep(max(0.0, every - took))
    finally:
        if cold is not None:
            cold.stop()
