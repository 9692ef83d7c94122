from civic.core.disclosure import Protected, _attack, protect_count, protect_counts, protect_linked, share
from tests.dashboards.conftest import responses_source, town  # noqa: F401 - fixtures


class TestProtectCount:
    def test_small_counts_are_suppressed(self):
        assert [protect_count(n, 10).suppressed for n in (1, 5, 9)] == [True, True, True]

    def test_zero_and_threshold_are_published(self):
        assert protect_count(0, 10).value == 0
        assert protect_count(10, 10).value == 10

    def test_label(self):
        assert protect_count(3, 10).label == "fewer than 10"
        assert protect_count(1234, 10).label == "1,234"


class TestProtectCounts:
    def test_single_suppressed_cell_gets_a_partner_when_the_total_is_published(self):
        cells, total = protect_counts({"a": 4, "b": 25, "c": 40}, total=69, limit=10)
        assert cells["a"].suppressed and cells["b"].suppressed
        assert cells["c"].value == 40
        assert total.value == 69

    def test_no_secondary_suppression_without_an_additive_total(self):
        cells, total = protect_counts({"a": 4, "b": 25, "c": 40}, limit=10)
        assert cells["a"].suppressed and not cells["b"].suppressed
        assert total is None

    def test_two_suppressed_cells_need_no_partner(self):
        cells, _ = protect_counts({"a": 4, "b": 6, "c": 40}, total=50, limit=10)
        assert [cells[k].suppressed for k in "abc"] == [True, True, False]

    def test_small_total_suppresses_everything_but_zeros(self):
        cells, total = protect_counts({"a": 4, "b": 0, "c": 3}, total=7, limit=10)
        assert total.suppressed
        assert cells["a"].suppressed and cells["c"].suppressed
        assert cells["b"].value == 0

    def test_the_suppressed_cell_cannot_be_recovered_by_subtraction(self):
        counts = {"a": 3, "b": 12, "c": 50, "d": 0}
        cells, total = protect_counts(counts, total=65, limit=10)
        published = sum(c.value for c in cells.values() if not c.suppressed)
        hidden = [k for k, c in cells.items() if c.suppressed]
        assert len(hidden) >= 2  # the remainder total - published is shared by two cells
        assert total.value - published == sum(counts[k] for k in hidden)


class TestShare:
    def test_share_of_published_counts(self):
        assert share(Protected(25, 10), 100) == 25.0

    def test_share_withheld_for_suppressed_part_or_small_whole(self):
        assert share(Protected(None, 10), 100) is None
        assert share(Protected(5, 10), Protected(None, 10)) is None
        assert share(Protected(0, 10), 8) is None


