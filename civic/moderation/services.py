"""Moderation rules: reports, the queue, decisions, reviews and officers' account actions.

Every public function that changes something is one unit of work and commits once. Decisions
carry the item's ``version`` the officer saw: a decision on an item that changed since (another
officer decided it, new reports arrived, the author asked for a review) is refused with
``DecisionConflict``, so two officers never decide the same item twice. The version is bumped
under a row lock (PostgreSQL ``FOR UPDATE``; SQLite's write transactions are already serialised
by ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic.core.audit import EventTag, record_event
from civic.core.content import ContentStatus
from civic.core.disclosure import Protected, protect_count, protect_counts, threshold
from civic.core.errors import NotAllowed, NotFound, RuleViolation
from civic.core.mail import queue_email
from civic.core.models import utcnow
from civic.core.permissions import Permission, Role, has_permission
from civic.core.urls import external_url
from civic.extensions import db
from civic.moderation.kinds import KINDS, ModeratedKind, get_kind
from civic.moderation.models import (
    Decision,
    DecisionOutcome,
    ModerationItem,
    QueueReason,
    RejectionReason,
    Report,
    ReportReason,
)

NOTE_MAX = 1000


class AlreadyReported(RuleViolation):
    message = "You have already reported this. An officer will look at it."


class NothingToReport(RuleViolation):
    message = "This cannot be reported."


class DecisionConflict(RuleViolation):
    message = "Someone else has dealt with this item, or it has changed, since you opened it. Check it again before deciding."


class DecisionNotAllowed(RuleViolation):
    message = "That decision does not apply to this item as it stands."


class ReviewNotAvailable(RuleViolation):
    message = "You cannot ask for a review of this."


REPORTABLE_KINDS = frozenset(KINDS)

# Which decisions apply to an item in each status; the second set only while it is in the queue
# (confirming a hide after reports, upholding a rejection on review, keeping a reported item).
TRANSITIONS: dict[str, tuple[frozenset[DecisionOutcome], frozenset[DecisionOutcome]]] = {
    ContentStatus.PENDING: (frozenset({DecisionOutcome.APPROVE, DecisionOutcome.REJECT}), frozenset()),
    ContentStatus.PUBLISHED: (frozenset({DecisionOutcome.HIDE}), frozenset({DecisionOutcome.APPROVE})),
    ContentStatus.HIDDEN: (frozenset({DecisionOutcome.RESTORE}), frozenset({DecisionOutcome.HIDE})),
    ContentStatus.REJECTED: (frozenset({DecisionOutcome.RESTORE}), frozenset({DecisionOutcome.REJECT})),
}
RESULT: dict[DecisionOutcome, ContentStatus] = {
    DecisionOutcome.APPROVE: ContentStatus.PUBLISHED,
    DecisionOutcome.REJECT: ContentStatus.REJECTED,
    DecisionOutcome.HIDE: ContentStatus.HIDDEN,
    DecisionOutcome.RESTORE: ContentStatus.PUBLISHED,
}
NEEDS_REASON = frozenset({DecisionOutcome.REJECT, DecisionOutcome.HIDE})
DECISION_TAGS = {
    DecisionOutcome.APPROVE: EventTag.MODERATION_ITEM_APPROVE,
    DecisionOutcome.REJECT: EventTag.MODERATION_ITEM_REJECT,
    DecisionOutcome.HIDE: EventTag.MODERATION_ITEM_HIDE,
    DecisionOutcome.RESTORE: EventTag.MODERATION_ITEM_RESTORE,
}


def allowed_outcomes(status: str, in_queue: bool) -> list[DecisionOutcome]:
    """The decisions an officer may take on an item in this status (in a stable order)."""
    always, queued = TRANSITIONS.get(status, (frozenset(), frozenset()))
    allowed = always | queued if in_queue else always
    return [o for o in DecisionOutcome if o in allowed]


# --- item state --------------------------------------------------------------------------------


def _kind(name: str) -> ModeratedKind:
    kind = get_kind(name)
    if kind is None:
        raise NotFound()
    return kind


def _load(kind: ModeratedKind, item_id: int, *, for_update: bool = False):
    item = kind.load(item_id, for_update=for_update)
    if item is None:
        raise NotFound()
    return item


def item_state(kind_name: str, item_id: int) -> ModerationItem | None:
    return db.session.scalar(
        select(ModerationItem).where(ModerationItem.subject_type == kind_name, ModerationItem.subject_id == item_id)
    )


def _lock_state(kind_name: str, item_id: int) -> ModerationItem:
    """Moderation's row for an item, created if missing, locked until the transaction ends."""
    query = (
        select(ModerationItem)
        .where(ModerationItem.subject_type == kind_name, ModerationItem.subject_id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    state = db.session.scalar(query)
    if state is not None:
        return state
    try:
        with db.session.begin_nested():
            state = ModerationItem(subject_type=kind_name, subject_id=item_id, version=0, in_queue=False, review_note="")
            db.session.add(state)
    except IntegrityError:
        # Created meanwhile by another transaction (which we waited for): lock that one.
        state = db.session.scalar(query)
    return state


def _queue(state: ModerationItem, reason: QueueReason, at: datetime | None = None) -> None:
    state.version += 1
    if not state.in_queue or reason == QueueReason.REVIEW:
        state.queued_at = at or utcnow()
    state.in_queue = True
    state.queue_reason = reason.value


def item_queued(kind_name: str, item_id: int) -> None:
    """Hook for content domains: an item was just created pending (flushes; the caller commits).

    Optional: the queue lists pending items by their status anyway; calling this stamps the
    time it entered the queue.
    """
    _queue(_lock_state(kind_name, item_id), QueueReason.NEW)
    db.session.flush()


# --- reports -----------------------------------------------------------------------------------


def report_threshold() -> int:
    return int(current_app.config.get("MODERATION_REPORT_THRESHOLD", 3))


def report_content(reporter, subject_type: str, subject_id: int, reason: str, note: str = "") -> Report:
    """Store a resident's report of a published item, queue it, and hide it past the threshold.

    Rules: the reporter holds ``moderation:content:report`` (so not suspended) and has confirmed
    their email address (``NotAllowed``); the kind is
    moderated and the item is published (``NothingToReport``), and not the reporter's own; the
    reason is one of ``ReportReason``; a second report of the same item by the same person
    raises ``AlreadyReported`` (the unique constraint decides, never a prior read). When
    ``MODERATION_REPORT_THRESHOLD`` distinct residents have unresolved reports on it, the item is
    hidden at once (audited as ``moderation:item:hide-by-reports``) and its author told, without
    naming anyone. Reports on one item are serialised by a lock on the item, so concurrent
    reports cannot both miss the threshold.
    """
    if not has_permission(reporter, Permission.MODERATION_CONTENT_REPORT):
        raise NotAllowed("You cannot report content from this account.")
    if not reporter.is_verified:
        # Reports can hide content: only confirmed accounts count, so throwaway sign-ups cannot.
        raise NotAllowed("Confirm your email address before reporting content.")
    kind = get_kind(subject_type)
    if kind is None:
        raise NothingToReport()
    if reason not in {r.value for r in ReportReason}:
        raise RuleViolation("Choose why you are reporting this.", field="reason")
    if len(note or "") > NOTE_MAX:
        raise RuleViolation(f"Your note must be {NOTE_MAX} characters or fewer.", field="note")
    item = kind.load(subject_id, for_update=True)
    if item is None or item.status != ContentStatus.PUBLISHED:
        raise NothingToReport()
    if kind.author_id(item) == reporter.id:
        raise NothingToReport("You cannot report your own contribution.")
    report = Report(subject_type=subject_type, subject_id=subject_id, reporter_id=reporter.id, reason=reason, note=note or "")
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        db.session.rollback()
        raise AlreadyReported() from None
    state = _lock_state(subject_type, subject_id)
    _queue(state, QueueReason.REPORTED)
    count = distinct_reporters(subject_type, subject_id)
    if count >= report_threshold():
        _set_status(kind, item, ContentStatus.HIDDEN)
        record_event(
            EventTag.MODERATION_ITEM_HIDE_BY_REPORTS,
            subject_type=subject_type,
            subject_id=subject_id,
            reason=f"reported by {count} residents",
            details={"from": ContentStatus.PUBLISHED.value, "to": ContentStatus.HIDDEN.value, "reports": count},
        )
        _email_author(kind, item, "moderation_hidden_by_reports", subject="Your contribution has been hidden for review")
    db.session.commit()
    return report


def distinct_reporters(subject_type: str, subject_id: int, *, unresolved_only: bool = True) -> int:
    """How many different residents have reported an item (unresolved reports only by default)."""
    q = select(func.count(func.distinct(Report.reporter_id))).where(
        Report.subject_type == subject_type, Report.subject_id == subject_id
    )
    if unresolved_only:
        q = q.where(Report.resolved_at.is_(None))
    return db.session.scalar(q) or 0


def _set_status(kind: ModeratedKind, item, status: ContentStatus) -> None:
    item.status = status.value
    db.session.flush()


def _email_author(kind: ModeratedKind, item, template: str, *, subject: str, **context) -> None:
    from civic.accounts.models import User

    author_id = kind.author_id(item)
    author = db.session.get(User, author_id) if author_id else None
    if author is None or author.is_deleted:
        return
    queue_email(
        author.email,
        subject,
        template,
        author=author,
        kind=kind,
        shown=kind.shown(item),
        review_url=external_url("moderation.review", kind=kind.name, item_id=item.id),
        policy_url=external_url("moderation.policy"),
        **context,
    )


# --- decisions ---------------------------------------------------------------------------------


def decide(
    officer,
    kind_name: str,
    item_id: int,
    outcome: str,
    *,
    seen_version: int,
    reason: str | None = None,
    note: str = "",
) -> Decision:
    """Approve, reject, hide or restore an item, as seen at ``seen_version``.

    Rules: the officer holds ``moderation:queue:review`` (``NotAllowed``); the item exists and is
    moderated (``NotFound``); it is not the officer's own (field ``outcome``); nobody has decided
    or changed it since the officer saw it (``DecisionConflict``); the outcome applies to its status (``TRANSITIONS``,
    ``DecisionNotAllowed``); reject and hide need a ``RejectionReason`` (field ``reason``); the
    note is at most 1,000 characters. Effects: the status changes, every unresolved report is
    resolved (so later reports start a new count), the item leaves the queue, a ``Decision`` row
    and an audit entry (no content, no note) are written and the author is emailed the decision,
    reason and note.
    """
    if not has_permission(officer, Permission.MODERATION_QUEUE_REVIEW):
        raise NotAllowed()
    kind = _kind(kind_name)
    try:
        outcome = DecisionOutcome(outcome)
    except ValueError:
        raise RuleViolation("Choose a decision.", field="outcome") from None
    if outcome in NEEDS_REASON and reason not in {r.value for r in RejectionReason}:
        raise RuleViolation("Choose the reason for this decision.", field="reason")
    if outcome not in NEEDS_REASON:
        reason = None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise RuleViolation(f"The note must be {NOTE_MAX} characters or fewer.", field="note")
    state = _lock_state(kind_name, item_id)
    if state.version != seen_version:
        db.session.rollback()
        raise DecisionConflict(field="outcome")
    item = _load(kind, item_id, for_update=True)
    if kind.author_id(item) == officer.id:
        db.session.rollback()
        raise RuleViolation("You cannot moderate your own contribution. Leave it for another officer.", field="outcome")
    before = item.status
    if outcome not in allowed_outcomes(before, state.in_queue):
        db.session.rollback()
        raise DecisionNotAllowed(field="outcome")
    now = utcnow()
    submitted_at = state.queued_at if state.in_queue and state.queued_at else kind.submitted_at(item)
    was_review = state.in_queue and state.queue_reason == QueueReason.REVIEW
    state.version += 1
    state.in_queue = False
    state.queue_reason = None
    after = RESULT[outcome]
    _set_status(kind, item, after)
    db.session.execute(
        update(Report)
        .where(Report.subject_type == kind_name, Report.subject_id == item_id, Report.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    decision = Decision(
        subject_type=kind_name,
        subject_id=item_id,
        outcome=outcome.value,
        reason=reason,
        note=note,
        decided_by_id=officer.id,
        submitted_at=submitted_at or now,
        decided_at=now,
    )
    db.session.add(decision)
    db.session.flush()
    record_event(
        DECISION_TAGS[outcome],
        actor=officer,
        subject_type=kind_name,
        subject_id=item_id,
        reason=reason,
        details={"from": before, "to": after.value, "decision": decision.id, "review": was_review},
    )
    can_ask = outcome in NEEDS_REASON and state.review_requested_at is None
    _email_author(
        kind,
        item,
        "moderation_decision",
        subject=f"Your {kind.label.lower()}: {outcome.label.lower()}",
        decision=decision,
        outcome=outcome,
        reason_label=RejectionReason(reason).label if reason else None,
        can_ask=can_ask,
    )
    db.session.commit()
    return decision


def latest_decision(kind_name: str, item_id: int) -> Decision | None:
    return db.session.scalar(
        select(Decision)
        .where(Decision.subject_type == kind_name, Decision.subject_id == item_id)
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(1)
    )


def decisions_on(kind_name: str, item_id: int) -> list[Decision]:
    return list(
        db.session.scalars(
            select(Decision)
            .where(Decision.subject_type == kind_name, Decision.subject_id == item_id)
            .order_by(Decision.decided_at, Decision.id)
        )
    )


# --- reviews -----------------------------------------------------------------------------------


@dataclass
class ReviewView:
    kind: ModeratedKind
    item: object
    decision: Decision | None
    state: ModerationItem | None

    @property
    def already_asked(self) -> bool:
        return bool(self.state and self.state.review_requested_at)

    @property
    def can_ask(self) -> bool:
        return (
            self.decision is not None
            and self.item.status in (ContentStatus.REJECTED, ContentStatus.HIDDEN)
            and not self.already_asked
            and not (self.state and self.state.in_queue)
        )


def review_for(author, kind_name: str, item_id: int) -> ReviewView:
    """What the author of an item sees about its moderation. Only its author (``NotFound``
    otherwise, so that item numbers reveal nothing)."""
    kind = _kind(kind_name)
    item = _load(kind, item_id)
    if author is None or not author.is_authenticated or kind.author_id(item) != author.id:
        raise NotFound()
    return ReviewView(kind, item, latest_decision(kind_name, item_id), item_state(kind_name, item_id))


def request_review(author, kind_name: str, item_id: int, note: str) -> None:
    """The author asks, once per item, for a rejection or hiding to be looked at again.

    Rules: only the item's author (``NotFound``); the item is rejected or hidden after an
    officer's decision and not already waiting in the queue, and no review was asked for before
    (``ReviewNotAvailable``); a note of 1 to 1,000 characters (field ``note``). A suspended author
    may still ask: a review is about their contribution, not taking part. Effects: the item
    returns to the queue (reason "review", with the note) and the request is audited (not the note).
    """
    note = (note or "").strip()
    if not note:
        raise RuleViolation("Tell us why the decision should be looked at again.", field="note")
    if len(note) > NOTE_MAX:
        raise RuleViolation(f"Your note must be {NOTE_MAX} characters or fewer.", field="note")
    view = review_for(author, kind_name, item_id)
    state = _lock_state(kind_name, item_id)
    db.session.refresh(view.item)
    view.state = state
    if not view.can_ask:
        db.session.rollback()
        raise ReviewNotAvailable(field="note")
    state.review_requested_at = utcnow()
    state.review_note = note
    _queue(state, QueueReason.REVIEW)
    record_event(
        EventTag.MODERATION_REVIEW_REQUEST,
        actor=author,
        subject_type=kind_name,
        subject_id=item_id,
        details={"status": view.item.status, "decision": view.decision.id},
    )
    db.session.commit()


# --- the queue ---------------------------------------------------------------------------------


@dataclass
class QueueEntry:
    kind: ModeratedKind
    item: object
    reason: QueueReason
    queued_at: datetime
    version: int
    report_reasons: Counter = field(default_factory=Counter)

    @property
    def shown(self):
        return self.kind.shown(self.item)

    @property
    def consultation(self):
        return self.kind.consultation(self.item)

    @property
    def report_count(self) -> int:
        return sum(self.report_reasons.values())


QUEUE_PAGE_SIZE = 50


def queue_entries(
    *, kind: str | None = None, consultation_id: int | None = None, reason: str | None = None, page: int = 1
) -> tuple[list[QueueEntry], int]:
    """The queue, oldest first: pending items and items queued by reports or review requests.

    Filters: the kind, the consultation, and a reason (a ``QueueReason`` or a ``ReportReason``
    among the item's unresolved reports). Returns one page of ``QUEUE_PAGE_SIZE`` entries (the
    oldest first) and the total; a page past the last is empty.
    """
    states = {
        (s.subject_type, s.subject_id): s for s in db.session.scalars(select(ModerationItem).where(ModerationItem.in_queue))
    }
    all_states: dict[tuple[str, int], ModerationItem] = {}
    entries: list[QueueEntry] = []
    for name, k in KINDS.items():
        if kind and name != kind:
            continue
        pending = k.pending()
        if consultation_id:
            pending = k.with_consultation(pending, consultation_id)
        items = {item.id: item for item in db.session.scalars(pending)}
        queued_ids = [sid for (stype, sid) in states if stype == name and sid not in items]
        if queued_ids:
            query = _for_ids(k, queued_ids)
            if consultation_id:
                query = k.with_consultation(query, consultation_id)
            for item in db.session.scalars(query):
                if k.is_moderated(item):
                    items[item.id] = item
        if items:
            all_states.update(
                {
                    (s.subject_type, s.subject_id): s
                    for s in db.session.scalars(
                        select(ModerationItem).where(
                            ModerationItem.subject_type == name, ModerationItem.subject_id.in_(list(items))
                        )
                    )
                }
            )
        for item in items.values():
            state = all_states.get((name, item.id))
            queued = state is not None and state.in_queue
            entries.append(
                QueueEntry(
                    kind=k,
                    item=item,
                    reason=QueueReason(state.queue_reason) if queued and state.queue_reason else QueueReason.NEW,
                    queued_at=(state.queued_at if queued and state.queued_at else None) or k.submitted_at(item),
                    version=state.version if state else 0,
                )
            )
    _attach_reports(entries)
    if reason:
        if reason in {r.value for r in QueueReason}:
            entries = [e for e in entries if e.reason == reason]
        else:
            entries = [e for e in entries if e.report_reasons.get(reason)]
    entries.sort(key=lambda e: (e.queued_at, e.kind.name, e.item.id))
    start = (max(1, page) - 1) * QUEUE_PAGE_SIZE
    return entries[start : start + QUEUE_PAGE_SIZE], len(entries)


def _for_ids(k: ModeratedKind, ids: list[int]):
    if k.name == "answer":
        from civic.consultations.models import Response

        return k.eager(select(k.model).join(Response, k.model.response_id == Response.id).where(k.model.id.in_(ids)))
    return k.eager(select(k.model).where(k.model.id.in_(ids)))


def _attach_reports(entries: list[QueueEntry]) -> None:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for e in entries:
        by_kind[e.kind.name].append(e.item.id)
    counts: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for name, ids in by_kind.items():
        rows = db.session.execute(
            select(Report.subject_id, Report.reason, func.count())
            .where(Report.subject_type == name, Report.subject_id.in_(ids), Report.resolved_at.is_(None))
            .group_by(Report.subject_id, Report.reason)
        )
        for sid, reason, n in rows:
            counts[(name, sid)][reason] = n
    for e in entries:
        e.report_reasons = counts.get((e.kind.name, e.item.id), Counter())


def open_reports(kind_name: str, item_id: int) -> list[Report]:
    """Unresolved reports on an item, for officers (reporters are not shown to anyone)."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.subject_type == kind_name, Report.subject_id == item_id, Report.resolved_at.is_(None))
            .order_by(Report.created_at)
        )
    )


@dataclass
class ItemView:
    kind: ModeratedKind
    item: object
    state: ModerationItem | None
    reports: list[Report]
    decisions: list[Decision]

    @property
    def version(self) -> int:
        return self.state.version if self.state else 0

    @property
    def in_queue(self) -> bool:
        return self.item.status == ContentStatus.PENDING or bool(self.state and self.state.in_queue)

    @property
    def outcomes(self) -> list[DecisionOutcome]:
        return allowed_outcomes(self.item.status, bool(self.state and self.state.in_queue))


def item_view(kind_name: str, item_id: int) -> ItemView:
    kind = _kind(kind_name)
    item = _load(kind, item_id)
    return ItemView(
        kind, item, item_state(kind_name, item_id), open_reports(kind_name, item_id), decisions_on(kind_name, item_id)
    )


# --- accounts ----------------------------------------------------------------------------------


def account_content(user_id: int) -> dict[str, Counter]:
    """How many of each kind an account has, by status (for the officer's account page)."""
    out: dict[str, Counter] = {}
    for name, k in KINDS.items():
        out[name] = Counter(item.status for item in db.session.scalars(k.by_author(user_id)) if item.status)
    return out


def suspend_account(officer, user, *, reason: str, until: datetime | None, hide_content: bool = False) -> int:
    """An officer suspends a resident's account for a period, optionally hiding all its content.

    Rules: the officer holds ``moderation:queue:review`` and ``accounts:user:suspend``
    (``NotAllowed``); only accounts that hold no role beyond resident (staff and councillors are
    for administrators, field ``reason``); an end date is required (field ``until``); the rest as
    ``accounts.services.suspend_user`` (a reason, not oneself, the end in the future). With
    ``hide_content``, every published or pending idea, comment and answer of the account is
    hidden, each with a ``Decision`` (reason "other", the suspension reason as its note), in one
    audit entry ``moderation:account:hide-content``; the suspension is audited by accounts.
    Everything happens in one transaction. Returns how many items were hidden.
    """
    from civic.accounts import services as accounts

    if not (
        has_permission(officer, Permission.MODERATION_QUEUE_REVIEW) and has_permission(officer, Permission.ACCOUNTS_USER_SUSPEND)
    ):
        raise NotAllowed()
    if user.role_names - {Role.RESIDENT.value}:
        raise RuleViolation("Only residents' accounts can be suspended here. Ask an administrator.", field="reason")
    if until is None:
        raise RuleViolation("Enter the date the suspension ends", field="until")
    hidden = 0
    try:
        if hide_content:
            hidden = _hide_all_content(officer, user, (reason or "").strip())
        accounts.suspend_user(officer, user, reason=reason, until=until)  # commits
    except Exception:
        db.session.rollback()
        raise
    return hidden


def lift_suspension(officer, user, *, reason: str) -> None:
    """An officer ends a resident's suspension before its date, with a reason.

    The same people as ``suspend_account`` (``NotAllowed``; residents' accounts only, field
    ``reason``); the account must be suspended and the reason given (as
    ``accounts.services.restore_user``, which audits it as ``accounts:user:restore``). Content
    hidden with the suspension stays hidden: each item is restored on its own, from the queue.
    """
    from civic.accounts import services as accounts

    if not (
        has_permission(officer, Permission.MODERATION_QUEUE_REVIEW) and has_permission(officer, Permission.ACCOUNTS_USER_SUSPEND)
    ):
        raise NotAllowed()
    if user.role_names - {Role.RESIDENT.value}:
        raise RuleViolation("Only residents' accounts can be restored here. Ask an administrator.", field="reason")
    if not user.is_suspended:
        raise RuleViolation("This account is not suspended", field="reason")
    accounts.restore_user(officer, user, reason=reason)  # commits


def _hide_all_content(officer, user, reason: str) -> int:
    now = utcnow()
    counts: dict[str, int] = {}
    for name, k in KINDS.items():
        ids = [
            item.id
            for item in db.session.scalars(k.by_author(user.id))
            if item.status in (ContentStatus.PUBLISHED, ContentStatus.PENDING)
        ]
        for item_id in ids:
            state = _lock_state(name, item_id)
            item = _load(k, item_id, for_update=True)
            submitted_at = state.queued_at if state.in_queue and state.queued_at else k.submitted_at(item)
            state.version += 1
            state.in_queue = False
            state.queue_reason = None
            _set_status(k, item, ContentStatus.HIDDEN)
            db.session.add(
                Decision(
                    subject_type=name,
                    subject_id=item_id,
                    outcome=DecisionOutcome.HIDE.value,
                    reason=RejectionReason.OTHER.value,
                    note=reason[:NOTE_MAX],
                    decided_by_id=officer.id,
                    submitted_at=submitted_at or now,
                    decided_at=now,
                )
            )
        if ids:
            db.session.execute(
                update(Report)
                .where(Report.subject_type == name, Report.subject_id.in_(ids), Report.resolved_at.is_(None))
                .values(resolved_at=now)
            )
        counts[name] = len(ids)
    record_event(
        EventTag.MODERATION_ACCOUNT_HIDE_CONTENT,
        actor=officer,
        subject_type="user",
        subject_id=user.id,
        reason=reason,
        details=counts,
    )
    return sum(counts.values())


# --- the public policy page --------------------------------------------------------------------


@dataclass
class MonthFigures:
    month: str  # "2026-11"
    label: str  # "November 2026"
    total: Protected
    by_outcome: dict[str, Protected]
    by_reason: dict[str, Protected]
    by_content: dict[str, Protected]  # by kind of content: idea, comment, answer
    median_hours: float | None  # None when there are too few decisions to publish it


def _month_label(key: str) -> str:
    return datetime.strptime(key + "-01", "%Y-%m-%d").replace(tzinfo=UTC).strftime("%B %Y")


def policy_figures(months: int = 12) -> list[MonthFigures]:
    """Decisions by month (newest first): by outcome, by reason, by kind of content, and the median hours from
    submission to decision, every count through ``civic.core.disclosure`` (small counts are shown
    as "fewer than 10"); the median only for a month with at least the threshold of decisions."""
    now = utcnow()
    start_year, start_month = now.year, now.month - months + 1
    while start_month <= 0:
        start_month += 12
        start_year -= 1
    start = datetime(start_year, start_month, 1, tzinfo=UTC)
    grouped: dict[str, list[Decision]] = defaultdict(list)
    for d in db.session.scalars(select(Decision).where(Decision.decided_at >= start)):
        grouped[d.decided_at.strftime("%Y-%m")].append(d)
    out = []
    for key in sorted(grouped, reverse=True):
        decisions = grouped[key]
        outcome_counts = {o.value: sum(1 for d in decisions if d.outcome == o.value) for o in DecisionOutcome}
        by_outcome, total = protect_counts(outcome_counts, len(decisions))
        with_reason = [d for d in decisions if d.reason]
        reason_counts = {r.value: sum(1 for d in with_reason if d.reason == r.value) for r in RejectionReason}
        by_reason, _ = protect_counts(reason_counts, len(with_reason))
        content_counts = {k: sum(1 for d in decisions if d.subject_type == k) for k in KINDS}
        by_content, _ = protect_counts(content_counts, len(decisions))
        hours = [(d.decided_at - d.submitted_at).total_seconds() / 3600 for d in decisions]
        median = round(statistics.median(hours), 1) if len(decisions) >= threshold() else None
        out.append(
            MonthFigures(
                key, _month_label(key), total or protect_count(len(decisions)), by_outcome, by_reason, by_content, median
            )
        )
    return out
