"""Demo and benchmark consultations.

``seed_consultations`` (appended to ``civic.seed.SEEDERS``) adds five consultations with dates
relative to today — open with responses, closing within two days, upcoming, closed awaiting an
outcome, outcome published — answered by demo residents who live in scope, over several weeks.
Responses are written as rows directly (the services would refuse answers dated in the past),
shaped exactly as ``services.save_answers`` and ``submit_response`` write them. Idempotent: a
consultation whose slug exists is left alone.

``build_twenty_question_consultation`` and ``sample_form_data`` are the benchmark's helpers
(bench/dataset.py ``build_consultation``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from civic.accounts.models import User, UserRole
from civic.areas.models import Area, AreaLevel
from civic.consultations.models import SCALE_POINTS, Answer, Consultation, Question, QuestionKind, QuestionOption, Response
from civic.consultations.services import field_name
from civic.core.content import ContentStatus
from civic.core.models import utcnow
from civic.core.templating import LONDON
from civic.extensions import db

SC, MC, SCALE, TEXT = QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE, QuestionKind.SCALE, QuestionKind.FREE_TEXT


@dataclass
class Q:
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    hint: str = ""
    required: bool = True
    max_choices: int | None = None
    weights: tuple[float, ...] = ()  # how demo answers lean
    texts: tuple[str, ...] = ()  # demo free-text answers


@dataclass
class Demo:
    slug: str
    title: str
    summary: str
    body: str
    scope: tuple[str, ...]  # area names
    opens: timedelta  # relative to now
    closes: timedelta
    responses: int
    questions: list[Q] = field(default_factory=list)
    outcome: str = ""
    outcome_after: timedelta | None = None  # after the close
    results_while_open: bool = False
    publish_free_text: bool = False
    questions_per_page: int = 1


def _scale(text: str, lean: tuple[float, ...] = (3, 4, 2, 1, 1, 0.4), hint: str = "") -> Q:
    return Q(SCALE, text, hint=hint, weights=lean)


DEMOS = [
    Demo(
        slug="greener-streets-northam",
        title="Greener streets for Northam town centre",
        summary="Street trees, planters and seating on Market Street and Bridge Road, and what it means for parking.",
        body=(
            "Northam Council wants to make the town centre greener and more pleasant to walk through.\n\n"
            "## What we propose\n\n"
            "- plant 60 street trees on Market Street and Bridge Road\n"
            "- add planters and benches where there is space\n"
            "- remove 24 of the 140 on-street parking spaces to make room\n\n"
            "The cost is £850,000, mostly from the government's Town Fund. "
            "Read the [full proposal](https://www.example.org/greener-streets) before you answer."
        ),
        scope=("Northam",),
        opens=timedelta(days=-20),
        closes=timedelta(days=25),
        responses=140,
        results_while_open=True,
        questions_per_page=1,
        questions=[
            Q(
                SC,
                "How often do you visit Northam town centre?",
                ("Every day", "Every week", "Every month", "Less often"),
                weights=(3, 5, 2, 1),
            ),
            _scale("Northam town centre needs more trees and greenery"),
            Q(
                MC,
                "What would make you spend more time in the town centre?",
                ("More trees and planting", "Somewhere to sit", "Less traffic", "More parking", "Better lighting"),
                hint="Choose up to 2.",
                max_choices=2,
                weights=(5, 4, 3, 2, 3),
            ),
            _scale("Removing 24 parking spaces to make room for trees is a fair trade-off", (2, 3, 2, 2, 2, 0.3)),
            Q(
                TEXT,
                "Is there anything else you would like to tell us about the proposal?",
                required=False,
                texts=(
                    "Please choose trees that do not drop fruit on the pavement.",
                    "Benches near the bus station would help older people.",
                    "Worried about deliveries to shops on Bridge Road.",
                ),
            ),
        ],
    ),
    Demo(
        slug="library-opening-hours",
        title="Library opening hours across Greater Northam",
        summary="How the four borough libraries should open next year within a smaller budget.",
        body=(
            "The combined authority's library budget falls by 8% next year. We must choose between "
            "shorter hours everywhere, or longer hours in fewer places.\n\n"
            "Tell us how you use libraries and which option you prefer."
        ),
        scope=("Greater Northam Combined Authority",),
        opens=timedelta(days=-40),
        closes=timedelta(days=1),  # tomorrow at 11:59pm: closing within two days
        responses=220,
        questions_per_page=3,
        questions=[
            Q(
                SC,
                "Which option do you prefer?",
                (
                    "Shorter hours in all four libraries",
                    "Longer hours in two libraries, volunteers run the others",
                    "No preference",
                ),
                weights=(5, 3, 1),
            ),
            Q(
                MC,
                "When do you most want the library to be open?",
                ("Weekday mornings", "Weekday afternoons", "Weekday evenings", "Saturdays", "Sundays"),
                hint="Choose up to 3.",
                max_choices=3,
                weights=(2, 3, 4, 5, 2),
            ),
            _scale("I would use a self-service library outside staffed hours", (2, 3, 3, 2, 1, 1)),
            Q(
                TEXT,
                "How would the changes affect you?",
                required=False,
                texts=("I study there after work.", "My children use the homework club."),
            ),
        ],
    ),
    Demo(
        slug="budget-2027-28",
        title="Budget 2027/28: council tax and services",
        summary="Help us set next year's budget: council tax, and which services to protect.",
        body="Every year we must set a balanced budget. This year we face a gap of £14 million.",
        scope=("Greater Northam Combined Authority",),
        opens=timedelta(days=10),
        closes=timedelta(days=52),
        responses=0,
        questions_per_page=1,
        questions=[
            Q(SC, "Should council tax rise by the maximum 4.99%?", ("Yes", "No", "Don't know")),
            Q(
                MC,
                "Which services matter most to you?",
                ("Adult social care", "Children's services", "Bins and recycling", "Roads and pavements", "Parks", "Libraries"),
                max_choices=3,
                hint="Choose up to 3.",
            ),
        ],
    ),
    Demo(
        slug="riverside-parking-zone",
        title="Residents' parking zone: Riverside and Old Quay",
        summary="A proposed residents' parking zone near the new railway station.",
        body="Since the station opened, residents tell us they cannot park near their homes on weekdays.",
        scope=("Riverside", "Old Quay"),
        opens=timedelta(days=-40),
        closes=timedelta(days=-5),
        responses=60,
        questions_per_page=2,
        questions=[
            _scale("There is a parking problem in my street", (4, 3, 1, 1, 1, 0.2)),
            Q(SC, "Should we introduce a residents' parking zone?", ("Yes", "No", "Not sure"), weights=(5, 3, 1)),
            Q(
                SC,
                "If so, when should it apply?",
                ("Weekdays 8am to 6pm", "Every day 8am to 8pm", "Match-days only"),
                weights=(5, 2, 1),
            ),
            Q(TEXT, "Any other comments?", required=False, texts=("Visitor permits must be cheap.", "Carers need to park too.")),
        ],
    ),
    Demo(
        slug="food-waste-collections",
        title="Weekly food waste collections",
        summary="How we should introduce weekly food waste collections, as the law now requires.",
        body="From April every household must have a weekly food waste collection. We asked how it should work.",
        scope=("Greater Northam Combined Authority",),
        opens=timedelta(days=-110),
        closes=timedelta(days=-60),
        responses=260,
        publish_free_text=True,
        questions_per_page=1,
        outcome=(
            "We will start weekly food waste collections in April, on the same day as your general waste.\n\n"
            "- Every household gets a 23-litre outdoor caddy and a kitchen caddy, free.\n"
            "- Compostable liners are free for the first year: most of you asked for free liners.\n"
            "- Flats with shared bins get communal food waste bins by June.\n\n"
            "The cabinet agreed this after considering every response. Thank you to everyone who took part."
        ),
        outcome_after=timedelta(days=40),
        questions=[
            _scale("I would use a weekly food waste collection", (5, 4, 1, 1, 1, 0.3)),
            Q(SC, "Should liners be free?", ("Yes, always", "Yes, for the first year", "No"), weights=(4, 4, 1)),
            Q(
                MC,
                "What worries you about food waste collections?",
                ("Smell", "Foxes and vermin", "Space in the kitchen", "Nothing"),
                max_choices=2,
                hint="Choose up to 2.",
                weights=(4, 3, 2, 2),
            ),
            Q(
                TEXT,
                "What would help you recycle food waste?",
                required=False,
                texts=(
                    "A smaller kitchen caddy.",
                    "Clear instructions in other languages.",
                    "Collect on the same day as the black bin.",
                ),
            ),
        ],
    ),
]


def _add_questions(consultation: Consultation, questions: list[Q]) -> None:
    for i, q in enumerate(questions, start=1):
        question = Question(position=i, kind=q.kind.value, text=q.text, hint=q.hint, required=q.required)
        question.options = [QuestionOption(position=j, label=label) for j, label in enumerate(q.options, start=1)]
        if q.kind == MC:
            question.max_choices = q.max_choices or len(q.options)
        if q.kind == TEXT:
            question.max_length = 1000
        consultation.questions.append(question)


def _in_scope_residents(areas: list[Area]) -> list[int]:
    scope = {a.id for a in areas}
    wards = set()
    for ward in db.session.scalars(select(Area).where(Area.level == AreaLevel.WARD)):
        area = ward
        while area is not None:
            if area.id in scope:
                wards.add(ward.id)
                break
            area = area.parent
    rows = db.session.execute(
        select(User.id, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "resident", User.ward_id.in_(wards), User.email_verified_at.is_not(None))
        .where(User.email.like("resident%@example.org"), User.email != "resident@example.org")
        .order_by(User.id)
    ).all()
    return [user_id for user_id, _ in rows]


def _answers(rng: random.Random, demo_q: Q, question: Question) -> list[Answer]:
    if demo_q.kind == TEXT:
        if rng.random() < 0.35 and demo_q.texts:
            return [Answer(question=question, value=rng.choice(demo_q.texts), status=None)]
        return []
    if demo_q.kind == SCALE:
        keys = [k for k, _ in SCALE_POINTS]
        return [Answer(question=question, value=rng.choices(keys, weights=demo_q.weights or None)[0])]
    weights = list(demo_q.weights or [1] * len(question.options))
    if demo_q.kind == SC:
        return [Answer(question=question, option=rng.choices(question.options, weights=weights)[0])]
    most = question.max_choices or len(question.options)
    chosen = []
    for _ in range(rng.randint(1, most)):
        option = rng.choices(question.options, weights=weights)[0]
        if option not in chosen:
            chosen.append(option)
    return [Answer(question=question, option=o) for o in chosen]


def _respond(rng: random.Random, demo: Demo, consultation: Consultation, residents: list[int], now: datetime) -> None:
    people = rng.sample(residents, min(demo.responses, len(residents)))
    start = consultation.opens_at
    end = min(consultation.closes_at, now)
    span = (end - start).total_seconds()
    for user_id in people:
        # Busier at the start and just before the close, as real consultations are.
        at = start + timedelta(seconds=span * rng.betavariate(0.7, 0.7))
        response = Response(
            user_id=user_id, created_at=at - timedelta(minutes=rng.randint(2, 30)), updated_at=at, submitted_at=at
        )
        for demo_q, question in zip(demo.questions, consultation.questions, strict=True):
            for answer in _answers(rng, demo_q, question):
                if demo_q.kind == TEXT and consultation.publish_free_text:
                    answer.status = ContentStatus.PUBLISHED.value if rng.random() < 0.8 else ContentStatus.PENDING.value
                response.answers.append(answer)
        response.consultation = consultation
        db.session.add(response)


def _on_uk_clock(moment: datetime, at: time) -> datetime:
    """The same UK calendar day as ``moment``, at a round time (demo dates look like real ones)."""
    day = moment.astimezone(LONDON).date()
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def seed_consultations(rng: random.Random) -> None:
    """The five demo consultations (idempotent: existing slugs are skipped)."""
    now = utcnow().replace(second=0, microsecond=0)
    existing = set(db.session.scalars(select(Consultation.slug)))
    areas_by_name = {a.name: a for a in db.session.scalars(select(Area))}
    officer = db.session.scalar(select(User).where(User.email == "officer@example.org"))
    for demo in DEMOS:
        if demo.slug in existing:
            continue
        areas = [areas_by_name[name] for name in demo.scope if name in areas_by_name]
        if not areas:
            continue
        opens, closes = _on_uk_clock(now + demo.opens, time(9)), _on_uk_clock(now + demo.closes, time(23, 59))
        consultation = Consultation(
            slug=demo.slug,
            title=demo.title,
            summary=demo.summary,
            body=demo.body,
            opens_at=opens,
            closes_at=closes,
            scheduled_at=opens - timedelta(days=14),
            results_while_open=demo.results_while_open,
            publish_free_text=demo.publish_free_text,
            questions_per_page=demo.questions_per_page,
            created_by_id=officer.id if officer else None,
            created_at=opens - timedelta(days=21),
        )
        consultation.areas = areas
        _add_questions(consultation, demo.questions)
        if demo.outcome:
            consultation.outcome_decision = demo.outcome
            consultation.outcome_published_at = closes + (demo.outcome_after or timedelta(days=30))
        db.session.add(consultation)
        db.session.flush()
        if demo.responses:
            _respond(rng, demo, consultation, _in_scope_residents(areas), now)
    db.session.flush()


# --- Benchmark helpers ----------------------------------------------------------------------

BENCH_SLUG = "bench-twenty-questions"


def build_twenty_question_consultation(areas: list[Area]) -> Consultation:
    """An open consultation of 20 questions on one page (all four kinds), for the given areas.

    Open from a day ago for 60 days. Returns the existing one if it is already there.
    """
    found = db.session.scalar(select(Consultation).where(Consultation.slug == BENCH_SLUG))
    if found is not None:
        return found
    now = utcnow()
    consultation = Consultation(
        slug=BENCH_SLUG,
        title="Benchmark: twenty questions",
        summary="A generated consultation for the benchmark.",
        body="Generated.",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=60),
        scheduled_at=now - timedelta(days=2),
        questions_per_page=20,
    )
    consultation.areas = list(areas)
    questions = []
    for i in range(20):
        kind = (SC, MC, SCALE, SC, SCALE)[i % 5] if i < 18 else TEXT
        opts = tuple(f"Option {j}" for j in range(1, 6)) if kind in (SC, MC) else ()
        questions.append(Q(kind, f"Question {i + 1}", opts, max_choices=3 if kind == MC else None, required=kind != TEXT))
    _add_questions(consultation, questions)
    db.session.add(consultation)
    db.session.commit()
    return consultation


def sample_form_data(consultation: Consultation, rng: random.Random) -> dict:
    """One valid set of answers to every question, as the answer page's form fields."""
    data: dict[str, str | list[str]] = {}
    scale_keys = [k for k, _ in SCALE_POINTS]
    for question in consultation.questions:
        name = field_name(question)
        if question.kind == QuestionKind.SINGLE_CHOICE:
            data[name] = str(rng.choice(question.options).id)
        elif question.kind == QuestionKind.MULTIPLE_CHOICE:
            picks = rng.sample(question.options, rng.randint(1, question.max_choices or 1))
            data[name] = [str(o.id) for o in picks]
        elif question.kind == QuestionKind.SCALE:
            data[name] = rng.choice(scale_keys)
        else:
            data[name] = "A generated answer for the benchmark."
    return data