class TestProtectLinked:
    """The engine behind every dashboard: several tables linked by additive relations."""

    def test_a_cell_fixed_through_two_relations_gets_a_partner(self):
        # ward a + ward b = borough; borough + other = authority. Only "a" is small.
        values = {"a": 4, "b": 30, "borough": 34, "other": 50, "authority": 84}
        relations = [("borough", ("a", "b")), ("authority", ("borough", "other"))]
        out = protect_linked(values, relations, limit=10)
        assert out["a"].suppressed and not out["a"].secondary
        assert out["b"].suppressed and out["b"].secondary
        assert out["borough"].value == 34 and out["authority"].value == 84

    def test_withheld_cells_are_labelled_withheld_not_fewer_than_10(self):
        out = protect_linked({"a": 4, "b": 30, "t": 34}, [("t", ("a", "b"))], limit=10)
        assert out["a"].label == "fewer than 10"
        assert out["b"].label == "withheld"
        assert out["b"].csv == "[withheld]" and out["a"].csv == "[fewer than 10]"

    def test_two_small_cells_adding_up_to_their_minimum_are_not_left_alone(self):
        # 1 + 1 = 2: both "fewer than 10" cells would be pinned to 1 by the bounds.
        values = {"a": 1, "b": 1, "c": 40, "t": 42}
        out = protect_linked(values, [("t", ("a", "b", "c"))], limit=10)
        assert out["c"].suppressed  # the only way to leave the ones uncertain

    def test_a_hidden_cell_hides_the_remainder(self):
        # "t" = published parts + a never-published part: the small part cannot be worked out.
        values = {"a": 4, "b": 30, "hidden": 12, "t": 46}
        out = protect_linked(values, [("t", ("a", "b", "hidden"))], published={"a", "b", "t"}, limit=10)
        assert out["a"].suppressed and out["b"].value == 30 and out["t"].value == 46
        assert "hidden" not in out

    def test_cheaper_cells_are_withheld_first(self):
        values = {"a": 4, "b": 30, "c": 20, "t": 54}
        out = protect_linked(values, [("t", ("a", "b", "c"))], cost=lambda k: {"c": 5}.get(k, 0), limit=10)
        assert out["b"].secondary and out["c"].value == 20

    def test_zero_is_small_hides_zeros_that_would_reveal_where_the_ones_are(self):
        values = {"a": 1, "b": 0, "c": 1, "d": 0, "t": 2}
        out = protect_linked(values, [("t", ("a", "b", "c", "d"))], limit=10, zero_is_small=True)
        assert all(out[k].suppressed for k in "abcdt")

    def test_a_zero_already_given_away_is_shown(self):
        values = {"a": 0, "b": 12, "t": 12}
        out = protect_linked(values, [("t", ("a", "b"))], limit=10, zero_is_small=True)
        assert out["a"].value == 0 and out["b"].value == 12

    def test_nothing_published_can_be_solved_for_a_suppressed_cell(self):
        # Two-way table: rows r1, r2 and columns c1, c2 with row, column and grand totals.
        values = {"r1c1": 3, "r1c2": 20, "r2c1": 15, "r2c2": 25, "r1": 23, "r2": 40, "c1": 18, "c2": 45, "all": 63}
        relations = [
            ("r1", ("r1c1", "r1c2")),
            ("r2", ("r2c1", "r2c2")),
            ("c1", ("r1c1", "r2c1")),
            ("c2", ("r1c2", "r2c2")),
            ("all", ("r1", "r2")),
            ("all", ("c1", "c2")),
        ]
        out = protect_linked(values, relations, limit=10)
        hidden = {k for k, v in out.items() if v.suppressed}
        # At least the four interior cells (the heuristic may withhold some totals as well).
        assert {"r1c1", "r1c2", "r2c1", "r2c2"} <= hidden
        assert out["all"].value == 63
        # Replay the attack on the result: nothing suppressed is pinned.
        index = {k: i for i, k in enumerate(values)}
        rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
        member_of = [[r for r, (t, parts) in enumerate(rels) if i in (t, *parts)] for i in range(len(values))]
        primary = {index[k] for k, v in out.items() if v.suppressed and not v.secondary}
        secondary = {index[k] for k, v in out.items() if v.secondary}
        exposed, _, _ = _attack(list(values.values()), [True] * len(values), primary, secondary, rels, member_of, 10)
        assert exposed == {}


