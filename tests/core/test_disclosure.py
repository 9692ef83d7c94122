from civic.core.disclosure import Protected, protect_count, protect_counts, share


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
