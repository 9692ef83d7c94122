"""Statistical disclosure control: the one gate every published count passes through.

Rule (ONS "10 threshold" practice): a count from 1 to ``threshold - 1`` is not published; it is
shown as "fewer than 10" (*primary* suppression). Zero is published (an empty group discloses
nobody). Shares and rates computed from a suppressed count, or from a total below the
threshold, are withheld.

Secondary suppression: when published cells are linked by additive relations (cells and their
total, wards and their borough, days and their period, and so on), a suppressed cell could be
worked out from the others. ``protect_linked`` takes every cell of every table that may be
published, on every filter combination, with every additive relation between them, and withholds
further cells (shown as "withheld", never as "fewer than 10", because they are not small) until
no suppressed cell can be pinned down by an attacker who knows:

* every published number and which cells are suppressed and why;
* every relation (a total equals the sum of its parts);
* that a cell shown as "fewer than 10" lies between 1 and 9, that a "withheld" cell is 10 or
  more (withheld cells are always chosen among published non-zero cells), and that a cell never
  published at all (a *hidden* cell, such as "activity in no consultation") is 0 or more.

The attacker is played by interval propagation over the relations: each cell starts with the
interval above (a point for a published cell), each relation narrows the intervals of its
members, and this repeats until nothing changes. A suppressed cell whose interval shrinks to a
single value is exposed; each exposed cell then gets a partner withheld (the cheapest published
non-zero cell next to it by ``cost``, then the smallest; small cells first, so that one partner
can serve several) and the attack is replayed, until nothing is exposed. The replay after a round
only resets the cells whose bounds followed from the new partners (``_IncrementalAttack``), and
each connected part ends with one whole replay that must find nothing. This
finds every cell fixed by a chain of single equations and every cell pinned by the bounds (two
"fewer than 10" cells adding up to 2 are both 1). The test suite also plays an exact
linear-algebra attacker over every filter combination (tests/dashboards/test_disclosure_attack.py).

Cells the attacker knows exactly from elsewhere (``known``: figures other public pages show, such
as an idea's support count or a consultation's results) are points in the attack, are never
suppressed and are never withheld as partners (withholding them would hide nothing). A small cell
that the known figures pin down whatever the dashboards withhold (the attack, played with every
other published non-zero cell withheld, still fixes it) cannot be protected: it is *published as
it is*, since anyone can already work it out from the public pages, and a "fewer than 10" there
would only pretend otherwise (and would make the protection try, and fail, to withhold its way
out). Such cells are then known too. Without known cells nothing changes.

``protect_counts`` is the one-group case (categories and their total), built on the same engine.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

from flask import current_app, has_app_context

DEFAULT_THRESHOLD = 10
# Stands for "no upper bound" in the interval attack; far above any count we publish.
_UNBOUNDED = 10**15
# Interval propagation converges quickly on tables of counts; this caps pathological cycles.
_MAX_VISITS_PER_RELATION = 200


def threshold() -> int:
    if has_app_context():
        return int(current_app.config.get("DISCLOSURE_THRESHOLD", DEFAULT_THRESHOLD))
    return DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Protected:
    """A count as it may be published: ``value`` is None when suppressed.

    ``secondary`` marks a cell withheld only to protect a small one elsewhere: it is not small
    itself, so it is labelled "withheld" rather than "fewer than 10".
    """

    value: int | None
    limit: int = DEFAULT_THRESHOLD
    secondary: bool = False

    @property
    def suppressed(self) -> bool:
        return self.value is None

    @property
    def label(self) -> str:
        if self.value is not None:
            return f"{self.value:,}"
        return "withheld" if self.secondary else f"fewer than {self.limit}"

    @property
    def csv(self) -> str:
        """The cell as written to a CSV file: the number, or a bracketed marker."""
        if self.value is not None:
            return str(self.value)
        return "[withheld]" if self.secondary else f"[fewer than {self.limit}]"

    def __str__(self) -> str:
        return self.label


def protect_count(count: int, limit: int | None = None) -> Protected:
    """One count on its own (no published total to subtract it from)."""
    limit = threshold() if limit is None else limit
    return Protected(None if 0 < count < limit else count, limit)


def protect_counts(
    counts: Mapping[Hashable, int], total: int | None = None, limit: int | None = None
) -> tuple[dict[Hashable, Protected], Protected | None]:
    """Protect one additive group of cells and (if given) the total they add up to.

    Returns the protected cells (same keys, same order) and the protected total.
    """
    limit = threshold() if limit is None else limit
    cells: dict[Hashable, int] = {("cell", k): v for k, v in counts.items()}
    relations = []
    if total is not None:
        cells[("total",)] = total
        if total == sum(counts.values()):
            relations.append((("total",), tuple(("cell", k) for k in counts)))
    # Withhold a category before the total, whatever their sizes.
    protected = protect_linked(cells, relations, cost=lambda key: 1 if key[0] == "total" else 0, limit=limit)
    out = {k: protected[("cell", k)] for k in counts}
    return out, (protected[("total",)] if total is not None else None)


Key = Hashable


def protect_linked(
    values: Mapping[Key, int],
    relations: Sequence[tuple[Key, Sequence[Key]]],
    published: Collection[Key] | None = None,
    *,
    cost: Callable[[Key], float] | None = None,
    limit: int | None = None,
    zero_is_small: bool = False,
    known: Collection[Key] | None = None,
    withheld_before: Collection[Key] = (),
) -> dict[Key, Protected]:
    """Protect every cell that may be published, across every relation between them.

    ``values`` holds every cell (published or hidden) with its true count; ``relations`` says
    that a cell is the sum of others (``(total, parts)``); ``published`` names the cells that
    appear anywhere (default: all). ``cost`` ranks cells for secondary suppression (cheaper
    first; the smaller count breaks ties). With ``zero_is_small``, zero is suppressed like 1 to 9
    (so "fewer than 10" means 0 to 9) unless the published figures already give it away: in
    tables of many small cells, published zeros would tell the attacker which cells hold the
    ones, and every total would then pin them. ``known`` names cells (published or hidden) whose
    value the attacker knows exactly from elsewhere: never suppressed, never partners, points in
    the attack; a small cell they pin whatever is withheld is published as it is (see the module
    docstring). ``withheld_before`` names the partners a previous call withheld (a warm start):
    those that may still be partners (published, not small, not known) are withheld from the
    start, and only what is exposed beyond them gets new partners; the same whole replay ends
    every part, so the result is as safe as a cold call, and withholds at least as much. Returns
    a ``Protected`` for every published cell.
    The result depends only on the arguments, so every page that shows a cell shows it the
    same way.
    """
    limit = threshold() if limit is None else limit
    keys = list(values)
    index = {k: i for i, k in enumerate(keys)}
    value = [int(values[k]) for k in keys]
    shown = [True] * len(keys) if published is None else [False] * len(keys)
    if published is not None:
        for k in published:
            shown[index[k]] = True
    fixed = {index[k] for k in known} if known else set()
    rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
    member_of: list[list[int]] = [[] for _ in keys]
    for r, (t, parts) in enumerate(rels):
        for m in (t, *parts):
            member_of[m].append(r)
    rank = [((cost(k) if cost else 0), value[i], i) for i, k in enumerate(keys)]

    floor = 0 if zero_is_small else 1
    primary = {
        i for i in range(len(keys)) if shown[i] and i not in fixed and floor <= value[i] < limit and (value[i] or zero_is_small)
    }
    warm = {index[k] for k in withheld_before if k in index}
    warm = {i for i in warm if shown[i] and i not in fixed and i not in primary and value[i] >= limit}
    secondary: set[int] = set()
    hi: dict[int, int] = {}
    # Cells that no chain of relations links are independent: an attack on one part tells the
    # attacker nothing about another, and a partner is always chosen inside the part (it shares
    # a relation with the exposed cell). So each connected part is protected on its own, with
    # exactly the rounds it needs, and the result is the same as protecting all at once (see
    # tests/core/test_disclosure.py): only the work shrinks, from rounds x every cell to the
    # rounds of each part x its own cells.
    for part, part_rels in _components(len(keys), rels, member_of):
        if not any(i in primary for i in part):
            continue
        part_secondary, part_hi, given_away = _protect_part(
            part, part_rels, rels, value, shown, primary, rank, keys, limit, floor, fixed, warm
        )
        secondary |= part_secondary
        hi.update(part_hi)
        primary -= given_away

    out: dict[Key, Protected] = {}
    for i, k in enumerate(keys):
        if not shown[i]:
            continue
        if i in primary and not (value[i] == 0 and hi.get(i) == 0):  # a zero already given away is shown
            out[k] = Protected(None, limit)
        elif i in secondary:
            out[k] = Protected(None, limit, secondary=True)
        else:
            out[k] = Protected(value[i], limit)
    return out


def _components(size: int, rels, member_of) -> list[tuple[list[int], list[int]]]:
    """The connected parts of the cells under the relations: (cells, relation indices), each
    in increasing order."""
    seen = [False] * size
    parts = []
    for start in range(size):
        if seen[start]:
            continue
        seen[start] = True
        cells, part_rels, stack, rel_seen = [], set(), [start], set()
        while stack:
            c = stack.pop()
            cells.append(c)
            for r in member_of[c]:
                if r in rel_seen:
                    continue
                rel_seen.add(r)
                part_rels.add(r)
                t, members = rels[r]
                for m in (t, *members):
                    if not seen[m]:
                        seen[m] = True
                        stack.append(m)
        parts.append((sorted(cells), sorted(part_rels)))
    return parts


def _protect_part(cells, part_rels, rels, value, shown, primary, rank, keys, limit, floor, fixed=frozenset(), warm=frozenset()):
    """The secondary suppression of one connected part, the final upper bound of each of its
    cells, and the small cells the known ones give away whatever is withheld (in global indices).
    Local indices keep the global order, so ties break as globally. ``warm``: cells withheld
    from the start (a previous call's partners, see ``protect_linked``)."""
    local = {g: i for i, g in enumerate(cells)}
    l_value = [value[g] for g in cells]
    l_shown = [shown[g] for g in cells]
    l_primary = {local[g] for g in cells if g in primary}
    l_rels = [(local[rels[r][0]], tuple(local[m] for m in rels[r][1])) for r in part_rels]
    l_member_of: list[list[int]] = [[] for _ in cells]
    for r, (t, members) in enumerate(l_rels):
        for m in (t, *members):
            l_member_of[m].append(r)
    l_rank = [(*rank[g][:2], g, i) for i, g in enumerate(cells)]
    l_known = {local[g] for g in cells if g in fixed}
    given_away: set[int] = set()
    if l_known:
        # Withholding can only widen the attacker's intervals, so what the known cells pin with
        # every other published non-zero cell withheld is pinned whatever we withhold: publish the
        # small ones as they are, and never choose such a cell as a partner.
        everything = {i for i in range(len(cells)) if l_shown[i] and i not in l_known and i not in l_primary and l_value[i]}
        _, lo, hi = _attack(l_value, l_shown, l_primary, everything, l_rels, l_member_of, limit, floor, l_known)
        pinned = {i for i in l_primary | everything if lo[i] == hi[i]}
        given_away = pinned & l_primary
        l_primary -= given_away
        l_known |= pinned
    l_secondary = {local[g] for g in cells if g in warm} - l_known
    attack = _IncrementalAttack(l_value, l_shown, l_primary, l_rels, l_member_of, limit, floor, l_known, l_secondary)
    whole = True  # the attack's state is a whole replay with every partner withheld so far
    while True:
        exposed = attack.exposed_cells()
        if not exposed:
            if whole:
                break
            # One whole replay at the end: it must find nothing the replays around the partners
            # did not (see _IncrementalAttack); if it does, the rounds carry on from it.
            attack = _IncrementalAttack(l_value, l_shown, l_primary, l_rels, l_member_of, limit, floor, l_known, l_secondary)
            whole = True
            continue
        # Every exposed cell gets a partner in the same round, small cells first: a withheld
        # cell is often exposed through a small one, and the partner chosen for the small one
        # (reused when it is the nearest) then serves it too. Handling only the small ones per
        # round made chains of one or two partners a round, each replaying a large group: on
        # the dashboards' cube, all at once takes fewer rounds and withholds fewer cells.
        small = sorted(c for c in exposed if c in l_primary)
        added: set[int] = set()
        suppressed = l_primary | l_secondary
        for cell in small + sorted(c for c in exposed if c not in l_primary):
            partner = _partner(cell, exposed[cell], l_shown, l_value, suppressed, added, l_rels, l_member_of, l_rank, l_known)
            if partner is None:
                raise RuntimeError(f"cannot protect {keys[cells[cell]]!r}: no published cell left to withhold beside it")
            added.add(partner)
        l_secondary |= added
        attack.withhold(added)
        whole = False
    hi = attack.hi
    return (
        {cells[i] for i in l_secondary},
        {cells[i]: hi[i] for i in range(len(cells))},
        {cells[i] for i in given_away},
    )


class _IncrementalAttack:
    """The interval attack of ``_attack``, replayed after each round only where it can change.

    The first run is ``_attack`` itself. Withholding a cell turns a point into an unknown, and
    can only widen what the attacker knows: the new fixpoint lies between the old one and the
    starting intervals. A cell whose interval was never narrowed stays as it is. A narrowed cell
    learnt its bounds through a chain of narrowed cells from the points that gave them; if no
    such chain reaches a newly withheld cell (through a relation it shares with it), none of its
    bounds came from that cell's value, and every step that narrowed it can be taken again: it
    keeps its interval too. So only the narrowed cells reachable from the withheld ones through
    narrowed cells are reset to their starting intervals, and the attack is replayed from the
    relations around them; everything else keeps its fixpoint and its exposed cells. A round
    costs that neighbourhood, not the whole part. (``_protect_part`` still ends with one whole
    replay, and carries on if it finds anything: the result never rests on this argument alone.)
    """

    def __init__(self, value, shown, primary, rels, member_of, limit, floor=1, known=frozenset(), secondary=()):
        self.value, self.rels, self.member_of = value, rels, member_of
        self.limit, self.floor = limit, floor
        self.primary = primary
        self.secondary: set[int] = set(secondary)
        self.unknown = [i not in known and (i in primary or i in self.secondary or not shown[i]) for i in range(len(value))]
        self.exposed, self.lo, self.hi = _attack(value, shown, primary, self.secondary, rels, member_of, limit, floor, known)
        self.replayed = 0  # cells reset by the replays (for the benchmark and the tests)

    def exposed_cells(self) -> dict[int, int]:
        """The suppressed non-zero cells pinned now, each with the relation that pinned it."""
        return dict(self.exposed)

    def _start(self, i) -> tuple[int, int]:
        if i in self.primary:
            return self.floor, self.limit - 1
        if i in self.secondary:
            return self.limit, _UNBOUNDED
        return 0, _UNBOUNDED  # hidden

    def withhold(self, cells) -> None:
        """Withhold ``cells`` (published until now) and replay the attack around them."""
        lo, hi = self.lo, self.hi
        self.secondary |= set(cells)
        reset = set(cells)
        stack = list(cells)
        for c in cells:
            self.unknown[c] = True
        scanned: set[int] = set()  # relations whose members were looked at (each once)
        while stack:
            c = stack.pop()
            for r in self.member_of[c]:
                if r in scanned:
                    continue
                scanned.add(r)
                t, parts = self.rels[r]
                for m in (t, *parts):
                    if m in reset or not self.unknown[m]:
                        continue
                    if (lo[m], hi[m]) != self._start(m):  # narrowed: it may have learnt from c
                        reset.add(m)
                        stack.append(m)
        for c in reset:
            lo[c], hi[c] = self._start(c)
            self.exposed.pop(c, None)
        self.replayed += len(reset)
        order = sorted(scanned)  # every relation of every reset cell
        found = _propagate(self.value, lo, hi, order, self.rels, self.member_of, (self.primary, self.secondary))
        self.exposed.update(found)


def _attack(value, shown, primary, secondary, rels, member_of, limit, floor=1, known=frozenset()):
    """Narrow every cell's interval through the relations; return the suppressed non-zero cells
    pinned to one value, each with the relation that pinned it, and the final intervals."""
    lo = [0] * len(value)
    hi = [_UNBOUNDED] * len(value)
    for i, v in enumerate(value):
        if i in known:
            lo[i] = hi[i] = v
        elif i in primary:
            lo[i], hi[i] = floor, limit - 1
        elif i in secondary:
            lo[i], hi[i] = limit, _UNBOUNDED
        elif shown[i]:
            lo[i] = hi[i] = v
    return (_propagate(value, lo, hi, range(len(rels)), rels, member_of, (primary, secondary)), lo, hi)


def _propagate(value, lo, hi, order, rels, member_of, suppressed_sets) -> dict[int, int]:
    """Narrow the intervals ``lo``/``hi`` (in place) through the relations, starting with those
    in ``order``, first in first out; return the suppressed non-zero cells pinned to one value,
    each with the relation that pinned it."""
    primary, secondary = suppressed_sets
    exposed: dict[int, int] = {}
    queue = deque(order)
    queued = dict.fromkeys(order, True)
    visits: dict[int, int] = defaultdict(int)
    while queue:
        r = queue.popleft()
        queued[r] = False
        visits[r] += 1
        if visits[r] > _MAX_VISITS_PER_RELATION:
            continue
        total, parts = rels[r]
        sum_lo = sum(lo[p] for p in parts)
        sum_hi = min(sum(hi[p] for p in parts), _UNBOUNDED)
        changed = []
        new_lo, new_hi = max(lo[total], sum_lo), min(hi[total], sum_hi)
        if (new_lo, new_hi) != (lo[total], hi[total]):
            lo[total], hi[total] = new_lo, new_hi
            changed.append(total)
        for p in parts:
            p_lo = max(lo[p], lo[total] - (sum_hi - hi[p]) if sum_hi < _UNBOUNDED else lo[p])
            p_hi = min(hi[p], hi[total] - (sum_lo - lo[p]))
            if (p_lo, p_hi) != (lo[p], hi[p]):
                lo[p], hi[p] = p_lo, p_hi
                changed.append(p)
        for c in changed:
            if lo[c] > hi[c]:  # pragma: no cover - the relations given do not hold for the values given
                raise ValueError("inconsistent relations: a cell is not the sum of its parts")
            if lo[c] == hi[c] and value[c] and c not in exposed and (c in primary or c in secondary):
                exposed[c] = r
            for r2 in member_of[c]:
                if not queued.get(r2):
                    queued[r2] = True
                    queue.append(r2)
    return exposed


def _partner(cell, via, shown, value, suppressed, added, rels, member_of, rank, known=frozenset()) -> int | None:
    """The cell to withhold so that ``cell`` is hidden again: the cheapest published non-zero
    cell in the relation that exposed it, else in the nearest relation around it (or one
    already chosen in this round, if that is nearer). Known cells are neither chosen nor
    looked through (they are points to the attacker, like published ones)."""
    seen_rel: set[int] = set()
    seen_cell = {cell}
    levels = [[via], member_of[cell]]  # the exposing relation first, then the others of the cell
    next_cells: list[int] = []
    while levels:
        frontier = levels.pop(0)
        candidates = []
        for r in frontier:
            if r in seen_rel:
                continue
            seen_rel.add(r)
            t, parts = rels[r]
            for m in (t, *parts):
                if m in added:
                    return m
                if m in known:
                    continue
                if m in suppressed or not shown[m]:
                    if m not in seen_cell:
                        seen_cell.add(m)
                        next_cells.append(m)
                elif value[m] > 0:
                    candidates.append(rank[m])
        if candidates:
            return min(candidates)[-1]
        if not levels:
            following = [r for c in next_cells for r in member_of[c] if r not in seen_rel]
            next_cells = []
            if following:
                levels.append(following)
    return None


def share(part: Protected, whole: Protected | int | None, places: int = 1) -> float | None:
    """A percentage, or None when either side is suppressed or the whole is below the threshold."""
    whole_value = whole.value if isinstance(whole, Protected) else whole
    limit = part.limit
    if part.value is None or whole_value is None or whole_value < limit:
        return None
    return round(100 * part.value / whole_value, places)