class TestKnownCells:
    """Cells the attacker knows exactly from elsewhere (public pages): never suppressed, never
    partners, points in the attack."""

    @staticmethod
    def _replay(values, relations, out, known):
        """The interval attack on the result, with the known cells as points: what it pins."""
        index = {k: i for i, k in enumerate(values)}
        rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
        member_of = [[r for r, (t, parts) in enumerate(rels) if i in (t, *parts)] for i in range(len(values))]
        shown = [k in out for k in values]
        primary = {index[k] for k, v in out.items() if v.suppressed and not v.secondary}
        secondary = {index[k] for k, v in out.items() if v.secondary}
        fixed = {index[k] for k in known}
        exposed, _, _ = _attack(list(values.values()), shown, primary, secondary, rels, member_of, 10, 1, fixed)
        keys = list(values)
        return {keys[i] for i in exposed}

    def test_a_known_small_cell_is_published_as_it_is(self):
        out = protect_linked({"a": 4, "b": 30, "t": 34}, [("t", ("a", "b"))], limit=10, known={"a"})
        assert out["a"].value == 4 and out["b"].value == 30 and out["t"].value == 34

    def test_a_known_cell_is_never_chosen_as_a_partner(self):
        # Without "b" known it would be the partner (cheapest); known, "c" is withheld instead.
        values = {"a": 4, "b": 20, "c": 30, "t": 54}
        relations = [("t", ("a", "b", "c"))]
        assert protect_linked(values, relations, limit=10)["b"].secondary
        out = protect_linked(values, relations, limit=10, known={"b"})
        assert out["a"].suppressed and out["b"].value == 20 and out["c"].secondary and out["t"].value == 54
        assert self._replay(values, relations, out, {"b"}) == set()

    def test_a_hidden_known_cell_is_a_point_to_the_attacker(self):
        # "whole" is never published here but is public elsewhere: "a" = whole - b must not be pinned.
        values = {"a": 4, "b": 30, "whole": 34}
        relations = [("whole", ("a", "b"))]
        without = protect_linked(values, relations, published={"a", "b"}, limit=10)
        assert without["a"].suppressed and without["b"].value == 30  # the hidden total hid the remainder
        out = protect_linked(values, relations, published={"a", "b"}, limit=10, known={"whole"})
        assert out["a"].suppressed and out["b"].secondary and "whole" not in out
        assert self._replay(values, relations, out, {"whole"}) == set()

    def test_a_small_cell_pinned_by_known_cells_alone_is_published_as_it_is(self):
        # The ward split of a total known elsewhere, with the other ward also known: "a" follows
        # whatever is withheld. It is published (and the run terminates instead of withholding
        # every cell around it, then failing).
        values = {"a": 4, "b": 30, "whole": 34, "x": 25, "y": 29, "side": 58}
        relations = [("whole", ("a", "b")), ("side", ("a", "x", "y"))]
        out = protect_linked(values, relations, published={"a", "b", "x", "y", "side"}, limit=10, known={"whole", "b"})
        assert out["a"].value == 4
        assert not any(v.suppressed for v in out.values())  # nothing withheld in vain

    def test_a_zero_pinned_by_known_cells_is_shown(self):
        values = {"a": 0, "b": 12, "t": 12}
        out = protect_linked(values, [("t", ("a", "b"))], published={"a", "b"}, limit=10, zero_is_small=True, known={"t", "b"})
        assert out["a"].value == 0

    def test_known_cells_change_nothing_outside_their_part(self):
        values = {"a": 4, "b": 30, "t": 34, "p": 3, "q": 40, "u": 43}
        relations = [("t", ("a", "b")), ("u", ("p", "q"))]
        plain = protect_linked(values, relations, limit=10)
        out = protect_linked(values, relations, limit=10, known={"t", "b"})
        assert {k: out[k] for k in "pqu"} == {k: plain[k] for k in "pqu"}
        assert out["a"].value == 4  # pinned by the known total and part: published as it is

    def test_random_tables_with_known_cells_leave_nothing_pinned(self):
        import random

        rng = random.Random(11)
        for _ in range(60):
            rows, cols = rng.randint(2, 4), rng.randint(2, 4)
            values = {(r, c): rng.choice([0, 1, 3, 8, 12, 25, 40]) for r in range(rows) for c in range(cols)}
            relations = []
            for r in range(rows):
                values[(r, "t")] = sum(values[(r, c)] for c in range(cols))
                relations.append(((r, "t"), [(r, c) for c in range(cols)]))
            for c in range(cols):
                values[("t", c)] = sum(values[(r, c)] for r in range(rows))
                relations.append((("t", c), [(r, c) for r in range(rows)]))
            values[("t", "t")] = sum(values[(r, "t")] for r in range(rows))
            relations.append((("t", "t"), [(r, "t") for r in range(rows)]))
            known = set(rng.sample(sorted(values, key=repr), rng.randint(1, 4)))
            out = protect_linked(values, relations, limit=10, known=known)
            assert all(out[k].value == values[k] for k in known)
            assert self._replay(values, relations, out, known) == set()


