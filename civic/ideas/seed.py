"""Demo ideas (``flask seed demo``) and benchmark data (``flask seed scale``).

The demo seeder runs after the consultations seeder. For every open consultation it makes sure
ideas are collected (an ``IdeaCollection`` if none exists) and, if the consultation has no
ideas yet, adds a dozen ideas with supports, comments and replies: one idea past its
threshold (awaiting a response) and a few with official responses. It writes rows directly
(no emails, no rate limits) and does nothing for a consultation that already has ideas, so
running it twice changes nothing.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

import click
from sqlalchemy import func, select

from civic.accounts.models import User, UserRole
from civic.consultations.lifecycle import Stage
from civic.consultations.models import Consultation
from civic.core.models import utcnow
from civic.extensions import db
from civic.ideas import permissions as perms
from civic.ideas.models import Comment, Idea, IdeaCollection, ModerationMode, ResponseStatus, Support
from civic.ideas.services import threshold_for
from civic.seed import SEEDERS, seed_cli

DEMO_CATEGORIES = ["Transport", "Parks and green spaces", "Housing", "Community safety", "Other"]
DEMO_IDEAS = [
    ("A zebra crossing outside the primary school", "Transport", "Children cross a busy road at 8:45 every morning."),
    ("Secure cycle parking at the station", "Transport", "Covered, **lockable** stands near the ticket office."),
    ("Plant fruit trees in the park", "Parks and green spaces", "An orchard anyone can pick from, cared for by volunteers."),
    ("Open the library on Sunday afternoons", "Other", "Many people work on Saturdays and cannot visit."),
    ("More benches along the canal towpath", "Parks and green spaces", "Older residents need somewhere to rest."),
    ("Street lights on the path to the bus stop", "Community safety", "It is very dark after 5pm in winter."),
    ("Turn the empty shop into a repair café", "Housing", "Fix things instead of throwing them away."),
    ("A 20mph limit on residential streets", "Transport", "Slower traffic makes streets safer for everyone."),
    ("Free water refill points in the town centre", "Other", "Fewer plastic bottles, cooler summers."),
    ("Wildflower verges instead of mown grass", "Parks and green spaces", "Good for bees and cheaper to maintain."),
    ("A youth club in the community centre", "Community safety", "Somewhere for teenagers to go in the evening."),
    ("Bus shelter with real-time information", "Transport", "Know when the next bus is coming."),
]
DEMO_COMMENTS = [
    "I agree, this would make a real difference.",
    "Has the council looked at the cost of this?",
    "Yes please! My children would use this every day.",
    "Good idea, but it should go somewhere quieter.",
    "We tried something similar in our street and it worked well.",
]


def seed_ideas(rng: random.Random) -> None:
    now = utcnow()
    consultations = [c for c in db.session.execute(select(Consultation)).scalars() if c.stage(now) == Stage.OPEN]
    if not consultations:
        return
    residents = list(
        db.session.execute(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "resident", User.email_verified_at.is_not(None), User.deleted_at.is_(None))
            .order_by(User.id)
        )
        .unique()
        .scalars()
    )
    officer = db.session.scalar(
        select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == "officer").order_by(User.id)
    )
    for consultation in consultations:
        collection = db.session.get(IdeaCollection, consultation.id)
        if collection is None:
            collection = IdeaCollection(
                consultation_id=consultation.id,
                moderation=ModerationMode.POST.value,
                threshold_basis_points=25,
                categories_json=json.dumps(DEMO_CATEGORIES),
            )
            db.session.add(collection)
            db.session.flush()
        if db.session.scalar(select(func.count(Idea.id)).where(Idea.consultation_id == consultation.id)):
            continue
        eligible = [u for u in residents if perms.ward_in_scope(u.ward, consultation.areas)]
        if len(eligible) < 20:
            continue
        threshold = threshold_for(consultation, collection) or 50
        _seed_consultation(rng, consultation, collection, eligible, officer, threshold, now)
    db.session.flush()


def _seed_consultation(rng, consultation, collection, eligible, officer, threshold, now) -> None:
    categories = collection.categories
    for n, (title, category, body) in enumerate(DEMO_IDEAS):
        author = eligible[rng.randrange(len(eligible))]
        created = max(consultation.opens_at, now - timedelta(days=6)) + timedelta(hours=n * 7 + rng.randint(0, 5))
        created = min(created, now - timedelta(hours=1))
        idea = Idea(
            consultation_id=consultation.id,
            author_id=author.id,
            title=title,
            body=body,
            category=category if category in categories else (categories[0] if categories else None),
            ward_id=author.ward_id,
            status="published",
            support_count=0,
            created_at=created,
            updated_at=created,
        )
        db.session.add(idea)
        db.session.flush()
        # The first idea passes its threshold; the rest get a spread of supports.
        wanted = min(len(eligible) - 1, threshold + 3 if n == 0 else rng.randint(0, max(3, threshold // 3)))
        supporters = rng.sample([u for u in eligible if u.id != author.id], wanted)
        for person in supporters:
            db.session.add(
                Support(idea_id=idea.id, user_id=person.id, created_at=created + timedelta(minutes=rng.randint(5, 3000)))
            )
        idea.support_count = len(supporters)
        if n == 0 and idea.support_count >= threshold:
            idea.threshold_reached_at = created + timedelta(days=2)
        if n in (1, 2, 3) and officer is not None:
            status = [ResponseStatus.ACCEPTED, ResponseStatus.UNDER_CONSIDERATION, ResponseStatus.NOT_TAKEN_FORWARD][n - 1]
            idea.response_status = status.value
            idea.response_text = (
                "Thank you for this idea. Our highways team has looked at it and we will report back at the next area committee."
            )
            idea.responded_at = created + timedelta(days=3)
            idea.responded_by_id = officer.id
        for c in range(rng.randint(0, 4)):
            commenter = eligible[rng.randrange(len(eligible))]
            at = created + timedelta(hours=c + 1)
            top = Comment(
                idea_id=idea.id,
                author_id=commenter.id,
                body=DEMO_COMMENTS[(n + c) % len(DEMO_COMMENTS)],
                status="published",
                created_at=at,
                updated_at=at,
            )
            db.session.add(top)
            db.session.flush()
            if c == 0:
                replier = eligible[rng.randrange(len(eligible))]
                db.session.add(
                    Comment(
                        idea_id=idea.id,
                        author_id=replier.id,
                        parent_id=top.id,
                        body="Good point. I had not thought of that.",
                        status="published",
                        created_at=at + timedelta(minutes=30),
                        updated_at=at + timedelta(minutes=30),
                    )
                )


SEEDERS.append(seed_ideas)


@seed_cli.command("scale")
@click.option("--tier", type=click.Choice(["district", "metro"]), default="district", show_default=True)
@click.option("--seed", type=int, default=20260507, show_default=True)
def scale(tier: str, seed: int):
    """Load deterministic benchmark data into an EMPTY, migrated PostgreSQL database (COPY)."""
    from flask import current_app

    from bench.dataset import TIERS, load, rows_to_load

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        raise click.ClickException("Scale data is loaded with COPY: point DATABASE_URL at PostgreSQL.")
    if db.session.scalar(select(func.count(User.id))):
        raise click.ClickException("The database already has accounts: scale data needs an empty, migrated database.")
    db.session.remove()
    with click.progressbar(length=rows_to_load(TIERS[tier]), label=f"Loading the {tier} tier") as bar:
        facts = load(url, TIERS[tier], seed=seed, progress=bar.update)
    click.echo(f"Loaded tier {tier}: {len(facts.people.get('residents', []))} residents, facts: {sorted(facts.extra)}")
