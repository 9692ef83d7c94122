"""Aggregates for the dashboards: raw rows in, protected cells out, page slices as dataclasses.

``build_publication`` runs a fixed number of queries (areas, baselines, people, activities,
consultations: never one per ward), counts every cell that any dashboard page, figure, table or
CSV can show, on every filter combination (area × period × consultation), states how the cells
add up, and passes them all at once through ``civic.core.disclosure.protect_linked``. Pages only
read slices of that one protected publication, so two pages never disagree about a number and no
page publishes a cell that another page's totals would give away.

Cell keys (dates are ordinals, so that keys are plain JSON):

* ``("reg", area)`` / ``("ver", area)``: registered / verified residents now;
* ``("ev", area, kind, consultation, start, end)``: activities of a kind in the days
  ``start..end`` (a day when ``start == end``); consultation ``None`` means all of them, ``"-"``
  (never published) the activities that belong to no consultation;
* ``("pp", area, start, end, consultation, dimension, group)``: active participants in the window,
  in a demographic group (``dimension`` and ``group`` None for the total);
* ``("res", consultation)``: submitted responses (for results); ``("qa"|"qs", consultation,
  question)``: responses that answered / skipped it; ``("qo"|"qn", consultation, question,
  option)``: responses that chose / (multiple choice) did not choose an option or scale point;
* ``("ideas", consultation)``, ``("is", consultation, status)``: ideas, by status;
  ``("is-public", consultation)`` (never published): the published ideas, not withdrawn;
  ``("sup", consultation, idea)``: supports of an idea (published for the top ideas only);
* ``("mod", start, end, outcome)``: moderation decisions (``outcome`` None for all of them).

Cells whose count equals what another public page shows (results while public, idea counts,
supports) are passed to ``protect_linked`` as ``known`` (see the README).

Results, ideas and supports are of the whole consultation (every area, since it opened); the
moderation figures are of the whole site. Neither changes with the area filter.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy import text as sql_text

from civic.accounts.demographics import DIMENSIONS
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.consultations.models import SCALE_POINTS, QuestionKind
from civic.core.disclosure import Protected, protect_linked, share, threshold
from civic.core.models import utcnow
from civic.core.templating import LONDON
from civic.dashboards import lookups, metrics
from civic.dashboards.metrics import (
    ACTIVITY_SOURCES,
    DIMENSION_TITLES,
    NOT_STATED,
    PERIODS,
    activities,
    group_label,
    group_of,
    groups,
    is_active_participant,
    registered_people,
)
from civic.extensions import db
from civic.moderation.models import DecisionOutcome

ALL = None  # the consultation coordinate meaning "every consultation"
NO_CONSULTATION = "-"


# --- The publication --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionShape:
    id: int
    position: int
    kind: str
    text: str
    options: tuple[tuple[int | str, str], ...]  # (option id or scale key, label)


@dataclass(frozen=True)
class ContentShape:
    """What a consultation's content cells are about (no counts): its questions and top ideas."""

    questions: tuple[QuestionShape, ...] = ()
    top_ideas: tuple[tuple[int, str], ...] = ()  # (idea id, title), most supported first


@dataclass(frozen=True)
class AreaInfo:
    id: int
    code: str
    name: str
    level: str
    parent_code: str | None
    population: int | None
    adults: int | None
    children: tuple[str, ...]  # codes of the direct children
    wards: tuple[str, ...]  # codes of the wards inside (itself for a ward)


@dataclass
class Publication:
    """Every publishable cell, already protected, with what is needed to slice it."""

    built_at: datetime
    today: int
    first: int
    cells: Mapping[tuple, Protected]  # a dict, or store.StoredCells when read from the store
    areas: dict[str, AreaInfo]
    baselines: dict[str, dict[tuple[str, str], int]]
    kinds: dict[str, str]  # kind -> label, in registry order
    consultation_kinds: tuple[str, ...]  # kinds whose activities belong to consultations
    consultations: tuple[lookups.ConsultationRef, ...]
    limit: int = 10
    content: dict[str, ContentShape] = field(default_factory=dict)  # per consultation slug
    medians: dict[tuple, float] = field(default_factory=dict)  # (start, end, outcome) -> seconds
    # The true counts before a cutoff, kept in the building process for its next warm build;
    # never stored, never shown.
    history: History | None = field(default=None, repr=False, compare=False)

    def get(self, key: tuple) -> Protected:
        """The one way a number leaves the publication: already through disclosure control."""
        return self.cells[key]

    def withheld_partners(self) -> list[tuple]:
        """The cells withheld to protect others."""
        return [k for k, v in self.cells.items() if v.secondary]

    def warm_start(self) -> WarmStart:
        """What the next build of this process may start from (``build_publication(warm=)``)."""
        return WarmStart(self.today, self.withheld_partners(), self.history)

    def window(self, period_key: str) -> tuple[int, int]:
        start, end = PERIODS[period_key].window(date.fromordinal(self.today), date.fromordinal(self.first))
        return start.toordinal(), end.toordinal()

    def previous_window(self, period_key: str) -> tuple[int, int] | None:
        prev = PERIODS[period_key].previous(date.fromordinal(self.today), date.fromordinal(self.first))
        return (prev[0].toordinal(), prev[1].toordinal()) if prev else None

    def kinds_for(self, consultation) -> list[str]:
        return list(self.kinds) if consultation is ALL else [k for k in self.kinds if k in self.consultation_kinds]


def _as_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def london_day(moment: datetime) -> int:
    return _as_utc(moment).astimezone(LONDON).date().toordinal()


def london_day_end(day: int) -> datetime:
    """The first moment after London day ``day`` (its midnight), in UTC."""
    return datetime.combine(date.fromordinal(day + 1), datetime.min.time(), tzinfo=LONDON).astimezone(UTC)


def _load_areas() -> dict[str, AreaInfo]:
    rows = db.session.execute(
        select(Area.id, Area.gss_code, Area.name, Area.level, Area.parent_id, Area.population, Area.adult_population)
    ).all()
    code_of = {r.id: r.gss_code for r in rows}
    children: dict[str, list[str]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r.name):
        if r.parent_id in code_of:
            children[code_of[r.parent_id]].append(r.gss_code)

    def wards_in(code: str, level: str) -> tuple[str, ...]:
        if level == AreaLevel.WARD:
            return (code,)
        out: list[str] = []
        for child in children.get(code, []):
            out.extend(wards_in(child, by_code[child].level))
        return tuple(out)

    by_code = {r.gss_code: r for r in rows}
    return {
        r.gss_code: AreaInfo(
            id=r.id,
            code=r.gss_code,
            name=r.name,
            level=r.level,
            parent_code=code_of.get(r.parent_id),
            population=r.population,
            adults=r.adult_population,
            children=tuple(children.get(r.gss_code, [])),
            wards=wards_in(r.gss_code, r.level),
        )
        for r in rows
    }


def _load_baselines(areas: dict[str, AreaInfo]) -> dict[str, dict[tuple[str, str], int]]:
    code_of = {a.id: a.code for a in areas.values()}
    own: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for r in db.session.execute(select(AreaBaseline.area_id, AreaBaseline.dimension, AreaBaseline.category, AreaBaseline.count)):
        own[code_of[r.area_id]][(r.dimension, r.category)] = r.count
    out = {}
    for code, area in areas.items():
        if own.get(code):
            out[code] = dict(own[code])
        else:  # an area imported without its own census tables: the sum of its wards'
            summed: dict[tuple[str, str], int] = defaultdict(int)
            for ward in area.wards:
                for k, v in own.get(ward, {}).items():
                    summed[k] += v
            out[code] = dict(summed)
    return out


@dataclass
class WarmStart:
    """What a build leaves for the next one of the same process (``Publication.warm_start``)."""

    today: int
    partners: list[tuple]  # the cells it withheld to protect others
    history: History | None  # what it counted before its cutoff (PostgreSQL)


def build_publication(now: datetime | None = None, warm: WarmStart | None = None) -> Publication:
    """Count and protect every cell the dashboards can show. A fixed number of queries.

    With ``warm`` (left by the last build of this process), a warm build (the refresh
    worker's, civic/dashboards/worker.py): the activity before the last cold count's cutoff is
    not read again (``count_cells(history=)``), and the partners withheld last time are withheld
    again from the start (``protect_linked(withheld_before=)``, on the same day only), so the
    disclosure control only works on what changed since. As safe as a cold build (the same whole
    replay ends it); it may withhold a few more cells, and corrections of earlier activity wait
    for the next cold build."""
    now = now or utcnow()
    counted = count_cells(now, history=warm.history if warm is not None else None)
    withheld = warm.partners if warm is not None and warm.today == counted.today else ()
    return publish(counted, now, withheld_before=withheld)


