"""PV-04: the differencing attacker recovers no suppressed value, over every filter combination.

The method (equations from the meanings of the published numbers, exact elimination) is
explained in tests/dashboards/attacker.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from civic.core import disclosure
from civic.core.models import utcnow
from civic.dashboards import queries
from civic.extensions import db
from civic.seed import run_demo_seed
from tests.dashboards import attacker


def _attack(pub, truth=None, content_links=False):
    """The attack on a publication, with the public figures (those true of ``truth``, the true
    counts) as known values."""
    meanings = attacker.collect(pub)
    public = attacker.known_public(pub, truth) if truth is not None else {}
    eqs = attacker.equations(meanings, pub, content_links=content_links, public=public)
    fixed = attacker.fixed_suppressed(meanings, eqs, public)
    suppressed = [k for k, v in meanings.items() if v.value is None]
    return meanings, suppressed, fixed


def _build():
    counted = queries.count_cells()
    return counted, queries.publish(counted, utcnow())


def test_PV04_attacker_recovers_nothing_from_the_town_with_consultations(town, responses_source):
    counted, pub = _build()
    meanings, suppressed, fixed = _attack(pub, counted.values)
    assert len(pub.consultations) == 2
    assert any(k[0] == "ev" and k[3] == "bus-lanes" for k in meanings)  # the consultation filter was played
    assert any(v.secondary for v in meanings.values())
    assert len(suppressed) > 100
    assert fixed == []


def test_PV04_attacker_recovers_nothing_from_the_demo(app):
    run_demo_seed()
    counted, pub = _build()
    meanings, suppressed, fixed = _attack(pub, counted.values, content_links=True)
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
        counted, pub = _build()
        values = [v for v in pub.cells.values() if v.value is not None]
        assert values and all(v.value >= threshold for v in values)
        assert all(v.limit == threshold for v in pub.cells.values())
        _, _, fixed = _attack(pub, counted.values)
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
        counted = queries.count_cells()
        pub = queries.publish(counted, utcnow())
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
    public = attacker.known_public(pub, counted.values)
    eqs = attacker.equations(meanings, pub, content_links=True, public=public)
    suppressed = [k for k, v in content.items() if v.value is None]
    assert len(suppressed) > 5
    # Small counts are published only where a public page shows the same count exactly.
    assert all(v.value is None or v.value >= threshold or v.value == 0 or k in counted.known for k, v in content.items())
    assert any(v.value is not None for k, v in content.items() if k[0] == "qo")
    assert attacker.fixed_suppressed(meanings, eqs, public) == []


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
    counted, pub = _build()
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
    _, _, fixed = _attack(pub, counted.values, content_links=True)
    assert fixed == []


# --- Figures that other public pages show exactly ----------------------------------------------


@pytest.fixture
def split_results(app, geography, content_sources):
    """A closed consultation (its results public) answered from two wards, 16 and 4 responses,
    with two ideas (one small in supports): the public pages show the whole-consultation figures
    exactly, the dashboards split them by ward."""
    from civic.ideas.models import Support
    from tests.dashboards.conftest import add_response
    from tests.factories import make_consultation, make_idea, make_user

    consultation = make_consultation([geography.authority], stage="closed", slug="library", questions=2, collects_ideas=True)
    single, multiple = consultation.questions
    now = utcnow()
    people = [make_user("resident", ward=geography.wards[0], email=f"big{n}@example.org") for n in range(16)]
    people += [make_user("resident", ward=geography.wards[-1], email=f"small{n}@example.org") for n in range(4)]
    for n, person in enumerate(people):
        choices = {single: single.options[n % 2]}
        if n % 4:  # a quarter skip the second question: a small "did not answer"
            choices[multiple] = [multiple.options[n % 3]]
        add_response(consultation, person, now - timedelta(minutes=5 + n), choices)
    ideas = [make_idea(consultation, people[0], title="Idea A <script>"), make_idea(consultation, people[1], title="Idea B")]
    for idea, backers in zip(ideas, (people[:12], people[16:19]), strict=True):
        for person in backers:
            db.session.add(Support(idea_id=idea.id, user_id=person.id, created_at=now - timedelta(minutes=1)))
        idea.support_count = len(backers)
    db.session.commit()
    return consultation


def _without_known(monkeypatch):
    """The dashboards' control as it was: blind to what public pages show."""
    real = queries.protect_linked

    def blind(values, relations, published=None, **kwargs):
        kwargs.pop("known", None)
        return real(values, relations, published, **kwargs)

    monkeypatch.setattr(queries, "protect_linked", blind)


@pytest.fixture
def public_results(consultation_town):
    """The consultation town with both consultations' results public while open."""
    for consultation in (consultation_town["bus"], consultation_town["parks"]):
        consultation.results_while_open = True
    db.session.commit()
    return consultation_town


