"""Every rule the ideas services enforce, broken once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.accounts.services import delete_account, export_user_data
from civic.core.errors import NotFound, RuleViolation
from civic.core.models import utcnow
from civic.extensions import db
from civic.ideas import services
from civic.ideas.models import Comment, Idea, IdeaCollection, Support
from civic.ideas.services import (
    DuplicatePost,
    EditWindowClosed,
    IdeaDraft,
    ListQuery,
    Refused,
    add_comment,
    propose_idea,
    support_idea,
    unsupport_idea,
)
from civic.moderation.models import Report
from civic.moderation.services import AlreadyReported
from tests.conftest import PASSWORD
from tests.factories import XSS, make_comment, make_consultation, make_idea


def _draft(title="Better buses", body="More buses on Sundays", category="Transport"):
    return IdeaDraft(title, body, category)


def test_propose_publishes_under_post_moderation_and_defaults_ward(consultation, author):
    idea = propose_idea(author, consultation, _draft())
    assert idea.status == "published"
    assert idea.ward_id == author.ward_id


def test_propose_is_pending_under_pre_moderation(geography, author):
    consultation = make_consultation([geography.authority], collects_ideas=True, moderation="pre")
    assert propose_idea(author, consultation, _draft()).status == "pending"


@pytest.mark.parametrize("stage", ["draft", "scheduled", "closed", "outcome_published"])
def test_propose_refused_when_not_open(geography, author, stage):
    consultation = make_consultation([geography.authority], stage=stage, collects_ideas=True)
    with pytest.raises(Refused):
        propose_idea(author, consultation, _draft())


def test_propose_refused_unverified_suspended_outside(geography, make_user, consultation):
    with pytest.raises(Refused):
        propose_idea(make_user("resident", verified=False), consultation, _draft())
    with pytest.raises(Refused):
        propose_idea(make_user("resident", suspended_at=utcnow(), suspension_reason="x"), consultation, _draft())
    local = make_consultation([geography.boroughs[1]], collects_ideas=True)
    with pytest.raises(Refused):
        propose_idea(make_user("resident", ward=geography.wards[0]), local, _draft())


def test_propose_refuses_unknown_category_and_empty_title(consultation, author):
    with pytest.raises(RuleViolation) as exc:
        propose_idea(author, consultation, _draft(category="Nonsense"))
    assert exc.value.field == "category"
    with pytest.raises(RuleViolation) as exc:
        propose_idea(author, consultation, _draft(title="  "))
    assert exc.value.field == "title"


def test_identical_idea_twice_is_refused(consultation, author):
    propose_idea(author, consultation, _draft())
    with pytest.raises(DuplicatePost):
        propose_idea(author, consultation, _draft(title="better BUSES"))
    propose_idea(author, consultation, _draft(body="Something else"))  # a different idea is fine


def test_support_is_idempotent_and_counted(idea, make_user):
    fan = make_user("resident")
    assert support_idea(fan, idea.id).changed
    again = support_idea(fan, idea.id)
    assert not again.changed and again.count == 1
    assert db.session.scalar(select(func.count(Support.id))) == 1
    assert unsupport_idea(fan, idea.id).count == 0
    assert not unsupport_idea(fan, idea.id).changed
    assert db.session.get(Idea, idea.id).support_count == 0


def test_support_own_idea_refused(idea, author):
    with pytest.raises(Refused, match="your own idea"):
        support_idea(author, idea.id)


@pytest.mark.parametrize("stage", ["closed", "outcome_published", "scheduled"])
def test_support_refused_when_not_open(geography, make_user, stage):
    consultation = make_consultation([geography.authority], stage=stage, collects_ideas=True)
    idea = make_idea(consultation, make_user("resident"))
    with pytest.raises(Refused):
        support_idea(make_user("resident"), idea.id)
    with pytest.raises(Refused):
        unsupport_idea(make_user("resident"), idea.id)


def test_support_refused_unverified_and_suspended(idea, make_user):
    with pytest.raises(Refused):
        support_idea(make_user("resident", verified=False), idea.id)
    with pytest.raises(Refused):
        support_idea(make_user("resident", suspended_at=utcnow()), idea.id)


def test_pending_idea_cannot_be_supported_and_is_hidden_from_others(consultation, author, make_user):
    pending = make_idea(consultation, author, status="pending")
    with pytest.raises(NotFound):
        support_idea(make_user("resident"), pending.id)
    officer = make_user("resident", "officer")
    assert services.visible_idea(officer, pending.id) == pending


def test_threshold_marks_once_and_emails_officers(geography, make_user, outbox):
    consultation = make_consultation([geography.wards[0]], collects_ideas=True)
    collection = db.session.get(IdeaCollection, consultation.id)
    collection.threshold_basis_points = 1  # 0.01% of 8001 adults → 1 support
    db.session.commit()
    assert services.threshold_for(consultation, collection) == 1
    officer = make_user("officer")
    idea = make_idea(consultation, make_user("resident"))
    support_idea(make_user("resident"), idea.id)
    support_idea(make_user("resident"), idea.id)
    assert db.session.get(Idea, idea.id).threshold_reached_at is not None
    sent = [m for m in outbox if "threshold" in m.subject]
    assert [m.to for m in sent] == [[officer.email]]


def test_eligible_population_counts_nested_areas_once_and_unknown_is_none(geography):
    both = make_consultation([geography.boroughs[0], geography.wards[0]], collects_ideas=True)
    assert services.eligible_adult_population(both) == 8001 + 8002
    geography.wards[3].adult_population = None
    db.session.commit()
    whole = make_consultation([geography.authority], collects_ideas=True)
    assert services.eligible_adult_population(whole) is None
    assert services.threshold_for(whole, db.session.get(IdeaCollection, whole.id)) is None


def test_edit_after_window_or_support_refused(consultation, author, make_user):
    idea = propose_idea(author, consultation, _draft())
    services.edit_idea(author, idea, _draft(title="Even better buses"))
    with pytest.raises(EditWindowClosed):
        services.edit_idea(author, idea, _draft(), now=utcnow() + timedelta(minutes=31))
    support_idea(make_user("resident"), idea.id)
    db.session.refresh(idea)
    with pytest.raises(EditWindowClosed):
        services.edit_idea(author, idea, _draft(title="Changed after support"))


def test_withdraw_keeps_supports_and_stops_new_ones(idea, author, make_user):
    fan = make_user("resident")
    support_idea(fan, idea.id)
    services.withdraw_idea(author, idea)
    with pytest.raises(Refused):
        support_idea(make_user("resident"), idea.id)
    assert unsupport_idea(fan, idea.id).count == 0  # a supporter may still take theirs back
    with pytest.raises(Refused):
        services.withdraw_idea(make_user("resident"), idea)


def test_official_response_emails_author_and_supporters(idea, author, make_user, outbox):
    fan = make_user("resident")
    support_idea(fan, idea.id)
    officer = make_user("officer")
    services.respond_to_idea(officer, idea, "accepted", f"We will do it {XSS}")
    recipients = sorted(m.to[0] for m in outbox if "responded" in m.subject)
    assert recipients == sorted([author.email, fan.email])
    with pytest.raises(RuleViolation):
        services.respond_to_idea(officer, idea, "maybe", "x")
    with pytest.raises(Exception):  # noqa: B017 - NotAllowed
        services.respond_to_idea(make_user("resident"), idea, "accepted", "x")


def test_comments_one_level_edit_window_delete(idea, make_user):
    alice, bob = make_user("resident"), make_user("resident")
    top = add_comment(alice, idea.id, "First")
    reply = add_comment(bob, idea.id, "Reply", parent_id=top.id)
    deeper = add_comment(alice, idea.id, "Reply to reply", parent_id=reply.id)
    assert reply.parent_id == top.id and deeper.parent_id == top.id
    with pytest.raises(DuplicatePost):
        add_comment(alice, idea.id, "First")
    with pytest.raises(EditWindowClosed):
        services.edit_comment(alice, top, "Late", now=utcnow() + timedelta(minutes=16))
    services.delete_comment(alice, top)
    threads = services.threads_for(bob, idea).threads
    assert threads[0].comment.deleted_at is not None and len(threads[0].replies) == 2


def test_commenting_on_a_hidden_or_pending_idea_refused(consultation, author, make_user):
    hidden = make_idea(consultation, author, status="hidden")
    with pytest.raises(NotFound):
        add_comment(make_user("resident"), hidden.id, "hello")
    pending = make_idea(consultation, author, status="pending")
    with pytest.raises(Refused):
        add_comment(author, pending.id, "my own pending idea")


def test_commenting_when_closed_refused(geography, make_user):
    consultation = make_consultation([geography.authority], stage="closed", collects_ideas=True)
    idea = make_idea(consultation, make_user("resident"))
    with pytest.raises(Refused):
        add_comment(make_user("resident"), idea.id, "late")


def test_reports_once_per_person(idea, make_user):
    reporter = make_user("resident")
    services.report_idea(reporter, idea.id, "spam")
    with pytest.raises(AlreadyReported):
        services.report_idea(reporter, idea.id, "offensive")
    comment = make_comment(idea, make_user("resident"))
    services.report_comment(reporter, comment.id, "off_topic")
    assert db.session.scalar(select(func.count(Report.id))) == 2


def test_list_sorts_filters_and_pages(consultation, make_user):
    author = make_user("resident")
    ideas = [make_idea(consultation, author, title=f"Idea number {n}", support_count=n % 7) for n in range(45)]
    top = services.list_ideas(consultation, ListQuery(sort="top"))
    assert len(top.ideas) == 20 and top.has_next
    counts = [i.support_count for i in top.ideas]
    assert counts == sorted(counts, reverse=True)
    seen = []
    for page in (1, 2, 3):
        seen += [i.id for i in services.list_ideas(consultation, ListQuery(sort="random", seed=42, page=page)).ideas]
    assert sorted(seen) == sorted(i.id for i in ideas)  # a stable shuffle: every idea exactly once
    again = services.list_ideas(consultation, ListQuery(sort="random", seed=42)).ideas
    assert [i.id for i in again] == seen[:20]
    new = services.list_ideas(consultation, ListQuery(sort="new")).ideas
    assert new[0].id == ideas[-1].id


def test_search_and_similar(consultation, author):
    make_idea(consultation, author, title="Zebra crossing near the school", body="Safety for children")
    make_idea(consultation, author, title="Plant more trees", body="Shade in summer")
    found = services.list_ideas(consultation, ListQuery(q="zebra school")).ideas
    assert [i.title for i in found] == ["Zebra crossing near the school"]
    similar = services.similar_ideas(consultation, "crossing for the children")
    assert [i.title for i in similar] == ["Zebra crossing near the school"]
    assert services.similar_ideas(consultation, '"; DROP TABLE x; --') == []
    # Query syntax is never passed through: operators are just words (here "near" matches).
    assert len(services.list_ideas(consultation, ListQuery(q='*** OR NEAR( "unbalanced')).ideas) <= 1


def test_account_deletion_withdraws_open_supports_only(geography, make_user):
    open_c = make_consultation([geography.authority], collects_ideas=True)
    closed_c = make_consultation([geography.authority], stage="closed", collects_ideas=True)
    author = make_user("resident")
    open_idea, closed_idea = make_idea(open_c, author), make_idea(closed_c, author)
    fan = make_user("resident")
    support_idea(fan, open_idea.id)
    db.session.add(Support(idea_id=closed_idea.id, user_id=fan.id))
    closed_idea.support_count = 1
    db.session.commit()
    exported = export_user_data(fan)
    assert [s["idea_id"] for s in exported["supports"]] == [open_idea.id, closed_idea.id]
    delete_account(fan, PASSWORD)
    assert db.session.get(Idea, open_idea.id).support_count == 0
    assert db.session.get(Idea, closed_idea.id).support_count == 1
    assert db.session.scalar(select(func.count(Support.id))) == 1


def test_collection_settings(consultation, make_user, geography):
    officer = make_user("officer")
    other = make_consultation([geography.authority])
    settings = services.CollectionSettings(True, "pre", 50, ["Roads", "roads", " Parks "])
    collection = services.save_collection(officer, other, settings)
    assert collection.categories == ["Roads", "Parks"] and collection.moderation == "pre"
    with pytest.raises(RuleViolation):
        services.save_collection(officer, other, services.CollectionSettings(True, "pre", 0))
    make_idea(consultation, make_user("resident"))
    with pytest.raises(RuleViolation):
        services.save_collection(officer, consultation, services.CollectionSettings(False))
    assert services.save_collection(officer, other, services.CollectionSettings(False)) is None
    assert db.session.get(Comment, 1) is None


def test_comment_threads_page_and_hide_pending_from_others(idea, make_user):
    alice, bob = make_user("resident"), make_user("resident")
    for n in range(31):
        make_comment(idea, alice, body=f"Comment {n}")
    pending = make_comment(idea, alice, status="pending", body="Waiting")
    first = services.threads_for(bob, idea)
    assert len(first.threads) == 30 and first.has_next
    second = services.threads_for(bob, idea, page=2)
    assert [t.comment.body for t in second.threads] == ["Comment 30"] and not second.has_next
    assert pending.id in [t.comment.id for t in services.threads_for(alice, idea, page=2).threads]


def test_random_order_with_large_ids_does_not_overflow(consultation, author):
    big = make_idea(consultation, author, id=2_000_000_000)
    found = services.list_ideas(consultation, ListQuery(sort="random", seed=999_999)).ideas
    assert [i.id for i in found] == [big.id]


def test_deep_pages_from_cached_starts_match_offset_paging(consultation, make_user, monkeypatch):
    author = make_user("resident")
    for n in range(65):
        make_idea(consultation, author, title=f"Idea {n}", support_count=(n * 7) % 11)
    for sort in ("top", "new"):
        pages = [services.list_ideas(consultation, ListQuery(sort=sort, page=p)) for p in (1, 2, 3, 4, 5)]
        # The same pages by OFFSET (a filter that matches every idea turns the starts off).
        by_offset = [services.list_ideas(consultation, ListQuery(sort=sort, page=p, category="Transport")) for p in (1, 2, 3, 4)]
        assert [[i.id for i in p.ideas] for p in pages[:4]] == [[i.id for i in p.ideas] for p in by_offset]
        assert [p.has_next for p in pages] == [True, True, True, False, False]
        assert len(pages[3].ideas) == 5 and pages[4].ideas == []