class TestConnectedParts:
    """protect_linked protects each connected part of the cells on its own: only the work changes.
    The reference is the same rounds played on all the cells as one part (the former algorithm)."""

    @staticmethod
    def _as_one_part(values, relations, published, cost, limit, zero_is_small):
        from civic.core import disclosure

        keys = list(values)
        index = {k: i for i, k in enumerate(keys)}
        value = [values[k] for k in keys]
        shown = [k in published for k in keys]
        rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
        rank = [(cost(k), value[i], i) for i, k in enumerate(keys)]
        floor = 0 if zero_is_small else 1
        primary = {i for i in range(len(keys)) if shown[i] and floor <= value[i] < limit and (value[i] or zero_is_small)}
        secondary, hi, _ = disclosure._protect_part(
            list(range(len(keys))), list(range(len(rels))), rels, value, shown, primary, rank, keys, limit, floor
        )
        out = {}
        for i, k in enumerate(keys):
            if not shown[i]:
                continue
            if i in primary and not (value[i] == 0 and hi[i] == 0):
                out[k] = Protected(None, limit)
            elif i in secondary:
                out[k] = Protected(None, limit, secondary=True)
            else:
                out[k] = Protected(value[i], limit)
        return out

    def test_random_linked_tables_give_the_same_result_as_one_part(self):
        import random

        rng = random.Random(7)
        for _ in range(40):
            values, relations = {}, []
            for table in range(rng.randint(1, 5)):  # independent tables, some sharing a total
                rows, cols = rng.randint(2, 4), rng.randint(2, 4)
                grid = {(table, r, c): rng.choice([0, 1, 3, 8, 12, 25, 40]) for r in range(rows) for c in range(cols)}
                values.update(grid)
                for r in range(rows):
                    values[(table, r, "t")] = sum(grid[(table, r, c)] for c in range(cols))
                    relations.append(((table, r, "t"), [(table, r, c) for c in range(cols)]))
                for c in range(cols):
                    values[(table, "t", c)] = sum(grid[(table, r, c)] for r in range(rows))
                    relations.append(((table, "t", c), [(table, r, c) for r in range(rows)]))
                values[(table, "t", "t")] = sum(values[(table, r, "t")] for r in range(rows))
                relations.append(((table, "t", "t"), [(table, r, "t") for r in range(rows)]))
            values[("lonely",)] = 4
            published = set(values)
            cost = lambda k: 1 if "t" in k else 0  # noqa: E731
            for zero_is_small in (False, True):
                expected = self._as_one_part(values, relations, published, cost, 10, zero_is_small)
                assert protect_linked(values, relations, published, cost=cost, limit=10, zero_is_small=zero_is_small) == expected

    def test_the_dashboards_publication_is_the_same_as_one_part(self, app, town, responses_source):  # noqa: F811
        from civic.dashboards import queries

        counted = queries.count_cells()
        args = (counted.values, counted.relations, counted.published, queries._cost, counted.limit, True)
        got = protect_linked(
            counted.values, counted.relations, counted.published, cost=queries._cost, limit=counted.limit, zero_is_small=True
        )
        assert got == self._as_one_part(*args)
        assert sum(1 for v in got.values() if v.secondary) > 10


def _indexed(values, relations, published):
    """The cells as the control indexes them: keys, index, value, shown, rels, member_of."""
    keys = list(values)
    index = {k: i for i, k in enumerate(keys)}
    value = [values[k] for k in keys]
    shown = [k in published for k in keys]
    rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
    member_of = [[] for _ in keys]
    for r, (t, parts) in enumerate(rels):
        for m in (t, *parts):
            member_of[m].append(r)
    return keys, index, value, shown, rels, member_of


