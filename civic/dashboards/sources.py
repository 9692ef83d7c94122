"""Reference activity sources over the content tables, and a consultation lookup (not registered).

The consultations and ideas domains register their own sources from their packages (see the
README, "Plugging in an activity kind"). These are the shapes the dashboards expect of them,
used by the dashboards' tests and benchmark, and usable as they are: ``register_content_sources()``.
"""

from __future__ import annotations

from sqlalchemy import select

from civic.dashboards import lookups
from civic.dashboards.metrics import ActivitySource, register_activity_source
from civic.extensions import db


def content_sources() -> list[ActivitySource]:
    from civic.consultations.models import Response
    from civic.ideas.models import Comment, Idea, Support

    return [
        ActivitySource(
            "response",
            "Consultation responses",
            lambda: select(
                Response.user_id.label("user_id"),
                Response.submitted_at.label("occurred_at"),
                Response.consultation_id.label("consultation_id"),
            ).where(Response.submitted_at.is_not(None)),
        ),
        ActivitySource(
            "idea",
            "Ideas",
            lambda: select(
                Idea.author_id.label("user_id"),
                Idea.created_at.label("occurred_at"),
                Idea.consultation_id.label("consultation_id"),
            ),
        ),
        ActivitySource(
            "support",
            "Supports",
            lambda: select(
                Support.user_id.label("user_id"),
                Support.created_at.label("occurred_at"),
                Idea.consultation_id.label("consultation_id"),
            ).join(Idea, Idea.id == Support.idea_id),
        ),
        ActivitySource(
            "comment",
            "Comments",
            lambda: select(
                Comment.author_id.label("user_id"),
                Comment.created_at.label("occurred_at"),
                Idea.consultation_id.label("consultation_id"),
            ).join(Idea, Idea.id == Comment.idea_id),
        ),
    ]


def consultation_refs() -> list[lookups.ConsultationRef]:
    from civic.consultations.models import Consultation

    rows = db.session.execute(select(Consultation.id, Consultation.slug, Consultation.title)).all()
    return [lookups.ConsultationRef(r.id, r.slug, r.title) for r in rows]


def register_content_sources() -> None:
    for source in content_sources():
        register_activity_source(source)
    lookups.set_consultation_lookup(consultation_refs)
