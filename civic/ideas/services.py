"""Rules for ideas, supports, comments, thresholds and official responses.

Each public function that writes is one unit of work and commits once. Eligibility is decided
by the predicates in ``permissions.py`` at the moment of the write (``now``).

Exact counts: a support is ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (both dialects), and
``Idea.support_count`` is incremented in the same transaction only if a row was inserted (and
decremented only if a DELETE … RETURNING removed one). The unique constraint on
(idea_id, user_id) decides; nothing is read first. Under PostgreSQL's READ COMMITTED a second
identical insert waits for the first to commit and then inserts nothing; SQLite serialises
writers (BEGIN IMMEDIATE, core/db.py).

Decisions recorded here:
* authors may not support their own idea (``AUTHORS_MAY_SUPPORT_OWN_IDEA``);
* the threshold is ``ceil(eligible adults × basis points / 10,000)``, at least 1; eligible
  adults are the sum of ``Area.adult_population`` over the consultation's areas (an area inside
  another area of the scope is counted once, through the outer one). An area without a figure
  counts as the sum of its children's figures; if any part of the scope has no figure at all,
  the threshold is unknown: the idea page says so and no idea is marked (officers can still
  respond to any idea);
* once reached, the threshold stays reached even if supports are later withdrawn (the officers
  were told; taking that back would help nobody);
* "the consultation's officers" who are emailed when an idea reaches it are every account with
  the officer role (Civic has no per-consultation officer assignment yet), not suspended, not
  deleted, with a verified email address.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, and_, cast, delete, exists, func, literal, or_, select, text, true, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, joinedload, lazyload, load_only, selectinload

from civic.accounts.models import User, UserRole
from civic.areas.models import Area
from civic.consultations.lifecycle import Stage
from civic.consultations.models import Consultation, ConsultationArea
from civic.core.audit import EventTag, record_event
from civic.core.content import ContentStatus
from civic.core.errors import NotAllowed, NotFound, RuleViolation
from civic.core.mail import queue_email
from civic.core.memo import Memo
from civic.core.models import utcnow
from civic.core.permissions import Permission, Role, has_permission
from civic.core.urls import external_url
from civic.extensions import db
from civic.ideas import permissions as perms
from civic.ideas.models import Comment, Idea, IdeaCollection, ModerationMode, ResponseStatus, Support
from civic.ideas.search import match_clause

PAGE_SIZE = 20
TITLE_MAX, BODY_MAX, COMMENT_MAX = 150, 5000, 2000


class Refused(NotAllowed):
    """A participation predicate said no; the message says why."""


class DuplicatePost(RuleViolation):
    message = "You have already posted this. Change it, or find your earlier post."


class EditWindowClosed(RuleViolation):
    message = "This can no longer be changed."


def _refuse(refusal) -> None:
    if refusal:
        raise Refused(refusal.message)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert(table):
    return (pg_insert if _dialect() == "postgresql" else sqlite_insert)(table)


def _serialise_author(user_id: int) -> None:
    """On PostgreSQL, one post at a time per author (the duplicate check then cannot race).

    SQLite already serialises every write transaction (BEGIN IMMEDIATE).
    """
    if _dialect() == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7202612, :uid)"), {"uid": user_id})


# --- Lookups --------------------------------------------------------------------------------


def collection_for(consultation: Consultation) -> IdeaCollection | None:
    return db.session.get(IdeaCollection, consultation.id)


def published_idea_count(consultation: Consultation) -> int:
    """How many ideas anyone can read in a consultation (published, not withdrawn)."""
    return (
        db.session.scalar(
            select(func.count(Idea.id)).where(
                Idea.consultation_id == consultation.id,
                Idea.status == ContentStatus.PUBLISHED.value,
                Idea.withdrawn_at.is_(None),
            )
        )
        or 0
    )


def consultation_by_slug(slug: str) -> Consultation:
    # The areas (with their boundaries) load only if a page asks for them.
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug).options(lazyload(Consultation.areas)))
    if consultation is None:
        raise NotFound()
    return consultation


def get_idea(idea_id: int, *, with_collection: bool = False) -> Idea:
    options = [joinedload(Idea.consultation).options(lazyload(Consultation.areas))]
    if with_collection:
        options.append(joinedload(Idea.collection))
    idea = db.session.get(Idea, idea_id, options=options)
    if idea is None:
        raise NotFound()
    return idea


def visible_idea(user, idea_id: int, *, with_collection: bool = False) -> Idea:
    """The idea if this person may see it; 404 otherwise (a hidden idea's existence is not told)."""
    idea = get_idea(idea_id, with_collection=with_collection)
    if not perms.can_see_idea(user, idea):
        raise NotFound()
    return idea


class WardRow(NamedTuple):
    id: int
    name: str


# Reference data read by every list page and support, remembered per process (civic/core/memo.py).
# Keyed on the consultation's updated_at (its areas change only through an edit, which sets it);
# the adults living there change with a census import, seen within a minute.
_WARDS = Memo("wards in a consultation's scope", seconds=60)
_ADULTS = Memo("adults in a consultation's scope", seconds=60)


def wards_in_scope(consultation: Consultation) -> list:
    """Rows (id, name) of the wards inside the consultation's areas, by name."""

    def compute() -> list:
        parent = aliased(Area)
        scope = select(ConsultationArea.area_id).where(ConsultationArea.consultation_id == consultation.id)
        return [
            WardRow(row.id, row.name)
            for row in db.session.execute(
                select(Area.id, Area.name)
                .outerjoin(parent, parent.id == Area.parent_id)
                .where(
                    Area.level == "ward",
                    or_(Area.id.in_(scope), Area.parent_id.in_(scope), parent.parent_id.in_(scope)),
                )
                .order_by(Area.name)
            )
        ]

    return list(_WARDS.get((consultation.id, consultation.updated_at), compute))


def is_public_consultation(consultation: Consultation, now: datetime | None = None) -> bool:
    return consultation.stage(now) not in (Stage.DRAFT,)


# --- Threshold ------------------------------------------------------------------------------


def _area_adults(area) -> int | None:
    if area.adult_population is not None:
        return area.adult_population
    children = list(area.children)
    if not children:
        return None
    figures = [_area_adults(c) for c in children]
    return None if any(f is None for f in figures) else sum(figures)


def eligible_adult_population(consultation: Consultation) -> int | None:
    """Adults living in the consultation's areas (remembered for a minute: see ``_ADULTS``)."""
    return _ADULTS.get((consultation.id, consultation.updated_at), lambda: _count_eligible_adults(consultation))


def _count_eligible_adults(consultation: Consultation) -> int | None:
    """One query on ids and figures (no boundaries)."""
    parent = aliased(Area)
    rows = db.session.execute(
        select(Area.id, Area.parent_id, parent.parent_id, Area.adult_population)
        .join(ConsultationArea, ConsultationArea.area_id == Area.id)
        .outerjoin(parent, parent.id == Area.parent_id)
        .where(ConsultationArea.consultation_id == consultation.id)
    ).all()
    scope = {row[0] for row in rows}
    total = 0
    for area_id, parent_id, grandparent_id, adults in rows:
        if parent_id in scope or grandparent_id in scope:
            continue  # counted through the outer area
        if adults is None:
            adults = _area_adults(db.session.get(Area, area_id))
            if adults is None:
                return None
        total += adults
    return total or None


def threshold_for(consultation: Consultation, collection: IdeaCollection | None) -> int | None:
    if collection is None:
        return None
    adults = eligible_adult_population(consultation)
    if adults is None:
        return None
    return max(1, math.ceil(adults * collection.threshold_basis_points / 10_000))


def _officers_to_tell() -> list[User]:
    now = utcnow()
    return list(
        db.session.execute(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == Role.OFFICER.value,
                User.deleted_at.is_(None),
                User.email.is_not(None),
                User.email_verified_at.is_not(None),
                or_(User.suspended_at.is_(None), and_(User.suspended_until.is_not(None), User.suspended_until <= now)),
            )
            .order_by(User.id)
        ).scalars()
    )


