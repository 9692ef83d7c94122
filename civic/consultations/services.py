"""Consultation rules: drafts, questionnaires, the lifecycle, answering, results and outcomes.

Each public function is one unit of work: it checks the rules (predicates in ``permissions``),
changes rows, records an audit event for every officer action, queues any email and commits
once. Broken rules raise ``RuleViolation`` subclasses with a message for the person and, where
it belongs to one, the form field.

Rules enforced here:
* whether a consultation is open is decided from the stored UTC times at the moment of the
  write (``utcnow()`` inside the unit of work), never from what the page showed;
* questions are frozen once a consultation is open (only draft and scheduled stages edit them);
* one response per resident: a unique (consultation, user) constraint, an insert that does
  nothing on conflict, and the response row locked while its answers are replaced, so two tabs
  or a double submit never make two responses or two copies of an answer;
* answers are validated per question kind before anything is written: an unknown option, too
  many choices, over-long text or a missing required answer saves nothing;
* free text is never public unless the consultation says so and the answer is published;
* the CSV export has no names or emails, and no cell can run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from civic.accounts.models import User
from civic.areas.models import Area
from civic.consultations import permissions as rules
from civic.consultations.lifecycle import Stage
from civic.consultations.models import (
    SCALE_POINTS,
    Answer,
    Consultation,
    OutcomeEmailOptOut,
    Question,
    QuestionKind,
    QuestionOption,
    Response,
)
from civic.core.audit import EventTag, record_event
from civic.core.content import ContentStatus
from civic.core.db import all_or_nothing
from civic.core.errors import NotAllowed, RuleViolation
from civic.core.mail import queue_email
from civic.core.models import utcnow
from civic.core.urls import external_url
from civic.extensions import db

TITLE_MAX = 150
QUESTION_TEXT_MAX = 300
OPTION_MAX = 200
FREE_TEXT_LIMIT = 5000  # the most an officer may allow for one free-text answer
REASON_MAX = 1000
SCALE_KEYS = {key for key, _ in SCALE_POINTS}

# --- Errors ---------------------------------------------------------------------------------


class ConsultationNotEditable(RuleViolation):
    message = "This consultation can no longer be changed."


class QuestionsFrozen(RuleViolation):
    message = "The questions cannot be changed once the consultation has opened."


class InvalidConsultation(RuleViolation):
    pass


class InvalidQuestion(RuleViolation):
    pass


class StageRefused(RuleViolation):
    """An officer action that the consultation's stage does not allow."""


class ResponseRefused(RuleViolation):
    """The person may not answer (outside the scope, unverified, suspended, not open)."""


class AnswersInvalid(RuleViolation):
    """One or more answers broke their question's rules; ``errors`` maps field name → message."""

    message = "There is a problem with your answers."

    def __init__(self, errors: dict[str, str]):
        super().__init__(self.message)
        self.errors = errors


class ResponseIncomplete(RuleViolation):
    """Submitted at "check your answers" with a required question unanswered."""

    def __init__(self, question: Question, page: int):
        super().__init__(f"Answer question {question.position}: {question.text}")
        self.question = question
        self.page = page


# --- Helpers --------------------------------------------------------------------------------


def _require(allowed: bool, error: type[RuleViolation] | None = None, message: str | None = None) -> None:
    if not allowed:
        raise (error or NotAllowed)(message)


