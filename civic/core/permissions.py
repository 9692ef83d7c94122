"""Roles, named permissions, and the one table that joins them.

Permissions are named ``domain:resource:action`` and kept grouped and alphabetised. A person may
hold several roles; their permissions are the union. A suspended account keeps only the
permissions it needs to look after itself (see ``SUSPENDED_PERMISSIONS``).

There is one way to ask: ``has_permission(user, Permission.X)`` in services and predicates,
``@requires(Permission.X)`` on views, and ``can(Permission.X)`` in templates.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user


class Role(StrEnum):
    RESIDENT = "resident"
    COUNCILLOR = "councillor"
    OFFICER = "officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Permission(StrEnum):
    # accounts
    ACCOUNTS_SELF_MANAGE = "accounts:self:manage"
    ACCOUNTS_USER_MANAGE = "accounts:user:manage"
    ACCOUNTS_USER_SUSPEND = "accounts:user:suspend"
    # areas
    AREAS_AREA_MANAGE = "areas:area:manage"
    # audit
    AUDIT_LOG_READ = "audit:log:read"
    # consultations
    CONSULTATIONS_CONSULTATION_MANAGE = "consultations:consultation:manage"
    CONSULTATIONS_RESPONSE_EXPORT = "consultations:response:export"
    CONSULTATIONS_RESPONSE_SUBMIT = "consultations:response:submit"
    # dashboards
    DASHBOARDS_DASHBOARD_VIEW = "dashboards:dashboard:view"
    # ideas
    IDEAS_COMMENT_SUBMIT = "ideas:comment:submit"
    IDEAS_IDEA_RESPOND = "ideas:idea:respond"
    IDEAS_IDEA_SUBMIT = "ideas:idea:submit"
    IDEAS_IDEA_SUPPORT = "ideas:idea:support"
    # moderation
    MODERATION_CONTENT_REPORT = "moderation:content:report"
    MODERATION_QUEUE_REVIEW = "moderation:queue:review"


_RESIDENT = frozenset(
    {
        Permission.ACCOUNTS_SELF_MANAGE,
        Permission.CONSULTATIONS_RESPONSE_SUBMIT,
        Permission.IDEAS_COMMENT_SUBMIT,
        Permission.IDEAS_IDEA_SUBMIT,
        Permission.IDEAS_IDEA_SUPPORT,
        Permission.MODERATION_CONTENT_REPORT,
    }
)
_COUNCILLOR = frozenset({Permission.ACCOUNTS_SELF_MANAGE, Permission.DASHBOARDS_DASHBOARD_VIEW})
_OFFICER = frozenset(
    {
        Permission.ACCOUNTS_SELF_MANAGE,
        Permission.ACCOUNTS_USER_SUSPEND,
        Permission.CONSULTATIONS_CONSULTATION_MANAGE,
        Permission.CONSULTATIONS_RESPONSE_EXPORT,
        Permission.DASHBOARDS_DASHBOARD_VIEW,
        Permission.IDEAS_IDEA_RESPOND,
        Permission.MODERATION_QUEUE_REVIEW,
    }
)
_ADMIN = frozenset(
    {
        Permission.ACCOUNTS_SELF_MANAGE,
        Permission.ACCOUNTS_USER_MANAGE,
        Permission.ACCOUNTS_USER_SUSPEND,
        Permission.AREAS_AREA_MANAGE,
        Permission.AUDIT_LOG_READ,
        Permission.DASHBOARDS_DASHBOARD_VIEW,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.RESIDENT: _RESIDENT,
    Role.COUNCILLOR: _COUNCILLOR,
    Role.OFFICER: _OFFICER,
    Role.ADMIN: _ADMIN,
}

# What a suspended account may still do: look after, download or delete itself.
SUSPENDED_PERMISSIONS = frozenset({Permission.ACCOUNTS_SELF_MANAGE})


def permissions_for(user) -> frozenset[Permission]:
    """Every permission the user holds now, taking suspension into account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    granted: set[Permission] = set()
    for role in user.role_names:
        granted |= ROLE_PERMISSIONS.get(Role(role), frozenset())
    if user.is_suspended:
        granted &= SUSPENDED_PERMISSIONS
    return frozenset(granted)


def has_permission(user, permission: Permission) -> bool:
    return permission in permissions_for(user)


def can(permission: Permission | str) -> bool:
    """Template helper: does the signed-in person hold this permission?"""
    return has_permission(current_user, Permission(permission))


def requires(*needed: Permission):
    """View decorator: sign in first (redirect back after), then 403 without every permission."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
            if not all(has_permission(current_user, p) for p in needed):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
