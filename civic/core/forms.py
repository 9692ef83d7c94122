"""Form helpers shared by every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextArea
from wtforms import SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length

from civic.core.errors import DomainError


def show_error(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Put a service's refusal beside the field it concerns (GOV.UK error summary links to it)."""
    name = error.field or default_field
    field = getattr(form, name, None) if name else None
    if field is None:
        form.form_errors.append(error.message)
        return
    field.errors = [*list(field.errors or []), error.message]


REASON_MAX = 500


def reason_field(label: str = "Reason", description: str = "") -> TextAreaField:
    """A required reason for a staff action, kept in the audit log (at most 500 characters)."""
    return TextAreaField(
        label,
        validators=[
            DataRequired(message="Enter a reason"),
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer"),
        ],
        widget=GovTextArea(),
        description=description,
    )


def has_errors(form: FlaskForm) -> bool:
    return bool(form.errors)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class DateInput(GovDateInput):
    """GOV.UK day/month/year inputs that also render when the field was not in the submitted form.

    govuk-frontend-wtf expects exactly three raw values whenever any form data was posted, which
    fails on a page with several forms (only one of them is submitted).
    """

    def map_gov_params(self, field, **kwargs):
        raw = field.raw_data
        if raw is not None and len(raw) != 3:
            field.raw_data = None
            try:
                return super().map_gov_params(field, **kwargs)
            finally:
                field.raw_data = raw
        return super().map_gov_params(field, **kwargs)