def _full_replay(values, relations, published, cost, limit, zero_is_small, known=()):
    """The rounds as they were before the incremental replay: the whole interval attack
    (``_attack``) replayed on every cell after each round. The reference for the replay that
    only reruns what the new partners reach."""
    from civic.core import disclosure

    keys = list(values)
    index = {k: i for i, k in enumerate(keys)}
    value = [values[k] for k in keys]
    shown = [k in published for k in keys]
    rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
    member_of = [[] for _ in keys]
    for r, (t, parts) in enumerate(rels):
        for m in (t, *parts):
            member_of[m].append(r)
    rank = [(cost(k), value[i], i, i) for i, k in enumerate(keys)]
    floor = 0 if zero_is_small else 1
    fixed = {index[k] for k in known}
    primary = {
        i for i in range(len(keys)) if shown[i] and i not in fixed and floor <= value[i] < limit and (value[i] or zero_is_small)
    }
    if fixed:
        everything = {i for i in range(len(keys)) if shown[i] and i not in fixed and i not in primary and value[i]}
        _, lo, hi = disclosure._attack(value, shown, primary, everything, rels, member_of, limit, floor, fixed)
        pinned = {i for i in primary | everything if lo[i] == hi[i]}
        primary -= pinned
        fixed |= pinned
    secondary: set[int] = set()
    while True:
        exposed, lo, hi = disclosure._attack(value, shown, primary, secondary, rels, member_of, limit, floor, fixed)
        if not exposed:
            break
        small = sorted(c for c in exposed if c in primary)
        added: set[int] = set()
        for cell in small + sorted(c for c in exposed if c not in primary):
            partner = disclosure._partner(
                cell, exposed[cell], shown, value, primary | secondary, added, rels, member_of, rank, fixed
            )
            added.add(partner)
        secondary |= added
    out = {}
    for i, k in enumerate(keys):
        if not shown[i]:
            continue
        if i in primary and not (value[i] == 0 and hi[i] == 0):
            out[k] = Protected(None, limit)
        elif i in secondary:
            out[k] = Protected(None, limit, secondary=True)
        else:
            out[k] = Protected(value[i], limit)
    return out


def _random_linked(rng):
    """Cubes like the dashboards': a few two-level areas × days, with period totals over the
    days, a hidden remainder in some relations, and tables sharing cells."""
    values, relations, hidden = {}, [], set()
    for table in range(rng.randint(1, 3)):
        wards, days = rng.randint(2, 4), rng.randint(2, 6)
        weights = [0, 0, 1, 1, 2, 3, 5, 8, 9, 11, 14, 25, 40]
        for w in range(wards):
            for d in range(days):
                values[(table, w, d)] = rng.choice(weights)
        for d in range(days):  # the area is the sum of its wards, each day
            values[(table, "all", d)] = sum(values[(table, w, d)] for w in range(wards))
            relations.append(((table, "all", d), [(table, w, d) for w in range(wards)]))
        for w in (*range(wards), "all"):  # the period is the sum of its days, in each area
            values[(table, w, "p")] = sum(values[(table, w, d)] for d in range(days))
            relations.append(((table, w, "p"), [(table, w, d) for d in range(days)]))
        relations.append(((table, "all", "p"), [(table, w, "p") for w in range(wards)]))
        if rng.random() < 0.5:  # a published total with a hidden remainder
            values[(table, "rest")] = rng.choice(weights)
            hidden.add((table, "rest"))
            values[(table, "grand")] = values[(table, "all", "p")] + values[(table, "rest")]
            relations.append(((table, "grand"), [(table, "all", "p"), (table, "rest")]))
    if len({k[0] for k in values}) > 1 and rng.random() < 0.5:  # two tables linked by a shared total
        values[("both",)] = values[(0, "all", "p")] + values[(1, "all", "p")]
        relations.append((("both",), [(0, "all", "p"), (1, "all", "p")]))
    return values, relations, set(values) - hidden


