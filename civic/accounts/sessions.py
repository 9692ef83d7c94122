"""Flask-Login wired to server-side sessions.

The signed Flask cookie holds a random session token (``_user_id``) and the time of the last
request (``seen``). A request is signed in only while the token's row exists on the server and
has not passed its absolute expiry, and while the cookie's ``seen`` time is within the idle
timeout. Signing out deletes the row, so a copied cookie stops working on every app server.
"""

from __future__ import annotations

import time

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import LoginManager, login_user, logout_user

from civic.accounts import services
from civic.core.urls import safe_next

SEEN_REFRESH_SECONDS = 60


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session does this job
    login_manager.login_view = "accounts.sign_in"

    @login_manager.user_loader
    def load_user(token: str):
        seen = session.get("seen")
        idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
        if not isinstance(seen, int | float) or time.time() - seen > idle:
            return None
        user = services.load_session(token)
        if user is not None and time.time() - seen > SEEN_REFRESH_SECONDS:
            session["seen"] = int(time.time())
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        flash("Sign in to continue.")
        return redirect(url_for("accounts.sign_in", next=safe_next(request.full_path.rstrip("?"))))


def sign_in(user) -> None:
    """Start a fresh session: a new cookie and a new server-side token (no fixation)."""
    session.clear()
    services.start_session(user)
    session.permanent = True
    session["seen"] = int(time.time())
    login_user(user)


def sign_out(user) -> None:
    services.end_session(getattr(user, "session_token", None))
    logout_user()
    session.clear()
