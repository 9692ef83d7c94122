"""Template filters and globals: dates in Europe/London, counts, plurals, Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for

from civic.core.permissions import Permission, has_permission

LONDON = ZoneInfo("Europe/London")


def london(value: datetime | None) -> datetime | None:
    return value.astimezone(LONDON) if value else None


def _time(local: datetime) -> str:
    if local.hour == 12 and local.minute == 0:
        return "midday"
    if local.hour == 0 and local.minute == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def format_date(value: datetime | None) -> str:
    """GOV.UK style: 27 November 2026 (in Europe/London)."""
    if not value:
        return ""
    local = london(value)
    return f"{local.day} {local:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """GOV.UK style: 5:30pm on 27 November 2026 (in Europe/London)."""
    if not value:
        return ""
    local = london(value)
    return f"{_time(local)} on {local.day} {local:%B %Y}"


def format_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pluralise(count: int, singular: str, plural: str | None = None) -> str:
    word = singular if count == 1 else (plural or singular + "s")
    return f"{format_number(count)} {word}"


@dataclass(frozen=True)
class NavItem:
    text: str
    endpoint: str
    permission: Permission | None = None
    # The item is shown as the current page for endpoints starting with any of these.
    prefixes: tuple[str, ...] = ()


# The service navigation, in order. Domains append their own items when they are registered.
NAVIGATION: list[NavItem] = [
    NavItem("Home", "pages.home"),
    NavItem("Areas", "areas.index", prefixes=("areas.",)),
    NavItem("People", "admin.users", Permission.ACCOUNTS_USER_MANAGE, prefixes=("admin.user",)),
    NavItem("Audit log", "admin.audit_log", Permission.AUDIT_LOG_READ),
]

# Sections added to the account page by other domains (each a callable returning HTML or None).
ACCOUNT_SECTIONS: list = []


def main_navigation() -> list[dict]:
    from flask_login import current_user

    items = []
    for item in NAVIGATION:
        if item.permission and not has_permission(current_user, item.permission):
            continue
        endpoint = request.endpoint or ""
        active = endpoint == item.endpoint or endpoint.startswith(item.prefixes)
        items.append({"text": item.text, "href": url_for(item.endpoint), "active": active})
    return items


def init_app(app: Flask) -> None:
    from civic.accounts.demographics import DIMENSIONS, WHY_WE_ASK
    from civic.core.permissions import can

    app.jinja_env.globals["main_navigation"] = main_navigation
    app.jinja_env.globals["demographic_dimensions"] = lambda: DIMENSIONS
    app.jinja_env.globals["why_we_ask"] = WHY_WE_ASK
    app.jinja_env.globals["account_sections"] = lambda: [s for s in (f() for f in ACCOUNT_SECTIONS) if s]
    app.jinja_env.globals["can"] = can
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["london"] = london
    app.jinja_env.globals["pluralise"] = pluralise
