"""Safe redirects: ``next=`` may only ever name a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_NEXT_LENGTH = 2000


def safe_next(value: str | None) -> str | None:
    """Return ``value`` if it is a path on this site, else None.

    Refuses absolute URLs, scheme-relative ``//host``, backslash tricks (``/\\host``, which
    browsers treat as ``//host``), and any control or space character, which browsers strip
    before parsing (so ``\\t//host`` would otherwise slip through).
    """
    if not value or not isinstance(value, str) or len(value) > MAX_NEXT_LENGTH:
        return None
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value) or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for emails, built from BASE_URL (works in requests, commands and workers)."""
    from flask import current_app

    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