class TestIncrementalReplay:
    """Each round replays the attack only on the unknown cells the new partners reach. It must
    find exactly what the whole replay finds: same exposures, same partners, same result."""

    def test_random_linked_tables_give_the_same_result_as_the_full_replay(self):
        import random

        rng = random.Random(2026)
        rounds_with_partners = 0
        for n in range(150):
            values, relations, published = _random_linked(rng)
            cost = lambda k: 1 if "p" in k or "all" in k else 0  # noqa: E731
            known = set(rng.sample(sorted(values, key=repr), rng.randint(0, 3))) if n % 3 == 0 else set()
            for zero_is_small in (False, True):
                expected = _full_replay(values, relations, published, cost, 10, zero_is_small, known)
                got = protect_linked(values, relations, published, cost=cost, limit=10, zero_is_small=zero_is_small, known=known)
                assert got == expected, (values, relations, zero_is_small, known)
                rounds_with_partners += any(v.secondary for v in got.values())
        assert rounds_with_partners > 100  # the comparison exercised secondary suppression

    def test_the_incremental_attack_matches_the_whole_attack_after_every_withholding(self):
        """After any sequence of withheld cells, the groups replayed alone hold the intervals and
        the exposed cells (with their exposing relation) of the whole attack."""
        import random

        from civic.core import disclosure

        rng = random.Random(5)
        checked = 0
        for _ in range(80):
            values, relations, published = _random_linked(rng)
            keys = list(values)
            index = {k: i for i, k in enumerate(keys)}
            value = [values[k] for k in keys]
            shown = [k in published for k in keys]
            rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
            member_of = [[] for _ in keys]
            for r, (t, parts) in enumerate(rels):
                for m in (t, *parts):
                    member_of[m].append(r)
            primary = {i for i in range(len(keys)) if shown[i] and 1 <= value[i] < 10}
            attack = disclosure._IncrementalAttack(value, shown, primary, rels, member_of, 10, 1)
            secondary: set[int] = set()
            candidates = [i for i in range(len(keys)) if shown[i] and i not in primary and value[i]]
            rng.shuffle(candidates)
            while True:
                exposed, lo, hi = disclosure._attack(value, shown, primary, secondary, rels, member_of, 10, 1)
                assert set(attack.exposed_cells()) == set(exposed)
                assert (attack.lo, attack.hi) == (lo, hi)
                checked += 1
                if not candidates:
                    break
                batch = {candidates.pop() for _ in range(min(len(candidates), rng.randint(1, 2)))}
                secondary |= batch
                attack.withhold(batch)
        assert checked > 300

    def test_withholding_a_cell_resets_only_the_narrowed_cells_it_reaches(self):
        """Two wards' days, joined only through published totals: withholding a day of one
        resets that ward's narrowed cells; the other keeps what the attacker had learnt."""
        from civic.core import disclosure

        values = {"a1": 4, "a2": 30, "a": 34, "b1": 3, "b2": 5, "b3": 40, "b": 48, "c1": 2, "c2": 50, "c": 52, "all": 134}
        keys = list(values)
        index = {k: i for i, k in enumerate(keys)}
        relations = [("a", ("a1", "a2")), ("b", ("b1", "b2", "b3")), ("c", ("c1", "c2")), ("all", ("a", "b", "c"))]
        rels = [(index[t], tuple(index[p] for p in parts)) for t, parts in relations]
        member_of = [[r for r, (t, ps) in enumerate(rels) if i in (t, *ps)] for i in range(len(keys))]
        value = list(values.values())
        primary = {index["a1"], index["b1"], index["b2"], index["c1"]}
        attack = disclosure._IncrementalAttack(value, [True] * len(keys), primary, rels, member_of, 10, 1)
        assert set(attack.exposed_cells()) == {index["a1"], index["c1"]}
        assert (attack.lo[index["b1"]], attack.hi[index["b1"]]) == (1, 7)  # b1 + b2 = 8: narrowed
        attack.withhold({index["a2"]})
        assert attack.replayed == 2  # a2 and a1; not b1, b2 (narrowed, but not reached), nor c1
        assert set(attack.exposed_cells()) == {index["c1"]}  # c1 stays exposed without a replay
        assert (attack.lo[index["b1"]], attack.hi[index["b1"]]) == (1, 7)
        whole = disclosure._attack(value, [True] * len(keys), primary, {index["a2"]}, rels, member_of, 10, 1)
        assert set(whole[0]) == set(attack.exposed_cells()) and (whole[1], whole[2]) == (attack.lo, attack.hi)

    def test_the_dashboards_publication_is_the_same_as_the_full_replay(self, app, town, responses_source):  # noqa: F811
        from civic.dashboards import queries

        counted = queries.count_cells()
        got = protect_linked(
            counted.values, counted.relations, counted.published, cost=queries._cost, limit=counted.limit, zero_is_small=True
        )
        expected = _full_replay(counted.values, counted.relations, counted.published, queries._cost, counted.limit, True)
        assert got == expected
        assert sum(1 for v in got.values() if v.secondary) > 10

    def test_every_exposed_cell_gets_a_partner_in_the_same_round(self, app, town, responses_source, monkeypatch):  # noqa: F811
        """Withheld cells exposed alongside small ones are not left for later rounds (which made
        long chains of rounds, each replaying a large group)."""
        from civic.core import disclosure
        from civic.dashboards import queries

        rounds: list[tuple[dict, list]] = []
        real_exposed, real_partner = disclosure._IncrementalAttack.exposed_cells, disclosure._partner

        def exposed(self):
            found = real_exposed(self)
            rounds.append((found, [], set(self.primary)))
            return found

        def partner(cell, *args, **kwargs):
            rounds[-1][1].append(cell)
            return real_partner(cell, *args, **kwargs)

        monkeypatch.setattr(disclosure._IncrementalAttack, "exposed_cells", exposed)
        monkeypatch.setattr(disclosure, "_partner", partner)
        queries.build_publication()
        assert all(sorted(called) == sorted(found) for found, called, _ in rounds)
        mixed = [found for found, _, primary in rounds if set(found) & primary and set(found) - primary]
        assert mixed, "the town should have a round exposing small and withheld cells together"