def publish(
    counted: Counted, now: datetime, cells: dict[tuple, Protected] | None = None, withheld_before: Iterable[tuple] = ()
) -> Publication:
    """The publication of counted cells: all of them through ``protect_linked`` at once (or the
    result of that call, when the caller has made it)."""
    if cells is None:
        cells = protect_linked(
            counted.values,
            counted.relations,
            counted.published,
            cost=_cost,
            limit=counted.limit,
            zero_is_small=True,
            known=counted.known,
            withheld_before=frozenset(withheld_before),
        )
    return Publication(
        built_at=now,
        today=counted.today,
        first=counted.first,
        cells=cells,
        areas=counted.areas,
        baselines=counted.baselines,
        kinds=counted.kinds,
        consultation_kinds=counted.consultation_kinds,
        consultations=counted.consultations,
        limit=counted.limit,
        content=counted.content,
        medians=counted.medians,
        history=counted.history,
    )


@dataclass
class Counted:
    """The true counts before disclosure control (never leaves the server)."""

    values: dict[tuple, int]
    relations: list
    published: set[tuple]
    today: int
    first: int
    areas: dict[str, AreaInfo]
    baselines: dict
    kinds: dict[str, str]
    consultation_kinds: tuple[str, ...]
    consultations: tuple
    limit: int
    content: dict = field(default_factory=dict)
    medians: dict = field(default_factory=dict)
    known: set[tuple] = field(default_factory=set)  # cells public pages show exactly
    history: History | None = None  # what was counted before a cutoff (PostgreSQL), for a warm build


def count_cells(now: datetime | None = None, history: History | None = None) -> Counted:
    """Every cell's true count and the relations between cells. A fixed number of queries.

    On PostgreSQL the activities are counted in two parts, before a cutoff and since (see
    ``History``); given the ``history`` of an earlier call of the same day, only the part since
    its cutoff is read."""
    now = now or utcnow()
    today = london_day(now)
    limit = threshold()
    areas = _load_areas()
    ward_code = {a.id: a.code for a in areas.values() if a.level == AreaLevel.WARD}
    baselines = _load_baselines(areas)
    consultations = tuple(lookups.all_consultations())
    consultation_by_id = {c.id: c.slug for c in consultations}

    _give_the_build_time()
    # People: ward, verified, group in each dimension.
    people: dict[int, tuple[str, bool, dict[str, str]]] = {}
    group_cache: dict[tuple[str, str | None], str] = {}  # group_of for each answer, worked out once
    for row in _rows(registered_people()):
        if row.ward_id in ward_code:
            answers = {}
            for d in DIMENSIONS:
                answer = getattr(row, d)
                if (d, answer) not in group_cache:
                    group_cache[(d, answer)] = group_of(d, answer)
                answers[d] = group_cache[(d, answer)]
            people[row.id] = (ward_code[row.ward_id], bool(row.verified), answers)

    if counts_in_database():
        if not (history and history.fits(today, ward_code, consultation_by_id)):
            history = History.start(now, today, ward_code, consultation_by_id)
        events, consultation_kinds = history.events_with_those_since(ward_code, consultation_by_id, today)
    else:
        history = None
        events, consultation_kinds, person_days = _events_counted_here(people, consultation_by_id, today)
    first = min((k[3] for k in events), default=today)

    builder = _CubeBuilder(areas, today, first, limit)
    builder.add_stocks(people)
    kinds = {k: s.label for k, s in ACTIVITY_SOURCES.items()}
    builder.add_events(events, list(kinds), sorted(consultation_kinds), [c.slug for c in consultations])
    if history is not None:
        participants = history.participants_with_those_since(builder.participant_windows(), people, ward_code, consultation_by_id)
    else:
        participants = _participants_counted_here(builder.participant_windows(), people, person_days)
    builder.add_participants(participants, [c.slug for c in consultations])
    if "registration" in kinds:
        builder.link_registrations()
    content = {}
    known: set[tuple] = set()
    if consultations:
        loaded = _load_content(people, consultation_by_id, today, areas, history)
        content = builder.add_content(loaded)
        public = {**loaded.public, **_public_results(content, consultation_by_id, now)}
        # Known to anyone: the cells whose count equals, right now, what a public page shows.
        # Where they differ (a support by a deleted account, a response by someone with no
        # ward...), the public figure only bounds the cell; that bound is not played.
        known = {k for k, v in public.items() if builder.values.get(k) == v}
    medians = builder.add_moderation(_load_decisions(today))
    return Counted(
        values=builder.values,
        relations=builder.relations,
        published=builder.published,
        today=today,
        first=first,
        areas=areas,
        baselines=baselines,
        kinds=kinds,
        consultation_kinds=tuple(k for k in kinds if k in consultation_kinds),
        consultations=consultations,
        limit=limit,
        content=content,
        medians=medians,
        known=known,
        history=history,
    )


def _rows(statement):
    """The rows of a large read, through the connection: without the ORM's result processing,
    which cost more than the rows themselves at the metro tier (a million rows)."""
    return db.session.connection().execute(statement).all()


def counts_in_database() -> bool:
    """Whether the database counts the activities (PostgreSQL: ``metrics.activities_per_day`` and
    ``metrics.active_participants_per_window``) rather than this process reading every row. Both
    ways give the same cells (tests compare them on PostgreSQL)."""
    return db.session.get_bind().dialect.name == "postgresql"


def _give_the_build_time() -> None:
    """On PostgreSQL, for this transaction only: DASHBOARD_BUILD_STATEMENT_TIMEOUT_MS instead of
    the request statement timeout (the grouped queries read every activity), and
    DASHBOARD_BUILD_WORK_MEM per grouping."""
    from flask import current_app

    if not counts_in_database():
        return
    config = current_app.config
    db.session.execute(
        sql_text("SELECT set_config('statement_timeout', :timeout, true), set_config('work_mem', :memory, true)"),
        {"timeout": str(config["DASHBOARD_BUILD_STATEMENT_TIMEOUT_MS"]), "memory": config["DASHBOARD_BUILD_WORK_MEM"]},
    )


Events = dict[tuple[str, str, str | None, int], int]  # (ward, kind, consultation, day) -> activities
# (consultation or ALL, window index) -> (dimension, group), or (None, None) for all -> ward -> people
Participants = dict[tuple, dict[tuple[str | None, str | None], dict[str, int]]]


def _events_counted_here(people, consultation_by_id, today) -> tuple[Events, set[str], dict]:
    """Every activity row read here: counts per (ward, kind, consultation, day), and what each
    person did on which day."""
    events: Events = defaultdict(int)
    person_days: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    consultation_kinds: set[str] = set()
    statement = activities()
    rows = _rows(statement) if statement is not None else []
    for row in rows:
        if row.user_id not in people:
            continue
        day = london_day(row.occurred_at)
        if day > today:
            continue
        slug = consultation_by_id.get(row.consultation_id) if row.consultation_id is not None else None
        if row.consultation_id is not None:
            consultation_kinds.add(row.kind)
        events[(people[row.user_id][0], row.kind, slug, day)] += 1
        person_days[row.user_id].append((day, row.kind, slug))
    return events, consultation_kinds, person_days


def _events_counted_in_database(ward_code, consultation_by_id, today, span=metrics.EVERYTHING) -> tuple[Events, set[str]]:
    """The same counts, grouped by PostgreSQL: one row per ward, kind, consultation and day."""
    events: Events = defaultdict(int)
    consultation_kinds: set[str] = set()
    statement = metrics.activities_per_day(span)
    for row in _rows(statement) if statement is not None else []:
        ward = ward_code.get(row.ward_id)
        day = row.day.toordinal()
        if ward is None or day > today:
            continue
        slug = consultation_by_id.get(row.consultation_id) if row.consultation_id is not None else None
        if row.consultation_id is not None:
            consultation_kinds.add(row.kind)
        events[(ward, row.kind, slug, day)] += row.n
    return events, consultation_kinds


def _participants() -> Participants:
    return defaultdict(lambda: defaultdict(lambda: defaultdict(int)))


