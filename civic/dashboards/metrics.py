"""One definition per metric. Every dashboard page, figure, table and CSV counts through here.

* **Registered resident**: an account that holds the resident role, is not deleted, and has a
  home ward. People without a ward belong to no area and are counted nowhere (so that an area's
  figures always add up from its wards).
* **Verified resident**: a registered resident whose email address is confirmed.
* **Activity**: one row from an activity source (see ``ACTIVITY_SOURCES``) by a registered
  resident. It is counted in the ward where that resident lives now, on its day in
  Europe/London.
* **Active participant** in a period: a verified resident with at least one activity in the
  period from a source that counts as participation (and, with a consultation filter, in that
  consultation).
* **Demographic group**: the resident's answer to each optional question. "Prefer not to say"
  and "not answered" are counted together as *not stated*.

Activity sources plug in without changes here: a domain calls ``register_activity_source`` with
a kind, a label and a function returning a SELECT of ``user_id``, ``occurred_at`` (aware UTC)
and ``consultation_id`` (NULL when the activity belongs to no consultation). The dashboards
ship with one source, registration, so that they show something before the other kinds exist.
A row's ``occurred_at`` should be the moment it is written and never change: the refresh
worker's warm builds read only the rows dated since its last cold count (``queries.History``),
so a row written with an earlier date, or whose date moves, is counted right from the next
cold build on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ARRAY, Date, Integer, Select, any_, case, cast, exists, func, literal, null, select, tuple_, union_all

from civic.accounts.demographics import DIMENSIONS, PREFER_NOT_TO_SAY
from civic.accounts.models import User, UserRole
from civic.core.permissions import Role

# --- Activity sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivitySource:
    """A kind of activity: ``query()`` returns SELECT user_id, occurred_at, consultation_id."""

    kind: str  # short, stable: "registration", "response", "idea", "support", "comment"
    label: str  # plural, for charts and tables: "Registrations"
    query: Callable[[], Select]
    # Whether doing this makes a resident an active participant.
    counts_as_participation: bool = True


ACTIVITY_SOURCES: dict[str, ActivitySource] = {}


def register_activity_source(source: ActivitySource) -> None:
    """Add (or replace) a source; the dashboards pick it up on their next refresh."""
    ACTIVITY_SOURCES[source.kind] = source


def _registrations() -> Select:
    return select(
        User.id.label("user_id"),
        User.created_at.label("occurred_at"),
        cast(null(), Integer).label("consultation_id"),
    )


# Until consultations, ideas and comments register their own sources, joining is the one activity
# the dashboards can show. It counts as taking part, so the demo and a new site show participation.
REGISTRATION = ActivitySource("registration", "Registrations", _registrations)
register_activity_source(REGISTRATION)


# --- Who is counted ---------------------------------------------------------------------------


def _is_resident():
    return exists().where(UserRole.user_id == User.id, UserRole.role == Role.RESIDENT.value)


def registered_residents() -> Select:
    """Registered residents: resident role, not deleted, with a home ward."""
    return select(User).where(User.deleted_at.is_(None), User.ward_id.is_not(None), _is_resident())


def registered_people() -> Select:
    """What the dashboards need of each registered resident, and nothing more (no names)."""
    people = registered_residents().subquery()
    return select(
        people.c.id,
        people.c.ward_id,
        people.c.email_verified_at.is_not(None).label("verified"),
        *(people.c[key] for key in DIMENSIONS),
    )


@dataclass(frozen=True)
class Span:
    """Which activities to read: those that occurred in [since, until) (either end open), by
    ``users`` only when given. The refresh worker's warm builds read the activity since a
    cutoff, and what the people active since then did before it (see queries.History)."""

    since: datetime | None = None
    until: datetime | None = None
    users: tuple[int, ...] | None = None


EVERYTHING = Span()


def _activity_rows(span: Span = EVERYTHING):
    """Every activity of every source (user_id, occurred_at, kind, consultation_id), as a subquery
    (only those in ``span``: the conditions go into each source's SELECT, where its indexes are)."""
    parts = []
    for source in ACTIVITY_SOURCES.values():
        q = source.query().subquery()
        # Typed, so that PostgreSQL can match a source without consultations to one with them.
        consultation = cast(q.c.consultation_id, Integer).label("consultation_id")
        part = select(q.c.user_id, q.c.occurred_at, literal(source.kind).label("kind"), consultation)
        if span.since is not None:
            part = part.where(q.c.occurred_at >= span.since)
        if span.until is not None:
            part = part.where(q.c.occurred_at < span.until)
        if span.users is not None:  # one array parameter however many (PostgreSQL)
            part = part.where(q.c.user_id == any_(literal(list(span.users), ARRAY(Integer))))
        parts.append(part)
    return union_all(*parts).subquery()


def activities() -> Select | None:
    """Every activity of every source, by registered residents: user_id, occurred_at, kind,
    consultation_id. None when no source is registered."""
    if not ACTIVITY_SOURCES:
        return None
    rows = _activity_rows()
    people = registered_residents().subquery()
    return select(rows.c.user_id, rows.c.occurred_at, rows.c.kind, rows.c.consultation_id).join(
        people, people.c.id == rows.c.user_id
    )


# --- The same, counted by PostgreSQL ----------------------------------------------------------
#
# On PostgreSQL the dashboards let the database count instead of reading every activity row:
# the same definitions, written in SQL (tests/dashboards/test_queries.py compares both ways on
# the same data). London days need time zone support, hence PostgreSQL only.


def london_date(column):
    """The Europe/London calendar day of an aware timestamp (PostgreSQL)."""
    return cast(func.timezone("Europe/London", column), Date)


def activities_per_day(span: Span = EVERYTHING) -> Select | None:
    """Activities by registered residents per home ward, kind, consultation and London day:
    ward_id, kind, consultation_id, day, n (PostgreSQL)."""
    if not ACTIVITY_SOURCES:
        return None
    rows = _activity_rows(span)
    people = registered_residents().subquery()
    day = london_date(rows.c.occurred_at)
    return (
        select(people.c.ward_id, rows.c.kind, rows.c.consultation_id, day.label("day"), func.count().label("n"))
        .join(people, people.c.id == rows.c.user_id)
        .group_by(people.c.ward_id, rows.c.kind, rows.c.consultation_id, day)
    )


def active_participants_per_window(windows: list[tuple[date, date]], span: Span = EVERYTHING) -> Select | None:
    """Active participants (``is_active_participant``: verified, with an activity of a kind that
    counts as participation in the window) per home ward, per consultation (``every`` 1: all
    activity), in all (``g_<dimension>`` all 1) and by each dimension's raw answer (``g_`` 0 for
    that dimension), one count column ``w<n>`` per window (PostgreSQL).

    Each person's last active day on or before each window's end (per consultation, then over
    all of them) says whether they took part in the window: one pass over the activities."""
    kinds = participation_kinds()
    if not ACTIVITY_SOURCES or not kinds:
        return None
    ends = sorted({e for _, e in windows})
    per_consultation = last_active_days(ends, span).cte("per_consultation")
    columns = [per_consultation.c[f"last{n}"] for n in range(len(ends))]
    per_person = union_all(
        select(per_consultation.c.user_id, per_consultation.c.consultation_id, literal(0).label("every"), *columns),
        select(
            per_consultation.c.user_id,
            cast(null(), Integer).label("consultation_id"),
            literal(1).label("every"),
            *(func.max(c).label(c.name) for c in columns),
        ).group_by(per_consultation.c.user_id),
    ).subquery()
    people = registered_residents().subquery()
    base = (people.c.ward_id, per_person.c.consultation_id, per_person.c.every)
    sets = [tuple_(*base), *(tuple_(*base, people.c[d]) for d in DIMENSIONS)]
    took_part = [case((per_person.c[f"last{ends.index(e)}"] >= s, 1), else_=0) for s, e in windows]
    return (
        select(
            *base,
            *(people.c[d] for d in DIMENSIONS),
            *(func.grouping(people.c[d]).label(f"g_{d}") for d in DIMENSIONS),
            *(func.sum(flag).label(f"w{n}") for n, flag in enumerate(took_part)),
        )
        .join(people, people.c.id == per_person.c.user_id)
        .where(people.c.email_verified_at.is_not(None))
        .group_by(func.grouping_sets(*sets))
    )


def participation_acts(span: Span = EVERYTHING):
    """Each activity of a kind that counts as participation, in ``span``: user_id,
    consultation_id, day (London), as a subquery (PostgreSQL)."""
    rows = _activity_rows(span)
    return (
        select(rows.c.user_id, rows.c.consultation_id, london_date(rows.c.occurred_at).label("day"))
        .where(rows.c.kind.in_(sorted(participation_kinds())))
        .subquery()
    )


def last_active_days(ends: list[date], span: Span = EVERYTHING) -> Select:
    """Per person and consultation (NULL: none), the last day of participation on or before each
    of ``ends``: user_id, consultation_id, last0, last1, ... (PostgreSQL)."""
    acts = participation_acts(span)
    last = [func.max(acts.c.day).filter(acts.c.day <= e).label(f"last{n}") for n, e in enumerate(ends)]
    return select(acts.c.user_id, acts.c.consultation_id, *last).group_by(acts.c.user_id, acts.c.consultation_id)


def participation_kinds() -> frozenset[str]:
    return frozenset(k for k, s in ACTIVITY_SOURCES.items() if s.counts_as_participation)


def is_active_participant(verified: bool, activity_kinds: set[str]) -> bool:
    """The one definition of an active participant, given what a person did in the period."""
    return verified and bool(activity_kinds & participation_kinds())


# --- Demographic groups -----------------------------------------------------------------------

NOT_STATED = "not_stated"
NOT_STATED_LABEL = "Not stated (prefer not to say or not answered)"


def group_of(dimension: str, answer: str | None) -> str:
    """The group a person is counted in for one question."""
    if answer is None or answer == PREFER_NOT_TO_SAY or answer not in DIMENSIONS[dimension].values:
        return NOT_STATED
    return answer


def groups(dimension: str) -> tuple[str, ...]:
    """Every group of a question, in census order, then not stated."""
    return (*DIMENSIONS[dimension].values, NOT_STATED)


def group_label(dimension: str, group: str) -> str:
    return NOT_STATED_LABEL if group == NOT_STATED else DIMENSIONS[dimension].label(group)


DIMENSION_TITLES = {"age_band": "Age", "sex": "Sex", "ethnic_group": "Ethnic group", "disability": "Disability"}


# --- Periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A window of whole days ending today (Europe/London). ``days`` None: since the first activity."""

    key: str
    label: str
    days: int | None

    def window(self, today: date, first: date) -> tuple[date, date]:
        start = first if self.days is None else max(first, today - timedelta(days=self.days - 1))
        return start, today

    def previous(self, today: date, first: date) -> tuple[date, date] | None:
        """The period of equal length just before; None when it would start before the first activity."""
        if self.days is None:
            return None
        end = today - timedelta(days=self.days)
        start = end - timedelta(days=self.days - 1)
        if end < first:
            return None
        return max(start, first), end


# Fixed windows ending today. A free choice of dates is not offered: two ranges one day apart
# would give away that day's count by subtraction, whatever the suppression (see disclosure.py).
PERIODS: dict[str, Period] = {
    p.key: p
    for p in (
        Period("30d", "Last 30 days", 30),
        Period("90d", "Last 90 days", 90),
        Period("12m", "Last 12 months", 365),
        Period("all", "Since the start", None),
    )
}
DEFAULT_PERIOD = "90d"


# --- Consultation content and moderation --------------------------------------------------------
#
# * **Response** (for results): a submitted response (``submitted_at`` set, on or before today) by
#   a registered resident, to a consultation the dashboards know. Responses from deleted accounts
#   or people with no home ward are left out, as everywhere else, so the results add up to the
#   consultation's published response count.
# * **Result of a question**: per option (single or multiple choice) or scale point, the number of
#   those responses that chose it; and the number that answered the question at all. Free text is
#   never read here: only whether it was answered.
# * **Idea by status**: an idea by a registered resident, created on or before today, in one of
#   IDEA_STATUSES (withdrawn first, then its moderation status, then the council's response).
# * **Support of an idea**: a support by a registered resident, on or before today.
# * **Moderation decision**: a ``Decision`` row, on the London day of ``decided_at``; its time to
#   decision is ``decided_at - submitted_at``.


def submitted_answers(before: datetime, since: datetime | None = None) -> Select:
    """Each answer of each response submitted before ``before`` (and from ``since``): who, which
    consultation, what (no free text)."""
    from civic.consultations.models import Answer, Question, QuestionKind, Response

    value = case(
        (Question.kind == QuestionKind.FREE_TEXT.value, case((func.length(Answer.value) > 0, literal("answered")), else_=null())),
        else_=Answer.value,
    )
    statement = (
        select(
            Response.id.label("response_id"),
            Response.user_id,
            Response.consultation_id,
            Answer.question_id,
            Answer.option_id,
            value.label("value"),
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .where(Response.submitted_at < before, Response.user_id.is_not(None))
    )
    return statement if since is None else statement.where(Response.submitted_at >= since)


def submitted_responses(before: datetime) -> Select:
    """Responses submitted before ``before`` (also those without answers): user, consultation."""
    from civic.consultations.models import Response

    return select(Response.user_id, Response.consultation_id).where(Response.submitted_at < before, Response.user_id.is_not(None))


def questions() -> Select:
    """Questions with their options (one row per option; option columns NULL when it has none)."""
    from civic.consultations.models import Question, QuestionOption

    return (
        select(
            Question.id,
            Question.consultation_id,
            Question.position,
            Question.kind,
            Question.text,
            QuestionOption.id.label("option_id"),
            QuestionOption.position.label("option_position"),
            QuestionOption.label.label("option_label"),
        )
        .outerjoin(QuestionOption, QuestionOption.question_id == Question.id)
        .order_by(Question.consultation_id, Question.position, QuestionOption.position)
    )


IDEA_STATUSES: tuple[tuple[str, str], ...] = (
    ("published", "Published, no response yet"),
    ("under_consideration", "Under consideration"),
    ("accepted", "Accepted"),
    ("implemented", "Implemented"),
    ("not_taken_forward", "Not taken forward"),
    ("pending", "Awaiting moderation"),
    ("hidden", "Hidden by moderators"),
    ("rejected", "Rejected by moderators"),
    ("withdrawn", "Withdrawn by the author"),
)

# The statuses of the ideas anyone can read (published, not withdrawn), by the council's response:
# the ideas that public pages list and count.
PUBLIC_IDEA_STATUSES: tuple[str, ...] = ("published", "under_consideration", "accepted", "implemented", "not_taken_forward")


def idea_status_of(status: str, response_status: str | None, withdrawn: bool) -> str:
    """The one status an idea is counted under (a key of IDEA_STATUSES)."""
    known = {k for k, _ in IDEA_STATUSES}
    if withdrawn:
        return "withdrawn"
    if status == "published":
        return response_status if response_status in known else "published"
    return status if status in known else "pending"


def ideas() -> Select:
    from civic.ideas.models import Idea

    return select(
        Idea.id,
        Idea.consultation_id,
        Idea.author_id,
        Idea.title,
        Idea.status,
        Idea.response_status,
        Idea.withdrawn_at.is_not(None).label("withdrawn"),
        Idea.created_at,
        Idea.support_count,  # what the public idea pages show (see queries.public_figures)
    )


def supports() -> Select:
    from civic.ideas.models import Support

    return select(Support.idea_id, Support.user_id, Support.created_at).where(Support.user_id.is_not(None))


def supports_per_idea(ward_ids: list[int], today: date, span: Span = EVERYTHING) -> Select:
    """Supports by registered residents living in one of ``ward_ids``, dated on or before
    ``today`` (London), per idea: idea_id, n (PostgreSQL; ``supports()`` read row by row
    elsewhere). Only those made in [since, until) of ``span``."""
    from civic.ideas.models import Support

    people = registered_residents().subquery()
    statement = (
        select(Support.idea_id, func.count().label("n"))
        .join(people, people.c.id == Support.user_id)
        .where(people.c.ward_id.in_(ward_ids), london_date(Support.created_at) <= today)
        .group_by(Support.idea_id)
    )
    if span.since is not None:
        statement = statement.where(Support.created_at >= span.since)
    if span.until is not None:
        statement = statement.where(Support.created_at < span.until)
    return statement


def decisions() -> Select:
    from civic.moderation.models import Decision

    return select(Decision.outcome, Decision.submitted_at, Decision.decided_at)


TOP_IDEAS = 5
