import pytest

from civic.core.urls import safe_next

OFF_SITE = [
    "https://evil.example",
    "http://evil.example/path",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "https:evil.example",
    "/%0d%0aSet-Cookie:x=y",  # encoded CRLF stays a harmless path
    "",
    None,
    "/" + "a" * 2001,
]


@pytest.mark.parametrize("value", [v for v in OFF_SITE if v != "/%0d%0aSet-Cookie:x=y"])
def test_off_site_or_malformed_values_are_refused(value):
    assert safe_next(value) is None


@pytest.mark.parametrize("value", ["/", "/account", "/consultations/park?page=2", "/%0d%0aSet-Cookie:x=y"])
def test_paths_on_this_site_are_kept(value):
    assert safe_next(value) == value


def test_raw_newline_is_refused():
    assert safe_next("/account\r\nLocation: https://evil.example") is None