def _participants_counted_here(windows, people, person_days) -> Participants:
    """Active participants per window, consultation, group and ward, from each person's activities
    (read once): the kinds done in each window, then ``is_active_participant``."""
    counts: Participants = _participants()
    for person, did in person_days.items():
        kinds_in: dict[tuple, set[str]] = defaultdict(set)
        for day, kind, slug in did:
            for n, ((s, e), _) in enumerate(windows):
                if s <= day <= e:
                    kinds_in[(ALL, n)].add(kind)
                    if slug is not None:
                        kinds_in[(slug, n)].add(kind)
        ward, verified, answers = people[person]
        for (cons, n), kinds in kinds_in.items():
            if not is_active_participant(verified, kinds):
                continue
            by_group = counts[(cons, n)]
            by_group[(None, None)][ward] += 1
            if windows[n][1]:
                for dim, group in answers.items():
                    by_group[(dim, group)][ward] += 1
    return counts


def _participants_counted_in_database(windows, ward_code, consultation_by_id, span=metrics.EVERYTHING) -> Participants:
    """The same counts, by PostgreSQL (``metrics.active_participants_per_window``): one row per
    ward, consultation and answer, a column per window; answers are grouped here (``group_of``)."""
    counts: Participants = _participants()
    spans = [(date.fromordinal(s), date.fromordinal(e)) for (s, e), _ in windows]
    statement = metrics.active_participants_per_window(spans, span)
    for row in _rows(statement) if statement is not None else []:
        ward = ward_code.get(row.ward_id)
        cons = ALL if row.every else consultation_by_id.get(row.consultation_id) if row.consultation_id is not None else None
        if ward is None or (cons is None and not row.every):
            continue
        dims = [d for d in DIMENSIONS if not getattr(row, f"g_{d}")]
        for n, (_, with_groups) in enumerate(windows):
            value = getattr(row, f"w{n}")
            if not value:
                continue
            if not dims:
                counts[(cons, n)][(None, None)][ward] += value
            elif with_groups:
                dim = dims[0]
                counts[(cons, n)][(dim, group_of(dim, getattr(row, dim)))][ward] += value
    return counts


# A cold count's history ends this long before it starts. Activities are written with their own
# moment (created_at, submitted_at) by requests that end within their statement timeout, so any
# activity dated before the cutoff is committed, and read, by then.
HISTORY_MARGIN = timedelta(minutes=5)


@dataclass
class History:
    """What a count read of the activities before ``cutoff`` (PostgreSQL), kept by the process
    that counted (the refresh worker) so that its next counts of the same day read only the
    activities since the cutoff: the events per ward, kind, consultation and day, the active
    participants per window (people active since the cutoff are added unless they were already
    active in the window before it) and the supports per idea.

    Correct for activity added since the cutoff. What changes *before* it (a support withdrawn,
    a resident who moves ward, is deleted or is verified, a row written with an earlier date)
    shows at the next cold count: the worker counts cold every DASHBOARD_COLD_BUILD_SECONDS,
    and on a new day.
    """

    cutoff: datetime
    today: int
    wards: dict[int, str]
    consultation_by_id: dict[int, str]
    sources: tuple[tuple[str, bool], ...]
    events: Events
    consultation_kinds: frozenset[str]
    windows: list | None = None
    participants: Participants | None = None
    supports: dict[int, int] | None = None
    answers: AnswerTally | None = None  # of the responses submitted before the cutoff

    @staticmethod
    def _sources() -> tuple[tuple[str, bool], ...]:
        return tuple((k, s.counts_as_participation) for k, s in ACTIVITY_SOURCES.items())

    @classmethod
    def start(cls, now: datetime, today: int, ward_code, consultation_by_id) -> History:
        cutoff = _as_utc(now) - HISTORY_MARGIN
        events, kinds = _events_counted_in_database(ward_code, consultation_by_id, today, metrics.Span(until=cutoff))
        return cls(cutoff, today, dict(ward_code), dict(consultation_by_id), cls._sources(), events, frozenset(kinds))

    def fits(self, today: int, ward_code, consultation_by_id) -> bool:
        """Whether a count of now can start from this history (same day, areas, consultations
        and activity sources)."""
        return (
            self.today == today
            and self.wards == ward_code
            and self.consultation_by_id == consultation_by_id
            and self.sources == self._sources()
        )

    def since(self) -> metrics.Span:
        return metrics.Span(since=self.cutoff)

    def events_with_those_since(self, ward_code, consultation_by_id, today) -> tuple[Events, set[str]]:
        recent, kinds = _events_counted_in_database(ward_code, consultation_by_id, today, self.since())
        events: Events = defaultdict(int, self.events)
        for key, n in recent.items():
            events[key] += n
        return events, set(self.consultation_kinds) | kinds

    def participants_with_those_since(self, windows, people, ward_code, consultation_by_id) -> Participants:
        """Participants before the cutoff (counted once per set of windows), and the people
        active since who were not active in the window before it."""
        if self.windows != windows:
            before = metrics.Span(until=self.cutoff)
            counted = _participants_counted_in_database(windows, ward_code, consultation_by_id, before)
            # Plain dictionaries: a history travels from the worker's cold build process (pickled).
            self.participants = {key: {g: dict(w) for g, w in by_group.items()} for key, by_group in counted.items()}
            self.windows = windows
        counts = _participants()
        for key, by_group in self.participants.items():
            for group, by_ward in by_group.items():
                counts[key][group].update(by_ward)
        if not metrics.participation_kinds():
            return counts
        acts = metrics.participation_acts(self.since())
        did: dict[int, list[tuple[int | None, int]]] = defaultdict(list)
        for user_id, consultation_id, day in _rows(select(acts.c.user_id, acts.c.consultation_id, acts.c.day).distinct()):
            if user_id in people and people[user_id][1]:  # registered and verified
                did[user_id].append((consultation_id, day.toordinal()))
        ends = sorted({e for (_, e), _ in windows})
        before_cutoff: dict[int, dict[int | None, list[int | None]]] = defaultdict(dict)
        span = metrics.Span(until=self.cutoff, users=tuple(sorted(did)))
        for row in _rows(metrics.last_active_days([date.fromordinal(e) for e in ends], span)):
            before_cutoff[row[0]][row[1]] = [d.toordinal() if d is not None else None for d in row[2:]]
        slug_id = {slug: cid for cid, slug in consultation_by_id.items()}
        for user_id, acts_since in did.items():
            ward, _, answers = people[user_id]
            earlier = before_cutoff.get(user_id, {})
            days_in: dict = defaultdict(list)
            for consultation_id, day in acts_since:
                days_in[ALL].append(day)
                slug = consultation_by_id.get(consultation_id) if consultation_id is not None else None
                if slug is not None:
                    days_in[slug].append(day)
            for cons, days in days_in.items():
                if cons is ALL:
                    lasts = [max((d[k] for d in earlier.values() if d[k] is not None), default=None) for k in range(len(ends))]
                else:
                    lasts = earlier.get(slug_id[cons], [None] * len(ends))
                for n, ((s, e), with_groups) in enumerate(windows):
                    if not any(s <= d <= e for d in days):
                        continue
                    last = lasts[ends.index(e)]
                    if last is not None and last >= s:
                        continue  # already counted before the cutoff
                    by_group = counts[(cons, n)]
                    by_group[(None, None)][ward] += 1
                    if with_groups:
                        for dim, group in answers.items():
                            by_group[(dim, group)][ward] += 1
        return counts

    def supports_per_idea(self, wards: list[int], today: int) -> dict[int, int]:
        if self.supports is None:
            before = metrics.Span(until=self.cutoff)
            self.supports = dict(_rows(metrics.supports_per_idea(wards, date.fromordinal(today), before)))
        counts = defaultdict(int, self.supports)
        for idea_id, n in _rows(metrics.supports_per_idea(wards, date.fromordinal(today), self.since())):
            counts[idea_id] += n
        return counts


# Below the authority, activity is counted per day over the last DAILY_DAYS days only (the 30-
# and 90-day periods and the 30 days before the last 30): see first_daily_day.
DAILY_DAYS = 90


def first_daily_day(area: AreaInfo, consultation, today: int, first: int) -> int | None:
    """The first day from which an area's activity is counted per day (up to today), for all
    activity or one consultation; None when it is not counted per day at all.

    Most of a ward's or a borough's days are "fewer than 10" for every kind but the busiest, and
    one consultation's ward days almost all are: as cells they multiplied the cube (and the
    disclosure control's work) and published little but "fewer than 10". So the authority has
    its days since the start; boroughs and wards the last DAILY_DAYS days (wards not for one
    consultation). Longer periods there show their totals, without a daily chart.
    """
    if area.parent_code is None:
        return first
    if consultation is not ALL and area.level == AreaLevel.WARD:
        return None
    return max(first, today - DAILY_DAYS + 1)


