"""Who may do what with ideas: predicates used by services (at the moment of the write) and pages.

Each predicate returns a ``Refusal`` (falsy when allowed) so that services can raise the
specific message and pages can explain why a button is missing. Eligibility for proposing,
supporting and commenting is the same as for answering a consultation:

* signed in, holding the permission (a suspended account holds none of these: core/permissions.py);
* email address verified;
* home ward inside the consultation's scope: the ward itself, its borough or the authority is
  one of the consultation's areas (walking ``Area.parent``);
* the consultation is open at ``now`` (``lifecycle.stage_at``) and collects ideas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from civic.areas.models import Area
from civic.consultations.lifecycle import stage_allows
from civic.consultations.models import ConsultationArea
from civic.core.content import ContentStatus
from civic.core.memo import Memo
from civic.core.models import utcnow
from civic.core.permissions import Permission, has_permission
from civic.extensions import db

EDIT_WINDOW = timedelta(minutes=30)  # ideas: editable for 30 minutes or until the first support
COMMENT_EDIT_WINDOW = timedelta(minutes=15)
# Authors may not support their own idea: proposing it already says they want it, and counting
# it twice would make every idea start at one. The page says so instead of showing the button.
AUTHORS_MAY_SUPPORT_OWN_IDEA = False


@dataclass(frozen=True)
class Refusal:
    reason: str  # stable key, for tests and templates
    message: str

    def __bool__(self) -> bool:
        return True


SIGN_IN = Refusal("sign_in", "Sign in to take part.")
NO_PERMISSION = Refusal("no_permission", "Your account cannot take part at the moment.")
NOT_VERIFIED = Refusal("not_verified", "Confirm your email address before taking part.")
NOT_IN_AREA = Refusal("not_in_area", "This consultation is for people who live in its area.")
NOT_OPEN = Refusal("not_open", "This consultation is not open.")
NO_IDEAS = Refusal("no_ideas", "This consultation does not collect ideas.")
OWN_IDEA = Refusal("own_idea", "You cannot support your own idea.")
NOT_PUBLISHED = Refusal("not_published", "This idea is not published.")
WITHDRAWN = Refusal("withdrawn", "This idea has been withdrawn.")


def ward_in_scope(ward, areas) -> bool:
    """Is the ward (or its borough, or its authority) one of the consultation's areas?"""
    if ward is None:
        return False
    scope = {a.id for a in areas}
    area, hops = ward, 0
    while area is not None and hops < 5:
        if area.id in scope:
            return True
        area, hops = area.parent, hops + 1
    return False


# Which areas lie inside each consultation's areas, remembered per process (civic/core/memo.py),
# keyed on the consultation's updated_at: its areas change only through an edit, which sets it.
_SCOPE = Memo("areas inside a consultation's areas", seconds=60)


def area_ids_in_scope(consultation) -> frozenset[int]:
    """Ids of the consultation's areas and of every area inside them (one query on ids)."""

    def compute() -> frozenset[int]:
        parent = aliased(Area)
        scope = select(ConsultationArea.area_id).where(ConsultationArea.consultation_id == consultation.id)
        return frozenset(
            db.session.scalars(
                select(Area.id)
                .outerjoin(parent, parent.id == Area.parent_id)
                .where(or_(Area.id.in_(scope), Area.parent_id.in_(scope), parent.parent_id.in_(scope)))
            )
        )

    return _SCOPE.get((consultation.id, consultation.updated_at), compute)


def lives_in_scope(user, consultation) -> bool:
    """``ward_in_scope`` for a person: their ward is one of the consultation's areas or inside one."""
    ward_id = getattr(user, "ward_id", None)
    return ward_id is not None and ward_id in area_ids_in_scope(consultation)


def _participation(user, consultation, permission: Permission, feature: str, now: datetime | None):
    if user is None or not getattr(user, "is_authenticated", False):
        return SIGN_IN
    if not has_permission(user, permission):
        return NO_PERMISSION
    if not user.is_verified:
        return NOT_VERIFIED
    if not stage_allows(consultation, feature, now or utcnow()):
        return NOT_OPEN
    if not lives_in_scope(user, consultation):
        return NOT_IN_AREA
    return None


def cannot_propose(user, consultation, collection, now: datetime | None = None) -> Refusal | None:
    if collection is None:
        return NO_IDEAS
    return _participation(user, consultation, Permission.IDEAS_IDEA_SUBMIT, "propose", now)


def _on_published_idea(user, idea, permission: Permission, feature: str, now: datetime | None) -> Refusal | None:
    """Taking part on an idea: the consultation's rules for ``feature``, on a published idea."""
    refusal = _participation(user, idea.consultation, permission, feature, now)
    if refusal:
        return refusal
    if idea.status != ContentStatus.PUBLISHED.value:
        return NOT_PUBLISHED
    if idea.withdrawn_at is not None:
        return WITHDRAWN
    return None


def cannot_support(user, idea, now: datetime | None = None) -> Refusal | None:
    """Also used to withdraw a support: the same people, while the consultation is open."""
    refusal = _on_published_idea(user, idea, Permission.IDEAS_IDEA_SUPPORT, "support", now)
    if refusal:
        return refusal
    if not AUTHORS_MAY_SUPPORT_OWN_IDEA and idea.author_id == user.id:
        return OWN_IDEA
    return None


def cannot_comment(user, idea, now: datetime | None = None) -> Refusal | None:
    return _on_published_idea(user, idea, Permission.IDEAS_COMMENT_SUBMIT, "comment", now)


def is_officer(user) -> bool:
    return has_permission(user, Permission.IDEAS_IDEA_RESPOND)


def can_see_idea(user, idea) -> bool:
    """Published ideas are public; pending, hidden and rejected ones only to the author and officers."""
    if idea.status == ContentStatus.PUBLISHED.value:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return idea.author_id == user.id or has_permission(user, Permission.MODERATION_QUEUE_REVIEW) or is_officer(user)


def can_see_comment(user, comment) -> bool:
    if comment.status == ContentStatus.PUBLISHED.value:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return comment.author_id == user.id or has_permission(user, Permission.MODERATION_QUEUE_REVIEW)


def can_edit_idea(user, idea, now: datetime | None = None) -> bool:
    """The author, within 30 minutes of posting and before anyone supports it; not once withdrawn."""
    now = now or utcnow()
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and idea.author_id == user.id
        and has_permission(user, Permission.IDEAS_IDEA_SUBMIT)
        and idea.withdrawn_at is None
        and idea.support_count == 0
        and now - idea.created_at <= EDIT_WINDOW
    )


def can_withdraw_idea(user, idea) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and idea.author_id == user.id
        and has_permission(user, Permission.IDEAS_IDEA_SUBMIT)
        and idea.withdrawn_at is None
    )


def can_edit_comment(user, comment, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and comment.author_id == user.id
        and has_permission(user, Permission.IDEAS_COMMENT_SUBMIT)
        and comment.deleted_at is None
        and now - comment.created_at <= COMMENT_EDIT_WINDOW
    )


def can_delete_comment(user, comment) -> bool:
    """Authors may delete their own comment at any time (it shows as "comment removed")."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and comment.author_id == user.id
        and comment.deleted_at is None
    )


def can_respond(user) -> bool:
    return has_permission(user, Permission.IDEAS_IDEA_RESPOND)


def can_manage_collection(user) -> bool:
    return has_permission(user, Permission.CONSULTATIONS_CONSULTATION_MANAGE)