class TestWarmStart:
    """``withheld_before``: a previous call's partners are withheld from the start, and only
    what is exposed beyond them gets new partners (the refresh worker's warm builds)."""

    @staticmethod
    def _exposed(values, relations, published, result, known=()):
        """What the control's own attacker pins in a result: it must be nothing."""
        _, index, value, shown, rels, member_of = _indexed(values, relations, published)
        primary = {index[k] for k, v in result.items() if v.value is None and not v.secondary}
        secondary = {index[k] for k, v in result.items() if v.secondary}
        exposed, _, _ = _attack(value, shown, primary, secondary, rels, member_of, 10, 0, {index[k] for k in known})
        return exposed

    def test_a_warm_start_from_the_cold_result_gives_the_cold_result(self):
        import random

        rng = random.Random(11)
        cost = lambda k: 1 if "p" in k or "all" in k else 0  # noqa: E731
        withheld = 0
        for _ in range(60):
            values, relations, published = _random_linked(rng)
            cold = protect_linked(values, relations, published, cost=cost, limit=10, zero_is_small=True)
            partners = [k for k, v in cold.items() if v.secondary]
            withheld += len(partners)
            warm = protect_linked(values, relations, published, cost=cost, limit=10, zero_is_small=True, withheld_before=partners)
            assert warm == cold
        assert withheld > 50

    def test_any_warm_start_exposes_nothing_and_keeps_every_partner_that_may_still_be_one(self):
        """Whatever the previous partners (here: any cells at all, some no longer in the cube),
        the result hides every small cell, and withholds each old partner that is still a
        published count of at least the threshold and not known."""
        import random

        rng = random.Random(12)
        cost = lambda k: 1 if "p" in k or "all" in k else 0  # noqa: E731
        kept = ignored = 0
        for n in range(120):
            values, relations, published = _random_linked(rng)
            known = set(rng.sample(sorted(values, key=repr), 2)) if n % 4 == 0 else set()
            before = set(rng.sample(sorted(values, key=repr), rng.randint(1, len(values) // 2))) | {("gone", n)}
            got = protect_linked(
                values, relations, published, cost=cost, limit=10, zero_is_small=True, known=known, withheld_before=before
            )
            assert self._exposed(values, relations, published, got, known) == {}
            for k in before:
                if k in published and k not in known and values[k] >= 10:
                    assert got[k].secondary, k
                    kept += 1
                else:
                    ignored += 1
                    # A small, hidden, known or vanished cell is never a partner.
                    assert k not in got or not got[k].secondary
            for k, v in got.items():  # what is shown is the true count
                assert v.value is None or v.value == values[k]
        assert kept > 100 and ignored > 100

    def test_a_warm_start_withholds_at_least_what_it_is_given(self):
        values = {"a": 12, "b": 3, "c": 30, "d": 40, "t": 85}
        relations = [("t", ["a", "b", "c", "d"])]
        cold = protect_linked(values, relations, limit=10)
        assert [k for k, v in cold.items() if v.secondary] == ["a"]  # the cheapest partner of "b"
        warm = protect_linked(values, relations, limit=10, withheld_before=["d"])
        assert warm["b"].value is None and warm["d"].secondary and not warm["a"].secondary
        assert warm["a"].value == 12 and warm["c"].value == 30 and warm["t"].value == 85