def _cost(key: tuple) -> int:
    """Which cells to withhold first when a small one needs a partner: the least useful."""
    kind = key[0]
    if kind in ("reg", "ver"):
        return 50
    if kind == "ev":
        return 1 if key[4] == key[5] else 20  # a day before a period total
    if kind == "pp":
        return 10 if key[5] is None else 2  # a group before a total
    if kind in ("qs", "qn"):
        return 1  # "did not answer" / "did not choose" before the options themselves
    if kind in ("qo", "is", "sup"):
        return 3
    if kind == "qa":
        return 8
    if kind == "mod":
        return 3 if key[3] is not None else 20
    if kind in ("res", "ideas"):
        return 30
    return 5


class _CubeBuilder:
    """Cells and the relations between them (see the module docstring for the keys)."""

    def __init__(self, areas: dict[str, AreaInfo], today: int, first: int, limit: int):
        self.areas = areas
        self.today = today
        self.first = first
        self.limit = limit
        self.values: dict[tuple, int] = {}
        self.published: set[tuple] = set()
        self.relations: list[tuple[tuple, tuple[tuple, ...]]] = []
        self.parents = [a for a in areas.values() if a.children]
        self._bottom_up = _bottom_up(areas)
        self.windows = sorted({self._window(p) for p in PERIODS})
        self.previous = sorted({w for w in (self._previous(p) for p in PERIODS) if w})

    def _window(self, key: str) -> tuple[int, int]:
        s, e = PERIODS[key].window(date.fromordinal(self.today), date.fromordinal(self.first))
        return s.toordinal(), e.toordinal()

    def _previous(self, key: str) -> tuple[int, int] | None:
        prev = PERIODS[key].previous(date.fromordinal(self.today), date.fromordinal(self.first))
        return (prev[0].toordinal(), prev[1].toordinal()) if prev else None

    def _cell(self, key: tuple, value: int, published: bool = True) -> None:
        self.values[key] = value
        if published:
            self.published.add(key)

    def _by_area(self, ward_counts: dict[str, int]) -> dict[str, int]:
        """Each area's count: the sum of its wards' (added up from the wards, each area once)."""
        if not ward_counts:
            return dict.fromkeys(self.areas, 0)
        out: dict[str, int] = {}
        for code, children in self._bottom_up:
            out[code] = ward_counts.get(code, 0) if children is None else sum(out[c] for c in children)
        return {code: out[code] for code in self.areas}

    def _days_by_area(self, ward_days: dict[str, list[int]], width: int) -> dict[str, list[int]]:
        """Each area's count on each day: the sums of its wards' (each area once, bottom up)."""
        out: dict[str, list[int]] = {}
        zeros = [0] * width
        for code, children in self._bottom_up:
            if children is None:
                out[code] = ward_days.get(code, zeros)
            else:
                out[code] = [sum(day) for day in zip(*(out[c] for c in children), strict=True)] if children else zeros
        return out

    def _geography(self, make_key, codes=None) -> None:
        """For every area with children: its cell is the sum of its children's (only where all
        of them are cells, when ``codes`` says which areas have this cell)."""
        for parent in self.parents:
            if codes is None or (parent.code in codes and all(c in codes for c in parent.children)):
                self.relations.append((make_key(parent.code), tuple(make_key(c) for c in parent.children)))

    def add_stocks(self, people) -> None:
        registered: dict[str, int] = defaultdict(int)
        verified: dict[str, int] = defaultdict(int)
        for ward, is_verified, _ in people.values():
            registered[ward] += 1
            verified[ward] += is_verified
        for name, counts in (("reg", registered), ("ver", verified)):
            for code, value in self._by_area(counts).items():
                self._cell((name, code), value)
            self._geography(lambda code, name=name: (name, code))

    def _intervals(self) -> list[tuple[int, int]]:
        spans = {w for w in (*self.windows, *self.previous) if w[0] < w[1]}
        return sorted(spans, key=lambda w: (w[0] - w[1], w))  # longest first

    def add_events(self, events, kinds, consultation_kinds, consultations) -> None:
        days = range(self.first, self.today + 1)
        intervals = self._intervals()
        tree = _laminar_tree(intervals)
        slices: list[tuple[str, str | None]] = [(k, ALL) for k in kinds]
        slices += [(k, c) for k in consultation_kinds for c in (*consultations, NO_CONSULTATION)]
        # Per slice, each ward's count on each day since the first (a list indexed by the day).
        ward_days: dict[tuple[str, str | None], dict[str, list[int]]] = defaultdict(dict)
        width = self.today - self.first + 1
        for (ward, kind, slug, day), n in events.items():
            for cons in (ALL, slug if slug is not None else NO_CONSULTATION):
                if cons is not ALL and kind not in consultation_kinds:
                    continue
                by_ward = ward_days[(kind, cons)]
                if ward not in by_ward:
                    by_ward[ward] = [0] * width
                by_ward[ward][day - self.first] += n
        # A period of one day (the first day of the site) is a day cell, in every area.
        window_days = {s for s, e in (*self.windows, *self.previous) if s == e}

        def days_at(code: str, cons) -> set[int]:
            start = first_daily_day(self.areas[code], cons, self.today, self.first)
            return window_days | (set(range(start, self.today + 1)) if start is not None else set())

        day_cells = {(code, cons): days_at(code, cons) for code in self.areas for cons in {c for _, c in slices}}
        for kind, cons in slices:
            shown = cons != NO_CONSULTATION
            per_day = self._days_by_area(ward_days.get((kind, cons), {}), width)
            for code in self.areas:
                own = day_cells[(code, cons)]
                counts = per_day[code]
                # Running totals over the days: any span's count is a difference of two.
                running = list(accumulate(counts, initial=0))

                def span(s: int, e: int, running=running) -> int:
                    return running[e - self.first + 1] - running[s - self.first]

                for day in sorted(own):
                    self._cell(("ev", code, kind, cons, day, day), counts[day - self.first], shown)
                for s, e in intervals:
                    self._cell(("ev", code, kind, cons, s, e), span(s, e), shown)
                # Time: each period is the sum of the periods nested in it and its other days
                # (where the days are not cells, a hidden remainder: never published).
                for (s, e), (sub, loose_days) in tree.items():
                    parts = [("ev", code, kind, cons, a, b) for a, b in sub]
                    counted_days = [d for d in loose_days if d in own]
                    parts += [("ev", code, kind, cons, d, d) for d in counted_days]
                    if len(counted_days) < len(loose_days):
                        rest = ("ev-rest", code, kind, cons, s, e)
                        # The other days: the period less its nested periods and its day cells.
                        value = span(s, e) - sum(span(a, b) for a, b in sub) - sum(counts[d - self.first] for d in counted_days)
                        self._cell(rest, value, published=False)
                        parts.append(rest)
                    self.relations.append((("ev", code, kind, cons, s, e), tuple(parts)))
            for s, e in intervals:
                self._geography(lambda code, s=s, e=e, kind=kind, cons=cons: ("ev", code, kind, cons, s, e))
            for d in days:
                self._geography(
                    lambda code, d=d, kind=kind, cons=cons: ("ev", code, kind, cons, d, d),
                    {code for code in self.areas if d in day_cells[(code, cons)]},
                )
        # Consultations: all activities of a kind = those of each consultation + those of none.
        if consultations:
            for kind in consultation_kinds:
                for code in self.areas:
                    spans = [*((d, d) for d in sorted(day_cells[(code, NO_CONSULTATION)])), *intervals]
                    for s, e in spans:
                        self.relations.append(
                            (
                                ("ev", code, kind, ALL, s, e),
                                tuple(("ev", code, kind, c, s, e) for c in (*consultations, NO_CONSULTATION)),
                            )
                        )

    def participant_windows(self) -> list[tuple[tuple[int, int], bool]]:
        """The windows participants are counted in, each with whether it is broken down by group
        (the periods offered are; the periods before them, for the change, are not)."""
        return [(w, True) for w in self.windows] + [(w, False) for w in self.previous if w not in self.windows]

    def add_participants(self, counts: Participants, consultations) -> None:
        windows = self.participant_windows()
        empty: dict[tuple[str | None, str | None], dict[str, int]] = {}
        for cons in (ALL, *consultations):
            for n, ((s, e), with_groups) in enumerate(windows):
                by_group = counts.get((cons, n), empty)
                cells = [(None, None)]
                if with_groups:
                    cells += [(dim, g) for dim in DIMENSIONS for g in groups(dim)]
                for dim, group in cells:
                    values = self._by_area(by_group.get((dim, group), {}))
                    for code, value in values.items():
                        self._cell(("pp", code, s, e, cons, dim, group), value)
                    self._geography(lambda code, dim=dim, group=group, s=s, e=e, cons=cons: ("pp", code, s, e, cons, dim, group))
                if with_groups:
                    for code in self.areas:
                        for dim in DIMENSIONS:
                            self.relations.append(
                                (
                                    ("pp", code, s, e, cons, None, None),
                                    tuple(("pp", code, s, e, cons, dim, g) for g in groups(dim)),
                                )
                            )

    def link_registrations(self) -> None:
        """Registrations since the start are the registered residents: the same number twice
        (said only where the counts agree: a warm count sees a deleted resident's registration
        until the next cold one)."""
        s, e = self.first, self.today
        for code in self.areas:
            key = ("ev", code, "registration", ALL, s, e)
            if key in self.values and self.values[key] == self.values[("reg", code)]:
                self.relations.append((("reg", code), (key,)))

    def _link_to_activity(self, total: tuple, kind: str, cons: str, value: int) -> None:
        """``total`` counts the same things as the activity source ``kind`` in ``cons`` since the
        start, in every area: say so (when the numbers agree), so that the attack plays it."""
        tops = [a.code for a in self.areas.values() if a.parent_code is None]
        keys = [("ev", code, kind, cons, self.first, self.today) for code in tops]
        if keys and all(k in self.values for k in keys) and sum(self.values[k] for k in keys) == value:
            self.relations.append((total, tuple(keys)))

    def add_content(self, content: _Content) -> dict[str, ContentShape]:
        """Results per question, ideas by status and supports of the top ideas, per consultation."""
        shapes = {}
        for slug, questions in content.questions.items():
            res = ("res", slug)
            responses = content.responses.get(slug, 0)
            self._cell(res, responses)
            self._link_to_activity(res, "response", slug, responses)
            for q in questions:
                answered, chosen = content.answers.get((slug, q.id), (0, {}))
                qa, qs = ("qa", slug, q.id), ("qs", slug, q.id)
                self._cell(qa, answered)
                self._cell(qs, responses - answered)
                self.relations.append((res, (qa, qs)))
                counts = {key: chosen.get(key, 0) for key, _ in q.options}
                for key, n in counts.items():
                    self._cell(("qo", slug, q.id, key), n)
                    if q.kind == QuestionKind.MULTIPLE_CHOICE:  # chose it or not: two cells of one table
                        self._cell(("qn", slug, q.id, key), answered - n)
                        self.relations.append((qa, (("qo", slug, q.id, key), ("qn", slug, q.id, key))))
                if q.kind != QuestionKind.MULTIPLE_CHOICE and q.options:
                    self.relations.append((qa, tuple(("qo", slug, q.id, key) for key in counts)))
        for slug in sorted({*content.questions, *content.idea_statuses, *content.supports}):
            statuses = content.idea_statuses.get(slug, {})
            total = ("ideas", slug)
            self._cell(total, sum(statuses.values()))
            for status, _ in metrics.IDEA_STATUSES:
                self._cell(("is", slug, status), statuses.get(status, 0))
            self.relations.append((total, tuple(("is", slug, status) for status, _ in metrics.IDEA_STATUSES)))
            # The published ideas (any response, not withdrawn): the count public pages show.
            listed = ("is-public", slug)  # never published here: only there to carry the relation
            self._cell(listed, sum(statuses.get(status, 0) for status in metrics.PUBLIC_IDEA_STATUSES), published=False)
            self.relations.append((listed, tuple(("is", slug, status) for status in metrics.PUBLIC_IDEA_STATUSES)))
            self._link_to_activity(total, "idea", slug, self.values[total])
            per_idea = content.supports.get(slug, {})
            top = {idea for idea, _ in content.top_ideas.get(slug, [])}
            for idea, n in per_idea.items():
                self._cell(("sup", slug, idea), n, published=idea in top)
            hidden_total = ("sups", slug)  # never published: only there to carry the relations
            self._cell(hidden_total, sum(per_idea.values()), published=False)
            if per_idea:
                self.relations.append((hidden_total, tuple(("sup", slug, idea) for idea in per_idea)))
            self._link_to_activity(hidden_total, "support", slug, self.values[hidden_total])
        for slug in sorted({*content.questions, *content.top_ideas}):
            shapes[slug] = ContentShape(tuple(content.questions.get(slug, ())), tuple(content.top_ideas.get(slug, ())))
        return shapes

    def add_moderation(self, decisions: list[tuple[str, int, float]]) -> dict[tuple, float]:
        """Decisions by outcome in each period offered, and the median time to decision (kept only
        where at least ``limit`` decisions are behind it)."""
        outcomes = [o.value for o in list(DecisionOutcome)]
        medians: dict[tuple, float] = {}
        for s, e in self.windows:
            inside = [(o, secs) for o, day, secs in decisions if (s <= day or (s == self.first and day < s)) and day <= e]
            parts = []
            for outcome in (*outcomes, None):
                chosen = sorted(secs for o, secs in inside if outcome is None or o == outcome)
                key = ("mod", s, e, outcome)
                self._cell(key, len(chosen))
                if outcome is not None:
                    parts.append(key)
                if len(chosen) >= self.limit:
                    medians[(s, e, outcome)] = _median(chosen)
            self.relations.append((("mod", s, e, None), tuple(parts)))
        # Periods nest: the longer is the shorter plus the days between (never published).
        for outer in self.windows:
            inner = [w for w in self.windows if w != outer and outer[0] <= w[0] and w[1] <= outer[1]]
            if not inner:
                continue
            nearest = max(inner, key=lambda w: w[1] - w[0])
            for outcome in (*outcomes, None):
                big, small = ("mod", *outer, outcome), ("mod", *nearest, outcome)
                rest = ("mod-rest", *outer, outcome)
                self._cell(rest, self.values[big] - self.values[small], published=False)
                self.relations.append((big, (small, rest)))
        return medians