def _reason(reason: str | None, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Enter a reason", field=field_name)
    if len(reason) > REASON_MAX:
        raise RuleViolation(f"The reason must be {REASON_MAX} characters or fewer", field=field_name)
    return reason


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    return slug or "consultation"


def _unique_slug(title: str) -> str:
    base = slugify(title)
    taken = set(db.session.scalars(select(Consultation.slug).where(Consultation.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def get_by_slug(slug: str) -> Consultation | None:
    return db.session.scalar(select(Consultation).where(Consultation.slug == slug))


# --- Drafts ---------------------------------------------------------------------------------


@dataclass
class ConsultationDraft:
    title: str
    summary: str
    body: str
    opens_at: datetime
    closes_at: datetime
    area_ids: list[int]
    results_while_open: bool = False
    publish_free_text: bool = False
    questions_per_page: int = 1


def _apply_draft(consultation: Consultation, draft: ConsultationDraft) -> None:
    title = (draft.title or "").strip()
    if not title:
        raise InvalidConsultation("Enter a title", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidConsultation(f"The title must be {TITLE_MAX} characters or fewer", field="title")
    if draft.opens_at is None:
        raise InvalidConsultation("Enter the opening date", field="opens_on")
    if draft.closes_at is None:
        raise InvalidConsultation("Enter the closing date", field="closes_on")
    if draft.closes_at <= draft.opens_at:
        raise InvalidConsultation("The closing date must be after the opening date", field="closes_on")
    areas = list(db.session.scalars(select(Area).where(Area.id.in_(draft.area_ids or []))))
    if not areas or len(areas) != len(set(draft.area_ids)):
        raise InvalidConsultation("Choose the areas this consultation covers", field="area_ids")
    if not 1 <= (draft.questions_per_page or 0) <= 50:
        raise InvalidConsultation("Questions per page must be between 1 and 50", field="questions_per_page")
    consultation.title = title
    consultation.summary = (draft.summary or "").strip()
    consultation.body = draft.body or ""
    consultation.opens_at = draft.opens_at
    consultation.closes_at = draft.closes_at
    consultation.areas = areas
    # Set even when only the areas changed (no column would): what is remembered about a
    # consultation's scope is keyed on it (civic/core/memo.py).
    consultation.updated_at = utcnow()
    consultation.results_while_open = bool(draft.results_while_open)
    consultation.publish_free_text = bool(draft.publish_free_text)
    consultation.questions_per_page = draft.questions_per_page


@all_or_nothing
def create_consultation(officer: User, draft: ConsultationDraft) -> Consultation:
    """Create a draft. Needs consultations:consultation:manage. Raises InvalidConsultation."""
    _require(rules.can_manage(officer))
    consultation = Consultation(slug=_unique_slug(draft.title or ""), created_by_id=officer.id)
    _apply_draft(consultation, draft)
    db.session.add(consultation)
    db.session.flush()
    record_event(EventTag.CONSULTATION_CREATE, actor=officer.id, subject_type="consultation", subject_id=consultation.id)
    db.session.commit()
    return consultation


@all_or_nothing
def update_consultation(officer: User, consultation: Consultation, draft: ConsultationDraft) -> None:
    """Change a draft or scheduled consultation. Raises ConsultationNotEditable once it has opened."""
    _require(rules.can_manage(officer))
    _require(rules.can_edit(officer, consultation, utcnow()), ConsultationNotEditable)
    _apply_draft(consultation, draft)
    if consultation.scheduled_at is not None and consultation.opens_at <= utcnow():
        raise InvalidConsultation("A scheduled consultation must open in the future", field="opens_on")
    record_event(EventTag.CONSULTATION_EDIT, actor=officer.id, subject_type="consultation", subject_id=consultation.id)
    db.session.commit()


# --- Questions ------------------------------------------------------------------------------


@dataclass
class QuestionDraft:
    kind: str
    text: str
    hint: str = ""
    required: bool = True
    options: list[str] = field(default_factory=list)
    max_choices: int | None = None
    max_length: int | None = None


def _apply_question(question: Question, draft: QuestionDraft) -> None:
    try:
        kind = QuestionKind(draft.kind)
    except ValueError as exc:
        raise InvalidQuestion("Choose the type of question", field="kind") from exc
    text = (draft.text or "").strip()
    if not text:
        raise InvalidQuestion("Enter the question", field="text")
    if len(text) > QUESTION_TEXT_MAX:
        raise InvalidQuestion(f"The question must be {QUESTION_TEXT_MAX} characters or fewer", field="text")
    labels = [o.strip() for o in draft.options if o and o.strip()]
    question.kind = kind.value
    question.text = text
    question.hint = (draft.hint or "").strip()
    question.required = bool(draft.required)
    question.max_choices = None
    question.max_length = None
    if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        if len(labels) < 2:
            raise InvalidQuestion("Enter at least 2 options, one on each line", field="options")
        if len(labels) != len({label.lower() for label in labels}):
            raise InvalidQuestion("Each option must be different", field="options")
        if any(len(label) > OPTION_MAX for label in labels):
            raise InvalidQuestion(f"Each option must be {OPTION_MAX} characters or fewer", field="options")
        _set_options(question, labels)
    else:
        question.options.clear()
    if kind == QuestionKind.MULTIPLE_CHOICE:
        most = draft.max_choices or len(labels)
        if not 1 <= most <= len(labels):
            raise InvalidQuestion(f"The most choices must be between 1 and {len(labels)}", field="max_choices")
        question.max_choices = most
    if kind == QuestionKind.FREE_TEXT:
        limit = draft.max_length or 1000
        if not 1 <= limit <= FREE_TEXT_LIMIT:
            raise InvalidQuestion(f"The length limit must be between 1 and {FREE_TEXT_LIMIT}", field="max_length")
        question.max_length = limit


def _set_options(question: Question, labels: list[str]) -> None:
    if [o.label for o in question.options] == labels:
        return
    # Rebuilt in order: no answers can point at them, since questions are frozen once open.
    question.options.clear()
    db.session.flush()
    question.options.extend(QuestionOption(position=i + 1, label=label) for i, label in enumerate(labels))


def _check_questions_editable(officer: User, consultation: Consultation) -> None:
    _require(rules.can_manage(officer))
    _require(rules.can_edit_questions(officer, consultation, utcnow()), QuestionsFrozen)


@all_or_nothing
def add_question(officer: User, consultation: Consultation, draft: QuestionDraft) -> Question:
    """Add a question at the end. Raises QuestionsFrozen once open, InvalidQuestion for bad input."""
    _check_questions_editable(officer, consultation)
    position = (
        db.session.scalar(select(func.max(Question.position)).where(Question.consultation_id == consultation.id)) or 0
    ) + 1
    question = Question(consultation_id=consultation.id, position=position)
    _apply_question(question, draft)
    db.session.add(question)
    db.session.flush()
    record_event(
        EventTag.CONSULTATION_QUESTION_ADD,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"question_id": question.id},
    )
    db.session.commit()
    return question


@all_or_nothing
def update_question(officer: User, question: Question, draft: QuestionDraft) -> None:
    """Change a question. Raises QuestionsFrozen once open, InvalidQuestion for bad input."""
    _check_questions_editable(officer, question.consultation)
    _apply_question(question, draft)
    record_event(
        EventTag.CONSULTATION_QUESTION_EDIT,
        actor=officer.id,
        subject_type="consultation",
        subject_id=question.consultation_id,
        details={"question_id": question.id},
    )
    db.session.commit()


def _renumber(consultation: Consultation, ordered: list[Question]) -> None:
    # Two steps so that the unique (consultation, position) constraint holds after every statement.
    for i, q in enumerate(ordered):
        q.position = -(i + 1)
    db.session.flush()
    for i, q in enumerate(ordered):
        q.position = i + 1
    db.session.flush()


@all_or_nothing
def move_question(officer: User, question: Question, direction: str) -> None:
    """Move a question one place "up" or "down". Raises QuestionsFrozen once open."""
    consultation = question.consultation
    _check_questions_editable(officer, consultation)
    ordered = sorted(consultation.questions, key=lambda q: q.position)
    i = ordered.index(question)
    j = i - 1 if direction == "up" else i + 1 if direction == "down" else None
    if j is None or not 0 <= j < len(ordered):
        raise InvalidQuestion("That question cannot move further")
    ordered[i], ordered[j] = ordered[j], ordered[i]
    _renumber(consultation, ordered)
    record_event(
        EventTag.CONSULTATION_QUESTION_MOVE,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"question_id": question.id, "direction": direction},
    )
    db.session.commit()


@all_or_nothing
def delete_question(officer: User, question: Question) -> None:
    """Remove a question and close the gap. Raises QuestionsFrozen once open."""
    consultation = question.consultation
    _check_questions_editable(officer, consultation)
    question_id = question.id
    remaining = [q for q in sorted(consultation.questions, key=lambda q: q.position) if q.id != question_id]
    consultation.questions.remove(question)
    db.session.flush()
    _renumber(consultation, remaining)
    record_event(
        EventTag.CONSULTATION_QUESTION_DELETE,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"question_id": question_id},
    )
    db.session.commit()


# --- Lifecycle ------------------------------------------------------------------------------


@all_or_nothing
def schedule(officer: User, consultation: Consultation) -> None:
    """Draft → scheduled: it opens by itself at ``opens_at``. Needs a question and a future opening."""
    _require(rules.can_manage(officer))
    now = utcnow()
    _require(rules.can_schedule(officer, consultation, now), StageRefused, "Only a draft can be scheduled.")
    if not consultation.questions:
        raise StageRefused("Add at least one question before scheduling")
    if consultation.opens_at <= now:
        raise StageRefused("The opening date must be in the future: change it before scheduling", field="opens_on")
    consultation.scheduled_at = now
    record_event(EventTag.CONSULTATION_SCHEDULE, actor=officer.id, subject_type="consultation", subject_id=consultation.id)
    db.session.commit()


@all_or_nothing
def unschedule(officer: User, consultation: Consultation) -> None:
    """Scheduled → draft (before it opens)."""
    _require(rules.can_manage(officer))
    _require(
        rules.can_unschedule(officer, consultation, utcnow()),
        StageRefused,
        "Only a consultation that has not opened can go back to draft.",
    )
    consultation.scheduled_at = None
    record_event(EventTag.CONSULTATION_UNSCHEDULE, actor=officer.id, subject_type="consultation", subject_id=consultation.id)
    db.session.commit()


@all_or_nothing
def close_early(officer: User, consultation: Consultation, reason: str) -> None:
    """Close an open consultation now; the reason goes to the audit log."""
    _require(rules.can_manage(officer))
    now = utcnow()
    _require(rules.can_close_early(officer, consultation, now), StageRefused, "Only an open consultation can be closed early.")
    reason = _reason(reason)
    previous = consultation.closes_at
    consultation.closes_at = now
    record_event(
        EventTag.CONSULTATION_CLOSE_EARLY,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        reason=reason,
        details={"was_closing_at": previous.isoformat()},
    )
    db.session.commit()


@all_or_nothing
def extend(officer: User, consultation: Consultation, closes_at: datetime, reason: str) -> None:
    """Move the closing time later (scheduled or open); the reason goes to the audit log."""
    _require(rules.can_manage(officer))
    now = utcnow()
    _require(rules.can_extend(officer, consultation, now), StageRefused, "Only a scheduled or open consultation can be extended.")
    if closes_at is None or closes_at <= consultation.closes_at:
        raise StageRefused("The new closing date must be later than the current one", field="closes_on")
    reason = _reason(reason)
    previous = consultation.closes_at
    consultation.closes_at = closes_at
    record_event(
        EventTag.CONSULTATION_EXTEND,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        reason=reason,
        details={"was_closing_at": previous.isoformat(), "closes_at": closes_at.isoformat()},
    )
    db.session.commit()


@all_or_nothing
def save_outcome(officer: User, consultation: Consultation, decision: str) -> None:
    """Write (or rewrite) the "we did" text of a closed consultation before it is published."""
    _require(rules.can_manage(officer))
    _require(
        rules.can_write_outcome(officer, consultation, utcnow()),
        StageRefused,
        "The outcome can be written once the consultation has closed.",
    )
    decision = (decision or "").strip()
    if not decision:
        raise RuleViolation("Enter what the council decided", field="decision")
    consultation.outcome_decision = decision
    record_event(EventTag.CONSULTATION_OUTCOME_EDIT, actor=officer.id, subject_type="consultation", subject_id=consultation.id)
    db.session.commit()


@all_or_nothing
def publish_outcome(officer: User, consultation: Consultation) -> int:
    """Publish the outcome; email everyone who responded (unless they opted out). Returns emails queued."""
    _require(rules.can_manage(officer))
    _require(
        rules.can_publish_outcome(officer, consultation, utcnow()),
        StageRefused,
        "The outcome can be published once the consultation has closed.",
    )
    if not consultation.outcome_decision.strip():
        raise StageRefused("Write what the council decided before publishing", field="decision")
    consultation.outcome_published_at = utcnow()
    opted_out = select(OutcomeEmailOptOut.user_id)
    people = db.session.execute(
        select(User.email, User.display_name)
        .join(Response, Response.user_id == User.id)
        .where(Response.consultation_id == consultation.id, Response.submitted_at.is_not(None))
        .where(User.email.is_not(None), User.deleted_at.is_(None), User.id.not_in(opted_out))
    ).all()
    url = external_url("consultations.outcome", slug=consultation.slug)
    for email, name in people:
        queue_email(
            email,
            f"What we decided: {consultation.title}"[:200],
            "consultation_outcome",
            name=name,
            consultation=consultation,
            url=url,
            account_url=external_url("accounts.account"),
        )
    record_event(
        EventTag.CONSULTATION_OUTCOME_PUBLISH,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"emails": len(people)},
    )
    db.session.commit()
    return len(people)


def set_outcome_emails(user: User, wanted: bool) -> None:
    """A resident's choice: be told (or not) when a consultation they answered publishes its outcome."""
    exists = db.session.get(OutcomeEmailOptOut, user.id)
    if wanted and exists:
        db.session.delete(exists)
    elif not wanted and not exists:
        db.session.add(OutcomeEmailOptOut(user_id=user.id))
    db.session.commit()


def wants_outcome_emails(user: User) -> bool:
    return db.session.get(OutcomeEmailOptOut, user.id) is None


# --- Answering ------------------------------------------------------------------------------


def page_count(consultation: Consultation) -> int:
    per = max(consultation.questions_per_page or 1, 1)
    return max(1, -(-len(consultation.questions) // per))


def questions_on_page(consultation: Consultation, page: int) -> list[Question]:
    per = max(consultation.questions_per_page or 1, 1)
    return consultation.questions[(page - 1) * per : page * per]


def page_of(consultation: Consultation, question: Question) -> int:
    per = max(consultation.questions_per_page or 1, 1)
    return consultation.questions.index(question) // per + 1


def field_name(question: Question) -> str:
    return f"q{question.id}"


@dataclass(frozen=True)
class Parsed:
    """A validated answer: option ids (choices), a scale key, or text; empty when skipped."""

    option_ids: tuple[int, ...] = ()
    value: str | None = None

    @property
    def empty(self) -> bool:
        return not self.option_ids and not self.value


def parse_answer(question: Question, raw: list[str]) -> Parsed:
    """Check one question's submitted values; raises RuleViolation(field=…) with a GOV.UK message."""
    name = field_name(question)
    values = [v.strip() for v in raw if v is not None and v.strip()]
    kind = question.kind
    if kind == QuestionKind.FREE_TEXT:
        text = (raw[0] if raw else "").replace("\r\n", "\n").strip()
        if question.max_length and len(text) > question.max_length:
            raise RuleViolation(f"Your answer must be {question.max_length:,} characters or fewer", field=name)
        parsed = Parsed(value=text or None)
    elif kind == QuestionKind.SCALE:
        if len(values) > 1 or (values and values[0] not in SCALE_KEYS):
            raise RuleViolation("Choose one of the options", field=name)
        parsed = Parsed(value=values[0] if values else None)
    else:
        valid = {str(o.id): o.id for o in question.options}
        if any(v not in valid for v in values):
            raise RuleViolation("Choose from the options shown", field=name)
        chosen = tuple(dict.fromkeys(valid[v] for v in values))
        if kind == QuestionKind.SINGLE_CHOICE and len(chosen) > 1:
            raise RuleViolation("Choose one option", field=name)
        if kind == QuestionKind.MULTIPLE_CHOICE and question.max_choices and len(chosen) > question.max_choices:
            raise RuleViolation(f"Choose no more than {question.max_choices} options", field=name)
        parsed = Parsed(option_ids=chosen)
    if question.required and parsed.empty:
        verb = "Enter your answer" if kind == QuestionKind.FREE_TEXT else "Select your answer"
        if kind == QuestionKind.MULTIPLE_CHOICE:
            verb = "Select at least one option"
        raise RuleViolation(verb, field=name)
    return parsed


def parse_page(questions: list[Question], form: dict[str, list[str]]) -> dict[int, Parsed]:
    """Validate every answer on a page; raises AnswersInvalid with every problem at once."""
    parsed: dict[int, Parsed] = {}
    errors: dict[str, str] = {}
    for question in questions:
        try:
            parsed[question.id] = parse_answer(question, form.get(field_name(question), []))
        except RuleViolation as exc:
            errors[exc.field or field_name(question)] = exc.message
    if errors:
        raise AnswersInvalid(errors)
    return parsed


def _insert_ignore(table, values: dict):
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).values(**values).on_conflict_do_nothing()


def _locked_response(user: User, consultation: Consultation, *, create: bool) -> Response | None:
    """The person's response, locked for this transaction; created (exactly once) if asked."""
    if create:
        now = utcnow()
        db.session.execute(
            _insert_ignore(
                Response.__table__,
                {"consultation_id": consultation.id, "user_id": user.id, "created_at": now, "updated_at": now},
            )
        )
    query = select(Response).where(Response.consultation_id == consultation.id, Response.user_id == user.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serialises writers
    return db.session.scalar(query.execution_options(populate_existing=True))


def _check_can_respond(user: User, consultation: Consultation) -> None:
    eligibility = rules.can_respond(user, consultation, utcnow())
    if not eligibility.allowed:
        raise ResponseRefused(eligibility.message)


def _answer_rows(response: Response, questions: list[Question], parsed: dict[int, Parsed], moderated: bool) -> list[dict]:
    rows = []
    for question in questions:
        answer = parsed[question.id]
        for option_id in answer.option_ids:
            rows.append(
                {"response_id": response.id, "question_id": question.id, "option_id": option_id, "value": None, "status": None}
            )
        if answer.value is not None:
            status = None
            if question.kind == QuestionKind.FREE_TEXT and moderated:
                status = ContentStatus.PENDING.value
            rows.append(
                {
                    "response_id": response.id,
                    "question_id": question.id,
                    "option_id": None,
                    "value": answer.value,
                    "status": status,
                }
            )
    return rows


def save_answers(user: User, consultation: Consultation, page: int, form: dict[str, list[str]]) -> Response:
    """Save one page of answers to the person's response (created on first save).

    Rules: the person may respond now (``can_respond``, decided at this moment); every answer
    on the page is valid, else AnswersInvalid and nothing is saved. Saving the same page twice
    gives the same rows (idempotent). A response that was already submitted stays submitted
    with the changed answers (answers are editable until the close).
    """
    _check_can_respond(user, consultation)
    if not 1 <= page <= page_count(consultation):
        raise RuleViolation("That page does not exist")
    questions = questions_on_page(consultation, page)
    parsed = parse_page(questions, form)
    response = _locked_response(user, consultation, create=True)
    assert response is not None
    ids = [q.id for q in questions]
    db.session.execute(delete(Answer).where(Answer.response_id == response.id, Answer.question_id.in_(ids)))
    rows = _answer_rows(response, questions, parsed, consultation.publish_free_text)
    if rows:
        # One multi-row INSERT rather than one statement per answer (a page can hold 20 questions).
        db.session.execute(Answer.__table__.insert().values(rows))
    db.session.execute(update(Response).where(Response.id == response.id).values(updated_at=utcnow()))
    db.session.commit()
    return response


def submit_response(user: User, consultation: Consultation) -> bool:
    """Confirm the response at "check your answers". Returns False if it was already submitted.

    Rules: the person may respond now; every required question is answered (else
    ResponseIncomplete naming the first, with its page). A repeat is answered "unchanged".
    """
    _check_can_respond(user, consultation)
    response = _locked_response(user, consultation, create=False)
    if response is None:
        raise ResponseIncomplete(consultation.questions[0], 1) if consultation.questions else RuleViolation("Nothing to submit")
    answered = set(db.session.scalars(select(Answer.question_id).where(Answer.response_id == response.id).distinct()))
    # Only ids here: loading every question and option is what made repeat submits slow.
    required = db.session.scalars(
        select(Question.id).where(Question.consultation_id == consultation.id, Question.required).order_by(Question.position)
    )
    missing = next((qid for qid in required if qid not in answered), None)
    if missing is not None:
        question = db.session.get(Question, missing)
        raise ResponseIncomplete(question, page_of(consultation, question))
    if response.submitted_at is not None:
        db.session.commit()
        return False
    response.submitted_at = utcnow()
    db.session.commit()
    return True


def response_for(user: User | None, consultation: Consultation) -> Response | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Response).where(Response.consultation_id == consultation.id, Response.user_id == user.id))


def answers_of(response: Response | None) -> dict[int, Parsed]:
    """The stored answers of a response, by question id."""
    if response is None:
        return {}
    options: dict[int, list[int]] = defaultdict(list)
    values: dict[int, str] = {}
    for answer in db.session.scalars(select(Answer).where(Answer.response_id == response.id).order_by(Answer.id)):
        if answer.option_id is not None:
            options[answer.question_id].append(answer.option_id)
        elif answer.value is not None:
            values[answer.question_id] = answer.value
    return {qid: Parsed(tuple(options.get(qid, ())), values.get(qid)) for qid in set(options) | set(values)}


def describe(question: Question, answer: Parsed | None) -> str:
    """An answer as words, for "check your answers" and the data download."""
    if answer is None or answer.empty:
        return ""
    if question.kind == QuestionKind.SCALE:
        return dict(SCALE_POINTS).get(answer.value or "", "")
    if question.kind == QuestionKind.FREE_TEXT:
        return answer.value or ""
    labels = {o.id: o.label for o in question.options}
    return "; ".join(labels[i] for i in answer.option_ids if i in labels)


# --- Results --------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    count: int
    share: float  # of the responses that answered the question


class PublishedText(NamedTuple):
    """An answer in someone's own words that moderation has let through: its id is for reporting it."""

    answer_id: int
    text: str


@dataclass
class QuestionResult:
    question: Question
    answered: int
    rows: list[Row] = field(default_factory=list)
    texts: list[PublishedText] = field(default_factory=list)  # published free text, if the consultation allows

    @property
    def is_free_text(self) -> bool:
        return self.question.kind == QuestionKind.FREE_TEXT

    @property
    def top(self) -> Row | None:
        return max(self.rows, key=lambda r: r.count) if self.rows and any(r.count for r in self.rows) else None


@dataclass
class Results:
    responses: int
    questions: list[QuestionResult]


def submitted_count(consultation: Consultation) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.consultation_id == consultation.id, Response.submitted_at.is_not(None))
        )
        or 0
    )


