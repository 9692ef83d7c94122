"""HD-01…HD-05: security headers on every response, cookies, caching of personal pages."""

import re

import pytest

from tests.conftest import login

PAGES = ["/", "/sign-in", "/register", "/reset-password", "/privacy", "/accessibility", "/cookies", "/areas", "/healthz"]


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{20,}'", directives["script-src"])
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [*PAGES, "/no-such-page", "/static/css/civic.css", "/static/govuk/govuk-frontend.min.js"])
def test_every_response_carries_the_headers(client, path):
    response = client.get(path)
    response.close()
    assert response.status_code in (200, 404)
    assert_security_headers(response)


def test_error_responses_carry_the_headers(client):
    assert_security_headers(client.post("/sign-in", data={}, csrf=False))  # 400
    assert_security_headers(client.delete("/"))  # 405


def test_nonce_is_fresh_on_every_response_and_used_by_the_inline_script(client):
    first, second = client.get("/"), client.get("/")
    nonces = [re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    assert f'<script nonce="{nonces[0]}">'.encode() in first.data
    # Every other script is an external file from this site.
    scripts = re.findall(rb"<script([^>]*)>", first.data)
    for attrs in scripts:
        assert b"nonce=" in attrs or b"src=" in attrs or b'type="application/json"' in attrs


def test_no_inline_event_handlers_or_styles(client):
    for path in PAGES[:-1]:
        body = client.get(path).get_data(as_text=True)
        assert not re.search(r"\son[a-z]+=", body), path
        assert " style=" not in body, path


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_signed_in_pages_are_not_cached(client, resident):
    login(client, resident)
    response = client.get("/account")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers.get("Vary", "")
    home = client.get("/")
    assert home.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, resident):
    response = login(client, resident)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Domain=" not in cookie


def test_no_server_version_leak(client):
    response = client.get("/")
    assert "X-Powered-By" not in response.headers


def test_debugger_is_not_reachable(client):
    assert client.get("/console").status_code == 404