# --- Ideas ----------------------------------------------------------------------------------


@dataclass
class IdeaDraft:
    title: str
    body: str
    category: str | None = None
    ward_id: int | None = None


def _clean_draft(draft: IdeaDraft, collection: IdeaCollection, consultation: Consultation) -> IdeaDraft:
    title, body = (draft.title or "").strip(), (draft.body or "").strip()
    if not title:
        raise RuleViolation("Enter a title for your idea", field="title")
    if len(title) > TITLE_MAX:
        raise RuleViolation(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    if not body:
        raise RuleViolation("Describe your idea", field="body")
    if len(body) > BODY_MAX:
        raise RuleViolation(f"Description must be {BODY_MAX} characters or fewer", field="body")
    category = draft.category or None
    if collection.categories:
        if category not in collection.categories:
            raise RuleViolation("Select a category", field="category")
    else:
        category = None
    ward_id = draft.ward_id
    if ward_id is not None:
        ward = db.session.get(Area, ward_id)
        if ward is None or ward.level != "ward" or ward_id not in {w.id for w in wards_in_scope(consultation)}:
            raise RuleViolation("Select a ward in this consultation's area", field="ward_id")
    return IdeaDraft(title, body, category, ward_id)


def propose_idea(user, consultation: Consultation, draft: IdeaDraft, now: datetime | None = None) -> Idea:
    """Post an idea: pending under pre-moderation, published under post-moderation.

    Refused: not eligible (permissions.cannot_propose), an identical idea (same title and
    description) already posted by this person in this consultation and not withdrawn.
    """
    now = now or utcnow()
    collection = collection_for(consultation)
    _refuse(perms.cannot_propose(user, consultation, collection, now))
    clean = _clean_draft(draft, collection, consultation)
    if clean.ward_id is None:
        clean.ward_id = user.ward_id
    _serialise_author(user.id)
    duplicate = db.session.scalar(
        select(Idea.id).where(
            Idea.consultation_id == consultation.id,
            Idea.author_id == user.id,
            Idea.withdrawn_at.is_(None),
            func.lower(Idea.title) == clean.title.lower(),
            Idea.body == clean.body,
        )
    )
    if duplicate:
        raise DuplicatePost(field="title")
    pending = collection.moderation == ModerationMode.PRE.value
    idea = Idea(
        consultation_id=consultation.id,
        author_id=user.id,
        title=clean.title,
        body=clean.body,
        category=clean.category,
        ward_id=clean.ward_id,
        status=(ContentStatus.PENDING if pending else ContentStatus.PUBLISHED).value,
        support_count=0,
        created_at=now,
        updated_at=now,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def edit_idea(user, idea: Idea, draft: IdeaDraft, now: datetime | None = None) -> Idea:
    """The author may edit until the first support or for 30 minutes, whichever comes first."""
    now = now or utcnow()
    if not perms.can_edit_idea(user, idea, now):
        raise EditWindowClosed("You can only change an idea in the first 30 minutes, before anyone supports it.", field="title")
    collection = collection_for(idea.consultation)
    clean = _clean_draft(draft, collection, idea.consultation)
    # Re-check against supports that arrived since the page was loaded, in the same statement.
    changed = db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.support_count == 0, Idea.withdrawn_at.is_(None))
        .values(
            title=clean.title,
            body=clean.body,
            category=clean.category,
            ward_id=clean.ward_id or idea.ward_id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise EditWindowClosed("Someone has supported this idea, so it can no longer be changed.", field="title")
    db.session.commit()
    db.session.refresh(idea)
    return idea


def withdraw_idea(user, idea: Idea, now: datetime | None = None) -> Idea:
    """The author withdraws: it stays readable, marked withdrawn; supports stay as they were."""
    if not perms.can_withdraw_idea(user, idea):
        raise Refused("You cannot withdraw this idea.")
    idea.withdrawn_at = now or utcnow()
    db.session.commit()
    return idea


# --- Supports -------------------------------------------------------------------------------


@dataclass
class SupportResult:
    idea_id: int
    supported: bool  # the person's support stands after this call
    changed: bool  # this call inserted or deleted the row
    count: int


def support_idea(user, idea_id: int, now: datetime | None = None) -> SupportResult:
    """Give a support: idempotent (a second call changes nothing) and exact under concurrency."""
    now = now or utcnow()
    idea = visible_idea(user, idea_id, with_collection=True)
    _refuse(perms.cannot_support(user, idea, now))
    stmt = (
        _insert(Support.__table__)
        .values(idea_id=idea.id, user_id=user.id, created_at=now)
        .on_conflict_do_nothing(index_elements=["idea_id", "user_id"])
        .returning(Support.__table__.c.id)
    )
    inserted = db.session.execute(stmt).first() is not None
    if inserted:
        count = db.session.execute(
            update(Idea)
            .where(Idea.id == idea.id)
            .values(support_count=Idea.support_count + 1)
            .returning(Idea.support_count)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        _maybe_mark_threshold(idea, count, now)
    else:
        count = db.session.scalar(select(Idea.support_count).where(Idea.id == idea.id))
    idea_id = idea.id
    db.session.commit()
    return SupportResult(idea_id, True, inserted, count)


def unsupport_idea(user, idea_id: int, now: datetime | None = None) -> SupportResult:
    """Withdraw a support while the consultation is open: idempotent, exact."""
    now = now or utcnow()
    idea = visible_idea(user, idea_id)
    refusal = perms.cannot_support(user, idea, now)
    if refusal and refusal is not perms.WITHDRAWN:
        _refuse(refusal)
    deleted = (
        db.session.execute(
            delete(Support)
            .where(Support.idea_id == idea.id, Support.user_id == user.id)
            .returning(Support.id)
            .execution_options(synchronize_session=False)
        ).first()
        is not None
    )
    if deleted:
        count = db.session.execute(
            update(Idea)
            .where(Idea.id == idea.id)
            .values(support_count=Idea.support_count - 1)
            .returning(Idea.support_count)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    else:
        count = db.session.scalar(select(Idea.support_count).where(Idea.id == idea.id))
    idea_id = idea.id
    db.session.commit()
    return SupportResult(idea_id, False, deleted, count)


def _maybe_mark_threshold(idea: Idea, count: int, now: datetime) -> None:
    if idea.threshold_reached_at is not None:
        return
    threshold = threshold_for(idea.consultation, idea.collection)
    if threshold is None or count < threshold:
        return
    # Only one transaction marks it (and sends the emails), whoever crosses the line.
    marked = db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.threshold_reached_at.is_(None))
        .values(threshold_reached_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not marked:
        return
    url = external_url("ideas.detail", idea_id=idea.id)
    for officer in _officers_to_tell():
        queue_email(
            officer.email,
            "An idea has reached its threshold and needs an official response",
            "idea_threshold",
            idea=idea,
            consultation=idea.consultation,
            count=count,
            threshold=threshold,
            url=url,
        )


def supports_of(user, idea_ids: list[int]) -> set[int]:
    if not idea_ids or user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.execute(select(Support.idea_id).where(Support.user_id == user.id, Support.idea_id.in_(idea_ids)))
        .scalars()
        .all()
    )


# --- Official responses ---------------------------------------------------------------------


def respond_to_idea(officer, idea: Idea, status: str, response_text: str, now: datetime | None = None) -> Idea:
    """An officer's official response; the author and every supporter are emailed."""
    if not perms.can_respond(officer):
        raise NotAllowed()
    if status not in {s.value for s in ResponseStatus}:
        raise RuleViolation("Select the council's decision", field="status")
    response_text = (response_text or "").strip()
    if not response_text:
        raise RuleViolation("Enter the council's response", field="text")
    if len(response_text) > BODY_MAX:
        raise RuleViolation(f"Response must be {BODY_MAX} characters or fewer", field="text")
    if idea.status != ContentStatus.PUBLISHED.value:
        raise RuleViolation("Only a published idea can be answered", field="status")
    now = now or utcnow()
    idea.response_status = status
    idea.response_text = response_text
    idea.responded_at = now
    idea.responded_by_id = officer.id
    record_event(
        EventTag.IDEAS_IDEA_RESPOND,
        actor=officer.id,
        subject_type="idea",
        subject_id=idea.id,
        details={"status": status},
    )
    url = external_url("ideas.detail", idea_id=idea.id)
    recipients = db.session.execute(
        select(User.email)
        .where(
            User.deleted_at.is_(None),
            User.email.is_not(None),
            or_(
                User.id == idea.author_id,
                exists().where(Support.user_id == User.id, Support.idea_id == idea.id),
            ),
        )
        .order_by(User.id)
    ).scalars()
    label = ResponseStatus(status).label
    for email in recipients:
        queue_email(email, f"The council has responded to an idea: {label}", "idea_response", idea=idea, label=label, url=url)
    db.session.commit()
    return idea


# --- Comments -------------------------------------------------------------------------------


def _clean_comment(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise RuleViolation("Enter your comment", field="body")
    if len(body) > COMMENT_MAX:
        raise RuleViolation(f"Comment must be {COMMENT_MAX} characters or fewer", field="body")
    return body


def add_comment(user, idea_id: int, body: str, parent_id: int | None = None, now: datetime | None = None) -> Comment:
    """Comment on a visible, published idea while the consultation is open; one level of replies."""
    now = now or utcnow()
    idea = visible_idea(user, idea_id)
    _refuse(perms.cannot_comment(user, idea, now))
    body = _clean_comment(body)
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.idea_id != idea.id or not perms.can_see_comment(user, parent):
            raise RuleViolation("The comment you are replying to is not here", field="body")
        if parent.parent_id is not None:  # a reply to a reply joins the same thread
            parent_id = parent.parent_id
    _serialise_author(user.id)
    duplicate = db.session.scalar(
        select(Comment.id).where(
            Comment.idea_id == idea.id,
            Comment.author_id == user.id,
            Comment.deleted_at.is_(None),
            Comment.body == body,
        )
    )
    if duplicate:
        raise DuplicatePost("You have already posted this comment.", field="body")
    collection = collection_for(idea.consultation)
    pending = collection is not None and collection.moderation == ModerationMode.PRE.value
    comment = Comment(
        idea_id=idea.id,
        author_id=user.id,
        parent_id=parent_id,
        body=body,
        status=(ContentStatus.PENDING if pending else ContentStatus.PUBLISHED).value,
        created_at=now,
        updated_at=now,
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    return comment


def edit_comment(user, comment: Comment, body: str, now: datetime | None = None) -> Comment:
    now = now or utcnow()
    if not perms.can_edit_comment(user, comment, now):
        raise EditWindowClosed("You can only change a comment in the first 15 minutes.", field="body")
    comment.body = _clean_comment(body)
    comment.edited_at = now
    db.session.commit()
    return comment


def delete_comment(user, comment: Comment, now: datetime | None = None) -> Comment:
    """The author deletes: the text goes, the place stays ("comment removed") so replies make sense."""
    if not perms.can_delete_comment(user, comment):
        raise Refused("You cannot delete this comment.")
    comment.deleted_at = now or utcnow()
    comment.body = ""
    db.session.commit()
    return comment


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


THREADS_PER_PAGE = 30


@dataclass
class Threads:
    threads: list[Thread]
    page: int
    has_next: bool


def _visible_comments(user):
    if user is not None and getattr(user, "is_authenticated", False):
        if has_permission(user, Permission.MODERATION_QUEUE_REVIEW):
            return true()
        return or_(Comment.status == ContentStatus.PUBLISHED.value, Comment.author_id == user.id)
    return Comment.status == ContentStatus.PUBLISHED.value


def threads_for(user, idea: Idea, page: int = 1) -> Threads:
    """30 top-level comments a page, oldest first, each with all its replies: three queries."""
    page = max(1, page)
    visible = _visible_comments(user)
    top_ids = list(
        db.session.execute(
            select(Comment.id)
            .where(Comment.idea_id == idea.id, Comment.parent_id.is_(None), visible)
            .order_by(Comment.id)
            .limit(THREADS_PER_PAGE + 1)
            .offset((page - 1) * THREADS_PER_PAGE)
        ).scalars()
    )
    has_next = len(top_ids) > THREADS_PER_PAGE
    top_ids = top_ids[:THREADS_PER_PAGE]
    if not top_ids:
        return Threads([], page, False)
    comments = (
        db.session.execute(
            select(Comment)
            .where(
                Comment.idea_id == idea.id,
                or_(Comment.id.in_(top_ids), and_(Comment.parent_id.in_(top_ids), visible)),
            )
            .options(
                selectinload(Comment.author).options(
                    load_only(User.id, User.display_name), lazyload(User.ward), lazyload(User.roles)
                )
            )
            .order_by(Comment.parent_id.is_not(None), Comment.id)
        )
        .scalars()
        .all()
    )
    threads: dict[int, Thread] = {}
    for c in comments:
        if c.parent_id is None:
            threads[c.id] = Thread(c)
        elif c.parent_id in threads:
            threads[c.parent_id].replies.append(c)
    return Threads(list(threads.values()), page, has_next)


# --- Reports --------------------------------------------------------------------------------


def report_idea(user, idea_id: int, reason: str, note: str = ""):
    from civic.moderation.services import report_content

    idea = visible_idea(user, idea_id)
    return report_content(user, "idea", idea.id, reason, note)


def report_comment(user, comment_id: int, reason: str, note: str = ""):
    from civic.moderation.services import report_content

    comment = get_comment(comment_id)
    if not perms.can_see_comment(user, comment) or not perms.can_see_idea(user, comment.idea):
        raise NotFound()
    return report_content(user, "comment", comment.id, reason, note)


# --- Collection settings (officers) ---------------------------------------------------------


@dataclass
class CollectionSettings:
    enabled: bool
    moderation: str = ModerationMode.POST.value
    threshold_basis_points: int = 100
    categories: list[str] = field(default_factory=list)


def save_collection(officer, consultation: Consultation, settings: CollectionSettings) -> IdeaCollection | None:
    """Turn idea collection on or off for a consultation and set how it works.

    Turning it off is refused once ideas exist (they would vanish from sight).
    """
    if not perms.can_manage_collection(officer):
        raise NotAllowed()
    collection = collection_for(consultation)
    if not settings.enabled:
        if collection is None:
            return None
        has_ideas = db.session.scalar(select(func.count(Idea.id)).where(Idea.consultation_id == consultation.id))
        if has_ideas:
            raise RuleViolation("This consultation already has ideas, so it must keep collecting them", field="enabled")
        db.session.delete(collection)
        record_event(
            EventTag.IDEAS_COLLECTION_UPDATE,
            actor=officer.id,
            subject_type="consultation",
            subject_id=consultation.id,
            details={"enabled": False},
        )
        db.session.commit()
        return None
    if settings.moderation not in {m.value for m in ModerationMode}:
        raise RuleViolation("Select how ideas are moderated", field="moderation")
    if not 1 <= settings.threshold_basis_points <= 10_000:
        raise RuleViolation("Enter a threshold between 0.01% and 100%", field="threshold")
    categories = []
    for raw in settings.categories:
        name = raw.strip()
        if not name:
            continue
        if len(name) > 80:
            raise RuleViolation("Each category must be 80 characters or fewer", field="categories")
        if name.lower() not in {c.lower() for c in categories}:
            categories.append(name)
    if collection is None:
        collection = IdeaCollection(consultation_id=consultation.id)
        db.session.add(collection)
    collection.moderation = settings.moderation
    collection.threshold_basis_points = settings.threshold_basis_points
    collection.categories_json = json.dumps(categories)
    record_event(
        EventTag.IDEAS_COLLECTION_UPDATE,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"enabled": True, "moderation": settings.moderation, "threshold_bp": settings.threshold_basis_points},
    )
    db.session.commit()
    return collection


# --- Lists and search -----------------------------------------------------------------------

SORTS = ("top", "new", "random")
STATUS_FILTERS = {
    "awaiting": "Awaiting a response",
    **{s.value: s.label for s in ResponseStatus},
}
# A large prime for the seeded shuffle: order by (id × multiplier + seed) mod prime.
_PRIME = 2_147_483_647


@dataclass
class ListQuery:
    sort: str = "top"
    seed: int | None = None
    status: str | None = None
    category: str | None = None
    ward_id: int | None = None
    q: str = ""
    page: int = 1


@dataclass
class IdeaPage:
    ideas: list[Idea]
    page: int
    has_next: bool
    query: ListQuery


class IdeaStamp(NamedTuple):
    """What a list card shows that can change: two equal stamps show the same card."""

    id: int
    support_count: int
    updated_at: datetime | None
    threshold_reached_at: datetime | None
    response_status: str | None


@dataclass
class IdeaPageIndex:
    """One page of a list as stamps, in order: enough to tell whether its cards have changed."""

    stamps: list[IdeaStamp]
    page: int
    has_next: bool
    query: ListQuery

    @property
    def ids(self) -> list[int]:
        return [s.id for s in self.stamps]


def new_seed() -> int:
    return random.SystemRandom().randint(1, 999_999)


# Where each page of an unfiltered "most supported" / "newest" list starts, per process:
# {(database, consultation id, its created_at, sort): (expires, [(support_count, id) of the
# first idea of each page])}. Page N is then a keyset query from its start (an index range
# scan of 21 entries) instead of an OFFSET over 20·(N−1) entries. The starts are at most
# PAGE_STARTS_SECONDS old: a page may then repeat or skip an idea whose count just changed —
# exactly what paging by OFFSET does when counts change between two page loads.
PAGE_STARTS_SECONDS = 30.0
_PAGE_STARTS = Memo("first idea of each page", seconds=PAGE_STARTS_SECONDS)


def _page_start(consultation: Consultation, sort: str, page: int, conditions) -> tuple[int, int] | None:
    def compute() -> list[tuple[int, int]]:
        order = [Idea.id.desc()] if sort == "new" else [Idea.support_count.desc(), Idea.id.desc()]
        numbered = (
            select(Idea.support_count, Idea.id, func.row_number().over(order_by=order).label("n"))
            .where(and_(*conditions))
            .subquery()
        )
        return [
            (count, idea_id)
            for count, idea_id in db.session.execute(
                select(numbered.c.support_count, numbered.c.id).where((numbered.c.n - 1) % PAGE_SIZE == 0).order_by(numbered.c.n)
            ).all()
        ]

    starts = _PAGE_STARTS.get((consultation.id, consultation.created_at, sort), compute)
    return starts[page - 1] if page - 1 < len(starts) else None


def list_ideas(consultation: Consultation, query: ListQuery) -> IdeaPage:
    """One page of published, not withdrawn ideas: two statements whatever the page size."""
    index = list_index(consultation, query)
    return IdeaPage(ideas_by_id(index.ids), index.page, index.has_next, query)


def ideas_by_id(ids: list[int]) -> list[Idea]:
    """The ideas with these ids, in this order, with their wards' names (one statement)."""
    if not ids:
        return []
    rows = {
        i.id: i
        for i in db.session.execute(
            select(Idea).where(Idea.id.in_(ids)).options(selectinload(Idea.ward).load_only(Area.id, Area.name))
        ).scalars()
    }
    return [rows[i] for i in ids if i in rows]


def list_index(consultation: Consultation, query: ListQuery) -> IdeaPageIndex:
    """One page of published, not withdrawn ideas as stamps (``IdeaStamp``), in one statement.

    "Most supported" and "newest" walk ``ix_idea_list_top`` and read the page's 21 rows; one
    row more than a page tells whether there is a next page (no count). Unfiltered, a page
    after the first starts from its cached start (``_page_start``): no OFFSET. Filtered or
    searched lists and the random order page by OFFSET.
    """
    page = max(1, min(query.page, 10_000))
    conditions = [
        Idea.consultation_id == consultation.id,
        Idea.status == ContentStatus.PUBLISHED.value,
        Idea.withdrawn_at.is_(None),
    ]
    if query.status == "awaiting":
        conditions += [Idea.threshold_reached_at.is_not(None), Idea.response_status.is_(None)]
    elif query.status in STATUS_FILTERS:
        conditions.append(Idea.response_status == query.status)
    if query.category:
        conditions.append(Idea.category == query.category)
    if query.ward_id:
        conditions.append(Idea.ward_id == query.ward_id)
    ids = select(Idea.id).where(and_(*conditions))
    match = match_clause(_dialect(), query.q, any_word=False) if query.q.strip() else None
    if query.q.strip() and match is None:
        return IdeaPageIndex([], page, False, query)
    if match is not None:
        ids = ids.where(match[0])
    plain = len(conditions) == 3 and match is None and query.sort in ("top", "new")
    start = _page_start(consultation, query.sort, page, conditions) if plain and page > 1 else None
    if plain and page > 1 and start is None:
        return IdeaPageIndex([], page, False, query)  # past the last page
    if query.sort == "new":
        ids = ids.order_by(Idea.id.desc())
        if start is not None:
            ids = ids.where(Idea.id <= start[1])
    elif query.sort == "random":
        seed = query.seed or 1
        ids = ids.order_by(((cast(Idea.id, BigInteger) * 48_271 + seed) % _PRIME), Idea.id)
    else:
        ids = ids.order_by(Idea.support_count.desc(), Idea.id.desc())
        if start is not None:
            ids = ids.where(tuple_(Idea.support_count, Idea.id) <= tuple_(literal(start[0]), literal(start[1])))
    ids = ids.limit(PAGE_SIZE + 1)
    if start is None:
        ids = ids.offset((page - 1) * PAGE_SIZE)
    found = [IdeaStamp(*row) for row in db.session.execute(ids.with_only_columns(*_STAMP_COLUMNS, maintain_column_froms=True))]
    return IdeaPageIndex(found[:PAGE_SIZE], page, len(found) > PAGE_SIZE, query)


_STAMP_COLUMNS = (Idea.id, Idea.support_count, Idea.updated_at, Idea.threshold_reached_at, Idea.response_status)


def similar_ideas(consultation: Consultation, title: str, *, exclude_id: int | None = None, limit: int = 5) -> list[Idea]:
    """Published ideas in the same consultation sharing words with ``title``, best first."""
    match = match_clause(_dialect(), title, any_word=True)
    if match is None:
        return []
    where, order = match
    stmt = (
        select(Idea)
        .where(
            Idea.consultation_id == consultation.id,
            Idea.status == ContentStatus.PUBLISHED.value,
            Idea.withdrawn_at.is_(None),
            where,
        )
        .order_by(order, Idea.support_count.desc())
        .limit(limit)
    )
    if exclude_id:
        stmt = stmt.where(Idea.id != exclude_id)
    return list(db.session.execute(stmt).scalars())


def pending_ideas_of(user, consultation: Consultation) -> list[Idea]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.execute(
            select(Idea)
            .where(
                Idea.consultation_id == consultation.id,
                Idea.author_id == user.id,
                Idea.status == ContentStatus.PENDING.value,
            )
            .order_by(Idea.id.desc())
        ).scalars()
    )


# --- Account hooks ---------------------------------------------------------------------------


def export_ideas_data(user) -> dict:
    ideas = db.session.execute(select(Idea).where(Idea.author_id == user.id).order_by(Idea.id)).scalars()
    comments = db.session.execute(select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)).scalars()
    supports = db.session.execute(
        select(Support.idea_id, Support.created_at).where(Support.user_id == user.id).order_by(Support.id)
    ).all()
    return {
        "ideas": [
            {
                "id": i.id,
                "title": i.title,
                "body": i.body,
                "category": i.category,
                "status": i.status,
                "created_at": i.created_at.isoformat(),
                "withdrawn_at": i.withdrawn_at.isoformat() if i.withdrawn_at else None,
            }
            for i in ideas
        ],
        "comments": [
            {
                "id": c.id,
                "idea_id": c.idea_id,
                "body": c.body,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "deleted_at": c.deleted_at.isoformat() if c.deleted_at else None,
            }
            for c in comments
        ],
        "supports": [{"idea_id": idea_id, "created_at": at.isoformat()} for idea_id, at in supports],
    }


def withdraw_supports_on_deletion(user, now: datetime | None = None) -> None:
    """Account deletion: supports in consultations still open are withdrawn (and counted down);
    supports in closed consultations stay, so their tallies do not change. No commit: the
    deletion's unit of work commits."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Support.id, Support.idea_id, Consultation)
        .join(Idea, Idea.id == Support.idea_id)
        .join(Consultation, Consultation.id == Idea.consultation_id)
        .where(Support.user_id == user.id)
    ).all()
    for support_id, idea_id, consultation in rows:
        if consultation.stage(now) != Stage.OPEN:
            continue
        gone = db.session.execute(
            delete(Support).where(Support.id == support_id).returning(Support.id).execution_options(synchronize_session=False)
        ).first()
        if gone is not None:
            db.session.execute(
                update(Idea)
                .where(Idea.id == idea_id)
                .values(support_count=Idea.support_count - 1)
                .execution_options(synchronize_session=False)
            )
