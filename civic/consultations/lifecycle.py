"""The consultation lifecycle: draft → scheduled → open → closed → outcome published.

Only *draft*, *scheduled* and *outcome published* are decisions an officer records; *open* and
*closed* follow from the stored UTC opening and closing times, compared with the time of the
request that asks (``stage_at(consultation, now)``). Nothing changes a stage in the background,
so a form loaded before the close and submitted after it is refused at the moment of the write.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Stage(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    OUTCOME_PUBLISHED = "outcome_published"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "scheduled": "Upcoming",
            "open": "Open",
            "closed": "Closed",
            "outcome_published": "Outcome published",
        }[self.value]


# What each stage allows. Services and predicates ask ``stage_allows(consultation, feature, now)``.
STAGE_FEATURES: dict[Stage, frozenset[str]] = {
    Stage.DRAFT: frozenset({"edit", "edit_questions", "schedule", "preview"}),
    Stage.SCHEDULED: frozenset({"edit", "edit_questions", "unschedule", "preview", "extend", "view"}),
    Stage.OPEN: frozenset({"respond", "propose", "support", "comment", "close_early", "extend", "view"}),
    Stage.CLOSED: frozenset({"write_outcome", "publish_outcome", "view", "results", "comment_read"}),
    Stage.OUTCOME_PUBLISHED: frozenset({"view", "results", "outcome", "comment_read"}),
}


def stage_at(consultation, now: datetime) -> Stage:
    """The stage of a consultation at ``now`` (aware UTC), from its stored facts."""
    if consultation.outcome_published_at is not None:
        return Stage.OUTCOME_PUBLISHED
    if consultation.scheduled_at is None:
        return Stage.DRAFT
    if now < consultation.opens_at:
        return Stage.SCHEDULED
    if now < consultation.closes_at:
        return Stage.OPEN
    return Stage.CLOSED


def stage_allows(consultation, feature: str, now: datetime) -> bool:
    return feature in STAGE_FEATURES[stage_at(consultation, now)]
