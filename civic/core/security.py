"""Security headers on every response, and a per-response nonce for the one inline script.

The Content-Security-Policy allows scripts only from this site, plus the inline script GOV.UK
Frontend's template needs to mark the page as JavaScript-enabled, which carries a fresh nonce on
every response. No ``unsafe-inline`` or ``unsafe-eval`` for scripts; nothing loads from elsewhere.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def baseline_headers(app: Flask, *, secure: bool, nonce: str | None = None) -> dict[str, str]:
    """The headers every response carries; without a nonce, no inline script may run."""
    headers = {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if secure:
        headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
    return headers


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.update(baseline_headers(app, secure=request.is_secure, nonce=csp_nonce()))
        # Pages for a signed-in person are personal: never store them in any cache.
        if _signed_in() or "Set-Cookie" in headers:
            headers["Cache-Control"] = "no-store"
            headers.add("Vary", "Cookie")
        elif "Cache-Control" not in headers and response.mimetype == "text/html":
            headers["Cache-Control"] = "no-cache"
        return response


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - e.g. the database is down while loading the user
        return False