def tally(consultation: Consultation) -> Results:
    """Counts per option (and scale point) of submitted responses; free text only as a count,
    plus its published answers when the consultation publishes free text."""
    submitted = select(Response.id).where(Response.consultation_id == consultation.id, Response.submitted_at.is_not(None))
    option_counts = {
        tuple(k): n
        for *k, n in db.session.execute(
            select(Answer.question_id, Answer.option_id, func.count())
            .where(Answer.response_id.in_(submitted), Answer.option_id.is_not(None))
            .group_by(Answer.question_id, Answer.option_id)
        )
    }
    scale_ids = [q.id for q in consultation.questions if q.kind == QuestionKind.SCALE]
    scale_counts = {}
    if scale_ids:
        scale_counts = {
            (qid, value): n
            for qid, value, n in db.session.execute(
                select(Answer.question_id, Answer.value, func.count())
                .where(Answer.response_id.in_(submitted), Answer.question_id.in_(scale_ids))
                .group_by(Answer.question_id, Answer.value)
            )
        }
    answered = dict(
        db.session.execute(
            select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
            .where(Answer.response_id.in_(submitted))
            .group_by(Answer.question_id)
        ).all()
    )
    texts: dict[int, list[PublishedText]] = defaultdict(list)
    if consultation.publish_free_text:
        free_ids = [q.id for q in consultation.questions if q.kind == QuestionKind.FREE_TEXT]
        for qid, answer_id, value in db.session.execute(
            select(Answer.question_id, Answer.id, Answer.value)
            .where(Answer.response_id.in_(submitted), Answer.question_id.in_(free_ids or [0]))
            .where(Answer.status == ContentStatus.PUBLISHED.value)
            .order_by(Answer.id)
        ):
            texts[qid].append(PublishedText(answer_id, value))
    results = []
    for question in consultation.questions:
        n = answered.get(question.id, 0)
        result = QuestionResult(question, n, texts=texts.get(question.id, []))
        if question.kind == QuestionKind.SCALE:
            pairs = [(label, scale_counts.get((question.id, key), 0)) for key, label in SCALE_POINTS]
        elif question.kind == QuestionKind.FREE_TEXT:
            pairs = []
        else:
            pairs = [(o.label, option_counts.get((question.id, o.id), 0)) for o in question.options]
        result.rows = [Row(label, count, (count / n) if n else 0.0) for label, count in pairs]
        results.append(result)
    return Results(submitted_count(consultation), results)


