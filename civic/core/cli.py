"""`flask audit …` and `flask mail …`."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from civic.core import audit, mail
from civic.extensions import db

audit_cli = AppGroup("audit", help="Check the tamper-evident audit log.")
mail_cli = AppGroup("mail", help="Deliver queued email.")


@audit_cli.command("verify")
@click.option("--head", "head", help="A head published earlier, as SEQ:HASH (from `flask audit head`).")
def verify(head: str | None):
    """Check every entry of the hash chain; name the first one that does not fit."""
    expected = None
    if head:
        try:
            seq, digest = head.split(":", 1)
            expected = (int(seq), digest.strip())
        except ValueError as exc:
            raise click.UsageError("--head must look like 1234:9f86d081…") from exc
    result = audit.verify_chain(expected)
    if not result.ok:
        raise click.ClickException(f"Audit log check FAILED after {result.entries} entries: {result.problem}.")
    click.echo(f"Audit log OK: {result.entries} entries, head {result.head_seq}:{result.head_hash}")


@audit_cli.command("head")
def head():
    """Print the current head (SEQ:HASH) to publish, so truncation can be detected later."""
    result = audit.verify_chain()
    if not result.ok:
        raise click.ClickException(f"The chain does not verify: {result.problem}.")
    click.echo(f"{result.head_seq or 0}:{result.head_hash or audit.GENESIS_HASH}")


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running, checking the outbox every few seconds.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between checks with --loop.")
def deliver(loop: bool, interval: float):
    """Send queued emails (run this as a worker in production: MAIL_DELIVERY=worker).

    With --loop, a database outage does not end the worker: it waits and tries again, so it
    carries on by itself when the database returns.
    """
    while True:
        try:
            sent, failed = mail.deliver_pending()
        except OperationalError as exc:
            if not loop:
                raise
            db.session.rollback()
            click.echo(f"database unavailable ({type(exc).__name__}); trying again in {interval:g} s", err=True)
            time.sleep(interval)
            continue
        if sent or failed or not loop:
            click.echo(f"sent {sent}, failed {failed}")
        if not loop:
            return
        if not sent:
            time.sleep(interval)
