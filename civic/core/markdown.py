"""Markdown for resident and officer text, rendered safely.

markdown-it-py in its ``js-default`` preset escapes raw HTML and refuses ``javascript:`` links;
nh3 then sanitises the output against an allow-list as a second line of defence (officer text
too: nobody gets raw HTML).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("js-default", {"linkify": False, "typographer": False}).disable(["image"])

_ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h2", "h3", "h4", "hr"}
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_CLASSES = {
    "p": "govuk-body",
    "ul": "govuk-list govuk-list--bullet",
    "ol": "govuk-list govuk-list--number",
    "a": "govuk-link",
    "h2": "govuk-heading-m",
    "h3": "govuk-heading-s",
    "h4": "govuk-heading-s",
}


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={tag: {"class": cls} for tag, cls in _CLASSES.items()},
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
