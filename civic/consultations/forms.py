"""Consultation forms (shape only; the rules live in services.py).

Answer pages are not WTForms classes: their fields come from the questionnaire, so the view reads
``request.form`` and ``services.parse_page`` validates it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from civic.consultations.models import QuestionKind
from civic.core.forms import DateInput, options
from civic.core.templating import LONDON

DATE_HINT = "For example, 27 3 2027"
TIME_HINT = "Use the 24-hour clock, for example 09:00 or 17:30 (UK time)"
REASON_HINT = "This is kept in the audit log with your name and the time."
KIND_CHOICES = [
    (QuestionKind.SINGLE_CHOICE.value, "Single choice (radios)"),
    (QuestionKind.MULTIPLE_CHOICE.value, "Multiple choice (checkboxes)"),
    (QuestionKind.SCALE.value, "Agree–disagree scale (five points and “don't know”)"),
    (QuestionKind.FREE_TEXT.value, "Free text"),
]
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_time(value: str | None) -> time | None:
    match = _TIME.match(value or "")
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class TimeOfDay:
    def __call__(self, form, field):
        if parse_time(field.data) is None:
            raise ValidationError("Enter a time like 09:00 or 17:30")


def london_to_utc(day: date | None, at: time | None) -> datetime | None:
    """A date and time on the UK clock as an aware UTC datetime."""
    if day is None or at is None:
        return None
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _date(label: str) -> DateField:
    return DateField(
        label,
        validators=[InputRequired(message=f"Enter the {label.lower()}")],
        widget=DateInput(),
        format="%d %m %Y",
        description=DATE_HINT,
    )


def _time(label: str, default: str) -> StringField:
    return StringField(label, default=default, validators=[TimeOfDay()], widget=GovTextInput(), description=TIME_HINT)


class ConsultationForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired(message="Enter a title"), Length(max=150, message="The title must be 150 characters or fewer")],
        widget=GovTextInput(),
    )
    summary = TextAreaField(
        "Summary",
        validators=[Length(max=600, message="The summary must be 600 characters or fewer")],
        widget=GovTextArea(),
        description="One or two sentences shown in lists and on the home page.",
    )
    body = TextAreaField(
        "Background",
        validators=[Length(max=20000, message="The background must be 20,000 characters or fewer")],
        widget=GovTextArea(),
        description="What is proposed and why. You can use Markdown: ## headings, lists, [links](https://…).",
    )
    area_ids = SelectMultipleField(
        "Areas this consultation covers",
        coerce=int,
        validators=[DataRequired(message="Choose the areas this consultation covers")],
        widget=GovCheckboxesInput(),
        description="Residents of these areas can answer. Choosing a borough includes its wards.",
    )
    opens_on = _date("Opening date")
    opens_time = _time("Opening time", "09:00")
    closes_on = _date("Closing date")
    closes_time = _time("Closing time", "23:59")
    questions_per_page = IntegerField(
        "Questions on each page",
        default=1,
        validators=[
            InputRequired(message="Enter how many questions to show on each page"),
            NumberRange(1, 50, "Enter a number from 1 to 50"),
        ],
        widget=GovTextInput(),
        description="1 shows one question per page, which suits most people best.",
    )
    results_while_open = BooleanField("Show results while the consultation is open", widget=GovCheckboxInput())
    publish_free_text = BooleanField(
        "Publish free-text answers after moderation", widget=GovCheckboxInput(), description="Otherwise only officers see them."
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def opens_at(self) -> datetime | None:
        return london_to_utc(self.opens_on.data, parse_time(self.opens_time.data))

    def closes_at(self) -> datetime | None:
        return london_to_utc(self.closes_on.data, parse_time(self.closes_time.data))


class QuestionForm(FlaskForm):
    kind = RadioField(
        "Type of question",
        choices=options(KIND_CHOICES),
        validators=[InputRequired(message="Choose the type of question")],
        widget=GovRadioInput(),
    )
    text = StringField(
        "Question",
        validators=[
            DataRequired(message="Enter the question"),
            Length(max=300, message="The question must be 300 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    hint = TextAreaField(
        "Hint (optional)",
        validators=[Length(max=1000, message="The hint must be 1,000 characters or fewer")],
        widget=GovTextArea(),
    )
    required = BooleanField("An answer is required", default=True, widget=GovCheckboxInput())
    options = TextAreaField(
        "Options (choice questions)",
        validators=[Length(max=5000)],
        widget=GovTextArea(),
        description="One option on each line.",
    )
    max_choices = IntegerField(
        "Most options a person may choose (multiple choice, optional)",
        validators=[Optional(), NumberRange(1, 50, "Enter a number from 1 to 50")],
        widget=GovTextInput(),
    )
    max_length = IntegerField(
        "Longest answer in characters (free text, optional)",
        validators=[Optional(), NumberRange(1, 5000, "Enter a number from 1 to 5,000")],
        widget=GovTextInput(),
        description="1,000 if left blank.",
    )
    submit = SubmitField("Save question", widget=GovSubmitInput())

    def option_labels(self) -> list[str]:
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]


def _reason() -> TextAreaField:
    return TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Enter a reason"),
            Length(max=1000, message="The reason must be 1,000 characters or fewer"),
        ],
        widget=GovTextArea(),
        description=REASON_HINT,
    )


class CloseEarlyForm(FlaskForm):
    reason = _reason()
    submit = SubmitField("Close the consultation now", widget=GovSubmitInput())


class ExtendForm(FlaskForm):
    closes_on = _date("New closing date")
    closes_time = _time("New closing time", "23:59")
    reason = _reason()
    submit = SubmitField("Extend", widget=GovSubmitInput())

    def closes_at(self) -> datetime | None:
        return london_to_utc(self.closes_on.data, parse_time(self.closes_time.data))


class OutcomeForm(FlaskForm):
    decision = TextAreaField(
        "What the council decided",
        validators=[
            DataRequired(message="Enter what the council decided"),
            Length(max=20000, message="The decision must be 20,000 characters or fewer"),
        ],
        widget=GovTextArea(),
        description="“We did”: the decision, the reasons, and what happens next. You can use Markdown.",
    )
    submit = SubmitField("Save outcome", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class OutcomeEmailsForm(FlaskForm):
    wanted = RadioField(
        "Do you want an email when the council publishes the outcome of a consultation you answered?",
        choices=options([("yes", "Yes"), ("no", "No")]),
        validators=[InputRequired(message="Select yes or no")],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