def test_PV04_blind_to_the_public_pages_the_dashboards_give_cells_away(public_results, monkeypatch):
    """The gap, as it was: the results pages show each consultation's responses exactly; blind to
    that, the dashboards withhold the response totals (with the figure they equal, the responses
    since the start), and the public total pins them again."""
    _without_known(monkeypatch)
    counted, pub = _build()
    meanings, _, fixed = _attack(pub, counted.values, content_links=True)
    public = attacker.known_public(pub, counted.values)
    assert public[("res", "bus-lanes")] == counted.values[("res", "bus-lanes")] > 0
    assert fixed, "the public figures should give a suppressed cell away when the control ignores them"
    assert all(k not in public and meanings[k].value is None for k in fixed)
    assert any(k[0] == "ev" and k[2] == "response" for k in fixed)


def test_PV04_with_the_public_figures_known_the_attacker_recovers_nothing(public_results):
    counted, pub = _build()
    meanings, suppressed, fixed = _attack(pub, counted.values, content_links=True)
    public = attacker.known_public(pub, counted.values)
    assert {k[0] for k in public} >= {"res", "qa", "qs", "qo", "qn", "sup", "is", "is-public"}
    assert set(public) & set(counted.values) <= counted.known  # every true public figure is declared
    # Known cells are published as the public pages show them, small or not.
    assert all(pub.cells[k].value == v for k, v in public.items() if k in pub.cells)
    assert len(suppressed) > 100
    assert fixed == []


def test_PV04_a_small_ward_stays_protected_when_the_whole_is_public(split_results):
    """Responses from two wards, 16 and 4, results public: the ward with 4 stays suppressed and
    nothing can be worked out from the dashboards and the public pages together."""
    counted, pub = _build()
    meanings, _, fixed = _attack(pub, counted.values, content_links=True)
    public = attacker.known_public(pub, counted.values)
    assert public[("res", "library")] == 20 and ("sup", "library", ideas_b := _idea_b()) in public
    assert pub.cells[("sup", "library", ideas_b)].value == 3  # public on the idea's page: shown as it is
    small_ward = [k for k in meanings if k[:4] == ("ev", "E05900004", "response", "library")]
    assert small_ward and all(meanings[k].value is None for k in small_ward)
    assert fixed == []


def _idea_b():
    from civic.ideas.models import Idea

    return db.session.scalar(select(Idea.id).where(Idea.title == "Idea B"))


def test_results_are_known_only_while_public_and_figures_only_when_equal(consultation_town):
    """Open without results_while_open: the results are no public figure. A support by an account
    since deleted: the idea page still counts it, the dashboards do not, so that idea's supports
    are not declared known (the public figure is only a bound)."""
    from civic.accounts.models import User
    from civic.ideas.models import Support

    idea = consultation_town["ideas"][0]
    supporter = db.session.scalar(select(Support.user_id).where(Support.idea_id == idea.id).order_by(Support.id))
    db.session.get(User, supporter).deleted_at = utcnow()
    db.session.commit()
    counted = queries.count_cells()
    assert not any(k[0] in ("res", "qa", "qs", "qo", "qn") for k in counted.known)
    assert ("sup", "bus-lanes", idea.id) not in counted.known
    assert any(k[0] == "sup" for k in counted.known)  # the ideas that account did not support
    consultation_town["bus"].results_while_open = True
    db.session.commit()
    counted = queries.count_cells()
    assert ("res", "bus-lanes") in counted.known and ("res", "parks") not in counted.known


def test_PV04_a_warm_build_after_new_activity_gives_nothing_away(app, town, geography, responses_source):
    """The refresh worker's warm build (the last publication's partners withheld from the start)
    after residents join and respond: the attacker recovers nothing, and every old partner that
    may still be one stays withheld."""
    from tests.factories import make_user

    _, cold = _build()
    partners = cold.withheld_partners()
    assert partners
    for n in range(7):  # newcomers who respond today (the stand-in source: a sign-in)
        user = make_user("resident", ward=geography.wards[n % 4], verified=True, email=f"newcomer{n}@example.org")
        user.last_sign_in_at = utcnow()
    for user in town[:5]:  # and some residents come back
        user.last_sign_in_at = utcnow()
    db.session.commit()
    counted = queries.count_cells()
    warm = queries.publish(counted, utcnow(), withheld_before=partners)
    _, suppressed, fixed = _attack(warm, counted.values)
    assert suppressed and fixed == []
    still = [k for k in partners if k in warm.cells and counted.values[k] >= counted.limit and k not in counted.known]
    assert still and all(warm.cells[k].secondary for k in still)
    # The same, through build_publication (the partners only: the stand-in source's moments move,
    # which a warm count of the activity since a cutoff does not follow; see metrics.py).
    start = queries.WarmStart(cold.today, partners, None)
    assert queries.build_publication(warm=start).cells == warm.cells
