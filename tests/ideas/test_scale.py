"""Scale data (`flask seed scale`, bench/dataset.py): every builder loads into the current schema
with COPY, and the counts are exactly the tier's."""

from __future__ import annotations

import os
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from bench.dataset import Tier, load
from civic import create_app
from civic.extensions import db
from config import normalise_database_url
from tests.conftest import make_config

TINY = Tier("tiny", 300, 1, 6, 40, 20, 500, 60, 30, 1, 1.0, 1)


@pytest.fixture
def empty_postgres():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("scale data is loaded with COPY into PostgreSQL (set TEST_DATABASE_URL)")
    base = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{base.database}_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_every_builder_loads_the_tier_exactly(empty_postgres):
    facts = load(empty_postgres, TINY, seed=1)
    engine = create_engine(empty_postgres)
    with engine.connect() as conn:
        count = lambda table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()  # noqa: E731
        assert count("idea") == TINY.ideas
        assert count("support") == TINY.supports
        assert count("comment") == TINY.comments
        drift = conn.execute(
            text("SELECT count(*) FROM idea i WHERE support_count <> (SELECT count(*) FROM support s WHERE s.idea_id = i.id)")
        ).scalar_one()
        assert drift == 0
        hot = conn.execute(
            text("SELECT count(*) FROM idea i JOIN consultation c ON c.id = i.consultation_id WHERE c.slug = 'bench-ideas-hot'")
        ).scalar_one()
        assert hot == TINY.hot_ideas
    engine.dispose()
    assert {"hot_idea_ids", "hot_consultation_slug"} <= set(facts.extra)
