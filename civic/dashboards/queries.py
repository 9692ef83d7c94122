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
  in a demographic group (``dimension`` and ``group`` None for the total).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from civic.accounts.demographics import DIMENSIONS
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.core.disclosure import Protected, protect_linked, share, threshold
from civic.core.models import utcnow
from civic.core.templating import LONDON
from civic.dashboards import lookups
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

ALL = None  # the consultation coordinate meaning "every consultation"
NO_CONSULTATION = "-"


# --- The publication --------------------------------------------------------------------------


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
    cells: dict[tuple, Protected]
    areas: dict[str, AreaInfo]
    baselines: dict[str, dict[tuple[str, str], int]]
    kinds: dict[str, str]  # kind -> label, in registry order
    consultation_kinds: tuple[str, ...]  # kinds whose activities belong to consultations
    consultations: tuple[lookups.ConsultationRef, ...]
    limit: int = 10

    def get(self, key: tuple) -> Protected:
        """The one way a number leaves the publication: already through disclosure control."""
        return self.cells[key]

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


def build_publication(now: datetime | None = None) -> Publication:
    """Count and protect every cell the dashboards can show. A fixed number of queries."""
    now = now or utcnow()
    counted = count_cells(now)
    cells = protect_linked(
        counted.values, counted.relations, counted.published, cost=_cost, limit=counted.limit, zero_is_small=True
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


def count_cells(now: datetime | None = None) -> Counted:
    """Every cell's true count and the relations between cells. A fixed number of queries."""
    now = now or utcnow()
    today = london_day(now)
    limit = threshold()
    areas = _load_areas()
    ward_code = {a.id: a.code for a in areas.values() if a.level == AreaLevel.WARD}
    baselines = _load_baselines(areas)
    consultations = tuple(lookups.all_consultations())
    consultation_by_id = {c.id: c.slug for c in consultations}

    # People: ward, verified, group in each dimension.
    people: dict[int, tuple[str, bool, dict[str, str]]] = {}
    for row in db.session.execute(registered_people()):
        if row.ward_id in ward_code:
            people[row.id] = (ward_code[row.ward_id], bool(row.verified), {d: group_of(d, getattr(row, d)) for d in DIMENSIONS})

    # Activities: counts per (ward, kind, consultation, day); what each person did on which day.
    events: dict[tuple[str, str, str | None, int], int] = defaultdict(int)
    person_days: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    consultation_kinds: set[str] = set()
    statement = activities()
    rows = db.session.execute(statement).all() if statement is not None else []
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
    first = min((k[3] for k in events), default=today)

    builder = _CubeBuilder(areas, today, first, limit)
    builder.add_stocks(people)
    kinds = {k: s.label for k, s in ACTIVITY_SOURCES.items()}
    builder.add_events(events, list(kinds), sorted(consultation_kinds), [c.slug for c in consultations])
    builder.add_participants(people, person_days, [c.slug for c in consultations])
    if "registration" in kinds:
        builder.link_registrations()
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
    )


def _cost(key: tuple) -> int:
    """Which cells to withhold first when a small one needs a partner: the least useful."""
    kind = key[0]
    if kind in ("reg", "ver"):
        return 50
    if kind == "ev":
        return 1 if key[4] == key[5] else 20  # a day before a period total
    if kind == "pp":
        return 10 if key[5] is None else 2  # a group before a total
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
        return {code: sum(ward_counts.get(w, 0) for w in a.wards) for code, a in self.areas.items()}

    def _geography(self, make_key) -> None:
        """For every area with children: its cell is the sum of its children's."""
        for parent in self.parents:
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
        ward_counts: dict[tuple[str, str | None, int], dict[str, int]] = defaultdict(dict)
        for (ward, kind, slug, day), n in events.items():
            for cons in (ALL, slug if slug is not None else NO_CONSULTATION):
                if cons is not ALL and kind not in consultation_kinds:
                    continue
                bucket = ward_counts[(kind, cons, day)]
                bucket[ward] = bucket.get(ward, 0) + n
        for kind, cons in slices:
            shown = cons != NO_CONSULTATION
            per_day = {day: self._by_area(ward_counts.get((kind, cons, day), {})) for day in days}
            for code in self.areas:
                for day in days:
                    self._cell(("ev", code, kind, cons, day, day), per_day[day][code], shown)
                for s, e in intervals:
                    self._cell(("ev", code, kind, cons, s, e), sum(per_day[d][code] for d in range(s, e + 1)), shown)
                # Time: each period is the sum of the periods nested in it and its other days.
                for (s, e), (sub, loose_days) in tree.items():
                    parts = [("ev", code, kind, cons, a, b) for a, b in sub] + [
                        ("ev", code, kind, cons, d, d) for d in loose_days
                    ]
                    self.relations.append((("ev", code, kind, cons, s, e), tuple(parts)))
            for s, e in [*((d, d) for d in days), *intervals]:
                self._geography(lambda code, s=s, e=e, kind=kind, cons=cons: ("ev", code, kind, cons, s, e))
        # Consultations: all activities of a kind = those of each consultation + those of none.
        if consultations:
            for kind in consultation_kinds:
                for code in self.areas:
                    for s, e in [*((d, d) for d in days), *intervals]:
                        self.relations.append(
                            (
                                ("ev", code, kind, ALL, s, e),
                                tuple(("ev", code, kind, c, s, e) for c in (*consultations, NO_CONSULTATION)),
                            )
                        )

    def add_participants(self, people, person_days, consultations) -> None:
        windows = [(w, True) for w in self.windows] + [(w, False) for w in self.previous if w not in self.windows]
        for cons in (ALL, *consultations):
            for (s, e), with_groups in windows:
                by_group: dict[tuple[str | None, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
                for person, did in person_days.items():
                    kinds = {k for day, k, slug in did if s <= day <= e and (cons is ALL or slug == cons)}
                    ward, verified, answers = people[person]
                    if not is_active_participant(verified, kinds):
                        continue
                    by_group[(None, None)][ward] += 1
                    if with_groups:
                        for dim, group in answers.items():
                            by_group[(dim, group)][ward] += 1
                cells = [(None, None)]
                if with_groups:
                    cells += [(dim, g) for dim in DIMENSIONS for g in groups(dim)]
                for dim, group in cells:
                    counts = self._by_area(by_group.get((dim, group), {}))
                    for code, value in counts.items():
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
        """Registrations since the start are the registered residents: the same number twice."""
        s, e = self.first, self.today
        for code in self.areas:
            key = ("ev", code, "registration", ALL, s, e)
            if key in self.values:
                self.relations.append((("reg", code), (key,)))


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
    out = []
    for kind in pub.kinds_for(filters.consultation_slug):
        counts = [_ev(pub, filters, kind, (d, d)) for d in range(window[0], window[1] + 1)]
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
            store["publication"] = cached
            store["derived"] = {}
        return cached
    finally:
        _REBUILD_LOCK.release()


def cached(pub: Publication, key: tuple, make):
    """Something derived from this publication only (such as a page's figures), made once."""
    from flask import current_app

    store = current_app.extensions.setdefault("civic_dashboards", {})
    if store.get("publication") is not pub:
        return make()
    derived = store.setdefault("derived", {})
    if key not in derived:
        derived[key] = make()
    return derived[key]
