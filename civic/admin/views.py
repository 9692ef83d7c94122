"""Admin pages under /admin: search people, give and remove roles, suspend and restore."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from civic.accounts import services
from civic.accounts.forms import ward_choices
from civic.accounts.models import User
from civic.admin.forms import AuditFilterForm, GrantRoleForm, RestoreForm, RevokeRoleForm, SuspendForm, UserSearchForm
from civic.areas.services import wards_with_boroughs
from civic.core import audit
from civic.core.audit import AuditEvent
from civic.core.errors import RuleViolation
from civic.core.forms import options, show_error
from civic.core.permissions import Permission, Role, requires
from civic.core.templating import LONDON
from civic.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    return user


@bp.route("/users")
@requires(Permission.ACCOUNTS_USER_MANAGE)
def users():
    form = UserSearchForm(request.args)
    form.validate()
    page = request.args.get("page", 1, type=int)
    role = form.role.data if form.role.data in {r.value for r in Role} else None
    results = services.search_users(form.q.data or "", role, page)
    return render_template("admin/users.html", form=form, results=results)


def _forms(user: User):
    grant = GrantRoleForm(prefix="grant")
    grant.area_id.choices = ward_choices(wards_with_boroughs())
    return {
        "grant_form": grant,
        "revoke_form": RevokeRoleForm(prefix="revoke"),
        "suspend_form": SuspendForm(prefix="suspend"),
        "restore_form": RestoreForm(prefix="restore"),
    }


def _render_user(user: User, status: int = 200, **forms):
    context = _forms(user)
    context.update(forms)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "user", AuditEvent.subject_id == str(user.id))
        .order_by(AuditEvent.seq.desc())
        .limit(20)
    ).all()
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(actor_ids))).scalars()} if actor_ids else {}
    return render_template("admin/user.html", user=user, events=events, actors=actors, **context), status


@bp.route("/users/<int:user_id>")
@requires(Permission.ACCOUNTS_USER_MANAGE)
def user(user_id: int):
    return _render_user(_user_or_404(user_id))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@requires(Permission.ACCOUNTS_USER_MANAGE)
def grant_role(user_id: int):
    user = _user_or_404(user_id)
    form = GrantRoleForm(prefix="grant")
    form.area_id.choices = ward_choices(wards_with_boroughs())
    if form.validate_on_submit():
        try:
            services.grant_role(current_user, user, Role(form.role.data), reason=form.reason.data, area_id=form.area_id.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="role")
        else:
            flash(f"{user.display_name} is now {Role(form.role.data).label.lower()}.")
            return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, 400, grant_form=form)


@bp.route("/users/<int:user_id>/roles/<role>/remove", methods=["POST"])
@requires(Permission.ACCOUNTS_USER_MANAGE)
def revoke_role(user_id: int, role: str):
    user = _user_or_404(user_id)
    if role not in {r.value for r in Role}:
        abort(404)
    form = RevokeRoleForm(prefix="revoke")
    if form.validate_on_submit():
        try:
            services.revoke_role(current_user, user, Role(role), reason=form.reason.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash(f"{user.display_name} is no longer {Role(role).label.lower()}.")
            return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, 400, revoke_form=form)


@bp.route("/users/<int:user_id>/suspend", methods=["POST"])
@requires(Permission.ACCOUNTS_USER_MANAGE)
def suspend(user_id: int):
    user = _user_or_404(user_id)
    form = SuspendForm(prefix="suspend")
    if form.validate_on_submit():
        until = None
        if form.until.data:
            # The end of the chosen day, London time.
            until = datetime.combine(form.until.data, time(23, 59), tzinfo=LONDON).astimezone(UTC)
        try:
            services.suspend_user(current_user, user, reason=form.reason.data, until=until)
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash(f"{user.display_name}'s account is suspended.")
            return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, 400, suspend_form=form)


@bp.route("/users/<int:user_id>/restore", methods=["POST"])
@requires(Permission.ACCOUNTS_USER_MANAGE)
def restore(user_id: int):
    user = _user_or_404(user_id)
    form = RestoreForm(prefix="restore")
    if form.validate_on_submit():
        try:
            services.restore_user(current_user, user, reason=form.reason.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash(f"{user.display_name}'s account is restored.")
            return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, 400, restore_form=form)


def _london_midnight(day) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


@bp.route("/audit")
@requires(Permission.AUDIT_LOG_READ)
def audit_log():
    form = AuditFilterForm(request.args)
    form.tag.choices = options([("", "Any action"), *[(t, t) for t in audit.known_tags()]])
    valid = form.validate()
    actor_id = _actor_id(form) if valid else None
    if valid and form.actor.data and actor_id is None:
        form.actor.errors = ["No account has that email address or number"]
        valid = False
    page = audit.EventPage([], None)
    if valid:
        page = audit.search_events(
            tag=form.tag.data or None,
            actor_id=actor_id,
            subject_type=form.subject_type.data or None,
            subject_id=(form.subject_id.data or "").strip() or None,
            since=_london_midnight(form.since.data) if form.since.data else None,
            until=_london_midnight(form.until.data + timedelta(days=1)) if form.until.data else None,
            before_seq=request.args.get("before", type=int),
        )
    ids = {e.actor_id for e in page.events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    older_args = {**request.args.to_dict(), "before": page.older_than} if page.older_than else None
    return render_template("admin/audit.html", form=form, page=page, actors=actors, older_args=older_args), 200 if valid else 400


def _actor_id(form: AuditFilterForm) -> int | None:
    value = (form.actor.data or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    user = db.session.scalar(select(User).where(User.email == value.lower()))
    return user.id if user else None


@bp.route("/audit/verify", methods=["POST"])
@requires(Permission.AUDIT_LOG_READ)
def verify_audit_log():
    result = audit.verify_chain()
    if result.ok:
        flash(f"The audit log verifies: {result.entries:,} entries, head {result.head_seq}:{result.head_hash}.")
    else:
        flash(f"The audit log does NOT verify: {result.problem}.", "error")
    return redirect(url_for("admin.audit_log"))
