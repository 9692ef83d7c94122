"""Pages of the consultations domain."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("consultations", __name__)
