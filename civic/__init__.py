"""Civic: digital democracy for UK councils and combined authorities.

``create_app`` builds the application: configuration, extensions, blueprints, commands,
error handlers and security headers, in that order.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE, Config, config_for

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | str | None = None) -> Flask:
    if config is None or isinstance(config, str):
        config = config_for(config or os.environ.get("CIVIC_ENV"))
    config.check()

    app = Flask(
        __name__,
        instance_path=str(INSTANCE),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config)
    app.config["ENV_NAME"] = config.ENV_NAME
    app.config["DEMO_ACCOUNTS_ALLOWED"] = config.DEMO_ACCOUNTS_ALLOWED
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("civic").setLevel(app.config["LOG_LEVEL"])

    # Load shedding wraps the app first, so that ProxyFix (outside it) has already set the
    # scheme and client address when it answers.
    from civic.core import overload

    overload.init_app(app)

    if app.config["TRUSTED_PROXY_COUNT"]:
        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)

    from civic.core import errors_views, mail, security, templating

    mail.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors_views.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

    import civic.models  # noqa: F401 - every table on the metadata before anything uses it
    from civic.core.db import engine_options, install_engine_hooks, install_safe_session_teardown
    from civic.core.models import render_migration_item
    from civic.extensions import csrf, db, limiter, login_manager, mail, migrate

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        install_engine_hooks(app, db.engine)
    install_safe_session_teardown(app, db)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)

    from civic.accounts import sessions

    sessions.init_app(app, login_manager)


def _register_blueprints(app: Flask) -> None:
    from civic.accounts.views import bp as accounts_bp
    from civic.admin.views import bp as admin_bp
    from civic.areas.views import bp as areas_bp
    from civic.consultations.views import bp as consultations_bp
    from civic.core.views import bp as core_bp
    from civic.dashboards.views import bp as dashboards_bp
    from civic.ideas.views import bp as ideas_bp
    from civic.moderation.views import bp as moderation_bp
    from civic.pages.views import bp as pages_bp

    blueprints = (core_bp, pages_bp, accounts_bp, admin_bp, areas_bp, dashboards_bp)
    blueprints += (consultations_bp, ideas_bp, moderation_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from civic.accounts.cli import users_cli
    from civic.areas.cli import areas_cli
    from civic.core.cli import audit_cli, mail_cli
    from civic.seed import seed_cli

    for group in (users_cli, areas_cli, audit_cli, mail_cli, seed_cli):
        app.cli.add_command(group)
