"""A browser-like HTTP session for scripts and tests: cookies, CSRF tokens from forms, sign-in.

Standard library only (http.client), one persistent connection per session. It keeps cookies
whatever their Secure flag says, because the benchmark and the tests talk to gunicorn over
plain HTTP on loopback where a browser would talk HTTPS to the proxy.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


@dataclass
class Browser:
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30
    _conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urllib.parse.urlsplit(self.base_url)
            self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a dropped browser hangs up rather than leaking its socket
        self.close()

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Response:
        body = urllib.parse.urlencode(form or {}, doseq=True) if form is not None else None
        sent = {"Cookie": self.cookie_header} if self.cookies else {}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        reused = self._conn is not None
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            data = raw.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            self.close()
            # A kept-alive connection the server has since closed: a GET is sent again on a
            # new one, as browsers do. Anything else is the caller's to retry.
            if reused and method == "GET":
                return self.request(method, path, form=form, headers=headers)
            raise
        for header in raw.headers.get_all("Set-Cookie") or []:
            self._store_cookie(header)
        if raw.getheader("Connection", "").lower() == "close":
            self.close()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)

    def _store_cookie(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            expired = morsel["max-age"] == "0" or "1970" in (morsel["expires"] or "")
            if expired or morsel.value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs) -> Response:
        return self.request("POST", path, form=form, **kwargs)

    def csrf_token(self, form_path: str) -> str:
        """GET a page with a form and return its CSRF token (the session cookie is updated too)."""
        response = self.get(form_path)
        match = CSRF_INPUT.search(response.body)
        if response.status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {form_path} (status {response.status})")
        return match.group(1)

    def submit(self, form_path: str, form: dict, action: str | None = None, **kwargs) -> Response:
        """Fill in the form found at ``form_path`` (with its CSRF token) and post it."""
        token = self.csrf_token(form_path)
        return self.post(action or form_path, {**form, "csrf_token": token}, **kwargs)

    def sign_in(self, email: str, password: str) -> Response:
        response = self.submit("/sign-in", {"email": email, "password": password})
        if response.status != 302:
            raise RuntimeError(f"sign-in as {email} failed with status {response.status}")
        return response

    def sign_out(self) -> Response:
        token = self.csrf_token("/sign-out")
        return self.post("/sign-out", {"csrf_token": token})
