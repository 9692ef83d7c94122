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
