"""Full-text search over ideas: SQLite FTS5, PostgreSQL ``tsvector`` with a GIN index.

The structures live outside the models (an FTS5 virtual table cannot be a model; the GIN index
is on an expression), so they are created three ways that must agree:

* migration 0003 creates them with ``op.execute`` (the same statements as below);
* ``db.create_all()`` (the tests) creates them through the ``after_create`` hook on ``idea``;
* ``migrations/env.py`` and ``tests/test_migrations.py`` ignore them when comparing the models
  with the database (``is_search_structure``).

SQLite: ``idea_fts`` is an external-content FTS5 table over ``idea(title, body)``, kept in sync
by triggers, so every insert, edit and delete (including test clean-up) updates it in the same
transaction. PostgreSQL: an expression index on ``to_tsvector('english', title || ' ' || body)``;
there is nothing to keep in sync.

Residents' words never reach the query syntax: they are split into letters-and-digits words and
each is quoted (FTS5) or joined with ``&``/``|`` after ``plainto``-style cleaning (PostgreSQL).
"""

from __future__ import annotations

import re

from sqlalchemy import event, text

from civic.ideas.models import Idea

SEARCH_PREFIX = "idea_fts"
PG_INDEX = "ix_idea_search"

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS idea_fts USING fts5("
    "title, body, content='idea', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS idea_fts_ai AFTER INSERT ON idea BEGIN "
    "INSERT INTO idea_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS idea_fts_ad AFTER DELETE ON idea BEGIN "
    "INSERT INTO idea_fts(idea_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS idea_fts_au AFTER UPDATE OF title, body ON idea BEGIN "
    "INSERT INTO idea_fts(idea_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO idea_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS idea_fts_au",
    "DROP TRIGGER IF EXISTS idea_fts_ad",
    "DROP TRIGGER IF EXISTS idea_fts_ai",
    "DROP TABLE IF EXISTS idea_fts",
]
PG_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON idea USING GIN "
    "(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, '')))"
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]
PG_VECTOR = "to_tsvector('english', coalesce(idea.title, '') || ' ' || coalesce(idea.body, ''))"


def is_search_structure(name: str | None, type_: str) -> bool:
    """For Alembic's comparisons: the search structures are not in the models, on purpose."""
    if not name:
        return False
    return (type_ == "table" and name.startswith(SEARCH_PREFIX)) or (type_ == "index" and name == PG_INDEX)


def create_statements(dialect: str) -> list[str]:
    return SQLITE_CREATE if dialect == "sqlite" else PG_CREATE if dialect == "postgresql" else []


@event.listens_for(Idea.__table__, "after_create")
def _create_search(target, connection, **kw):
    for statement in create_statements(connection.dialect.name):
        connection.execute(text(statement))


@event.listens_for(Idea.__table__, "before_drop")
def _drop_search(target, connection, **kw):
    drops = SQLITE_DROP if connection.dialect.name == "sqlite" else PG_DROP
    for statement in drops:
        connection.execute(text(statement))


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words too common to say two ideas are alike.
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "should",
        "that",
        "the",
        "their",
        "this",
        "to",
        "we",
        "will",
        "with",
        "more",
        "new",
    ]
)


def words(query: str, *, limit: int = 12) -> list[str]:
    found = [w.lower() for w in _WORD.findall(query or "")]
    return [w for w in found if len(w) > 1 and w not in _STOP][:limit]


def match_clause(dialect: str, query: str, *, any_word: bool):
    """A WHERE clause on ``idea.id`` and an ORDER BY rank, or None if the query has no words.

    ``any_word`` (similar ideas) ranks ideas sharing any word; otherwise every word must match.
    """
    found = words(query)
    if not found:
        return None
    if dialect == "sqlite":
        joiner = " OR " if any_word else " "
        fts = joiner.join('"' + w.replace('"', "") + '"' for w in found)
        where = text("idea.id IN (SELECT rowid FROM idea_fts WHERE idea_fts MATCH :fts)").bindparams(fts=fts)
        # bm25 ordering costs a second lookup; rank by shared words via the same MATCH.
        order = text(
            "(SELECT bm25(idea_fts) FROM idea_fts WHERE idea_fts MATCH :fts_rank AND idea_fts.rowid = idea.id)"
        ).bindparams(fts_rank=fts)
        return where, order
    joiner = " | " if any_word else " & "
    tsq = joiner.join(found)
    where = text(f"{PG_VECTOR} @@ to_tsquery('english', :tsq)").bindparams(tsq=tsq)
    order = text(f"ts_rank({PG_VECTOR}, to_tsquery('english', :tsq_rank)) DESC").bindparams(tsq_rank=tsq)
    return where, order
