"""This domain's registrations with the shared registries (imported once, from views.py).

Navigation, the home page section, the account page section, "download my data", "delete my
account", the dashboards' activity source and consultation lookup, and the demo seeder.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, select, update

from civic.accounts import services as accounts
from civic.consultations import services
from civic.consultations.lifecycle import Stage
from civic.consultations.models import Answer, Consultation, OutcomeEmailOptOut, Question, QuestionKind, Response
from civic.core.models import utcnow
from civic.core.permissions import Permission
from civic.core.templating import ACCOUNT_SECTIONS, NAVIGATION, NavItem
from civic.dashboards.lookups import ConsultationRef, set_consultation_lookup
from civic.dashboards.metrics import ActivitySource, register_activity_source
from civic.extensions import db
from civic.pages.views import HOME_SECTIONS

PUBLIC_ENDPOINTS = (
    "consultations.index",
    "consultations.detail",
    "consultations.respond",
    "consultations.check",
    "consultations.done",
    "consultations.results",
    "consultations.outcome",
)


# --- Navigation, home page, account page -----------------------------------------------------


def home_section() -> Markup | None:
    """Open consultations first (closing soonest first), then upcoming ones."""
    listing = services.public_listing()
    if not listing.open and not listing.upcoming and not listing.closed:
        return None
    return Markup(render_template("consultations/_home.html", listing=listing))  # noqa: S704 - a rendered, autoescaped template


def account_section() -> Markup | None:
    if not current_user.is_authenticated:
        return None
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template(
            "consultations/_account.html",
            responses=services.my_responses(current_user),
            wants_emails=services.wants_outcome_emails(current_user),
            now=utcnow(),
        )
    )


# --- Download my data, delete my account ------------------------------------------------------


def export_responses(user) -> dict:
    """The person's responses and answers, and their outcome-email choice."""
    out = []
    for response in services.my_responses(user):
        consultation = response.consultation
        answers = services.answers_of(response)
        out.append(
            {
                "consultation": consultation.title,
                "slug": consultation.slug,
                "started_at": response.created_at.isoformat() if response.created_at else None,
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": q.text, "answer": services.describe(q, answers.get(q.id))}
                    for q in consultation.questions
                    if q.id in answers
                ],
            }
        )
    return {"consultation_responses": out, "consultation_outcome_emails": services.wants_outcome_emails(user)}


def on_account_deleted(user) -> None:
    """What happens to a deleted person's responses (see README, "Deleting an account").

    * Open consultation, or never submitted: the response is withdrawn (deleted). The person
      could have changed or withdrawn it until the close, and the final tallies do not exist yet.
    * Closed (or outcome published): the response stays, unlinked from the account, so every
      tally is exactly as it was; its free-text answers lose their words (they may identify
      someone) but still count as answered.
    """
    now = utcnow()
    for response in services.my_responses(user):
        if response.submitted_at is None or response.consultation.stage(now) == Stage.OPEN:
            db.session.delete(response)
            continue
        free_text = select(Question.id).where(
            Question.consultation_id == response.consultation_id, Question.kind == QuestionKind.FREE_TEXT
        )
        db.session.execute(
            update(Answer)
            .where(Answer.response_id == response.id, Answer.question_id.in_(free_text))
            .values(value=None, status=None)
        )
        response.user_id = None
    db.session.execute(delete(OutcomeEmailOptOut).where(OutcomeEmailOptOut.user_id == user.id))


# --- Dashboards -----------------------------------------------------------------------------


def _responses():
    return select(
        Response.user_id.label("user_id"),
        Response.submitted_at.label("occurred_at"),
        Response.consultation_id.label("consultation_id"),
    ).where(Response.submitted_at.is_not(None), Response.user_id.is_not(None))


def _refs() -> list[ConsultationRef]:
    rows = db.session.execute(
        select(Consultation.id, Consultation.slug, Consultation.title).where(Consultation.scheduled_at.is_not(None))
    )
    return [ConsultationRef(*row) for row in rows]


def _find(slug: str) -> ConsultationRef | None:
    row = db.session.execute(
        select(Consultation.id, Consultation.slug, Consultation.title).where(
            Consultation.slug == slug, Consultation.scheduled_at.is_not(None)
        )
    ).first()
    return ConsultationRef(*row) if row else None


def register() -> None:
    if any(item.endpoint == "consultations.index" for item in NAVIGATION):
        return
    NAVIGATION.insert(1, NavItem("Consultations", "consultations.index", prefixes=PUBLIC_ENDPOINTS))
    NAVIGATION.append(
        NavItem(
            "Manage consultations",
            "consultations.manage_list",
            Permission.CONSULTATIONS_CONSULTATION_MANAGE,
            prefixes=("consultations.manage_", "consultations.question_", "consultations.preview"),
        )
    )
    HOME_SECTIONS.insert(0, home_section)
    ACCOUNT_SECTIONS.append(account_section)
    accounts.DATA_EXPORTERS.append(export_responses)
    accounts.DELETION_HOOKS.append(on_account_deleted)
    register_activity_source(ActivitySource("response", "Consultation responses", _responses))
    set_consultation_lookup(_refs, _find)
    from civic import seed
    from civic.consultations.seed import seed_consultations

    seed.SEEDERS.append(seed_consultations)


register()
