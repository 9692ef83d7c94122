from datetime import timedelta

import pytest

from civic.core.models import utcnow
from civic.core.permissions import ROLE_PERMISSIONS, SUSPENDED_PERMISSIONS, Permission, Role, has_permission, permissions_for


def test_every_permission_is_granted_to_some_role():
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert set(Permission) == granted


def test_permission_names_are_domain_resource_action():
    for permission in Permission:
        assert len(permission.value.split(":")) == 3, permission


@pytest.mark.parametrize(
    ("roles", "permission", "allowed"),
    [
        (("resident",), Permission.CONSULTATIONS_RESPONSE_SUBMIT, True),
        (("resident",), Permission.DASHBOARDS_DASHBOARD_VIEW, False),
        (("resident",), Permission.ACCOUNTS_USER_MANAGE, False),
        (("councillor",), Permission.DASHBOARDS_DASHBOARD_VIEW, True),
        (("councillor",), Permission.IDEAS_IDEA_SUPPORT, False),
        (("councillor",), Permission.MODERATION_QUEUE_REVIEW, False),
        (("officer",), Permission.MODERATION_QUEUE_REVIEW, True),
        (("officer",), Permission.ACCOUNTS_USER_MANAGE, False),
        (("admin",), Permission.ACCOUNTS_USER_MANAGE, True),
        (("admin",), Permission.AUDIT_LOG_READ, True),
        (("admin",), Permission.IDEAS_IDEA_SUPPORT, False),
        (("resident", "officer"), Permission.IDEAS_IDEA_SUPPORT, True),
        (("resident", "officer"), Permission.CONSULTATIONS_CONSULTATION_MANAGE, True),
    ],
)
def test_role_permission_matrix(make_user, roles, permission, allowed):
    assert has_permission(make_user(*roles), permission) is allowed


def test_anonymous_has_no_permissions():
    from flask_login import AnonymousUserMixin

    assert permissions_for(AnonymousUserMixin()) == frozenset()
    assert permissions_for(None) == frozenset()


def test_suspension_keeps_only_self_management(make_user):
    user = make_user("resident", "officer")
    user.suspended_at = utcnow()
    assert permissions_for(user) == SUSPENDED_PERMISSIONS


def test_suspension_ends_at_its_end_time(make_user):
    user = make_user("resident")
    user.suspended_at = utcnow() - timedelta(days=2)
    user.suspended_until = utcnow() - timedelta(minutes=1)
    assert not user.is_suspended
    assert has_permission(user, Permission.IDEAS_IDEA_SUPPORT)


def test_roles_are_a_closed_set():
    assert {r.value for r in Role} == {"resident", "councillor", "officer", "admin"}
