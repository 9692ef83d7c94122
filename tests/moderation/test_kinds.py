"""The registry of moderated kinds: loading, authors, consultations, context and pending lists."""

import pytest

from civic.extensions import db
from civic.moderation.kinds import KINDS, excerpt, get_kind
from tests.factories import make_consultation
from tests.moderation.conftest import make_answer


def test_three_kinds_are_registered():
    assert set(KINDS) == {"idea", "comment", "answer"}
    assert get_kind("user") is None


@pytest.mark.parametrize("name", ["idea", "comment", "answer"])
def test_each_kind_loads_its_item_and_knows_author_and_consultation(items, name, author, consultation):
    kind, item = KINDS[name], items[name]
    assert kind.load(item.id).id == item.id
    assert kind.author_id(item) == author.id
    assert kind.consultation(item).id == consultation.id
    assert kind.submitted_at(item) is not None
    shown = kind.shown(item)
    assert shown.text and shown.context_text
    assert item.id in [i.id for i in db.session.scalars(kind.pending())]
    assert item.id in [i.id for i in db.session.scalars(kind.by_author(author.id))]
    assert item.id in [i.id for i in db.session.scalars(kind.with_consultation(kind.pending(), consultation.id))]
    assert kind.load(10_000) is None


def test_comment_context_is_its_idea_and_answer_context_its_question(items):
    assert KINDS["comment"].shown(items["comment"]).context_text == "The parent idea"
    assert "Question 4" in KINDS["answer"].shown(items["answer"]).context_text


def test_answers_are_moderated_only_where_free_text_is_published(geography, author):
    private = make_consultation([geography.authority], questions=4, publish_free_text=False)
    answer = make_answer(private, author)
    assert KINDS["answer"].load(answer.id) is None
    assert answer.id not in [a.id for a in db.session.scalars(KINDS["answer"].pending())]


def test_unsubmitted_answers_are_not_in_the_queue(consultation, author):
    answer = make_answer(consultation, author, submitted=False)
    assert answer.id not in [a.id for a in db.session.scalars(KINDS["answer"].pending())]


def test_excerpt_is_plain_and_short():
    assert excerpt("a  b\n c") == "a b c"
    long = excerpt("word " * 200, 50)
    assert len(long) <= 51 and long.endswith("…")


def test_withdrawn_ideas_are_not_in_the_queue(consultation, author):
    from civic.core.models import utcnow
    from tests.factories import make_idea

    idea = make_idea(consultation, author, status="pending", withdrawn_at=utcnow())
    assert idea.id not in [i.id for i in db.session.scalars(KINDS["idea"].pending())]
