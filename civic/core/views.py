"""Health checks and vendored assets served by the application itself."""

from __future__ import annotations

import re
from pathlib import Path

import plotly
from flask import Blueprint, abort, jsonify, send_from_directory
from sqlalchemy import text

from civic.extensions import csrf, db, limiter

bp = Blueprint("core", __name__)

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
PLOTLY_VERSION = plotly.offline.get_plotlyjs_version()
# plotly.js injects a <style> for its MapLibre maps (which we do not use) unless an element with
# this id exists; the CSP would block the injection, so the chart pages carry an empty marker.
PLOTLY_STYLE_MARKERS = re.findall(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)',
    (PLOTLY_DIR / "plotly.min.js").read_text(encoding="utf-8"),
)


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
@csrf.exempt
def readyz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


@bp.route("/static/vendor/plotly-<version>.min.js")
@limiter.exempt
def plotly_js(version: str):
    """plotly.js from the plotly package itself: no CDN, and always the version Python uses."""
    if version != PLOTLY_VERSION:
        abort(404)
    response = send_from_directory(PLOTLY_DIR, "plotly.min.js", mimetype="text/javascript", max_age=31536000)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.app_context_processor
def vendor_urls():
    return {"plotly_js_path": f"/static/vendor/plotly-{PLOTLY_VERSION}.min.js", "plotly_style_markers": PLOTLY_STYLE_MARKERS}


@bp.route("/static/brand.css")
@limiter.exempt
def brand_css():
    """The council's brand colour as a CSS variable (inline styles are not allowed by the CSP)."""
    from flask import Response, current_app

    body = f":root {{ --civic-brand: {current_app.config['BRAND_COLOUR']}; }}\n"
    return Response(body, mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})
