"""The ideas domain plugs into shared registries here (docs/architecture.md "Extension points"):
dashboard activity sources, account data export and deletion, demo seeding."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from civic.accounts.services import DATA_EXPORTERS, DELETION_HOOKS
from civic.consultations.views import DETAIL_SECTIONS, MANAGE_SECTIONS
from civic.dashboards.metrics import ActivitySource, register_activity_source
from civic.ideas import permissions as rules
from civic.ideas.models import Comment, Idea, Support
from civic.ideas.services import (
    collection_for,
    export_ideas_data,
    published_idea_count,
    withdraw_supports_on_deletion,
)


def _ideas():
    return select(
        Idea.author_id.label("user_id"), Idea.created_at.label("occurred_at"), Idea.consultation_id.label("consultation_id")
    ).where(Idea.author_id.is_not(None))


def _supports():
    return (
        select(
            Support.user_id.label("user_id"),
            Support.created_at.label("occurred_at"),
            Idea.consultation_id.label("consultation_id"),
        )
        .join(Idea, Idea.id == Support.idea_id)
        .where(Support.user_id.is_not(None))
    )


def _comments():
    return (
        select(
            Comment.author_id.label("user_id"),
            Comment.created_at.label("occurred_at"),
            Idea.consultation_id.label("consultation_id"),
        )
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Comment.author_id.is_not(None))
    )


register_activity_source(ActivitySource("idea", "Ideas", _ideas))
register_activity_source(ActivitySource("support", "Supports", _supports))
register_activity_source(ActivitySource("comment", "Comments", _comments))

if export_ideas_data not in DATA_EXPORTERS:
    DATA_EXPORTERS.append(export_ideas_data)
if withdraw_supports_on_deletion not in DELETION_HOOKS:
    DELETION_HOOKS.append(withdraw_supports_on_deletion)


def _consultation_section(consultation):
    """The "Ideas" section of a consultation's page: how many, the list, and proposing."""
    collection = collection_for(consultation)
    if collection is None:
        return None
    refusal = rules.cannot_propose(current_user, consultation, collection)
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template(
            "ideas/_consultation_section.html",
            consultation=consultation,
            count=published_idea_count(consultation),
            can_propose=refusal is None,
        )
    )


def _manage_section(consultation):
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template("ideas/_manage_section.html", consultation=consultation, collection=collection_for(consultation))
    )


for registry, section in ((DETAIL_SECTIONS, _consultation_section), (MANAGE_SECTIONS, _manage_section)):
    if section not in registry:
        registry.append(section)

from civic.ideas import seed as _seed  # noqa: E402, F401 - appends the demo seeder and `flask seed scale`
