"""Admin forms (shape only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from civic.accounts.forms import optional_int
from civic.core.forms import DateInput, options, reason_field
from civic.core.permissions import Role

ROLE_CHOICES = [(r.value, r.label) for r in Role]
REASON_HINT = "This is kept in the audit log with your name and the time."


def _reason() -> TextAreaField:
    return reason_field(description=REASON_HINT)


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or email address", validators=[Optional(), Length(max=100)], widget=GovTextInput())
    role = SelectField("Role", choices=options([("", "Any role"), *ROLE_CHOICES]), validators=[Optional()], widget=GovSelect())
    submit = SubmitField("Search", widget=GovSubmitInput())


class GrantRoleForm(FlaskForm):
    role = SelectField("Role to give", choices=options(ROLE_CHOICES), widget=GovSelect())
    area_id = SelectField("Ward represented (councillors only)", coerce=optional_int, validators=[Optional()], widget=GovSelect())
    reason = _reason()
    submit = SubmitField("Give role", widget=GovSubmitInput())


class RevokeRoleForm(FlaskForm):
    reason = _reason()
    submit = SubmitField("Remove role", widget=GovSubmitInput())


class SuspendForm(FlaskForm):
    reason = _reason()
    until = DateField(
        "Suspended until (optional)",
        validators=[Optional()],
        widget=DateInput(),
        format="%d %m %Y",
        description="Leave blank to suspend until restored. For example, 27 3 2027",
    )
    submit = SubmitField("Suspend account", widget=GovSubmitInput())


class RestoreForm(FlaskForm):
    reason = _reason()
    submit = SubmitField("Restore account", widget=GovSubmitInput())


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    tag = SelectField("Action", validators=[Optional()], widget=GovSelect())
    actor = StringField(
        "Done by (email address or account number)", validators=[Optional(), Length(max=254)], widget=GovTextInput()
    )
    subject_type = SelectField(
        "Subject",
        choices=options(
            [
                ("", "Any subject"),
                ("user", "Account"),
                ("consultation", "Consultation"),
                ("idea", "Idea"),
                ("comment", "Comment"),
                ("answer", "Free-text answer"),
                ("file", "Imported file"),
            ]
        ),
        validators=[Optional()],
        widget=GovSelect(),
    )
    subject_id = StringField("Subject number", validators=[Optional(), Length(max=64)], widget=GovTextInput())
    since = DateField(
        "From", validators=[Optional()], widget=DateInput(), format="%d %m %Y", description="For example, 27 11 2026"
    )
    until = DateField("To (inclusive)", validators=[Optional()], widget=DateInput(), format="%d %m %Y")
    submit = SubmitField("Filter", widget=GovSubmitInput())
