"""Who may do what with a consultation, at a given moment: small named predicates.

Each predicate joins a role permission (``core.permissions``) with what the consultation's stage
allows (``lifecycle.STAGE_FEATURES``), decided from the stored UTC times at ``now``. Views,
templates and services ask the same predicates; tests run each over every role and stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from civic.consultations.lifecycle import Stage, stage_allows, stage_at
from civic.core.permissions import Permission, has_permission


def can_manage(user) -> bool:
    """Officers: create consultations and see the officer pages."""
    return has_permission(user, Permission.CONSULTATIONS_CONSULTATION_MANAGE)


def _manage_and(user, consultation, feature: str, now: datetime) -> bool:
    return can_manage(user) and stage_allows(consultation, feature, now)


def can_edit(user, consultation, now: datetime) -> bool:
    """Change title, text, dates and scope: draft or scheduled (before it opens)."""
    return _manage_and(user, consultation, "edit", now)


def can_edit_questions(user, consultation, now: datetime) -> bool:
    """Add, change, reorder or delete questions: frozen once the consultation opens."""
    return _manage_and(user, consultation, "edit_questions", now)


def can_schedule(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "schedule", now)


def can_unschedule(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "unschedule", now)


def can_close_early(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "close_early", now)


def can_extend(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "extend", now)


def can_write_outcome(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "write_outcome", now)


def can_publish_outcome(user, consultation, now: datetime) -> bool:
    return _manage_and(user, consultation, "publish_outcome", now)


def can_preview(user, consultation, now: datetime) -> bool:
    """See the questionnaire as a resident would, at any stage (nothing is saved)."""
    return can_manage(user)


def can_export(user, consultation, now: datetime) -> bool:
    """Download the anonymised responses: once there can be any (open or later)."""
    return has_permission(user, Permission.CONSULTATIONS_RESPONSE_EXPORT) and stage_at(consultation, now) in (
        Stage.OPEN,
        Stage.CLOSED,
        Stage.OUTCOME_PUBLISHED,
    )


def can_view(user, consultation, now: datetime) -> bool:
    """Everyone reads a consultation once it is scheduled; a draft only officers."""
    return stage_at(consultation, now) != Stage.DRAFT or can_manage(user)


def can_view_results(user, consultation, now: datetime) -> bool:
    """Results are public once closed, or while open if the officer allowed it."""
    stage = stage_at(consultation, now)
    if stage in (Stage.CLOSED, Stage.OUTCOME_PUBLISHED):
        return True
    return stage == Stage.OPEN and consultation.results_while_open


def can_view_outcome(user, consultation, now: datetime) -> bool:
    return stage_at(consultation, now) == Stage.OUTCOME_PUBLISHED


# --- Answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    reason: str | None = None  # a short stable code, for tests and templates
    message: str = ""


def _lives_in_scope(user, consultation) -> bool:
    scope = {area.id for area in consultation.areas}
    area = user.ward
    while area is not None:  # the ward, its borough, the authority
        if area.id in scope:
            return True
        area = area.parent
    return False


def can_respond(user, consultation, now: datetime) -> Eligibility:
    """May this person answer now? If not, why — in words to show instead of the form.

    Order matters: the stage first (nobody answers a closed consultation), then the account
    (signed in, not suspended, email confirmed, a resident), then where they live.
    """
    stage = stage_at(consultation, now)
    if stage in (Stage.DRAFT, Stage.SCHEDULED):
        return Eligibility(False, "not_open", "This consultation is not open yet.")
    if stage != Stage.OPEN:
        return Eligibility(False, "closed", "This consultation has closed. You can no longer answer it.")
    if user is None or not getattr(user, "is_authenticated", False):
        return Eligibility(False, "sign_in", "Sign in to answer this consultation.")
    if user.is_suspended:
        return Eligibility(False, "suspended", "Your account is suspended, so you cannot answer consultations.")
    if not user.is_verified:
        return Eligibility(False, "unverified", "Confirm your email address before you answer. Check your email for the link.")
    if not has_permission(user, Permission.CONSULTATIONS_RESPONSE_SUBMIT):
        return Eligibility(False, "not_resident", "Only residents can answer consultations.")
    if user.ward is None:
        return Eligibility(False, "no_ward", "Choose the ward where you live in your account details before you answer.")
    if not _lives_in_scope(user, consultation):
        return Eligibility(False, "outside_scope", "This consultation is only for people who live in the areas it covers.")
    return Eligibility(True)
