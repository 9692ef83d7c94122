"""The demo seeder: ideas for every open consultation, one past its threshold, idempotent."""

import random

from sqlalchemy import func, select

from civic.extensions import db
from civic.ideas.models import Comment, Idea, IdeaCollection, Support
from civic.ideas.seed import seed_ideas
from tests.factories import make_consultation


def test_demo_ideas_for_open_consultations_only_and_idempotent(geography, make_user):
    ward = geography.wards[0]
    open_one = make_consultation([ward])
    closed = make_consultation([ward], stage="closed")
    make_user("resident", "officer")
    for _ in range(30):
        make_user("resident", ward=ward)
    seed_ideas(random.Random(1))
    db.session.commit()
    assert db.session.get(IdeaCollection, open_one.id) is not None
    assert db.session.get(IdeaCollection, closed.id) is None
    ideas = db.session.execute(select(Idea)).scalars().all()
    assert len(ideas) == 12 and {i.consultation_id for i in ideas} == {open_one.id}
    assert sum(1 for i in ideas if i.threshold_reached_at) == 1
    assert sum(1 for i in ideas if i.response_status) == 3
    for idea in ideas:
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.idea_id == idea.id))
        assert idea.support_count == rows
    counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (Idea, Support, Comment)]
    seed_ideas(random.Random(1))
    db.session.commit()
    assert [db.session.scalar(select(func.count()).select_from(t)) for t in (Idea, Support, Comment)] == counts
