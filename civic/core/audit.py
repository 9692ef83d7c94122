"""An append-only, hash-chained audit log.

Every entry records who did what to which subject, when (UTC) and why, and nothing more:
never ballot or answer content, never more personal data than an account id. Each entry's
hash covers the previous entry's hash and the entry's own canonical content, so editing,
deleting, inserting or reordering an entry breaks the chain at that entry. Truncating the tail
is detected against a head published earlier (``flask audit head``).

Writers are serialised so that two concurrent actions can never both extend the same head
(a fork): PostgreSQL takes a transaction-scoped advisory lock; SQLite's write transactions
already hold the database's single write lock (see ``civic.core.db``). A unique sequence
number backs this up. ``record_event`` only adds to the session: the calling service commits,
so the entry exists if and only if the action it describes does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import has_request_context, request
from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from civic.core.models import UTCDateTime, utcnow
from civic.extensions import db

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 7_202_611  # any constant shared by every writer


class EventTag(StrEnum):
    """What happened, as ``source:subject:action``."""

    ACCOUNT_ADMIN_CREATE = "accounts:admin:create"
    ACCOUNT_ROLE_GRANT = "accounts:role:grant"
    ACCOUNT_ROLE_REVOKE = "accounts:role:revoke"
    ACCOUNT_USER_DELETE = "accounts:user:delete"
    ACCOUNT_USER_RESTORE = "accounts:user:restore"
    ACCOUNT_USER_SUSPEND = "accounts:user:suspend"
    AREAS_BOUNDARIES_IMPORT = "areas:boundaries:import"
    AREAS_CENSUS_IMPORT = "areas:census:import"

    # --- consultations (lifecycle, outcome, exports) ---
    CONSULTATION_CREATE = "consultations:consultation:create"
    CONSULTATION_EDIT = "consultations:consultation:edit"
    CONSULTATION_QUESTION_ADD = "consultations:question:add"
    CONSULTATION_QUESTION_EDIT = "consultations:question:edit"
    CONSULTATION_QUESTION_MOVE = "consultations:question:move"
    CONSULTATION_QUESTION_DELETE = "consultations:question:delete"
    CONSULTATION_SCHEDULE = "consultations:consultation:schedule"
    CONSULTATION_UNSCHEDULE = "consultations:consultation:unschedule"
    CONSULTATION_CLOSE_EARLY = "consultations:consultation:close_early"
    CONSULTATION_EXTEND = "consultations:consultation:extend"
    CONSULTATION_OUTCOME_EDIT = "consultations:outcome:edit"
    CONSULTATION_OUTCOME_PUBLISH = "consultations:outcome:publish"
    CONSULTATION_RESPONSES_EXPORT = "consultations:responses:export"

    # --- ideas (official responses) ---
    IDEAS_COLLECTION_UPDATE = "ideas:collection:update"
    IDEAS_IDEA_RESPOND = "ideas:idea:respond"

    # --- moderation (decisions, reviews, report hiding, suspensions by officers) ---
    MODERATION_ITEM_APPROVE = "moderation:item:approve"
    MODERATION_ITEM_REJECT = "moderation:item:reject"
    MODERATION_ITEM_HIDE = "moderation:item:hide"
    MODERATION_ITEM_RESTORE = "moderation:item:restore"
    MODERATION_ITEM_HIDE_BY_REPORTS = "moderation:item:hide-by-reports"
    MODERATION_REVIEW_REQUEST = "moderation:review:request"
    MODERATION_ACCOUNT_HIDE_CONTENT = "moderation:account:hide-content"


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def canonical(self) -> str:
        return canonical_content(
            seq=self.seq,
            created_at=self.created_at,
            tag=self.tag,
            actor_id=self.actor_id,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            reason=self.reason,
            details=self.details,
        )

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")


def canonical_content(*, seq, created_at, tag, actor_id, subject_type, subject_id, reason, details) -> str:
    """The exact bytes (as text) that an entry's hash covers."""
    return json.dumps(
        {
            "seq": seq,
            "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "tag": tag,
            "actor_id": actor_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "reason": reason,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _lock_chain() -> None:
    session = db.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    elif dialect == "sqlite" and has_request_context() and request.method in {"GET", "HEAD", "OPTIONS"}:
        # A GET transaction does not hold SQLite's write lock; audited actions are POSTs.
        raise RuntimeError("audited actions must run in a POST request or a command")


def record_event(
    tag: EventTag | str,
    *,
    actor=None,
    subject_type: str,
    subject_id,
    reason: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append an entry to the chain inside the caller's transaction (the caller commits)."""
    _lock_chain()
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq = (head.seq + 1) if head else 1
    prev_hash = head.hash if head else GENESIS_HASH
    event = AuditEvent(
        seq=seq,
        created_at=utcnow(),
        tag=str(tag),
        actor_id=getattr(actor, "id", actor),
        subject_type=subject_type,
        subject_id=str(subject_id),
        reason=reason,
        details=json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event.canonical())
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    head_seq: int | None
    head_hash: str | None
    problem: str | None = None
    bad_seq: int | None = None


def verify_chain(expected_head: tuple[int, str] | None = None, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain; name the first entry that does not fit.

    ``expected_head`` is a (seq, hash) pair published earlier: the chain must still contain that
    entry unchanged, which detects a truncated tail.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    last: AuditEvent | None = None
    # The head of an empty log (what `flask audit head` prints before the first entry) is
    # genesis, which every chain contains.
    seen_head = expected_head is None or expected_head == (0, GENESIS_HASH)
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    rows = db.session.execute(query).scalars()
    try:
        for event in rows:
            count += 1
            if event.seq != expected_seq:
                kind = "missing" if event.seq > expected_seq else "out of order"
                return VerifyResult(False, count, None, None, f"entry {expected_seq} is {kind} (found {event.seq})", expected_seq)
            if event.prev_hash != prev_hash:
                return VerifyResult(
                    False, count, None, None, f"entry {event.seq} does not follow entry {event.seq - 1}", event.seq
                )
            if chain_hash(prev_hash, event.canonical()) != event.hash:
                return VerifyResult(False, count, None, None, f"entry {event.seq} has been altered", event.seq)
            if expected_head and event.seq == expected_head[0]:
                if event.hash != expected_head[1]:
                    return VerifyResult(False, count, None, None, f"entry {event.seq} differs from the published head", event.seq)
                seen_head = True
            prev_hash = event.hash
            expected_seq += 1
            last = event
    finally:
        rows.close()
    if not seen_head:
        assert expected_head is not None
        return VerifyResult(
            False,
            count,
            last.seq if last else None,
            last.hash if last else None,
            f"the log ends at entry {last.seq if last else 0}, before the published head {expected_head[0]}: "
            "it has been truncated",
            (last.seq + 1) if last else 1,
        )
    return VerifyResult(True, count, last.seq if last else None, last.hash if last else None)


@dataclass
class EventPage:
    events: list[AuditEvent]
    older_than: int | None  # pass as before_seq for the next page, if there is one


def search_events(
    *,
    tag: str | None = None,
    actor_id: int | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> EventPage:
    """Newest first, filtered; paged by sequence number (no OFFSET, however long the log)."""
    query = select(AuditEvent)
    if tag:
        query = query.where(AuditEvent.tag == tag)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEvent.subject_id == subject_id)
    if since:
        query = query.where(AuditEvent.created_at >= since)
    if until:
        query = query.where(AuditEvent.created_at < until)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    rows = list(db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
    older = rows[limit - 1].seq if len(rows) > limit else None
    return EventPage(rows[:limit], older)


def known_tags() -> list[str]:
    """Every tag the code can write, and any older ones still in the log."""
    stored = set(db.session.scalars(select(AuditEvent.tag).distinct()))
    return sorted(stored | {str(t) for t in EventTag})
