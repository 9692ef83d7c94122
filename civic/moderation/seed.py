"""Demo moderation: a realistic queue and some decisions in the log (`flask seed demo`).

Runs after the consultations and ideas seeders. It uses the ideas, comments and answers they
made; when there are too few (or none), it adds its own small consultation, "Greener streets"
(slug ``demo-greener-streets``), with pre-moderated ideas and published free text. It then
leaves: items awaiting approval, items reported below the threshold, one comment hidden by
reports, and decisions (approvals, a rejection with a review request, a hiding) made through the
moderation services, so they are in the audit log. Idempotent: it does nothing once any report
exists.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from civic.accounts.models import User
from civic.areas.models import Area, AreaLevel
from civic.consultations.models import Answer, Consultation, Question, QuestionKind, Response
from civic.core.content import ContentStatus
from civic.core.models import utcnow
from civic.extensions import db
from civic.ideas.models import Comment, Idea, IdeaCollection
from civic.moderation import services
from civic.moderation.models import Report

DEMO_SLUG = "demo-greener-streets"

PENDING_IDEAS = [
    ("Planters on Church Lane", "Replace the two parking bays outside the chemist with planters and a bench."),
    ("Water refill points in the park", "A drinking fountain by the play area would cut plastic bottles."),
    ("BUY CHEAP WATCHES", "Best prices at www.example.com/watches — click now!!!"),
]
PENDING_COMMENTS = [
    "Good idea, but the bins there are already overflowing on Mondays.",
    "My neighbour at 14 Elm Bank, Mrs Patel, says she will water them (call her on 07700 900123).",
]
PENDING_ANSWERS = [
    "More trees on the main road please; in summer it is far too hot to walk to school.",
    "Whoever runs the highways team is useless and should be sacked.",
]
PUBLISHED_IDEAS = [
    ("Street trees on Riverside Road", "Plant street trees along Riverside Road to give shade and slow traffic."),
    ("Community compost scheme", "A shared compost bin for each block of flats, emptied by volunteers."),
    ("Pocket park on the old garage site", "Turn the empty garage site on Marsh End into a small park."),
    ("Wildflower verges", "Mow the verges twice a year instead of monthly and let wildflowers grow."),
]
PUBLISHED_COMMENTS = [
    "Yes! The verges on Moorside looked lovely the year they were left.",
    "Who is going to pay for this? Council tax is high enough already.",
    "People who support this are idiots who never leave their houses.",
]


def _demo_consultation(officer: User) -> Consultation:
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == DEMO_SLUG))
    if consultation:
        return consultation
    now = utcnow()
    authority = db.session.scalar(select(Area).where(Area.level == AreaLevel.AUTHORITY))
    consultation = Consultation(
        slug=DEMO_SLUG,
        title="Greener streets",
        summary="Ideas for trees, planting and shade on our streets.",
        body="Tell us how to make our streets greener and cooler. Ideas are checked before they are published.",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=20),
        scheduled_at=now - timedelta(days=20),
        publish_free_text=True,
        created_by_id=officer.id,
    )
    consultation.areas = [authority] if authority else []
    consultation.questions.append(
        Question(position=1, kind=QuestionKind.FREE_TEXT.value, text="What would make your street greener?", max_length=1000)
    )
    db.session.add(consultation)
    db.session.flush()
    db.session.add(IdeaCollection(consultation_id=consultation.id, moderation="pre", categories_json='["Trees", "Parks"]'))
    db.session.flush()
    return consultation


def _free_text_question(consultation: Consultation) -> Question | None:
    return next((q for q in consultation.questions if q.kind == QuestionKind.FREE_TEXT.value), None)


def seed_moderation(rng: random.Random) -> None:
    if db.session.scalar(select(func.count()).select_from(Report)):
        return  # already seeded
    officer = db.session.scalar(select(User).where(User.email == "officer@example.org"))
    residents = list(
        db.session.scalars(
            select(User).where(User.email.like("resident0%"), User.email_verified_at.is_not(None)).order_by(User.email).limit(40)
        )
    )
    if officer is None or len(residents) < 12:
        return
    now = utcnow()
    authors, reporters = residents[:8], residents[8:]

    collection = db.session.scalar(select(IdeaCollection).order_by(IdeaCollection.consultation_id).limit(1))
    consultation = collection.consultation if collection else _demo_consultation(officer)

    published = list(
        db.session.scalars(
            select(Idea).where(Idea.status == ContentStatus.PUBLISHED.value, Idea.author_id.in_([a.id for a in authors]))
        )
    )
    published += list(
        db.session.scalars(select(Idea).where(Idea.status == ContentStatus.PUBLISHED.value).order_by(Idea.id).limit(6))
    )
    published = list(dict.fromkeys(published))
    if len(published) < 3:
        for n, (title, body) in enumerate(PUBLISHED_IDEAS):
            published.append(
                Idea(
                    consultation_id=consultation.id,
                    author_id=authors[n].id,
                    title=title,
                    body=body,
                    ward_id=authors[n].ward_id,
                    status=ContentStatus.PUBLISHED.value,
                    created_at=now - timedelta(days=6 - n),
                )
            )
            db.session.add(published[-1])
        db.session.flush()

    # A few published comments, one of which will be hidden by reports.
    comments = []
    for n, body in enumerate(PUBLISHED_COMMENTS):
        comment = Comment(
            idea_id=published[n % len(published)].id,
            author_id=authors[(n + 4) % 8].id,
            body=body,
            status=ContentStatus.PUBLISHED.value,
            created_at=now - timedelta(days=3, hours=n),
        )
        db.session.add(comment)
        comments.append(comment)

    # Waiting for approval: ideas and comments, oldest a day and a half ago.
    pending = []
    for n, (title, body) in enumerate(PENDING_IDEAS):
        idea = Idea(
            consultation_id=consultation.id,
            author_id=authors[n].id,
            title=title,
            body=body,
            ward_id=authors[n].ward_id,
            status=ContentStatus.PENDING.value,
            created_at=now - timedelta(hours=36 - 5 * n),
        )
        db.session.add(idea)
        pending.append(("idea", idea))
    for n, body in enumerate(PENDING_COMMENTS):
        comment = Comment(
            idea_id=published[0].id,
            author_id=authors[n + 3].id,
            body=body,
            status=ContentStatus.PENDING.value,
            created_at=now - timedelta(hours=20 - 4 * n),
        )
        db.session.add(comment)
        pending.append(("comment", comment))

    # Free-text answers waiting, where a consultation publishes free text.
    free = db.session.scalar(select(Consultation).where(Consultation.publish_free_text.is_(True)).order_by(Consultation.id))
    if free is None:
        free = _demo_consultation(officer)
    question = _free_text_question(free)
    if question is not None:
        answered = set(db.session.scalars(select(Response.user_id).where(Response.consultation_id == free.id)))
        for n, text in enumerate(PENDING_ANSWERS):
            person = next((a for a in authors[5:] if a.id not in answered), None)
            if person is None:
                break
            answered.add(person.id)
            response = Response(consultation_id=free.id, user_id=person.id, submitted_at=now - timedelta(hours=10 - 3 * n))
            db.session.add(response)
            db.session.flush()
            db.session.add(Answer(response_id=response.id, question_id=question.id, value=text, status="pending"))
    db.session.commit()  # the services below are units of work of their own

    # Decisions through the services, so they are audited: approvals, a rejection with a
    # review request, and a hiding.
    approve = [p for p in pending if p[0] == "idea"][:2]
    for kind, item in approve:
        services.decide(officer, kind, item.id, "approve", seen_version=0, note="Thank you for your idea.")
    spam = next(item for kind, item in pending if kind == "idea" and item.title.startswith("BUY"))
    services.decide(officer, "idea", spam.id, "reject", seen_version=0, reason="spam", note="Advertising is not allowed.")
    personal = next(item for kind, item in pending if kind == "comment" and "07700" in item.body)
    services.decide(
        officer,
        "comment",
        personal.id,
        "reject",
        seen_version=0,
        reason="personal_information",
        note="Please do not post other people's names or phone numbers.",
    )
    author = db.session.get(User, personal.author_id)
    services.request_review(author, "comment", personal.id, "Mrs Patel said I could share her number.")

    # Reports: below the threshold on two items; one comment reported until it is hidden.
    services.report_content(reporters[0], "idea", published[1].id, "off_topic", "This is about bins, not trees.")
    services.report_content(reporters[1], "comment", comments[1].id, "offensive")
    threshold = services.report_threshold()
    for reporter in reporters[2 : 2 + threshold]:
        services.report_content(reporter, "comment", comments[2].id, "offensive", "Name-calling.")
    # And an older reported idea an officer has already kept up.
    services.report_content(reporters[-1], "idea", published[2].id, "spam")
    state = services.item_state("idea", published[2].id)
    services.decide(
        officer, "idea", published[2].id, "approve", seen_version=state.version, note="Reported as spam; it is a genuine idea."
    )