@dataclass
class _Content:
    """True content counts before disclosure control, per consultation slug."""

    questions: dict[str, list[QuestionShape]]
    responses: dict[str, int]
    answers: AnswerTally
    idea_statuses: dict[str, dict[str, int]]
    supports: dict[str, dict[int, int]]  # slug -> idea id -> supports (every idea of the consultation)
    top_ideas: dict[str, list[tuple[int, str]]]
    # What the public idea pages show: each published idea's support count, the published ideas
    # (not withdrawn) by response status and in all, keyed by the cells they equal when they do.
    public: dict[tuple, int] = field(default_factory=dict)


# (slug, question id) -> (responses that answered it, option or scale point -> responses choosing it)
AnswerTally = dict[tuple[str, int], tuple[int, dict]]


def _tally_answers(rows, shapes, consultation_by_id, people) -> AnswerTally:
    """Count each question's answers: a response answered if it chose a valid option (a scale
    point, some text); one choice per response but for multiple choice (the first in the
    question's order, should there be more)."""
    answers: dict[tuple[str, int], dict[int, set]] = defaultdict(lambda: defaultdict(set))
    valid_options: dict[int, set] = {}
    option_order: dict[int, dict] = {}  # each option's first position in the question's order
    for qs in shapes.values():
        for qid, shape in qs.items():
            valid_options[qid] = {k for k, _ in shape.options}
            option_order[qid] = {}
            for position, (k, _) in enumerate(shape.options):
                option_order[qid].setdefault(k, position)
    for row in rows:
        slug = consultation_by_id.get(row.consultation_id)
        shape = shapes.get(slug, {}).get(row.question_id)
        if shape is None or row.user_id not in people:
            continue
        valid = valid_options[row.question_id]
        if shape.kind == QuestionKind.FREE_TEXT:
            choice = "answered" if row.value else None
        elif shape.kind == QuestionKind.SCALE:
            choice = row.value if row.value in valid else None
        else:
            choice = row.option_id if row.option_id in valid else None
        if choice is None:
            continue
        chosen = answers[(slug, row.question_id)][row.response_id]
        if shape.kind == QuestionKind.MULTIPLE_CHOICE or not chosen:
            chosen.add(choice)
        else:  # one answer per response for the other kinds: the first in the question's order
            order = option_order[row.question_id]
            first = min((*chosen, choice), key=lambda k: order.get(k, -1))
            chosen.clear()
            chosen.add(first)
    tally: AnswerTally = {}
    for key, by_response in answers.items():
        counts: dict = defaultdict(int)
        for chosen in by_response.values():
            for choice in chosen:
                counts[choice] += 1
        tally[key] = (len(by_response), dict(counts))
    return tally


