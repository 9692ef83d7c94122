"""The status every moderated item carries (ideas, comments, publishable free-text answers).

It lives in core so that content domains need not import moderation, and moderation need not
import them: moderation works on any kind registered with it.
"""

from __future__ import annotations

from enum import StrEnum


class ContentStatus(StrEnum):
    """Where a moderated item (idea, comment, publishable free-text answer) stands."""

    PENDING = "pending"  # waiting for an officer (pre-moderation); seen by its author and officers
    PUBLISHED = "published"
    HIDDEN = "hidden"  # taken down after publication (by an officer or by reports)
    REJECTED = "rejected"  # refused before publication

    @property
    def label(self) -> str:
        return {"pending": "Awaiting moderation", "published": "Published", "hidden": "Hidden", "rejected": "Rejected"}[
            self.value
        ]
