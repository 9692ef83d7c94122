"""The migrations build exactly the schema the models describe, on an empty database, and undo."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, text

from civic import create_app
from civic.extensions import db
from civic.ideas.search import is_search_structure
from config import normalise_database_url
from tests.conftest import BACKENDS, make_config


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    # A database of its own (the test role may create databases), so no other test is touched.
    base = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{base.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def include_object(obj, name, type_, reflected, compare_to):
    return not is_search_structure(name, type_)  # full-text search: made by migration 0003 only


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(empty_database):
    url = empty_database
    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include_object}
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.session.remove()
        db.engine.dispose()