def _add_tallies(first: AnswerTally, second: AnswerTally) -> AnswerTally:
    """The tallies of two sets of responses (each response is in one of them)."""
    out = dict(first)
    for key, (answered, counts) in second.items():
        before_answered, before_counts = out.get(key, (0, {}))
        merged = dict(before_counts)
        for choice, n in counts.items():
            merged[choice] = merged.get(choice, 0) + n
        out[key] = (before_answered + answered, merged)
    return out


def _load_content(
    people, consultation_by_id: dict[int, str], today: int, areas: dict[str, AreaInfo], history: History | None = None
) -> _Content:
    """Results, ideas and supports of the known consultations. Four queries, whatever their size."""
    scale = tuple(SCALE_POINTS)
    shapes: dict[str, dict[int, QuestionShape]] = defaultdict(dict)
    options: dict[int, list[tuple[int | str, str]]] = defaultdict(list)
    meta = {}
    for row in db.session.execute(metrics.questions()):
        slug = consultation_by_id.get(row.consultation_id)
        if slug is None:
            continue
        meta[row.id] = (slug, row.position, row.kind, row.text)
        if row.option_id is not None and row.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
            options[row.id].append((row.option_id, row.option_label))
    for qid, (slug, position, kind, text) in meta.items():
        opts = tuple(scale) if kind == QuestionKind.SCALE else tuple(options.get(qid, ()))
        shapes[slug][qid] = QuestionShape(qid, position, kind, text, opts)

    day_ends = london_day_end(today)

    def counted(user_id, moment) -> bool:  # london_day(moment) <= today, without a conversion each
        return user_id in people and _as_utc(moment) < day_ends

    responses: dict[str, int] = defaultdict(int)
    for row in _rows(metrics.submitted_responses(day_ends)):  # submitted on or before today
        slug = consultation_by_id.get(row.consultation_id)
        if slug is not None and row.user_id in people:
            responses[slug] += 1

    if history is not None:  # the responses before the cutoff were tallied by the cold count
        if history.answers is None:
            history.answers = _tally_answers(_rows(metrics.submitted_answers(history.cutoff)), shapes, consultation_by_id, people)
        since = _tally_answers(
            _rows(metrics.submitted_answers(day_ends, since=history.cutoff)), shapes, consultation_by_id, people
        )
        answers = _add_tallies(history.answers, since)
    else:
        answers = _tally_answers(_rows(metrics.submitted_answers(day_ends)), shapes, consultation_by_id, people)

    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    idea_slug: dict[int, str] = {}
    visible: list[tuple[int, str, str]] = []
    public: dict[tuple, int] = {}
    for slug in consultation_by_id.values():  # none published is a public figure too
        public[("is-public", slug)] = 0
        for status in metrics.PUBLIC_IDEA_STATUSES:
            public[("is", slug, status)] = 0
    for row in _rows(metrics.ideas()):
        slug = consultation_by_id.get(row.consultation_id)
        if slug is None:
            continue
        idea_slug[row.id] = slug
        # Public pages, counted the way they count (ideas.services.published_idea_count, the idea
        # pages' support_count): whoever the author or supporters are, whatever the date.
        if row.status == "published":
            public[("sup", slug, row.id)] = row.support_count or 0
            if not row.withdrawn:
                status = metrics.idea_status_of(row.status, row.response_status, False)
                public[("is", slug, status)] = public.get(("is", slug, status), 0) + 1
                public[("is-public", slug)] += 1
        if counted(row.author_id, row.created_at):
            statuses[slug][metrics.idea_status_of(row.status, row.response_status, bool(row.withdrawn))] += 1
        if row.status == "published" and not row.withdrawn:
            visible.append((row.id, slug, row.title))
    supports: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for idea_id, slug in idea_slug.items():
        supports[slug][idea_id] = 0
    if history is not None:  # the same count, by PostgreSQL: one row per idea
        wards = sorted({a.id for a in areas.values() if a.level == AreaLevel.WARD})
        for idea_id, n in history.supports_per_idea(wards, today).items():
            slug = idea_slug.get(idea_id)
            if slug is not None:
                supports[slug][idea_id] += n
    else:
        for row in _rows(metrics.supports()):
            slug = idea_slug.get(row.idea_id)
            if slug is not None and counted(row.user_id, row.created_at):
                supports[slug][row.idea_id] += 1
    top: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for idea_id, slug, title in sorted(visible, key=lambda v: (-supports[v[1]][v[0]], v[0])):
        if len(top[slug]) < metrics.TOP_IDEAS:
            top[slug].append((idea_id, title))
    return _Content(
        questions={slug: sorted(qs.values(), key=lambda q: q.position) for slug, qs in shapes.items()},
        responses=dict(responses),
        answers=answers,
        idea_statuses=statuses,
        supports=supports,
        top_ideas=top,
        public=public,
    )


def _public_results(content: dict[str, ContentShape], consultation_by_id: dict[int, str], now: datetime) -> dict[tuple, int]:
    """What the public results pages show now (``consultations.services.tally`` and
    ``submitted_count``, counted the same way but for every consultation at once), keyed by the
    cells they equal when they do: responses, and per question those who answered, did not, and
    chose (or, for multiple choice, did not choose) each option. Only consultations whose results
    are public now (``can_view_results``). A fixed number of queries."""
    from sqlalchemy import func

    from civic.consultations.models import Answer, Consultation, Question, QuestionKind, Response
    from civic.consultations.permissions import can_view_results

    facts = select(
        Consultation.id,
        Consultation.outcome_published_at,
        Consultation.scheduled_at,
        Consultation.opens_at,
        Consultation.closes_at,
        Consultation.results_while_open,
    ).where(Consultation.id.in_(list(consultation_by_id)))
    visible = {r.id: consultation_by_id[r.id] for r in db.session.execute(facts) if can_view_results(None, r, _as_utc(now))}
    visible = {cid: slug for cid, slug in visible.items() if slug in content}
    if not visible:
        return {}
    submitted = (Response.submitted_at.is_not(None), Response.consultation_id.in_(list(visible)))
    per_consultation = select(Response.consultation_id, func.count()).where(*submitted).group_by(Response.consultation_id)
    responses = dict(db.session.execute(per_consultation).all())
    answered = dict(
        db.session.execute(
            select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
            .join(Response, Response.id == Answer.response_id)
            .where(*submitted)
            .group_by(Answer.question_id)
        ).all()
    )
    chosen = {
        (qid, key): n
        for qid, key, n in db.session.execute(
            select(Answer.question_id, Answer.option_id, func.count())
            .join(Response, Response.id == Answer.response_id)
            .where(*submitted, Answer.option_id.is_not(None))
            .group_by(Answer.question_id, Answer.option_id)
        )
    }
    chosen.update(
        {
            (qid, key): n
            for qid, key, n in db.session.execute(
                select(Answer.question_id, Answer.value, func.count())
                .join(Response, Response.id == Answer.response_id)
                .join(Question, Question.id == Answer.question_id)
                .where(*submitted, Question.kind == QuestionKind.SCALE.value)
                .group_by(Answer.question_id, Answer.value)
            )
        }
    )
    out: dict[tuple, int] = {}
    for cid, slug in visible.items():
        total = responses.get(cid, 0)
        out[("res", slug)] = total
        for q in content[slug].questions:
            n = answered.get(q.id, 0)
            out[("qa", slug, q.id)] = n
            out[("qs", slug, q.id)] = total - n  # the page shows both
            for key, _ in q.options:
                count = chosen.get((q.id, key), 0)
                out[("qo", slug, q.id, key)] = count
                if q.kind == QuestionKind.MULTIPLE_CHOICE:
                    out[("qn", slug, q.id, key)] = n - count
    return out


def _load_decisions(today: int) -> list[tuple[str, int, float]]:
    """Each moderation decision: outcome, London day decided, seconds from submission to decision."""
    known = {o.value for o in list(DecisionOutcome)}
    out = []
    for row in db.session.execute(metrics.decisions()):
        day = london_day(row.decided_at)
        if row.outcome in known and day <= today:
            out.append((row.outcome, day, max(0.0, (_as_utc(row.decided_at) - _as_utc(row.submitted_at)).total_seconds())))
    return out


