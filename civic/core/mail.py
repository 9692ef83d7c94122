"""Email through a transactional outbox.

Services call ``queue_email`` inside their unit of work, so an email exists if and only if the
action that caused it was committed. Delivery is separate:

* ``MAIL_DELIVERY=immediate`` (development, tests): queued emails are sent at the end of the
  request (or command) that queued them;
* ``MAIL_DELIVERY=worker`` (production): ``flask mail deliver --loop`` sends them, so no request
  ever waits for an SMTP server, and a burst (an outcome emailed to thousands) drains steadily.

The backend is Flask-Mailman's: ``file`` writes each email as a file under ``instance/outbox/``,
``smtp`` sends it. Sent rows are deleted, so the outbox keeps no addresses longer than needed.
Bodies are plain text rendered from ``templates/emails/<name>.txt``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, g, render_template
from flask_mailman import EmailMessage
from sqlalchemy import Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from civic.core.models import UTCDateTime, utcnow
from civic.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class OutboundEmail(db.Model):
    __tablename__ = "outbound_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Claimed by a sender until this time; lets several workers share the queue safely.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))


def queue_email(to: str, subject: str, template: str, **context) -> OutboundEmail:
    """Add an email to the outbox in the current transaction (the caller commits)."""
    body = render_template(f"emails/{template}.txt", **context)
    email = OutboundEmail(to_address=to, subject=subject, body=body)
    db.session.add(email)
    g.civic_mail_queued = True
    return email


def _claim(limit: int) -> list[OutboundEmail]:
    now = utcnow()
    candidates = (
        db.session.execute(
            select(OutboundEmail.id)
            .where((OutboundEmail.claimed_until.is_(None)) | (OutboundEmail.claimed_until < now))
            .where(OutboundEmail.attempts < MAX_ATTEMPTS)
            .order_by(OutboundEmail.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    claimed: list[int] = []
    for email_id in candidates:
        # Conditional update: only one sender wins each row, on any database.
        result = db.session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == email_id)
            .where((OutboundEmail.claimed_until.is_(None)) | (OutboundEmail.claimed_until < now))
            .values(claimed_until=now + timedelta(minutes=5), attempts=OutboundEmail.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(email_id)
    db.session.commit()
    if not claimed:
        return []
    return list(db.session.execute(select(OutboundEmail).where(OutboundEmail.id.in_(claimed))).scalars())


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send up to ``limit`` queued emails; returns (sent, failed)."""
    sent = failed = 0
    for email in _claim(limit):
        message = EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=current_app.config["MAIL_DEFAULT_SENDER"],
            to=[email.to_address],
        )
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
            failed += 1
            email.last_error = type(exc).__name__[:200]
            # Back off: try again after a delay that grows with the number of attempts.
            email.claimed_until = utcnow() + timedelta(minutes=2**email.attempts)
            log.warning("email %s not sent (attempt %s): %s", email.id, email.attempts, type(exc).__name__)
        else:
            sent += 1
            db.session.execute(delete(OutboundEmail).where(OutboundEmail.id == email.id))
        db.session.commit()
    return sent, failed


def deliver_queued(_exc=None) -> None:
    """In immediate mode, send what this request or command queued (after its commit)."""
    if current_app.config["MAIL_DELIVERY"] != "immediate" or not g.pop("civic_mail_queued", False):
        return
    try:
        deliver_pending()
    except Exception:  # noqa: BLE001 - the action is committed; the email waits in the outbox
        db.session.rollback()
        log.exception("immediate email delivery failed; emails stay queued")


def init_app(app) -> None:
    # At the end of every request and command: by then the unit of work has committed.
    app.teardown_appcontext(deliver_queued)