# --- Export ---------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell that a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets an apostrophe."""
    value = "" if value is None else str(value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(officer: User, consultation: Consultation) -> str:
    """Every submitted response as CSV: no names, emails, wards or account ids; formula-safe.

    Rows are numbered in submission order (not by account or row id). Audited.
    """
    _require(rules.can_export(officer, consultation, utcnow()))
    questions = consultation.questions
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [spreadsheet_safe(h) for h in ["Response", "Submitted (date)", *[f"Q{q.position}. {q.text}" for q in questions]]]
    )
    responses = db.session.scalars(
        select(Response)
        .where(Response.consultation_id == consultation.id, Response.submitted_at.is_not(None))
        .order_by(Response.submitted_at, Response.id)
    ).all()
    answers: dict[int, dict[int, Parsed]] = defaultdict(dict)
    options: dict[tuple[int, int], list[int]] = defaultdict(list)
    values: dict[tuple[int, int], str] = {}
    ids = [r.id for r in responses]
    for start in range(0, len(ids), 500):
        for a in db.session.scalars(select(Answer).where(Answer.response_id.in_(ids[start : start + 500])).order_by(Answer.id)):
            if a.option_id is not None:
                options[(a.response_id, a.question_id)].append(a.option_id)
            elif a.value is not None:
                values[(a.response_id, a.question_id)] = a.value
    for (rid, qid), opts in options.items():
        answers[rid][qid] = Parsed(tuple(opts))
    for (rid, qid), value in values.items():
        answers[rid][qid] = Parsed(value=value)
    for n, response in enumerate(responses, start=1):
        cells = [str(n), response.submitted_at.date().isoformat()]
        cells += [describe(q, answers[response.id].get(q.id)) for q in questions]
        writer.writerow([spreadsheet_safe(c) for c in cells])
    record_event(
        EventTag.CONSULTATION_RESPONSES_EXPORT,
        actor=officer.id,
        subject_type="consultation",
        subject_id=consultation.id,
        details={"responses": len(responses)},
    )
    db.session.commit()
    return out.getvalue()


