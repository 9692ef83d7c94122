"""Results per question, ideas by status, top ideas and moderation: what is counted, and how."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civic.core.models import utcnow
from civic.dashboards import metrics, queries
from civic.extensions import db
from civic.ideas.models import Support
from tests.dashboards.conftest import add_decision, add_response, count_statements
from tests.factories import make_consultation, make_idea, make_user


@pytest.mark.parametrize(
    ("status", "response_status", "withdrawn", "expected"),
    [
        ("published", None, False, "published"),
        ("published", "accepted", False, "accepted"),
        ("published", "implemented", False, "implemented"),
        ("published", "something-new", False, "published"),
        ("pending", None, False, "pending"),
        ("hidden", "accepted", False, "hidden"),
        ("rejected", None, False, "rejected"),
        ("published", "accepted", True, "withdrawn"),
    ],
)
def test_each_idea_is_counted_under_one_status(status, response_status, withdrawn, expected):
    assert metrics.idea_status_of(status, response_status, withdrawn) == expected


def test_free_text_is_never_read_only_whether_it_was_answered(app, geography, content_sources):
    consultation = make_consultation([geography.authority], questions=4)
    person = make_user("resident", ward=geography.wards[0])
    text = consultation.questions[3]
    add_response(consultation, person, utcnow(), {text: "My neighbour at number 4 <script>"})
    db.session.commit()
    values = [row.value for row in db.session.execute(metrics.submitted_answers(utcnow() + timedelta(days=1)))]
    assert values == ["answered"]


def _content(slug):
    pub = queries.build_publication()
    return pub, queries.consultation_content(pub, slug)


@pytest.fixture
def crowd(geography):
    return [make_user("resident", ward=geography.wards[i % 4], email=f"crowd{i}@example.org") for i in range(30)]


def test_only_submitted_responses_of_registered_residents_count(app, geography, content_sources, crowd):
    consultation = make_consultation([geography.authority], slug="roads", questions=1)
    single = consultation.questions[0]
    first, second, third = single.options
    now = utcnow()
    for i, person in enumerate(crowd):  # 14, 6 (a small cell) and 10
        add_response(consultation, person, now - timedelta(hours=2), {single: first if i < 14 else second if i < 20 else third})
    # Not counted: a response still being written, one from a deleted account, one from next week.
    add_response(consultation, make_user("resident", ward=geography.wards[0]), None, {single: third})
    gone = make_user("resident", ward=geography.wards[0], deleted_at=now)
    add_response(consultation, gone, now, {single: third})
    add_response(consultation, make_user("resident", ward=geography.wards[1]), now + timedelta(days=7), {single: third})
    db.session.commit()
    counted = queries.count_cells()
    assert counted.values[("res", "roads")] == 30
    assert counted.values[("qo", "roads", single.id, first.id)] == 14
    assert counted.values[("qo", "roads", single.id, second.id)] == 6
    assert counted.values[("qo", "roads", single.id, third.id)] == 10
    pub, content = _content("roads")
    (question,) = content.questions
    shown = {o.label: o.count for o in question.options}
    assert shown["Option 2"].value is None and not shown["Option 2"].secondary  # fewer than 10
    # 30 answered: with both other options published, option 2 would be 30 - 14 - 10.
    assert question.answered.value == 30
    assert shown["Option 3"].value is None and shown["Option 3"].secondary  # the smaller partner
    assert shown["Option 1"].value == 14 and question.options[0].share == 46.7
    assert question.options[2].share is None


def test_a_single_choice_answered_twice_counts_once(app, geography, content_sources, crowd):
    consultation = make_consultation([geography.authority], slug="twice", questions=1)
    single = consultation.questions[0]
    for person in crowd[:12]:
        add_response(consultation, person, utcnow(), {single: [single.options[2], single.options[1]]})
    db.session.commit()
    counted = queries.count_cells()
    assert counted.values[("qa", "twice", single.id)] == 12
    # Whatever order the rows come in: the first option in the question's order.
    assert [counted.values[("qo", "twice", single.id, o.id)] for o in single.options] == [0, 12, 0]


def test_multiple_choice_options_and_their_complements(app, geography, content_sources, crowd):
    consultation = make_consultation([geography.authority], slug="multi", questions=2)
    multiple = consultation.questions[1]
    a, b, c = multiple.options
    for i, person in enumerate(crowd):
        add_response(consultation, person, utcnow(), {multiple: [a, b] if i < 27 else [c]})
    db.session.commit()
    _, content = _content("multi")
    question = content.questions[1]
    assert question.answered.value == 30
    by_label = {o.label: o for o in question.options}
    # 27 chose A: that leaves 3 who did not, a small number; so "chose A" is withheld too.
    assert by_label["Option 1"].not_chosen.value is None
    assert by_label["Option 1"].count.value is None


def test_top_ideas_are_published_ideas_by_supports_of_registered_residents(app, geography, content_sources, crowd):
    consultation = make_consultation([geography.authority], slug="ideas", collects_ideas=True)
    author = crowd[0]
    ideas = [make_idea(consultation, author, title=f"Idea {i}") for i in range(7)]
    hidden = make_idea(consultation, author, status="hidden", title="Hidden idea")
    withdrawn = make_idea(consultation, author, title="Withdrawn idea", withdrawn_at=utcnow())
    gone = make_user("resident", ward=geography.wards[0], deleted_at=utcnow())
    for n, idea in enumerate([*ideas, hidden, withdrawn]):
        for person in crowd[: 30 - 3 * n]:
            db.session.add(Support(idea_id=idea.id, user_id=person.id))
    db.session.add(Support(idea_id=ideas[6].id, user_id=gone.id))
    db.session.commit()
    counted = queries.count_cells()
    assert counted.values[("sup", "ideas", ideas[6].id)] == 12  # the deleted account's support is not counted
    _, content = _content("ideas")
    titles = [t.title for t in content.top_ideas]
    assert len(titles) == metrics.TOP_IDEAS
    assert "Hidden idea" not in titles and "Withdrawn idea" not in titles
    assert titles[:3] == ["Idea 0", "Idea 1", "Idea 2"]
    statuses = {r.status: r.count for r in content.idea_statuses}
    assert content.ideas.value is None  # nine ideas in all: fewer than 10
    assert statuses["hidden"].value is None and statuses["withdrawn"].value is None  # 1 each: small


def test_moderation_counts_and_a_median_withheld_below_the_threshold(app, geography):
    now = utcnow()
    make_user("resident", ward=geography.wards[0])  # the site needs a day of activity
    for i in range(12):
        add_decision("approve", now - timedelta(days=2, hours=i), hours=2 + i)
    for _ in range(3):
        add_decision("reject", now - timedelta(days=3), hours=30)
    add_decision("approve", now + timedelta(days=2), hours=1)  # decided in the future: not counted
    add_decision("escalate", now - timedelta(days=1), hours=1)  # not an outcome the dashboards know
    db.session.commit()
    pub = queries.build_publication()
    mod = queries.moderation(pub, pub.window("30d"))
    by = {r.outcome: r for r in mod.outcomes}
    assert by["approve"].decisions.value == 12
    assert by["approve"].median_seconds == pytest.approx(3600 * 7.5)  # hours 2..13: median 7.5
    assert by["reject"].decisions.value is None and by["reject"].median_seconds is None
    assert mod.total.value == 15
    assert mod.median_seconds == pytest.approx(3600 * 9)  # 2..13 and 30,30,30: the 8th of 15 is 9


def test_the_same_data_gives_the_same_publication(app, consultation_town):
    first = queries.build_publication().cells
    second = queries.build_publication().cells
    assert first == second


@pytest.mark.parametrize(
    ("stage", "most"),
    [("open", 13), ("closed", 17)],  # closed: results public, so their figures are read (4 queries)
)
def test_queries_do_not_grow_with_questions_ideas_or_supports(app, geography, content_sources, crowd, stage, most):
    def add(questions, ideas):
        consultation = make_consultation([geography.authority], stage=stage, questions=questions, collects_ideas=True)
        for person in crowd[:5]:
            choices = {q: q.options[0] if q.options else "agree" if q.kind == "scale" else "text" for q in consultation.questions}
            add_response(consultation, person, utcnow(), choices)
        for i in range(ideas):
            idea = make_idea(consultation, crowd[i % len(crowd)])
            db.session.add(Support(idea_id=idea.id, user_id=crowd[(i + 1) % len(crowd)].id))
        db.session.commit()

    add(questions=2, ideas=2)
    small = count_statements(queries.build_publication)
    add(questions=12, ideas=25)
    add(questions=8, ideas=3)
    large = count_statements(queries.build_publication)
    # On PostgreSQL the build also sets its own timeout, counts participants in a query, and
    # counts what happened since its cutoff apart (queries.History): events, people active
    # since and what they did before, supports and answers.
    assert small == large <= most + (7 if db.engine.dialect.name == "postgresql" else 0)


def test_a_consultation_with_nothing_yet_shows_no_bare_zero(app, geography, content_sources, crowd):
    make_consultation([geography.authority], slug="empty")
    pub, content = _content("empty")
    assert content.questions == [] and content.idea_statuses == [] and content.top_ideas == []
    assert content.ideas.value is None and content.responses.value is None
    assert all(key[1] != "empty" for key in pub.cells if key[0] in ("res", "ideas", "is"))
