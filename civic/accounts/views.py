"""Account pages: register, verify, sign in and out, reset a password, the account page."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from civic.accounts import services
from civic.accounts.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    ProfileForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
    SignOutForm,
    ward_choices,
)
from civic.accounts.sessions import sign_in as start_signed_in_session
from civic.accounts.sessions import sign_out as end_signed_in_session
from civic.areas.services import wards_with_boroughs
from civic.core.db import write_lock
from civic.core.errors import RuleViolation
from civic.core.forms import show_error
from civic.core.ratelimit import form_identity
from civic.core.urls import safe_next
from civic.extensions import limiter

bp = Blueprint("accounts", __name__)


def _limit(setting: str, **kwargs):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"], **kwargs)


@bp.route("/register", methods=["GET", "POST"])
@_limit("RATELIMIT_REGISTER")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    form.ward_id.choices = ward_choices(wards_with_boroughs())
    if form.validate_on_submit():
        try:
            services.register_resident(
                services.Registration(
                    email=form.email.data,
                    display_name=form.display_name.data,
                    password=form.password.data,
                    ward_id=form.ward_id.data,
                    demographics=form.demographics(),
                )
            )
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form), 400 if form.errors else 200


@bp.route("/register/check-your-email")
def check_email():
    return render_template("accounts/check_email.html")


@bp.route("/verify/<token>")
@write_lock
def verify(token: str):
    try:
        services.verify_email(token)
    except RuleViolation:
        return render_template("accounts/link_expired.html", purpose="verify"), 400
    flash("Your email address is confirmed. You can now take part.")
    return redirect(url_for("accounts.account") if current_user.is_authenticated else url_for("accounts.sign_in"))


@bp.route("/verify/resend", methods=["POST"])
@login_required
@_limit("RATELIMIT_RESET", key_func=lambda: f"resend:{current_user.id}")
def resend_verification():
    form = ResendVerificationForm()
    if form.validate_on_submit():
        services.resend_verification(current_user)
        flash("We have sent a new link to your email address.")
    return redirect(url_for("accounts.account"))


@bp.route("/sign-in", methods=["GET", "POST"])
@_limit("RATELIMIT_SIGN_IN_ADDRESS")
@_limit("RATELIMIT_SIGN_IN_ACCOUNT", key_func=form_identity)
def sign_in():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("accounts.account"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="email")
        else:
            start_signed_in_session(user)
            return redirect(next_url or url_for("pages.home"))
    return render_template("accounts/sign_in.html", form=form, next_url=next_url), 400 if form.errors else 200


@bp.route("/sign-out", methods=["GET", "POST"])
def sign_out():
    form = SignOutForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            end_signed_in_session(current_user)
        flash("You have signed out.")
        return redirect(url_for("pages.home"))
    if not current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    return render_template("accounts/sign_out.html", form=form)


@bp.route("/reset-password", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
@_limit("RATELIMIT_RESET", key_func=form_identity)
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
def reset_password(token: str):
    try:
        user = services.check_reset_token(token)
    except RuleViolation:
        return render_template("accounts/link_expired.html", purpose="reset"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="password")
        else:
            if current_user.is_authenticated:
                end_signed_in_session(current_user)
            flash("Your password has been changed. Sign in with your new password.")
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/account")
@login_required
def account():
    return render_template("accounts/account.html", resend_form=ResendVerificationForm())


@bp.route("/account/details", methods=["GET", "POST"])
@login_required
def edit_details():
    form = ProfileForm(obj=current_user)
    form.ward_id.choices = ward_choices(wards_with_boroughs())
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, display_name=form.display_name.data, ward_id=form.ward_id.data, demographics=form.demographics()
            )
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Your details have been saved.")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/edit_details.html", form=form), 400 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="new_password")
        else:
            flash("Your password has been changed. You have been signed out everywhere else.")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form), 400 if form.errors else 200


@bp.route("/account/data.json", methods=["POST"])
@login_required
def download_data():
    # POST (with CSRF) so that no link or image elsewhere can make a browser fetch it.
    data = services.export_user_data(current_user)
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, form.password.data)
        except RuleViolation as exc:
            show_error(form, exc, default_field="password")
        else:
            end_signed_in_session(current_user)
            flash("Your account has been deleted.")
            return redirect(url_for("pages.home"))
    return render_template("accounts/delete.html", form=form), 400 if form.errors else 200
