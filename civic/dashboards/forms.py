"""The dashboard filters: GET parameters, allow-listed and checked strictly (shape only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.validators import Optional

from civic.core.forms import options
from civic.dashboards.metrics import DEFAULT_PERIOD, PERIODS

PARAMETERS = ("area", "period", "consultation")


class FilterForm(FlaskForm):
    """Area, period and consultation. Choices come from the publication (the allow-list)."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    area = SelectField("Area", validators=[Optional()], widget=GovSelect(), validate_choice=True)
    period = SelectField(
        "Period",
        choices=options((p.key, p.label) for p in PERIODS.values()),
        default=DEFAULT_PERIOD,
        validators=[Optional()],
        widget=GovSelect(),
        validate_choice=True,
    )
    consultation = SelectField("Consultation", validators=[Optional()], widget=GovSelect(), validate_choice=True)
    submit = SubmitField("Show figures", widget=GovSubmitInput())

    def __init__(self, args, areas, consultations, **kwargs):
        super().__init__(args, **kwargs)
        self.area.choices = options([("", "Choose an area"), *((a.code, label) for a, label in areas)])
        self.consultation.choices = options([("", "All activity"), *((c.slug, c.title) for c in consultations)])
        self.unknown = sorted(k for k in args if k not in PARAMETERS)
        self.repeated = sorted(k for k in PARAMETERS if len(args.getlist(k)) > 1)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Messages a person can act on, beside the field (the error summary links to it).
        if self.area.errors:
            self.area.errors = ["Choose an area from the list"]
        if self.period.errors:
            self.period.errors = ["Choose a period from the list"]
        if self.consultation.errors:
            self.consultation.errors = ["Choose a consultation from the list"]
        for name in self.repeated:
            getattr(self, name).errors = [*getattr(self, name).errors, f"Choose only one {name}"]
        if self.unknown:
            self.form_errors.append("The address has options this page does not use: " + ", ".join(self.unknown[:5]))
        return ok and not self.unknown and not self.repeated
