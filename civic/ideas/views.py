"""Pages of the ideas domain."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ideas", __name__)
