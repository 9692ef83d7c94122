"""Home page and the pages every public-sector service must have."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)

# Extra sections for the home page, registered by other domains (e.g. open consultations).
HOME_SECTIONS: list = []


@bp.route("/")
def home():
    sections = [section() for section in HOME_SECTIONS]
    return render_template("pages/home.html", sections=[s for s in sections if s])


@bp.route("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.route("/cookies")
def cookies():
    return render_template("pages/cookies.html")
