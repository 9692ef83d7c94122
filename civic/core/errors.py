"""Domain errors. Services raise these; views turn them into messages or status codes.

``RuleViolation`` subclasses carry a message meant for the person who caused them, and
optionally the form field it belongs to, so a view can show it beside that field.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, field: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field


class NotFound(DomainError):
    status_code = 404
    message = "Page not found."


class NotAllowed(DomainError):
    status_code = 403
    message = "You do not have permission to do that."


class RuleViolation(DomainError):
    status_code = 409
    message = "That cannot be done."
