from sqlalchemy import select

from civic.accounts.models import User
from civic.extensions import db


def test_create_admin_asks_for_the_password(runner):
    result = runner.invoke(
        args=["users", "create-admin", "chief@example.org"], input="granite willow harbour 3\ngranite willow harbour 3\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password for the admin account" in result.output
    user = db.session.scalar(select(User).where(User.email == "chief@example.org"))
    assert user.has_role("admin") and user.is_verified


def test_create_admin_refuses_a_weak_password(runner):
    result = runner.invoke(args=["users", "create-admin", "chief@example.org"], input="password\npassword\n")
    assert result.exit_code == 1
    assert "12 characters" in result.output
    assert db.session.scalar(select(User)) is None


def test_create_admin_refuses_a_bad_email(runner):
    result = runner.invoke(args=["users", "create-admin", "not-an-email", "--password", "granite willow harbour 3"])
    assert result.exit_code == 1 and "correct format" in result.output
