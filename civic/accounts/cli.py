"""`flask users …`: accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from civic.accounts import services
from civic.core.errors import RuleViolation
from civic.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="Display name.")
@click.password_option(prompt="Password for the admin account", help="Asked for when not given.")
def create_admin(email: str, name: str, password: str):
    """Create an admin account (or make an existing account an admin).

    There is no default admin outside development; this is how the first one is made.
    """
    try:
        user = services.create_admin(email, password, display_name=name)
    except RuleViolation as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"Admin account ready: {user.email}")
