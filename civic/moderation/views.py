"""Pages of the moderation domain: the officers' queue, decisions and account actions; the
author's review request; residents' reports; the public policy page."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from civic.accounts.models import User
from civic.consultations.models import Consultation
from civic.core.errors import NotFound, RuleViolation
from civic.core.forms import options, show_error
from civic.core.permissions import Permission, requires
from civic.core.templating import LONDON, NAVIGATION, NavItem
from civic.extensions import db
from civic.moderation import services
from civic.moderation.forms import (
    DecisionForm,
    LiftSuspensionForm,
    QueueFilterForm,
    ReportForm,
    ReviewRequestForm,
    SuspendAccountForm,
)
from civic.moderation.kinds import KINDS
from civic.moderation.models import DecisionOutcome, QueueReason, RejectionReason, ReportReason
from civic.moderation.seed import seed_moderation
from civic.seed import SEEDERS

bp = Blueprint("moderation", __name__)
SEEDERS.append(seed_moderation)  # after the consultations and ideas seeders (blueprint order)
NAVIGATION.append(
    NavItem(
        "Moderation",
        "moderation.queue",
        Permission.MODERATION_QUEUE_REVIEW,
        prefixes=("moderation.queue", "moderation.item", "moderation.decide", "moderation.account", "moderation.suspend"),
    )
)


def _kind_or_404(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _users(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/moderation")
@requires(Permission.MODERATION_QUEUE_REVIEW)
def queue():
    form = QueueFilterForm(request.args)
    consultations = db.session.execute(select(Consultation.id, Consultation.title).order_by(Consultation.title)).all()
    form.consultation.choices = options([("", "All consultations"), *[(str(c.id), c.title) for c in consultations]])
    valid = form.validate()
    entries, total = [], 0
    if valid:
        entries, total = services.queue_entries(
            kind=form.kind.data or None,
            consultation_id=int(form.consultation.data) if form.consultation.data else None,
            reason=form.reason.data or None,
            page=form.page.data or 1,
        )
    authors = _users(e.kind.author_id(e.item) for e in entries)
    return render_template(
        "moderation/queue.html",
        form=form,
        entries=entries,
        total=total,
        page=form.page.data or 1,
        page_size=services.QUEUE_PAGE_SIZE,
        authors=authors,
        report_reasons={r.value: r.label for r in ReportReason},
    ), (200 if valid else 400)


def _render_item(kind: str, item_id: int, form: DecisionForm | None = None, status: int = 200):
    try:
        view = services.item_view(kind, item_id)
    except NotFound:
        abort(404)
    if form is None:
        form = DecisionForm(view.outcomes)
    else:
        form.outcome.choices = DecisionForm(view.outcomes).outcome.choices
    form.version.data = str(view.version)
    author_id = view.kind.author_id(view.item)
    people = _users([author_id, *(d.decided_by_id for d in view.decisions)])
    return render_template(
        "moderation/item.html",
        view=view,
        form=form,
        author=people.get(author_id),
        people=people,
        report_reasons={r.value: r.label for r in ReportReason},
        rejection_reasons={r.value: r.label for r in RejectionReason},
        queue_reasons={r.value: r.label for r in QueueReason},
        outcome_labels={o.value: o.label for o in DecisionOutcome},
    ), status


@bp.route("/moderation/items/<kind>/<int:item_id>")
@requires(Permission.MODERATION_QUEUE_REVIEW)
def item(kind: str, item_id: int):
    return _render_item(_kind_or_404(kind), item_id)


@bp.route("/moderation/items/<kind>/<int:item_id>/decision", methods=["POST"])
@requires(Permission.MODERATION_QUEUE_REVIEW)
def decide(kind: str, item_id: int):
    _kind_or_404(kind)
    form = DecisionForm(list(DecisionOutcome))
    status = 400
    if form.validate_on_submit():
        try:
            services.decide(
                current_user,
                kind,
                item_id,
                form.outcome.data,
                seen_version=int(form.version.data or -1),
                reason=form.reason.data or None,
                note=form.note.data or "",
            )
        except NotFound:
            abort(404)
        except services.DecisionConflict as exc:
            show_error(form, exc, default_field="outcome")
            status = 409
        except RuleViolation as exc:
            show_error(form, exc, default_field="outcome")
        else:
            flash(f"Decision recorded: {DecisionOutcome(form.outcome.data).label.lower()}. The author has been told.")
            return redirect(url_for("moderation.queue"))
    return _render_item(kind, item_id, form, status)


def _account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    return user


def _render_account(
    user: User,
    form: SuspendAccountForm | LiftSuspensionForm | None = None,
    status: int = 200,
    lift_form: LiftSuspensionForm | None = None,
):
    return render_template(
        "moderation/account.html",
        user=user,
        form=form or SuspendAccountForm(),
        lift_form=lift_form or LiftSuspensionForm(),
        content=services.account_content(user.id),
        kinds=KINDS,
    ), status


@bp.route("/moderation/accounts/<int:user_id>")
@requires(Permission.MODERATION_QUEUE_REVIEW, Permission.ACCOUNTS_USER_SUSPEND)
def account(user_id: int):
    return _render_account(_account_or_404(user_id))


@bp.route("/moderation/accounts/<int:user_id>/suspend", methods=["POST"])
@requires(Permission.MODERATION_QUEUE_REVIEW, Permission.ACCOUNTS_USER_SUSPEND)
def suspend(user_id: int):
    user = _account_or_404(user_id)
    form = SuspendAccountForm()
    if form.validate_on_submit():
        # The end of the chosen day, London time.
        until = datetime.combine(form.until.data, time(23, 59), tzinfo=LONDON).astimezone(UTC)
        try:
            hidden = services.suspend_account(
                current_user, user, reason=form.reason.data, until=until, hide_content=form.hide_content.data
            )
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash(f"The account is suspended.{f' {hidden} items hidden.' if hidden else ''}")
            return redirect(url_for("moderation.account", user_id=user.id))
    return _render_account(user, form, 400)


@bp.route("/moderation/accounts/<int:user_id>/lift-suspension", methods=["POST"])
@requires(Permission.MODERATION_QUEUE_REVIEW, Permission.ACCOUNTS_USER_SUSPEND)
def lift_suspension(user_id: int):
    user = _account_or_404(user_id)
    form = LiftSuspensionForm()
    if form.validate_on_submit():
        try:
            services.lift_suspension(current_user, user, reason=form.reason.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash("The suspension has ended. Hidden items stay hidden until you restore them one by one.")
            return redirect(url_for("moderation.account", user_id=user.id))
    # Passed as ``form`` too, for the page's error summary (the suspension form is not shown
    # while the lift form is: the account is suspended, or the refusal is that it is not).
    return _render_account(user, form, status=400, lift_form=form)


@bp.route("/moderation/review/<kind>/<int:item_id>", methods=["GET", "POST"])
@login_required
def review(kind: str, item_id: int):
    _kind_or_404(kind)
    try:
        view = services.review_for(current_user, kind, item_id)
    except NotFound:
        abort(404)
    form = ReviewRequestForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.request_review(current_user, kind, item_id, form.note.data)
            except RuleViolation as exc:
                show_error(form, exc, default_field="note")
            else:
                flash("Thank you. An officer will look at the decision again and we will email you.")
                return redirect(url_for("moderation.review", kind=kind, item_id=item_id))
    return render_template(
        "moderation/review.html",
        view=view,
        form=form,
        rejection_reasons={r.value: r.label for r in RejectionReason},
        outcome_labels={o.value: o.label for o in DecisionOutcome},
    ), status


@bp.route("/moderation/report/<kind>/<int:item_id>", methods=["GET", "POST"])
@requires(Permission.MODERATION_CONTENT_REPORT)
def report(kind: str, item_id: int):
    kind_obj = KINDS.get(_kind_or_404(kind))
    item = kind_obj.load(item_id)
    if item is None or item.status != "published":
        abort(404)
    if not current_user.is_verified:
        abort(403)
    form = ReportForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.report_content(current_user, kind, item_id, form.reason.data, form.note.data or "")
            except RuleViolation as exc:
                show_error(form, exc, default_field="reason")
            else:
                flash("Thank you for your report. An officer will look at it.")
                return redirect(kind_obj.public_url(item) or url_for("moderation.policy"))
    return render_template("moderation/report.html", kind=kind_obj, item=item, form=form), status


@bp.route("/moderation/policy")
def policy():
    return render_template(
        "moderation/policy.html",
        months=services.policy_figures(),
        outcomes=list(DecisionOutcome),
        reasons=list(RejectionReason),
        report_threshold=services.report_threshold(),
        kinds=[("idea", "Ideas"), ("comment", "Comments"), ("answer", "Free-text answers")],
    )