def _median(values: list[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def _bottom_up(areas: dict[str, AreaInfo]) -> list[tuple[str, tuple[str, ...] | None]]:
    """Every area after its children: (code, children), children None for a ward (an area with
    no children and no wards counts nothing)."""
    out: list[tuple[str, tuple[str, ...] | None]] = []
    seen: set[str] = set()

    def visit(code: str) -> None:
        if code in seen:
            return
        seen.add(code)
        area = areas[code]
        for child in area.children:
            visit(child)
        out.append((code, None if area.level == AreaLevel.WARD else area.children))

    for code in areas:
        visit(code)
    return out


def _laminar_tree(intervals: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[list[tuple[int, int]], list[int]]]:
    """For each interval: the largest intervals nested in it, and its days outside them.

    The periods offered (windows ending today and the periods just before them) nest or are
    disjoint, so each is exactly the sum of its nested periods and its other days.
    """
    tree = {}
    for s, e in intervals:
        inside = [(a, b) for a, b in intervals if (a, b) != (s, e) and s <= a and b <= e]
        for a, b in intervals:
            overlaps = a <= e and s <= b
            if overlaps and not ((s <= a and b <= e) or (a <= s and e <= b)):  # pragma: no cover - guarded by PERIODS
                raise ValueError("periods must nest or be disjoint")
        top = [iv for iv in inside if not any(o != iv and o[0] <= iv[0] and iv[1] <= o[1] for o in inside)]
        covered = {d for a, b in top for d in range(a, b + 1)}
        tree[(s, e)] = (sorted(top), [d for d in range(s, e + 1) if d not in covered])
    return tree


# --- Page slices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    area: AreaInfo
    period: str
    consultation: lookups.ConsultationRef | None = None

    @property
    def consultation_slug(self):
        return self.consultation.slug if self.consultation else ALL


@dataclass(frozen=True)
class HeadlineFigure:
    key: str
    label: str
    value: Protected
    previous: Protected | None = None  # the same measure in the previous period
    note: str = ""

    @property
    def change(self) -> int | None:
        if self.previous is None or self.value.value is None or self.previous.value is None:
            return None
        return self.value.value - self.previous.value


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    count: Protected
    cumulative: int | None  # None where it would let a withheld day be worked out


@dataclass(frozen=True)
class Series:
    kind: str
    label: str
    points: list[SeriesPoint]
    total: Protected


@dataclass(frozen=True)
class WardRow:
    code: str
    name: str
    participants: Protected
    adults: int | None
    per_thousand: float | None


@dataclass(frozen=True)
class GroupRow:
    group: str
    label: str
    participants: Protected
    share: float | None  # % of participants who stated a group
    census: int | None
    census_share: float | None
    ratio: float | None  # share ÷ census share


@dataclass(frozen=True)
class DimensionTable:
    dimension: str
    title: str
    rows: list[GroupRow]
    not_stated: Protected
    similarity: float | None  # this dimension's part of the index, 0-100


@dataclass(frozen=True)
class Representativeness:
    total: Protected
    dimensions: list[DimensionTable]
    index: float | None


@dataclass(frozen=True)
class FunnelStep:
    label: str
    value: Protected


@dataclass
class Dashboard:
    filters: Filters
    start: date
    end: date
    previous: tuple[date, date] | None
    limit: int
    headline: list[HeadlineFigure] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    wards: list[WardRow] = field(default_factory=list)
    ward_scope: AreaInfo | None = None
    representativeness: Representativeness | None = None
    funnel: list[FunnelStep] = field(default_factory=list)
    content: ConsultationContent | None = None  # with a consultation filter
    moderation: Moderation | None = None  # without one


def dashboard(pub: Publication, filters: Filters) -> Dashboard:
    """Everything one dashboard page shows, sliced from the protected publication."""
    s, e = pub.window(filters.period)
    prev = pub.previous_window(filters.period)
    board = Dashboard(
        filters=filters,
        start=date.fromordinal(s),
        end=date.fromordinal(e),
        previous=(date.fromordinal(prev[0]), date.fromordinal(prev[1])) if prev else None,
        limit=pub.limit,
    )
    board.headline = headline(pub, filters, (s, e), prev)
    board.series = over_time(pub, filters, (s, e))
    board.ward_scope, board.wards = by_ward(pub, filters, (s, e))
    board.representativeness = representativeness(pub, filters, (s, e))
    board.funnel = funnel(pub, filters, (s, e))
    if filters.consultation:
        board.content = consultation_content(pub, filters.consultation.slug)
    else:
        board.moderation = moderation(pub, (s, e))
    return board


def _ev(pub, filters, kind, window) -> Protected:
    return pub.get(("ev", filters.area.code, kind, filters.consultation_slug, window[0], window[1]))


def _pp(pub, filters, window, code=None, dim=None, group=None) -> Protected:
    return pub.get(("pp", code or filters.area.code, window[0], window[1], filters.consultation_slug, dim, group))


def headline(pub, filters, window, prev) -> list[HeadlineFigure]:
    code = filters.area.code
    figures = [
        HeadlineFigure("registered", "Registered residents", pub.get(("reg", code)), note="now, with a home ward here"),
        HeadlineFigure("verified", "Verified residents", pub.get(("ver", code)), note="email address confirmed"),
        HeadlineFigure(
            "participants",
            "Active participants",
            _pp(pub, filters, window),
            _pp(pub, filters, prev) if prev else None,
            note="verified residents who took part in the period",
        ),
    ]
    for kind in pub.kinds_for(filters.consultation_slug):
        figures.append(
            HeadlineFigure(
                kind, pub.kinds[kind], _ev(pub, filters, kind, window), _ev(pub, filters, kind, prev) if prev else None
            )
        )
    return figures


def over_time(pub, filters, window) -> list[Series]:
    """Each kind's daily counts and period total; no days where there are no daily cells (a
    ward with a consultation filter, a longer period below the authority: ``first_daily_day``)."""
    out = []
    start = first_daily_day(filters.area, filters.consultation_slug, pub.today, pub.first)
    daily = start is not None and window[0] >= start
    for kind in pub.kinds_for(filters.consultation_slug):
        counts = [_ev(pub, filters, kind, (d, d)) for d in range(window[0], window[1] + 1)] if daily else []
        total = _ev(pub, filters, kind, window)
        out.append(Series(kind, pub.kinds[kind], _points(window[0], counts, total), total))
    return out


def _points(start: int, counts: list[Protected], total: Protected) -> list[SeriesPoint]:
    """Daily counts with the running total shown only where the published figures already give
    it: before the first withheld day, or (from the published period total) after the last."""
    running: list[int | None] = []
    acc: int | None = 0
    for c in counts:
        acc = None if acc is None or c.value is None else acc + c.value
        running.append(acc)
    if total.value is not None:
        tail = total.value
        for i in range(len(counts) - 1, -1, -1):
            if running[i] is None and tail is not None:
                running[i] = tail
            tail = None if tail is None or counts[i].value is None else tail - counts[i].value
    return [SeriesPoint(date.fromordinal(start + i), c, running[i]) for i, c in enumerate(counts)]


def by_ward(pub, filters, window) -> tuple[AreaInfo, list[WardRow]]:
    """The wards of the area (of its borough, for a ward) with participants per 1,000 aged 16+."""
    area = filters.area
    scope = pub.areas[area.parent_code] if area.level == AreaLevel.WARD and area.parent_code else area
    rows = []
    for code in scope.wards:
        ward = pub.areas[code]
        count = _pp(pub, filters, window, code=code)
        rate = None
        if count.value is not None and ward.adults:
            rate = round(1000 * count.value / ward.adults, 1)
        rows.append(WardRow(code, ward.name, count, ward.adults, rate))
    return scope, rows


def representativeness(pub, filters, window) -> Representativeness:
    """Participants by group against the census of the same area, and the index.

    Only published figures go in, so nothing here can give away a withheld cell: shares are of
    participants who stated a group (when that number is published; otherwise of all
    participants), and withheld groups are pooled with their combined census share.
    """
    total = _pp(pub, filters, window)
    baseline = pub.baselines.get(filters.area.code, {})
    tables = []
    for dim in DIMENSIONS:
        cells = {g: _pp(pub, filters, window, dim=dim, group=g) for g in groups(dim)}
        not_stated = cells.pop(NOT_STATED)
        census = {g: baseline.get((dim, g)) for g in cells}
        census_total = sum(v for v in census.values() if v)
        if total.value is not None and not_stated.value is not None:
            stated = total.value - not_stated.value
        else:
            stated = total.value
        rows = []
        for g, cell in cells.items():
            p = share(cell, stated) if stated else None
            q = round(100 * census[g] / census_total, 1) if census[g] and census_total else None
            ratio = round(p / q, 2) if p is not None and q else None
            rows.append(GroupRow(g, group_label(dim, g), cell, p, census[g], q, ratio))
        similarity = _similarity(cells, stated, census, census_total, pub.limit)
        tables.append(DimensionTable(dim, DIMENSION_TITLES[dim], rows, not_stated, similarity))
    scored = [t.similarity for t in tables if t.similarity is not None]
    index = round(sum(scored) / len(scored)) if scored else None
    return Representativeness(total, tables, index)


def _similarity(cells, stated, census, census_total, limit) -> float | None:
    """Σ min(participant share, census share) over the groups, withheld groups pooled; 0-100."""
    if not stated or stated < limit or not census_total:
        return None
    published = {g: c.value for g, c in cells.items() if c.value is not None}
    pooled = stated - sum(published.values())
    pooled_census = sum(census[g] or 0 for g in cells if g not in published)
    score = sum(min(n / stated, (census[g] or 0) / census_total) for g, n in published.items())
    score += min(max(pooled, 0) / stated, pooled_census / census_total)
    return round(100 * score, 1)


def funnel(pub, filters, window) -> list[FunnelStep]:
    code = filters.area.code
    return [
        FunnelStep("Registered", pub.get(("reg", code))),
        FunnelStep("Verified", pub.get(("ver", code))),
        FunnelStep("Took part in the period", _pp(pub, filters, window)),
    ]


@dataclass(frozen=True)
class OptionResult:
    key: int | str
    label: str
    count: Protected
    share: float | None  # % of the responses that answered the question
    not_chosen: Protected | None = None  # multiple choice: answered but did not choose it


@dataclass(frozen=True)
class QuestionResult:
    id: int
    number: int
    text: str
    kind: str
    answered: Protected
    skipped: Protected
    options: list[OptionResult]


@dataclass(frozen=True)
class IdeaStatusRow:
    status: str
    label: str
    count: Protected


@dataclass(frozen=True)
class TopIdea:
    id: int
    title: str
    supports: Protected


@dataclass(frozen=True)
class ConsultationContent:
    """The whole consultation (every area, since it opened): results, ideas, top ideas."""

    responses: Protected
    questions: list[QuestionResult]
    ideas: Protected
    idea_statuses: list[IdeaStatusRow]
    top_ideas: list[TopIdea]


def consultation_content(pub, slug: str) -> ConsultationContent:
    shape = pub.content.get(slug, ContentShape())
    questions = []
    # A consultation with no questions (or no ideas) has no such cells: nothing is counted, and
    # nothing unprotected is shown (a bare zero would bypass the disclosure control).
    responses = pub.cells.get(("res", slug), Protected(None, pub.limit))
    for n, q in enumerate(shape.questions, start=1):
        answered = pub.get(("qa", slug, q.id))
        options = []
        for key, label in q.options:
            count = pub.get(("qo", slug, q.id, key))
            not_chosen = pub.get(("qn", slug, q.id, key)) if q.kind == QuestionKind.MULTIPLE_CHOICE else None
            options.append(OptionResult(key, label, count, share(count, answered), not_chosen))
        questions.append(QuestionResult(q.id, n, q.text, q.kind, answered, pub.get(("qs", slug, q.id)), options))
    ideas = pub.cells.get(("ideas", slug))
    statuses = []
    if ideas is not None:
        statuses = [IdeaStatusRow(k, label, pub.get(("is", slug, k))) for k, label in metrics.IDEA_STATUSES]
    top = [TopIdea(idea, title, pub.get(("sup", slug, idea))) for idea, title in shape.top_ideas]
    # Most supported first among those shown; the withheld ones after, in a fixed order.
    top.sort(key=lambda t: (t.supports.value is None, -(t.supports.value or 0), t.id))
    return ConsultationContent(responses, questions, ideas or Protected(None, pub.limit), statuses, top)


@dataclass(frozen=True)
class OutcomeRow:
    outcome: str
    label: str
    decisions: Protected
    median_seconds: float | None  # withheld (None) unless the count behind it is published


@dataclass(frozen=True)
class Moderation:
    """Moderation decisions in the period, across the whole site."""

    total: Protected
    median_seconds: float | None
    outcomes: list[OutcomeRow]


def moderation(pub, window) -> Moderation:
    s, e = window

    def median(outcome, count: Protected):
        return pub.medians.get((s, e, outcome)) if count.value is not None and count.value >= pub.limit else None

    rows = []
    for outcome in list(DecisionOutcome):
        count = pub.get(("mod", s, e, outcome.value))
        rows.append(OutcomeRow(outcome.value, outcome.label, count, median(outcome.value, count)))
    total = pub.get(("mod", s, e, None))
    return Moderation(total, median(None, total), rows)


def suppressed_cells(values: Iterable[Protected]) -> int:
    return sum(1 for v in values if v.suppressed)


# --- Freshness --------------------------------------------------------------------------------


_REBUILD_LOCK = threading.Lock()


def current_publication() -> Publication:
    """The publication, rebuilt when older than DASHBOARD_MAX_AGE_SECONDS (60 by default).

    Each app server keeps its own copy and rebuilds it from the database, so no server needs
    another's memory. One thread per process rebuilds; while it does, the other requests are
    served the previous publication (so figures are at most a minute plus one rebuild old), and
    only the very first build is waited for. Without this, every request arriving while the
    publication is stale would build it too, each taking seconds of CPU, and a server's threads
    would all stall together once a minute.
    """
    from flask import current_app

    max_age = current_app.config.get("DASHBOARD_MAX_AGE_SECONDS", 60)
    store = current_app.extensions.setdefault("civic_dashboards", {})
    if current_app.config.get("DASHBOARD_STORED_PUBLICATION"):
        stored = _stored_publication(store, max_age)
        if stored is not None:
            return stored
        # No stored publication, or the worker has stopped: build here, as without a worker.

    def fresh(pub) -> bool:
        return pub is not None and max_age > 0 and (utcnow() - pub.built_at).total_seconds() < max_age

    cached = store.get("publication")
    if fresh(cached):
        return cached
    if cached is not None and max_age > 0 and not _REBUILD_LOCK.acquire(blocking=False):
        return cached  # another thread is rebuilding it
    if cached is None or max_age <= 0:
        _REBUILD_LOCK.acquire()
    try:
        cached = store.get("publication")
        if not fresh(cached):
            cached = build_publication(utcnow())
            cached.history = None  # only a refresh worker builds warm: do not hold the counts
            store["publication"] = cached
        return cached
    finally:
        _REBUILD_LOCK.release()


# How often an app server asks whether a newer stored publication exists (one small query).
STORED_CHECK_SECONDS = 5


def _stored_publication(store: dict, max_age: int) -> Publication | None:
    """The newest publication stored by ``flask dashboards refresh``, loaded once per app server
    and swapped in when a newer one appears (by one thread; the others keep the previous one).
    None when there is none younger than five times the maximum age (the worker has stopped)."""
    from civic.dashboards import store as stored

    now = utcnow()
    cached_pub = store.get("publication")
    checked = store.get("stored_checked_at")
    if cached_pub is not None and checked is not None and (now - checked).total_seconds() < STORED_CHECK_SECONDS:
        return cached_pub
    if not _REBUILD_LOCK.acquire(blocking=cached_pub is None):
        return cached_pub
    try:
        store["stored_checked_at"] = now
        newest = stored.newest_built_at()
        if newest is None or (now - _as_utc(newest)).total_seconds() > 5 * max(max_age, 1):
            store.pop("stored_checked_at", None)
            return None
        cached_pub = store.get("publication")
        if cached_pub is None or _as_utc(newest) > _as_utc(cached_pub.built_at):
            loaded = stored.load_newest()
            if loaded is None:  # stored in another layout (another release): build here meanwhile
                return None
            cached_pub = loaded
            store["publication"] = cached_pub
        return cached_pub
    finally:
        _REBUILD_LOCK.release()


def cached(pub: Publication, key: tuple, make):
    """Something derived from this publication only (such as a page's figures), made once."""
    from flask import current_app

    store = current_app.extensions.setdefault("civic_dashboards", {})
    if store.get("publication") is not pub:
        return make()
    owner, derived = store.get("derived") or (None, None)
    if owner is not pub:  # made from another publication: start afresh
        derived = _derived_cache()
        store["derived"] = (pub, derived)
    try:
        return derived[key]
    except KeyError:
        derived[key] = value = make()
        return value


# Things derived from one publication kept per app server: the pages' figures and slices, the
# most recently used first. Bounded, so that a crawler walking every filter combination between
# two refreshes cannot fill the memory.
DERIVED_KEEP = 256


def _derived_cache() -> LRUCache:
    return LRUCache(maxsize=DERIVED_KEEP)
