"""Account forms. They check shape only; the rules live in services.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from civic.accounts.demographics import DIMENSIONS
from civic.core.forms import options

EMAIL_FORMAT = Email(message="Enter an email address in the correct format, like name@example.com", check_deliverability=False)


class StrongPassword:
    """Check a new password as the service will, so every problem shows on the first submit."""

    def __init__(self, email_field: str | None = "email", name_field: str | None = "display_name"):
        self.email_field = email_field
        self.name_field = name_field

    def __call__(self, form, field):
        from civic.accounts.services import password_problem

        email = form[self.email_field].data if self.email_field and self.email_field in form else ""
        name = form[self.name_field].data if self.name_field and self.name_field in form else ""
        problem = password_problem(field.data or "", email=(email or "").strip(), name=(name or "").strip())
        if problem:
            raise ValidationError(problem)


def _demographic_field(key: str) -> RadioField:
    dimension = DIMENSIONS[key]
    return RadioField(
        f"{dimension.question} (optional)",
        choices=options(dimension.form_choices()),
        validators=[Optional()],
        widget=GovRadioInput(),
        description=dimension.hint,
        validate_choice=True,
    )


def optional_int(value) -> int | None:
    """Coerce a select's value; the empty "Select …" option becomes None."""
    if value in (None, ""):
        return None
    return int(value)


def _ward_field() -> SelectField:
    return SelectField(
        "Your ward",
        coerce=optional_int,
        validators=[InputRequired(message="Select your ward")],
        widget=GovSelect(),
        description="The council ward where you live. You can only take part in consultations for your area.",
    )


class DemographicsMixin:
    age_band = _demographic_field("age_band")
    sex = _demographic_field("sex")
    ethnic_group = _demographic_field("ethnic_group")
    disability = _demographic_field("disability")

    def demographics(self) -> dict:
        return {key: getattr(self, key).data for key in DIMENSIONS}


def ward_choices(wards) -> list:
    return options([("", "Select your ward"), *[(w.id, f"{w.name} ({w.parent.name})" if w.parent else w.name) for w in wards]])


class RegisterForm(DemographicsMixin, FlaskForm):
    email = StringField(
        "Email address",
        validators=[DataRequired(message="Enter your email address"), Length(max=254), EMAIL_FORMAT],
        widget=GovTextInput(),
        description="We will send you a link to confirm it.",
    )
    display_name = StringField(
        "Your name",
        validators=[DataRequired(message="Enter your name"), Length(max=60, message="Name must be 60 characters or fewer")],
        widget=GovTextInput(),
        description="Shown next to ideas and comments you post. You can use a first name or a nickname.",
    )
    password = PasswordField(
        "Create a password",
        validators=[DataRequired(message="Enter a password"), StrongPassword()],
        widget=GovPasswordInput(),
        description="At least 12 characters. A few unrelated words together make a good password.",
    )
    ward_id = _ward_field()
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(message="Enter your email address")], widget=GovTextInput())
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password")], widget=GovPasswordInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ResetRequestForm(FlaskForm):
    email = StringField(
        "Email address", validators=[DataRequired(message="Enter your email address"), Length(max=254)], widget=GovTextInput()
    )
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password"), StrongPassword(None, None)],
        widget=GovPasswordInput(),
        description="At least 12 characters. A few unrelated words together make a good password.",
    )
    submit = SubmitField("Set new password", widget=GovSubmitInput())


class ProfileForm(DemographicsMixin, FlaskForm):
    display_name = StringField(
        "Your name",
        validators=[DataRequired(message="Enter your name"), Length(max=60, message="Name must be 60 characters or fewer")],
        widget=GovTextInput(),
    )
    ward_id = _ward_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password")], widget=GovPasswordInput()
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password"), StrongPassword(None, None)],
        widget=GovPasswordInput(),
        description="At least 12 characters. Signing in elsewhere will end when you change it.",
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(message="Enter your password")], widget=GovPasswordInput())
    confirm = BooleanField(
        "I understand that my account and personal details will be deleted and cannot be recovered",
        validators=[DataRequired(message="Confirm that you want to delete your account")],
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Delete my account", widget=GovSubmitInput())


class ResendVerificationForm(FlaskForm):
    submit = SubmitField("Send the link again", widget=GovSubmitInput())


class SignOutForm(FlaskForm):
    submit = SubmitField("Sign out", widget=GovSubmitInput())
