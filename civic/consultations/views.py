"""Pages of the consultations domain: public, answering, officer (``/manage/consultations``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from civic.areas.models import Area, AreaLevel
from civic.consultations import permissions as rules
from civic.consultations import services
from civic.consultations.figures import question_figure
from civic.consultations.forms import (
    ActionForm,
    CloseEarlyForm,
    ConsultationForm,
    ExtendForm,
    OutcomeEmailsForm,
    OutcomeForm,
    QuestionForm,
    parse_time,
)
from civic.consultations.lifecycle import Stage
from civic.consultations.models import SCALE_POINTS, Consultation, Question, QuestionKind
from civic.core.errors import NotAllowed, RuleViolation
from civic.core.forms import options, show_error
from civic.core.markdown import render_markdown
from civic.core.models import utcnow
from civic.core.permissions import Permission, requires
from civic.core.templating import london
from civic.extensions import db, limiter

bp = Blueprint("consultations", __name__)

RESPOND_LIMIT = "300 per minute"


def _account_key() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else (request.remote_addr or "anon")


def _respond_limit():
    return limiter.limit(RESPOND_LIMIT, key_func=_account_key, methods=["POST"])


def _load(slug: str) -> Consultation:
    consultation = services.get_by_slug(slug)
    if consultation is None or not rules.can_view(current_user, consultation, utcnow()):
        abort(404)
    return consultation


def _scope_text(consultation: Consultation) -> str:
    return ", ".join(a.name for a in consultation.areas)


# Sections other domains add to a consultation's public page and to its officer page: callables
# taking the consultation and returning HTML or None (e.g. the ideas domain's "Ideas" section).
DETAIL_SECTIONS: list = []
MANAGE_SECTIONS: list = []


def _sections(registry: list, consultation: Consultation) -> list:
    return [html for html in (section(consultation) for section in registry) if html]


def _ctx(consultation: Consultation, **kwargs) -> dict:
    now = utcnow()
    return {
        "consultation": consultation,
        "stage": consultation.stage(now),
        "Stage": Stage,
        "scope_text": _scope_text(consultation),
        "can_view_results": rules.can_view_results(current_user, consultation, now),
        "can_view_outcome": rules.can_view_outcome(current_user, consultation, now),
        "md": render_markdown,
        **kwargs,
    }


# --- Public pages ---------------------------------------------------------------------------


def _area_filter_choices() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.level != AreaLevel.WARD).order_by(Area.level, Area.name))) + list(
        db.session.scalars(select(Area).where(Area.level == AreaLevel.WARD).order_by(Area.name))
    )


@bp.route("/consultations")
def index():
    areas = _area_filter_choices()
    chosen = None
    code = request.args.get("area", "").strip()
    if code:
        chosen = next((a for a in areas if a.gss_code == code), None)
        if chosen is None:
            abort(404)
    listing = services.public_listing(chosen)
    return render_template("consultations/index.html", listing=listing, areas=areas, chosen=chosen)


@bp.route("/consultations/<slug>")
def detail(slug: str):
    consultation = _load(slug)
    now = utcnow()
    eligibility = rules.can_respond(current_user, consultation, now)
    response = services.response_for(current_user, consultation)
    return render_template(
        "consultations/detail.html",
        **_ctx(consultation, eligibility=eligibility, response=response),
        sections=_sections(DETAIL_SECTIONS, consultation),
    )


@bp.route("/consultations/<slug>/results")
def results(slug: str):
    consultation = _load(slug)
    if not rules.can_view_results(current_user, consultation, utcnow()):
        return render_template("consultations/results_unavailable.html", **_ctx(consultation)), 403
    tally = services.tally(consultation)
    figures = [question_figure(r) for r in tally.questions]
    return render_template("consultations/results.html", **_ctx(consultation, tally=tally, figures=figures))


@bp.route("/consultations/<slug>/outcome")
def outcome(slug: str):
    consultation = _load(slug)
    if not rules.can_view_outcome(current_user, consultation, utcnow()):
        return render_template("consultations/outcome_unavailable.html", **_ctx(consultation)), 404
    tally = services.tally(consultation)
    return render_template("consultations/outcome.html", **_ctx(consultation, tally=tally))


# --- Answering ------------------------------------------------------------------------------


def _refusal(consultation: Consultation):
    """The eligibility check every answering page starts with: a redirect, an explanation, or None."""
    eligibility = rules.can_respond(current_user, consultation, utcnow())
    if eligibility.allowed:
        return None
    if eligibility.reason == "sign_in":
        return redirect(
            url_for(
                "accounts.sign_in",
                next=request.full_path.rstrip("?")
                if request.method == "GET"
                else url_for("consultations.respond", slug=consultation.slug),
            )
        )
    return render_template("consultations/cannot_respond.html", **_ctx(consultation, eligibility=eligibility)), 403


@bp.route("/consultations/<slug>/respond")
def respond(slug: str):
    consultation = _load(slug)
    refusal = _refusal(consultation)
    if refusal is not None:
        return refusal
    return render_template(
        "consultations/respond_start.html",
        **_ctx(consultation, response=services.response_for(current_user, consultation), pages=services.page_count(consultation)),
    )


def _form_values(consultation: Consultation, questions: list[Question]) -> dict[str, list[str]]:
    """What each field shows: the submitted values after an error, else the stored answers."""
    if request.method == "POST":
        return {services.field_name(q): request.form.getlist(services.field_name(q)) for q in questions}
    stored = services.answers_of(services.response_for(current_user, consultation))
    values = {}
    for q in questions:
        answer = stored.get(q.id)
        if answer is None:
            values[services.field_name(q)] = []
        elif answer.option_ids:
            values[services.field_name(q)] = [str(i) for i in answer.option_ids]
        else:
            values[services.field_name(q)] = [answer.value or ""]
    return values


def _render_page(consultation, page, questions, values, errors, *, preview=False, status=200):
    return (
        render_template(
            "consultations/respond_page.html",
            **_ctx(
                consultation,
                page=page,
                pages=services.page_count(consultation),
                questions=questions,
                values=values,
                errors=errors,
                preview=preview,
                scale_points=SCALE_POINTS,
                kinds=QuestionKind,
                field_name=services.field_name,
                returning=request.values.get("return") == "check",
            ),
        ),
        status,
    )


@bp.route("/consultations/<slug>/respond/<int:page>", methods=["GET", "POST"])
@_respond_limit()
def respond_page(slug: str, page: int):
    consultation = _load(slug)
    refusal = _refusal(consultation)
    if refusal is not None:
        return refusal
    pages = services.page_count(consultation)  # read before the save: its commit expires the questions
    if not 1 <= page <= pages:
        abort(404)
    questions = services.questions_on_page(consultation, page)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {services.field_name(q): request.form.getlist(services.field_name(q)) for q in questions}
        try:
            services.save_answers(current_user, consultation, page, form)
        except services.AnswersInvalid as exc:
            errors = exc.errors
        except services.ResponseRefused as exc:
            # Refused at the moment of the write (e.g. the form was loaded before the close).
            return render_template(
                "consultations/cannot_respond.html",
                **_ctx(consultation, eligibility=rules.Eligibility(False, "refused", exc.message)),
            ), 403
        else:
            if request.form.get("return") == "check" or page >= pages:
                return redirect(url_for("consultations.check", slug=slug))
            return redirect(url_for("consultations.respond_page", slug=slug, page=page + 1))
    values = _form_values(consultation, questions)
    return _render_page(consultation, page, questions, values, errors, status=400 if errors else 200)


def _summary(consultation: Consultation) -> list[dict]:
    answers = services.answers_of(services.response_for(current_user, consultation))
    rows = []
    for q in consultation.questions:
        rows.append(
            {
                "question": q,
                "answer": services.describe(q, answers.get(q.id)),
                "page": services.page_of(consultation, q),
            }
        )
    return rows


@bp.route("/consultations/<slug>/respond/check", methods=["GET", "POST"])
@_respond_limit()
def check(slug: str):
    consultation = _load(slug)
    refusal = _refusal(consultation)
    if refusal is not None:
        return refusal
    form = ActionForm()
    problem = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            first = services.submit_response(current_user, consultation)
        except services.ResponseIncomplete as exc:
            problem = {
                "text": exc.message,
                "href": url_for("consultations.respond_page", slug=slug, page=exc.page, **{"return": "check"}),
            }
        except services.ResponseRefused as exc:
            return render_template(
                "consultations/cannot_respond.html",
                **_ctx(consultation, eligibility=rules.Eligibility(False, "refused", exc.message)),
            ), 403
        except RuleViolation as exc:
            problem = {"text": exc.message, "href": url_for("consultations.respond_page", slug=slug, page=1)}
        else:
            if not first:
                flash("Your response is unchanged: it was already submitted, with the answers shown.")
            return redirect(url_for("consultations.done", slug=slug))
    response = services.response_for(current_user, consultation)
    return (
        render_template(
            "consultations/check.html",
            **_ctx(consultation, rows=_summary(consultation), response=response, form=None, action_form=form, problem=problem),
        ),
        400 if problem else 200,
    )


@bp.route("/consultations/<slug>/respond/done")
@login_required
def done(slug: str):
    consultation = _load(slug)
    response = services.response_for(current_user, consultation)
    if response is None or response.submitted_at is None:
        return redirect(url_for("consultations.respond", slug=slug))
    return render_template("consultations/done.html", **_ctx(consultation, response=response))


# --- Account: outcome emails ------------------------------------------------------------------


@bp.route("/account/consultation-emails", methods=["GET", "POST"])
@requires(Permission.ACCOUNTS_SELF_MANAGE)
def outcome_emails():
    form = OutcomeEmailsForm()
    if request.method == "GET":
        form.wanted.data = "yes" if services.wants_outcome_emails(current_user) else "no"
    if form.validate_on_submit():
        services.set_outcome_emails(current_user, form.wanted.data == "yes")
        flash("Your email preference is saved.")
        return redirect(url_for("accounts.account"))
    return render_template("consultations/outcome_emails.html", form=form), 400 if form.errors else 200


# --- Officer pages --------------------------------------------------------------------------


def _manage_load(slug: str) -> Consultation:
    consultation = services.get_by_slug(slug)
    if consultation is None:
        abort(404)
    return consultation


def _area_choices() -> list:
    areas = _area_filter_choices()
    labels = {AreaLevel.AUTHORITY: "whole authority", AreaLevel.DISTRICT: "borough", AreaLevel.WARD: "ward"}
    return options([(a.id, f"{a.name} ({labels.get(a.level, a.level)})") for a in areas])


def _draft_from(form: ConsultationForm) -> services.ConsultationDraft:
    return services.ConsultationDraft(
        title=form.title.data,
        summary=form.summary.data,
        body=form.body.data,
        opens_at=form.opens_at(),
        closes_at=form.closes_at(),
        area_ids=form.area_ids.data or [],
        results_while_open=form.results_while_open.data,
        publish_free_text=form.publish_free_text.data,
        questions_per_page=form.questions_per_page.data or 1,
    )


def _manage_ctx(consultation: Consultation, **kwargs) -> dict:
    now = utcnow()
    user = current_user
    return _ctx(
        consultation,
        can_edit=rules.can_edit(user, consultation, now),
        can_edit_questions=rules.can_edit_questions(user, consultation, now),
        can_schedule=rules.can_schedule(user, consultation, now),
        can_unschedule=rules.can_unschedule(user, consultation, now),
        can_close_early=rules.can_close_early(user, consultation, now),
        can_extend=rules.can_extend(user, consultation, now),
        can_write_outcome=rules.can_write_outcome(user, consultation, now),
        can_publish_outcome=rules.can_publish_outcome(user, consultation, now),
        can_export=rules.can_export(user, consultation, now),
        **kwargs,
    )


@bp.route("/manage/consultations")
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_list():
    now = utcnow()
    rows = [(c, c.stage(now), services.submitted_count(c)) for c in services.officer_listing()]
    return render_template("consultations/manage/list.html", rows=rows)


@bp.route("/manage/consultations/new", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_create():
    form = ConsultationForm()
    form.area_ids.choices = _area_choices()
    if form.validate_on_submit():
        try:
            consultation = services.create_consultation(current_user, _draft_from(form))
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Draft created. Now add the questions.")
            return redirect(url_for("consultations.manage_detail", slug=consultation.slug))
    return render_template("consultations/manage/edit.html", form=form, consultation=None), 400 if form.errors else 200


@bp.route("/manage/consultations/<slug>")
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_detail(slug: str):
    consultation = _manage_load(slug)
    return render_template(
        "consultations/manage/detail.html",
        **_manage_ctx(consultation, action_form=ActionForm(), responses=services.submitted_count(consultation)),
        sections=_sections(MANAGE_SECTIONS, consultation),
    )


@bp.route("/manage/consultations/<slug>/edit", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_edit(slug: str):
    consultation = _manage_load(slug)
    if not rules.can_edit(current_user, consultation, utcnow()):
        abort(403)
    form = ConsultationForm(obj=consultation if request.method == "GET" else None)
    form.area_ids.choices = _area_choices()
    if request.method == "GET":
        form.area_ids.data = [a.id for a in consultation.areas]
        opens, closes = london(consultation.opens_at), london(consultation.closes_at)
        form.opens_on.data, form.opens_time.data = opens.date(), opens.strftime("%H:%M")
        form.closes_on.data, form.closes_time.data = closes.date(), closes.strftime("%H:%M")
    if form.validate_on_submit():
        try:
            services.update_consultation(current_user, consultation, _draft_from(form))
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Consultation saved.")
            return redirect(url_for("consultations.manage_detail", slug=slug))
    return render_template("consultations/manage/edit.html", form=form, consultation=consultation), 400 if form.errors else 200


def _question_draft(form: QuestionForm) -> services.QuestionDraft:
    return services.QuestionDraft(
        kind=form.kind.data,
        text=form.text.data,
        hint=form.hint.data,
        required=form.required.data,
        options=form.option_labels(),
        max_choices=form.max_choices.data,
        max_length=form.max_length.data,
    )


@bp.route("/manage/consultations/<slug>/questions/new", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def question_add(slug: str):
    consultation = _manage_load(slug)
    if not rules.can_edit_questions(current_user, consultation, utcnow()):
        abort(403)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(current_user, consultation, _question_draft(form))
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Question added.")
            return redirect(url_for("consultations.manage_detail", slug=slug) + "#questions")
    return render_template(
        "consultations/manage/question.html", form=form, consultation=consultation, question=None
    ), 400 if form.errors else 200


def _question(consultation: Consultation, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.consultation_id != consultation.id:
        abort(404)
    return question


@bp.route("/manage/consultations/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def question_edit(slug: str, question_id: int):
    consultation = _manage_load(slug)
    question = _question(consultation, question_id)
    if not rules.can_edit_questions(current_user, consultation, utcnow()):
        abort(403)
    form = QuestionForm(obj=question if request.method == "GET" else None)
    if request.method == "GET":
        form.options.data = "\n".join(o.label for o in question.options)
    if form.validate_on_submit():
        try:
            services.update_question(current_user, question, _question_draft(form))
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Question saved.")
            return redirect(url_for("consultations.manage_detail", slug=slug) + "#questions")
    return render_template(
        "consultations/manage/question.html", form=form, consultation=consultation, question=question
    ), 400 if form.errors else 200


def _post_action(slug: str, action, success: str, anchor: str = ""):
    consultation = _manage_load(slug)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(consultation)
    except NotAllowed:
        abort(403)
    except RuleViolation as exc:
        flash(exc.message, "error")
    else:
        flash(success)
    return redirect(url_for("consultations.manage_detail", slug=slug) + anchor)


@bp.route("/manage/consultations/<slug>/questions/<int:question_id>/move", methods=["POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def question_move(slug: str, question_id: int):
    direction = request.form.get("direction", "")
    return _post_action(
        slug,
        lambda c: services.move_question(current_user, _question(c, question_id), direction),
        "Question moved.",
        "#questions",
    )


@bp.route("/manage/consultations/<slug>/questions/<int:question_id>/delete", methods=["POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def question_delete(slug: str, question_id: int):
    return _post_action(
        slug, lambda c: services.delete_question(current_user, _question(c, question_id)), "Question deleted.", "#questions"
    )


@bp.route("/manage/consultations/<slug>/preview/<int:page>")
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def preview(slug: str, page: int):
    consultation = _manage_load(slug)
    if not 1 <= page <= services.page_count(consultation):
        abort(404)
    questions = services.questions_on_page(consultation, page)
    values = {services.field_name(q): [] for q in questions}
    return _render_page(consultation, page, questions, values, {}, preview=True)


@bp.route("/manage/consultations/<slug>/schedule", methods=["POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_schedule(slug: str):
    return _post_action(slug, lambda c: services.schedule(current_user, c), "Scheduled: it opens by itself at the opening time.")


@bp.route("/manage/consultations/<slug>/unschedule", methods=["POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_unschedule(slug: str):
    return _post_action(
        slug, lambda c: services.unschedule(current_user, c), "Back to draft: it will not open until scheduled again."
    )


@bp.route("/manage/consultations/<slug>/close", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_close(slug: str):
    return _reasoned_change(
        slug,
        rules.can_close_early,
        CloseEarlyForm,
        lambda c, form: services.close_early(current_user, c, form.reason.data),
        "The consultation is closed.",
        "consultations/manage/close.html",
    )


@bp.route("/manage/consultations/<slug>/extend", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_extend(slug: str):
    return _reasoned_change(
        slug,
        rules.can_extend,
        ExtendForm,
        lambda c, form: services.extend(current_user, c, form.closes_at(), form.reason.data),
        "The closing date is changed.",
        "consultations/manage/extend.html",
    )


def _reasoned_change(slug: str, allowed, form_class, change, success: str, template: str):
    """An officer's change to an open consultation that needs a form with a reason (close early,
    extend): refused with 403 when the rules forbid it, the form again with the message beside
    the field when the service refuses it."""
    consultation = _manage_load(slug)
    if not allowed(current_user, consultation, utcnow()):
        abort(403)
    form = form_class()
    if form.validate_on_submit():
        try:
            change(consultation, form)
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash(success)
            return redirect(url_for("consultations.manage_detail", slug=slug))
    return render_template(template, form=form, consultation=consultation), 400 if form.errors else 200


@bp.route("/manage/consultations/<slug>/outcome", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_outcome(slug: str):
    consultation = _manage_load(slug)
    if not rules.can_write_outcome(current_user, consultation, utcnow()):
        abort(403)
    form = OutcomeForm(obj=None)
    if request.method == "GET":
        form.decision.data = consultation.outcome_decision
    if form.validate_on_submit():
        try:
            services.save_outcome(current_user, consultation, form.decision.data)
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Outcome saved. Check it, then publish it.")
            return redirect(url_for("consultations.manage_detail", slug=slug) + "#outcome")
    tally = services.tally(consultation)
    return (
        render_template("consultations/manage/outcome.html", form=form, consultation=consultation, tally=tally),
        400 if form.errors else 200,
    )


@bp.route("/manage/consultations/<slug>/outcome/publish", methods=["POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage_publish(slug: str):
    def publish(c):
        sent = services.publish_outcome(current_user, c)
        flash(f"Outcome published. {sent:,} {'person' if sent == 1 else 'people'} will be emailed.")

    consultation = _manage_load(slug)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        publish(consultation)
    except NotAllowed:
        abort(403)
    except RuleViolation as exc:
        flash(exc.message, "error")
        return redirect(url_for("consultations.manage_detail", slug=slug) + "#outcome")
    return redirect(url_for("consultations.outcome", slug=slug))


@bp.route("/manage/consultations/<slug>/responses.csv", methods=["POST"])
@requires(Permission.CONSULTATIONS_RESPONSE_EXPORT)
def manage_export(slug: str):
    consultation = _manage_load(slug)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = services.export_csv(current_user, consultation)
    except NotAllowed:
        abort(403)
    filename = f"{consultation.slug}-responses-{utcnow():%Y-%m-%d}.csv"
    return Response(
        "\ufeff" + data,  # a byte-order mark so that spreadsheets read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Registrations (navigation, home page, account, data export, dashboards, seed).
from civic.consultations import hooks  # noqa: E402,F401 - registers this domain with the shared registries

__all__ = ["bp", "parse_time"]
