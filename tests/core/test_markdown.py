from html.parser import HTMLParser

from civic.core.markdown import render_markdown


class Elements(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_scripts_and_raw_html_are_escaped():
    html = render_markdown('Hello <script>alert(1)</script> <img src=x onerror="alert(1)"> <a href="x" onclick="y">z</a>')
    elements = Elements(html).found
    assert [tag for tag, _ in elements] == ["p"]
    assert not any(name.startswith("on") for _, attrs in elements for name in attrs)
    assert "&lt;script&gt;" in html


def test_javascript_and_data_links_are_not_links():
    html = render_markdown("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](data:text/html,x) [d](vbscript:x)")
    assert "href" not in html


def test_safe_links_get_rel_and_govuk_classes():
    html = render_markdown("See [the plan](https://example.gov.uk/plan)\n\n- one\n- two")
    assert 'href="https://example.gov.uk/plan"' in html
    assert "noopener" in html and "nofollow" in html
    assert 'class="govuk-link"' in html
    assert 'class="govuk-list govuk-list--bullet"' in html


def test_images_are_not_rendered():
    assert "<img" not in render_markdown("![tracker](https://evil.example/pixel.png)")


def test_empty_text():
    assert render_markdown(None) == ""
    assert render_markdown("") == ""
