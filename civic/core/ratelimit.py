"""Keys for rate limits.

The client address comes from ``request.remote_addr``, which ProxyFix sets from
``X-Forwarded-For`` only for the number of proxies the deployment trusts
(``TRUSTED_PROXY_COUNT``); a client cannot choose its own address by sending the header.
"""

from __future__ import annotations

import hashlib

from flask import request


def client_address() -> str:
    return request.remote_addr or "unknown"


def form_identity(field: str = "email") -> str:
    """A key for per-account limits: a hash of the normalised address typed into the form.

    Hashed so that the limiter's storage (Redis) holds no email addresses.
    """
    value = (request.form.get(field) or "").strip().lower()
    return "acct:" + hashlib.sha256(value.encode()).hexdigest()[:32]
