"""The demo consultations and the benchmark helpers."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from civic.consultations import services
from civic.consultations.lifecycle import Stage
from civic.consultations.models import Consultation, Response
from civic.consultations.seed import BENCH_SLUG, build_twenty_question_consultation, sample_form_data
from civic.core.models import utcnow
from civic.extensions import db


def test_demo_consultations_cover_every_stage_and_are_idempotent(runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    consultations = db.session.scalars(select(Consultation)).all()
    stages = sorted(c.stage().value for c in consultations)
    assert stages == ["closed", "open", "open", "outcome_published", "scheduled"]
    closing = db.session.scalar(select(Consultation).where(Consultation.slug == "library-opening-hours"))
    assert closing.stage() == Stage.OPEN and closing.closes_at - utcnow() < timedelta(days=2)
    responses = db.session.scalar(select(func.count()).select_from(Response))
    assert responses > 500
    # Responses come from residents living in scope, on days spread over weeks.
    parking = db.session.scalar(select(Consultation).where(Consultation.slug == "riverside-parking-zone"))
    rows = db.session.scalars(select(Response).where(Response.consultation_id == parking.id)).all()
    wards = {a.id for a in parking.areas}
    assert rows and all(r.submitted_at is not None for r in rows)
    from civic.accounts.models import User

    assert {db.session.get(User, r.user_id).ward_id for r in rows} <= wards
    days = {r.submitted_at.date() for r in rows}
    assert len(days) > 10
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Response)) == responses
    published = db.session.scalar(select(Consultation).where(Consultation.slug == "food-waste-collections"))
    assert services.tally(published).questions[3].texts  # some free text passed moderation


def test_benchmark_consultation_and_answers(geography, make_user):
    consultation = build_twenty_question_consultation([geography.authority])
    assert build_twenty_question_consultation([geography.authority]).id == consultation.id
    assert consultation.slug == BENCH_SLUG and len(consultation.questions) == 20
    assert services.page_count(consultation) == 1 and consultation.stage() == Stage.OPEN
    form = sample_form_data(consultation, random.Random(1))
    as_lists = {k: v if isinstance(v, list) else [v] for k, v in form.items()}
    person = make_user("resident")
    services.save_answers(person, consultation, 1, as_lists)
    assert services.submit_response(person, consultation) is True
