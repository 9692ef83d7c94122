"""Idea forms: shape only; the rules live in services.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from civic.accounts.forms import optional_int
from civic.core.forms import options
from civic.ideas.models import ModerationMode, ResponseStatus
from civic.ideas.services import BODY_MAX, COMMENT_MAX, TITLE_MAX


class IdeaForm(FlaskForm):
    title = StringField(
        "Title",
        description="A short summary, like ‘A zebra crossing outside Hollins school’",
        validators=[DataRequired(message="Enter a title for your idea"), Length(max=TITLE_MAX)],
        widget=GovTextInput(),
    )
    body = TextAreaField(
        "Describe your idea",
        description="What should change, where, and why. You can use Markdown for links and lists.",
        validators=[DataRequired(message="Describe your idea"), Length(max=BODY_MAX)],
        widget=GovCharacterCount(),
    )
    category = SelectField("Category", validators=[Optional()], widget=GovSelect(), validate_choice=False)
    ward_id = SelectField("Ward", coerce=optional_int, validators=[Optional()], widget=GovSelect(), validate_choice=False)
    check = SubmitField("Check for similar ideas", widget=GovSubmitInput())
    submit = SubmitField("Post idea", widget=GovSubmitInput())


class SupportForm(FlaskForm):
    """Only the CSRF token: the idea is in the URL."""


class WithdrawForm(FlaskForm):
    submit = SubmitField("Withdraw this idea", widget=GovSubmitInput())


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Add a comment",
        description="Be kind and stay on topic. You can use Markdown for links and lists.",
        validators=[DataRequired(message="Enter your comment"), Length(max=COMMENT_MAX)],
        widget=GovTextArea(),
    )
    parent_id = HiddenField()
    submit = SubmitField("Post comment", widget=GovSubmitInput())


class EditCommentForm(FlaskForm):
    body = TextAreaField(
        "Your comment",
        validators=[DataRequired(message="Enter your comment"), Length(max=COMMENT_MAX)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Save comment", widget=GovSubmitInput())


class DeleteCommentForm(FlaskForm):
    submit = SubmitField("Delete comment", widget=GovSubmitInput())


class ResponseForm(FlaskForm):
    status = RadioField(
        "The council's decision",
        choices=options([(s.value, s.label) for s in ResponseStatus]),
        validators=[InputRequired(message="Select the council's decision")],
        widget=GovRadioInput(),
    )
    text = TextAreaField(
        "Official response",
        description="Shown on the idea and sent to its author and supporters. Markdown allowed.",
        validators=[DataRequired(message="Enter the council's response"), Length(max=BODY_MAX)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Publish response", widget=GovSubmitInput())


class CollectionForm(FlaskForm):
    enabled = RadioField(
        "Does this consultation collect ideas?",
        choices=options([("yes", "Yes"), ("no", "No")]),
        validators=[InputRequired(message="Select whether this consultation collects ideas")],
        widget=GovRadioInput(),
    )
    moderation = RadioField(
        "Moderation",
        choices=options(
            [
                (ModerationMode.POST.value, "Publish at once; officers act on reports (post-moderation)"),
                (ModerationMode.PRE.value, "An officer approves each idea and comment first (pre-moderation)"),
            ]
        ),
        validators=[Optional()],
        widget=GovRadioInput(),
    )
    threshold = IntegerField(
        "Threshold for an official response, in hundredths of a per cent of eligible adults",
        description="100 means 1% of the adults living in the consultation's area.",
        validators=[InputRequired(message="Enter a threshold"), NumberRange(min=1, max=10_000)],
        widget=GovTextInput(),
    )
    categories = TextAreaField("Categories", description="One a line. Leave empty for no categories.", widget=GovTextArea())
    submit = SubmitField("Save", widget=GovSubmitInput())


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search ideas", validators=[Optional()], widget=GovTextInput())
    sort = HiddenField()
    seed = HiddenField()
