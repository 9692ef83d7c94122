"""Regenerate static/css/plotly-global.css after upgrading plotly.

plotly.js injects a global stylesheet at run time, which our Content-Security-Policy blocks
(no inline styles). This script lets plotly.js inject it in a page without a CSP, in headless
Chromium, and prints the rules, which we then serve as a static file with the id plotly.js
looks for (it skips injection when that element has the class ``no-inline-styles``).

    .venv/bin/python tools/plotly_css.py > /tmp/plotly.css
"""

import shutil
import tempfile
from pathlib import Path

import plotly
from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp)
    page_path = Path(tmp) / "page.html"
    page_path.write_text('<html><head><script src="plotly.min.js"></script></head><body><div id="x"></div></body></html>')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        page.goto(page_path.as_uri())
        page.evaluate("Plotly.newPlot('x', [{y: [1, 2, 3]}], {}, {displayModeBar: false})")
        rules = page.evaluate(
            """() => Array.from(document.getElementById('plotly.js-style-global').sheet.cssRules)
                   .map(r => r.cssText).reverse().join('\\n')"""
        )
        print(rules)  # noqa: T201 - the output of this tool
        browser.close()
