"""Moderation forms (shape only; the rules are in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from civic.core.forms import DateInput, options, reason_field
from civic.moderation.models import DecisionOutcome, QueueReason, RejectionReason, ReportReason

NOTE_MAX = 1000  # services.NOTE_MAX


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    kind = SelectField(
        "Kind",
        choices=options([("", "All kinds"), ("idea", "Ideas"), ("comment", "Comments"), ("answer", "Answers")]),
        validators=[Optional()],
        widget=GovSelect(),
    )
    consultation = SelectField("Consultation", validators=[Optional()], widget=GovSelect())
    reason = SelectField(
        "Reason",
        choices=options(
            [
                ("", "Any reason"),
                *[(r.value, r.label) for r in QueueReason],
                *[(r.value, f"Reported: {r.label[0].lower()}{r.label[1:]}") for r in ReportReason],
            ]
        ),
        validators=[Optional()],
        widget=GovSelect(),
    )
    page = IntegerField(
        "Page", validators=[Optional(), NumberRange(min=1, max=100_000, message="Page must be a number from 1")], default=1
    )
    submit = SubmitField("Filter", widget=GovSubmitInput())


class DecisionForm(FlaskForm):
    outcome = RadioField("Decision", validators=[InputRequired(message="Choose a decision")], widget=GovRadioInput())
    reason = SelectField(
        "Reason (needed to reject or hide)",
        choices=options([("", "Choose a reason"), *[(r.value, r.label) for r in RejectionReason]]),
        validators=[Optional()],
        widget=GovSelect(),
    )
    note = TextAreaField(
        "Note to the author (optional)",
        validators=[Optional(), Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX} characters or fewer")],
        widget=GovTextArea(),
        description="The author is emailed the decision, the reason and this note. Do not name anyone who reported it.",
    )
    version = HiddenField()
    submit = SubmitField("Record decision", widget=GovSubmitInput())

    def __init__(self, outcomes: list[DecisionOutcome], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = options([(o.value, OUTCOME_ACTIONS[o]) for o in outcomes])


OUTCOME_ACTIONS = {
    DecisionOutcome.APPROVE: "Approve (publish, or keep published)",
    DecisionOutcome.REJECT: "Reject",
    DecisionOutcome.HIDE: "Hide",
    DecisionOutcome.RESTORE: "Restore (publish again)",
}


class ReviewRequestForm(FlaskForm):
    note = TextAreaField(
        "Why should we look at this again?",
        validators=[
            DataRequired(message="Tell us why the decision should be looked at again"),
            Length(max=NOTE_MAX, message=f"Your note must be {NOTE_MAX} characters or fewer"),
        ],
        widget=GovTextArea(),
        description="An officer who did not see your note before will read it. You can ask once.",
    )
    submit = SubmitField("Ask for a review", widget=GovSubmitInput())


class SuspendAccountForm(FlaskForm):
    reason = reason_field(description="The person sees this reason. It is kept in the audit log with your name and the time.")
    until = DateField(
        "Suspended until",
        validators=[InputRequired(message="Enter the date the suspension ends")],
        widget=DateInput(),
        format="%d %m %Y",
        description="The suspension ends at the end of this day. For example, 27 3 2027",
    )
    hide_content = BooleanField("Also hide everything this account has posted", widget=GovCheckboxInput())
    submit = SubmitField("Suspend account", widget=GovSubmitInput())


class LiftSuspensionForm(FlaskForm):
    reason = reason_field("Why the suspension ends now", "It is kept in the audit log with your name and the time.")
    submit = SubmitField("End the suspension now", widget=GovSubmitInput())


class ReportForm(FlaskForm):
    """For the content domains' "Report this" pages (they post to moderation.report)."""

    reason = RadioField(
        "Why are you reporting this?",
        choices=options([(r.value, r.label) for r in ReportReason]),
        validators=[InputRequired(message="Choose why you are reporting this")],
        widget=GovRadioInput(),
    )
    note = TextAreaField(
        "Anything else officers should know (optional)",
        validators=[Optional(), Length(max=NOTE_MAX, message=f"Your note must be {NOTE_MAX} characters or fewer")],
        widget=GovTextArea(),
        description="The author will not see your name or this note.",
    )
    submit = SubmitField("Send report", widget=GovSubmitInput())
