"""Browser tests: Playwright driving Debian's chromium (no downloaded browser), axe-core checks.

Skipped with a stated reason when /usr/bin/chromium is absent, unless CIVIC_REQUIRE_BROWSER=1,
in which case they fail instead (CI sets it).
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("CIVIC_REQUIRE_BROWSER") == "1"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCANNED: list[str] = []


# The live server is werkzeug's development server. When chromium drops a connection (it cancels
# the favicon or a stylesheet as a test navigates on), that server skips closing the response's
# iterator, so a static file is closed by the garbage collector instead, with a ResourceWarning
# that the warnings-are-errors setting turns into a failure of whichever test is running. That is
# the test server's behaviour, not the application's (gunicorn closes it): ignored here only.
DROPPED_CONNECTION = "ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.filterwarnings(DROPPED_CONNECTION))


def _browser_available() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def playwright_browser():
    problem = _browser_available()
    if problem:
        if REQUIRE:
            pytest.fail(f"browser tests are required (CIVIC_REQUIRE_BROWSER=1) but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class Page:
    """A browser tab on the live server that refuses to leave the site and records CSP breaches."""

    def __init__(self, context, base: str):
        self.base = base
        self.tab = context.new_page()
        self.offsite: list[str] = []
        self.console_errors: list[str] = []
        self.failed_resources: list[str] = []
        self.tab.on("response", self._record_failure)
        context.route("**/*", self._guard)
        self.tab.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def _guard(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort()

    def _record_failure(self, response):
        # An error page (404, 400 with form errors) is expected; a missing script or style is not.
        if response.status >= 400 and not response.request.is_navigation_request():
            self.failed_resources.append(f"{response.status} {response.url}")

    def goto(self, path: str):
        response = self.tab.goto(self.base + path)
        self.tab.wait_for_load_state("load")
        return response

    def csp_violations(self) -> list:
        return self.tab.evaluate("window.__cspViolations || []")

    def check_accessible(self, label: str | None = None) -> None:
        from axe_playwright_python.sync_playwright import Axe

        # Beyond axe: every group of inputs is named by a visible legend (GOV.UK pattern).
        unnamed = self.tab.evaluate(
            "Array.from(document.querySelectorAll('fieldset')).filter(f => !(f.querySelector('legend')?.textContent.trim())).length"
        )
        assert unnamed == 0, f"{unnamed} fieldset(s) without a legend on {label or self.tab.url}"
        results = Axe().run(self.tab, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        SCANNED.append(label or self.tab.url.replace(self.base, ""))
        assert results.violations_count == 0, f"axe violations on {label or self.tab.url}:\n{results.generate_report()}"


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber]);
});
"""


@pytest.fixture
def browser_page(playwright_browser, live_server):
    context = playwright_browser.new_context(base_url=live_server)
    context.add_init_script(CSP_LISTENER)
    page = Page(context, live_server)
    yield page
    try:
        assert page.offsite == [], f"requests left the site: {page.offsite}"
        assert page.csp_violations() == [], f"Content-Security-Policy violations: {page.csp_violations()}"
        assert page.failed_resources == [], f"resources failed to load: {page.failed_resources}"
        # The browser also logs each error status as "Failed to load resource"; those are checked above.
        errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
        assert errors == [], f"console errors: {errors}"
    finally:
        context.close()


@pytest.fixture
def no_js_page(playwright_browser, live_server):
    context = playwright_browser.new_context(base_url=live_server, java_script_enabled=False)
    page = Page(context, live_server)
    yield page
    context.close()


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.tab.fill("#email", email)
    page.tab.fill("#password", password)
    page.tab.click("button:has-text('Sign in')")
    page.tab.wait_for_load_state("load")


def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def pytest_terminal_summary(terminalreporter):
    if SCANNED:
        terminalreporter.write_line(f"axe-core: {len(SCANNED)} page states scanned, 0 violations ({len(set(SCANNED))} distinct)")