# --- Lists ----------------------------------------------------------------------------------


@dataclass
class Listing:
    open: list[Consultation]
    upcoming: list[Consultation]
    closed: list[Consultation]


def area_and_related_ids(area: Area) -> set[int]:
    """The area, the areas above it and the areas inside it: a filter by a ward finds the
    consultations for that ward, its borough and the authority."""
    ids = {area.id}
    up = area.parent
    while up is not None:
        ids.add(up.id)
        up = up.parent
    stack = list(area.children)
    while stack:
        child = stack.pop()
        ids.add(child.id)
        stack.extend(child.children)
    return ids


def public_listing(area: Area | None = None, now: datetime | None = None) -> Listing:
    """Every consultation that is not a draft, by stage: open (closing soonest first), upcoming, closed."""
    now = now or utcnow()
    query = select(Consultation).where(Consultation.scheduled_at.is_not(None))
    if area is not None:
        from civic.consultations.models import ConsultationArea

        query = query.where(
            Consultation.id.in_(
                select(ConsultationArea.consultation_id).where(ConsultationArea.area_id.in_(area_and_related_ids(area)))
            )
        )
    listing = Listing([], [], [])
    for c in db.session.scalars(query.order_by(Consultation.closes_at)):
        stage = c.stage(now)
        if stage == Stage.OPEN:
            listing.open.append(c)
        elif stage == Stage.SCHEDULED:
            listing.upcoming.append(c)
        else:
            listing.closed.append(c)
    listing.upcoming.sort(key=lambda c: c.opens_at)
    listing.closed.sort(key=lambda c: c.closes_at, reverse=True)
    return listing


def officer_listing() -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())))


def my_responses(user: User) -> list[Response]:
    return list(db.session.scalars(select(Response).where(Response.user_id == user.id).order_by(Response.created_at.desc())))
