"""PV-04: the differencing attacker recovers no suppressed value, over every filter combination.

The method (equations from the meanings of the published numbers, exact elimination) is
explained in tests/dashboards/attacker.py.
"""

from __future__ import annotations

import pytest

from civic.core import disclosure
from civic.dashboards import queries
from civic.seed import run_demo_seed
from tests.dashboards import attacker


def _attack(pub):
    meanings = attacker.collect(pub)
    fixed = attacker.fixed_suppressed(meanings, attacker.equations(meanings, pub))
    suppressed = [k for k, v in meanings.items() if v.value is None]
    return meanings, suppressed, fixed


def test_PV04_attacker_recovers_nothing_from_the_town_with_consultations(town, responses_source):
    pub = queries.build_publication()
    meanings, suppressed, fixed = _attack(pub)
    assert len(pub.consultations) == 2
    assert any(k[0] == "ev" and k[3] == "bus-lanes" for k in meanings)  # the consultation filter was played
    assert any(v.secondary for v in meanings.values())
    assert len(suppressed) > 100
    assert fixed == []


def test_PV04_attacker_recovers_nothing_from_the_demo(app):
    run_demo_seed()
    pub = queries.build_publication()
    meanings, suppressed, fixed = _attack(pub)
    assert len(pub.areas) == 47
    assert len(suppressed) > 100
    assert fixed == []


def test_the_attacker_does_find_what_primary_suppression_alone_leaves(town, responses_source, monkeypatch):
    """The attack is not vacuous: without secondary suppression it recovers small counts."""

    def primary_only(values, relations, published=None, **kwargs):
        limit = kwargs.get("limit") or 10
        return {k: disclosure.Protected(None if 0 <= v < limit else v, limit) for k, v in values.items()}

    monkeypatch.setattr(queries, "protect_linked", primary_only)
    pub = queries.build_publication()
    _, _, fixed = _attack(pub)
    assert fixed, "primary suppression alone should leave some cells recoverable"


@pytest.mark.parametrize("threshold", [5, 20])
def test_the_threshold_is_configurable(app, town, threshold):
    app.config["DISCLOSURE_THRESHOLD"] = threshold
    try:
        pub = queries.build_publication()
        values = [v for v in pub.cells.values() if v.value is not None]
        assert values and all(v.value >= threshold for v in values)
        assert all(v.limit == threshold for v in pub.cells.values())
        _, _, fixed = _attack(pub)
        assert fixed == []
    finally:
        app.config["DISCLOSURE_THRESHOLD"] = 10


def _content_cells(meanings):
    return {k: v for k, v in meanings.items() if k[0] in ("res", "qa", "qs", "qo", "qn", "ideas", "is", "sup", "mod")}


@pytest.mark.parametrize("threshold", [10, 5, 20])
def test_PV04_attacker_recovers_nothing_from_results_ideas_supports_and_moderation(app, consultation_town, threshold):
    """The new cells (results per question, ideas by status, top ideas' supports, moderation) are
    played together with every participation cell, and with the links an attacker knows: the
    results count the same responses as the published response figures, and so on."""
    app.config["DISCLOSURE_THRESHOLD"] = threshold
    try:
        pub = queries.build_publication()
    finally:
        app.config["DISCLOSURE_THRESHOLD"] = 10
    meanings = attacker.collect(pub)
    eqs = attacker.equations(meanings, pub, content_links=True)
    content = _content_cells(meanings)
    # Every kind of new cell was collected, from both consultations and every period.
    assert {k[0] for k in content} == {"res", "qa", "qs", "qo", "qn", "ideas", "is", "sup", "mod"}
    assert {k[1] for k in content if k[0] == "qo"} == {"bus-lanes", "parks"}
    assert len({k[1:3] for k in content if k[0] == "mod"}) >= 2  # 30 days, and since the start (60 days)
    # The links are real: the results are tied to the published response counts.
    tops = [a.code for a in pub.areas.values() if a.parent_code is None]
    assert any(set(e) >= {("res", "bus-lanes"), ("ev", tops[0], "response", "bus-lanes", pub.first, pub.today)} for e in eqs)
    suppressed = [k for k, v in content.items() if v.value is None]
    assert len(suppressed) > 5
    assert all(v.value is None or v.value >= threshold or v.value == 0 for v in content.values())
    assert any(v.value is not None for k, v in content.items() if k[0] == "qo")
    assert attacker.fixed_suppressed(meanings, eqs) == []


def test_the_attacker_does_find_small_results_when_only_primary_suppression_is_applied(consultation_town, monkeypatch):
    def primary_only(values, relations, published=None, **kwargs):
        limit = kwargs.get("limit") or 10
        return {k: disclosure.Protected(None if 0 < v < limit else v, limit) for k, v in values.items()}

    monkeypatch.setattr(queries, "protect_linked", primary_only)
    pub = queries.build_publication()
    meanings = attacker.collect(pub)
    fixed = attacker.fixed_suppressed(meanings, attacker.equations(meanings, pub, content_links=True))
    kinds = {k[0] for k in fixed}
    assert {"qo", "mod"} <= kinds, kinds  # an option below 10 from the question total; an outcome from all decisions


def test_PV04_the_demo_with_content_shows_every_new_figure_and_gives_nothing_away(app, content_sources):
    """What ``flask seed demo`` will show once the consultations, ideas and moderation seeders add
    their content: every new figure has published numbers and some suppressed cells, and the
    attacker recovers none of them."""
    from tests.dashboards.conftest import add_demo_content

    run_demo_seed()
    slug = add_demo_content()
    pub = queries.build_publication()
    content = queries.consultation_content(pub, slug)
    published = lambda cells: [c for c in cells if c.value]  # noqa: E731
    for q in content.questions:
        if q.options:
            assert published(o.count for o in q.options), q.text
    assert any(o.count.value is None for q in content.questions for o in q.options)
    assert published(r.count for r in content.idea_statuses) and any(r.count.value is None for r in content.idea_statuses)
    assert len(content.top_ideas) == 5 and all(t.supports.value for t in content.top_ideas)
    mod = queries.moderation(pub, pub.window("90d"))
    assert published(r.decisions for r in mod.outcomes) and any(r.decisions.value is None for r in mod.outcomes)
    assert mod.median_seconds is not None
    meanings = attacker.collect(pub)
    assert attacker.fixed_suppressed(meanings, attacker.equations(meanings, pub, content_links=True)) == []
