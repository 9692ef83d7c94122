"""Form helpers shared by every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice

from civic.core.errors import DomainError


def show_error(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Put a service's refusal beside the field it concerns (GOV.UK error summary links to it)."""
    name = error.field or default_field
    field = getattr(form, name, None) if name else None
    if field is None:
        form.form_errors.append(error.message)
        return
    field.errors = [*list(field.errors or []), error.message]


def has_errors(form: FlaskForm) -> bool:
    return bool(form.errors)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
