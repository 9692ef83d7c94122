"""The differencing attacker (security test plan PV-04), shared by the attack tests.

What the attacker sees: every number on every dashboard page and CSV, for every filter
combination the pages offer (every area × every period × all activity and each consultation).
Each number is collected with its *meaning*: what it counts, as a key ``("ev", area, kind,
consultation, first day, last day)``, ``("pp", area, first day, last day, consultation, question,
group)``, ``("reg", area)`` or ``("ver", area)``. The running totals of the charts are collected
as what they are, a count of activities from the first day of the period to that day.

What the attacker knows besides: how the meanings add up. This module derives those equations
from the meanings alone, from first principles (not from the code under test):

* activities are counted once each, in one ward, on one day, in at most one consultation, so a
  count over an area or a run of days or all consultations is the sum of the counts over its
  wards, its days, or its consultations (plus those in no consultation, never published);
* each person lives in one ward and is in exactly one group for each question ("not stated"
  included), so participants in an area or in all groups are sums over wards and groups;
* registrations since the start are the registered residents (the same people);
* a consultation's results count its submitted responses: each response answered a question or
  did not; a single-choice or scale question's answers are one per response, so they add up to
  those who answered; each option of a multiple-choice question was chosen or not by each of
  them; ideas are in exactly one status; supports belong to exactly one idea (the ideas not in
  the top list are unknowns); moderation decisions have exactly one outcome, and a period's
  decisions are those of any shorter period ending the same day plus the others (unknown);
* with ``content_links``: the results count the same responses as the "response" activity
  since the start in every area, and likewise ideas ("idea") and supports ("support").

Participant counts of different periods or consultations are not sums of one another (a person
may take part in several), so they give the attacker inequalities only, never an equation.

The attack, exact: substitute every published number into the equations and ask, for each
suppressed number, whether the equations fix it. A suppressed cell is fixed exactly when its
unit vector lies in the row space of the equations restricted to the unknown cells; a
Gauss–Jordan elimination gives that row space in reduced form, and a cell is fixed exactly when
its pivot row has no other unknown in it. The arithmetic is exact modulo the prime 2**61 - 1;
the equations have coefficients 0 and ±1, and the answer modulo p differs from the answer over
the rationals only if p divides one of their minors, which for tables of this size has a chance
far below one in a million million.

What the attacker also reads elsewhere (``public_figures``): the public pages, counted the way
they count them: every published idea's support count, the published ideas of a consultation
(in all and by the council's response, by counting the list), and the results of every
consultation whose results are public now (responses, and per question those who answered and
each option's count). Each is a *known value* of the dashboard meaning it counts. Public pages
count everyone, the dashboards registered residents only, so the two can differ; the attacker is
given (worst case) every public figure that equals its dashboard meaning, as if it knew that they
count the same people, and no other (a figure that differs is only a bound, not played here).
With the public figures, the supports since the start are the supports of the top ideas, of the
other published ideas (known) and of the unpublished ones (unknown), and the published ideas are
the sum of their response statuses.

This attack is exact for equations. The bounds an attacker also knows (a "fewer than 10" cell
is 0 to 9, a withheld one is 10 or more) are played by the interval attack inside
``protect_linked`` itself, which every publication passes.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from civic.accounts.demographics import DIMENSIONS
from civic.core.disclosure import Protected
from civic.core.models import utcnow
from civic.dashboards import queries
from civic.dashboards.metrics import IDEA_STATUSES, PERIODS, groups
from civic.extensions import db

# The ideas anyone can read (published, not withdrawn), by the council's response: the statuses
# an idea card shows. Stated here from the product, not imported from the code under test.
LISTED_STATUSES = ("published", "under_consideration", "accepted", "implemented", "not_taken_forward")

P = 2**61 - 1


def collect(pub: queries.Publication) -> dict[tuple, object]:
    """Every number the pages and CSVs publish, by meaning, over every filter combination.

    Returns meaning -> Protected. Asserts that a meaning is
    never shown two different ways.
    """
    seen: dict[tuple, object] = {}

    def put(meaning, value):
        if isinstance(value, int):  # a running total: a published number
            value = Protected(value)
        if meaning in seen:
            assert (seen[meaning].value, seen[meaning].secondary) == (value.value, value.secondary), (
                f"{meaning} is shown as {seen[meaning]} and as {value}"
            )
            if seen[meaning].value is not None:
                return
        seen[meaning] = value

    consultations = [None, *(c for c in pub.consultations)]
    for area in pub.areas.values():
        for period in PERIODS:
            for consultation in consultations:
                filters = queries.Filters(area, period, consultation)
                board = queries.dashboard(pub, filters)
                cons = filters.consultation_slug
                s, e = board.start.toordinal(), board.end.toordinal()
                prev = pub.previous_window(period)
                code = area.code
                for h in board.headline:
                    if h.key in ("registered", "verified"):
                        put(("reg" if h.key == "registered" else "ver", code), h.value)
                    elif h.key == "participants":
                        put(("pp", code, s, e, cons, None, None), h.value)
                        if prev:
                            put(("pp", code, *prev, cons, None, None), h.previous)
                    else:
                        put(("ev", code, h.key, cons, s, e), h.value)
                        if prev:
                            put(("ev", code, h.key, cons, *prev), h.previous)
                for series in board.series:
                    put(("ev", code, series.kind, cons, s, e), series.total)
                    for point in series.points:
                        d = point.day.toordinal()
                        put(("ev", code, series.kind, cons, d, d), point.count)
                        if point.cumulative is not None:
                            put(("ev", code, series.kind, cons, s, d), point.cumulative)
                for row in board.wards:
                    put(("pp", row.code, s, e, cons, None, None), row.participants)
                    assert (row.per_thousand is None) == (row.participants.value is None or not row.adults)
                rep = board.representativeness
                put(("pp", code, s, e, cons, None, None), rep.total)
                for table in rep.dimensions:
                    put(("pp", code, s, e, cons, table.dimension, "not_stated"), table.not_stated)
                    for row in table.rows:
                        put(("pp", code, s, e, cons, table.dimension, row.group), row.participants)
                        if row.participants.value is None:
                            assert row.share is None and row.ratio is None
                steps = {s_.label: s_.value for s_ in board.funnel}
                put(("reg", code), steps["Registered"])
                put(("ver", code), steps["Verified"])
                put(("pp", code, s, e, cons, None, None), steps["Took part in the period"])
                if board.content:
                    _collect_content(put, cons, board.content)
                if board.moderation:
                    mod = board.moderation
                    put(("mod", s, e, None), mod.total)
                    for row in mod.outcomes:
                        put(("mod", s, e, row.outcome), row.decisions)
                    for count, median in [
                        (mod.total, mod.median_seconds),
                        *((r.decisions, r.median_seconds) for r in mod.outcomes),
                    ]:
                        if median is not None:
                            assert count.value is not None and count.value >= count.limit
    return seen


def _collect_content(put, slug, content) -> None:
    put(("res", slug), content.responses)
    for q in content.questions:
        put(("qa", slug, q.id), q.answered)
        put(("qs", slug, q.id), q.skipped)
        for o in q.options:
            put(("qo", slug, q.id, o.key), o.count)
            if o.not_chosen is not None:
                put(("qn", slug, q.id, o.key), o.not_chosen)
            if o.count.value is None or q.answered.value is None:
                assert o.share is None
    put(("ideas", slug), content.ideas)
    for r in content.idea_statuses:
        put(("is", slug, r.status), r.count)
    for t in content.top_ideas:
        put(("sup", slug, t.id), t.supports)


def public_figures(pub: queries.Publication) -> dict[tuple, int]:
    """What the public pages show now, by the dashboard meaning each figure counts: read through
    the public services (``tally``, ``published_idea_count``, ``Idea.support_count``)."""
    from civic.consultations.models import SCALE_POINTS, Consultation, QuestionKind
    from civic.consultations.permissions import can_view_results
    from civic.consultations.services import tally
    from civic.ideas.models import Idea
    from civic.ideas.services import published_idea_count

    now = utcnow()
    out: dict[tuple, int] = {}
    for ref in pub.consultations:
        consultation = db.session.scalar(select(Consultation).where(Consultation.slug == ref.slug))
        if consultation is None:
            continue
        slug = ref.slug
        if can_view_results(None, consultation, now):
            results = tally(consultation)
            out[("res", slug)] = results.responses
            for r in results.questions:
                q = r.question
                out[("qa", slug, q.id)] = r.answered
                out[("qs", slug, q.id)] = results.responses - r.answered
                if q.kind == QuestionKind.SCALE:
                    keys = [key for key, _ in SCALE_POINTS]
                else:
                    keys = [o.id for o in q.options] if q.kind != QuestionKind.FREE_TEXT else []
                for key, row in zip(keys, r.rows, strict=True):
                    out[("qo", slug, q.id, key)] = row.count
                    if q.kind == QuestionKind.MULTIPLE_CHOICE:
                        out[("qn", slug, q.id, key)] = r.answered - row.count
        ideas = db.session.scalars(select(Idea).where(Idea.consultation_id == consultation.id, Idea.status == "published"))
        listed = dict.fromkeys(LISTED_STATUSES, 0)
        for idea in ideas:
            out[("sup", slug, idea.id)] = idea.support_count
            if idea.withdrawn_at is None:
                listed[idea.response_status or "published"] += 1
        out[("is-public", slug)] = published_idea_count(consultation)
        for status, n in listed.items():
            out[("is", slug, status)] = n
    return out


def known_public(pub: queries.Publication, truth: dict[tuple, int]) -> dict[tuple, int]:
    """The public figures that equal their dashboard meaning (``truth``: the true counts)."""
    return {k: v for k, v in public_figures(pub).items() if truth.get(k) == v}


def equations(
    meanings, pub: queries.Publication, content_links: bool = False, public: dict[tuple, int] | None = None
) -> list[dict[tuple, int]]:
    """The additive facts the attacker knows, as {meaning: coefficient} (each sums to zero)."""
    areas = pub.areas
    keys = set(meanings)
    out: list[dict[tuple, int]] = []

    def eq(total, parts):
        row: dict[tuple, int] = defaultdict(int)
        row[total] += 1
        for p in parts:
            row[p] -= 1
        out.append({k: v for k, v in row.items() if v})

    for key in list(keys):
        kind = key[0]
        if kind in ("reg", "ver", "ev", "pp"):
            area = areas[key[1]]
            if area.children:  # an area is the sum of its children
                eq(key, [(kind, child, *key[2:]) for child in area.children])
        if kind == "ev":
            _, code, k, cons, s, e = key
            if s < e:  # a run of days is the sum of its days
                eq(key, [("ev", code, k, cons, d, d) for d in range(s, e + 1)])
            if cons is None and k in pub.consultation_kinds and pub.consultations:
                eq(key, [("ev", code, k, c.slug, s, e) for c in pub.consultations] + [("ev", code, k, "-", s, e)])
        if kind == "pp" and key[5] is None:
            _, code, s, e, cons, _, _ = key
            if any(("pp", code, s, e, cons, d, g) in keys for d in DIMENSIONS for g in groups(d)):
                for dim in DIMENSIONS:
                    eq(key, [("pp", code, s, e, cons, dim, g) for g in groups(dim)])
        if kind == "reg" and "registration" in pub.kinds:
            eq(key, [("ev", key[1], "registration", None, pub.first, pub.today)])

    def sums(left, right):  # Σ left = Σ right
        row: dict[tuple, int] = defaultdict(int)
        for k in left:
            row[k] += 1
        for k in right:
            row[k] -= 1
        out.append({k: v for k, v in row.items() if v})

    _content_equations(keys, pub, eq, sums, content_links, public or {})
    return out


def _content_equations(keys, pub, eq, sums, content_links, public) -> None:
    tops = [a.code for a in pub.areas.values() if a.parent_code is None]

    def since_start(kind, slug):
        return [("ev", code, kind, slug, pub.first, pub.today) for code in tops]

    for slug, shape in pub.content.items():
        res = ("res", slug)
        if res in keys:
            if content_links and "response" in pub.consultation_kinds:
                eq(res, since_start("response", slug))
            for q in shape.questions:
                qa = ("qa", slug, q.id)
                eq(res, [qa, ("qs", slug, q.id)])
                if q.kind == "multiple_choice":
                    for key, _ in q.options:
                        eq(qa, [("qo", slug, q.id, key), ("qn", slug, q.id, key)])
                elif q.options:
                    eq(qa, [("qo", slug, q.id, key) for key, _ in q.options])
        if ("ideas", slug) in keys:
            eq(("ideas", slug), [("is", slug, status) for status, _ in IDEA_STATUSES])
            if content_links and "idea" in pub.consultation_kinds:
                eq(("ideas", slug), since_start("idea", slug))
            if content_links and "support" in pub.consultation_kinds:
                # Supports since the start = those of the top ideas + those of all the others
                # (of each other published idea, read on its page, and of the unpublished ones).
                top = {("sup", slug, idea) for idea, _ in shape.top_ideas}
                listed = {k for k in public if k[0] == "sup" and k[1] == slug} - top
                parts = sorted(top | listed, key=repr) + [("sup-others", slug)]
                sums(since_start("support", slug), parts)
            if ("is-public", slug) in public:
                eq(("is-public", slug), [("is", slug, status) for status in LISTED_STATUSES])
    windows = sorted({k[1:3] for k in keys if k[0] == "mod"})
    for s, e in windows:
        outcomes = [k for k in keys if k[0] == "mod" and k[1:3] == (s, e) and k[3] is not None]
        eq(("mod", s, e, None), outcomes)
        inner = [w for w in windows if w != (s, e) and s <= w[0] and w[1] <= e]
        if inner:
            nearest = max(inner, key=lambda w: w[1] - w[0])
            for k in [*outcomes, ("mod", s, e, None)]:
                eq(k, [("mod", *nearest, k[3]), ("mod-rest", s, e, k[3])])


def fixed_suppressed(
    meanings: dict[tuple, object], eqs: list[dict[tuple, int]], public: dict[tuple, int] | None = None
) -> list[tuple]:
    """The suppressed meanings that the equations, the published numbers and the public figures
    (known values from other pages) fix exactly. A suppressed meaning that is itself a public
    figure is no secret and is not reported."""
    public = public or {}

    def known(k):
        if k in public:
            return True
        v = meanings.get(k)
        if v is None:
            return False
        return v.value is not None

    suppressed = {k for k, v in meanings.items() if v.value is None and k not in public}
    # Each equation restricted to the unknowns (published numbers move to the constant side).
    rows = []
    for row in eqs:
        r = {k: c % P for k, c in row.items() if not known(k)}
        if r:
            rows.append(r)
    pivots: dict[tuple, dict[tuple, int]] = {}  # pivot variable -> reduced row
    where: dict[tuple, set[tuple]] = defaultdict(set)  # variable -> pivots whose row holds it
    for r in sorted(rows, key=len):
        # Pivot rows hold no other pivot, so one pass removes every pivot from r.
        for var in [v for v in r if v in pivots]:
            factor = r.get(var)
            if not factor:
                continue
            for k, c in pivots[var].items():
                nv = (r.get(k, 0) - factor * c) % P
                if nv:
                    r[k] = nv
                else:
                    r.pop(k, None)
        if not r:
            continue
        pivot = min(r, key=lambda k: (k not in suppressed, repr(k)))
        inv = pow(r[pivot], P - 2, P)
        r = {k: (c * inv) % P for k, c in r.items()}
        # Gauss–Jordan: remove the new pivot from every row that holds it.
        for other in list(where.get(pivot, ())):
            orow = pivots[other]
            factor = orow.get(pivot)
            if not factor:
                continue
            for k, c in r.items():
                nv = (orow.get(k, 0) - factor * c) % P
                if nv:
                    if k not in orow:
                        where[k].add(other)
                    orow[k] = nv
                else:
                    orow.pop(k, None)
                    where[k].discard(other)
        pivots[pivot] = r
        for k in r:
            where[k].add(pivot)
    return sorted((p for p, r in pivots.items() if p in suppressed and len(r) == 1), key=repr)
