"""Benchmark scenarios: one small declarative entry per endpoint.

A scenario says which endpoint it measures, how to build each request (path and form fields,
from the dataset's facts and the person sending it), who sends it (nobody, or a pool of
signed-in people), where the CSRF token comes from, which statuses count as success, and how
to obtain the SQL ceiling (replay the statements the endpoint issues through pgbench).

The harness runs a scenario only if its endpoint exists in the application and the dataset has
what it needs; otherwise the table says what it is waiting for. ``SCENARIOS`` holds those that
run on any dataset; ``CONTENT`` holds those that need the content domains' dataset builders
(ideas, supports, consultation responses: bench/dataset.py), which run whenever those facts exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bench.dataset import Facts


@dataclass(frozen=True)
class Actor:
    """One person sending requests: their account, and the cookie and CSRF token of their session."""

    index: int
    user_id: int
    email: str
    ward_id: int | None
    cookie: str = ""
    csrf_token: str = ""


PathFn = Callable[[Facts, Actor, int], str]
FormFn = Callable[[Facts, Actor, int], dict]


@dataclass(frozen=True)
class Scenario:
    name: str
    endpoint: str  # Flask endpoint that must exist, e.g. "accounts.edit_details"
    path: str | PathFn  # a path, or f(facts, actor, n) for the n-th request of an actor
    method: Literal["GET", "POST"] = "GET"
    # Who sends it: None (anonymous), or a pool of Facts.people, signed in either through the
    # real sign-in form over HTTP ("sign-in": proves the path, costs an argon2 hash each) or by
    # writing server-side sessions directly ("minted": for pools of thousands).
    people: str | None = None
    sessions: Literal["sign-in", "minted"] = "sign-in"
    pool: int = 64  # how many people take part
    variants: int = 1  # distinct requests per person (pages, ideas, …)
    csrf_from: str | None = None  # a page whose form carries the CSRF token (POST only)
    form: FormFn | None = None
    expect: tuple[int, ...] = (200,)
    # The SQL ceiling: "capture" replays the statements the endpoint issued for a few of the
    # people (pgbench -f, one script each); "none" has no SQL ceiling.
    sql: Literal["capture", "none"] = "capture"
    # Replay writes with ROLLBACK instead of COMMIT (for inserts that may only happen once,
    # such as a support); the ceiling is then a little generous (no commit flush).
    replay: Literal["commit", "rollback"] = "commit"
    needs: tuple[str, ...] = ()  # keys that must be in Facts.extra (data a builder provides)
    surge_class: str | None = None  # its class in the deadline surge mix
    tiers: tuple[str, ...] = ("district", "metro")
    warm_up: float = 2  # seconds of load before measuring (caches, pools, first builds)
    # Latency at a stated load: after the saturating run, the scenario runs again paced at this
    # many requests a second (agents with think time, see Bench.measure_paced). A p95 target is
    # a latency at a throughput; at saturation p95 only measures the length of the queue.
    paced_rps: float | None = None
    notes: str = ""

    def path_for(self, facts: Facts, actor: Actor, n: int) -> str:
        return self.path if isinstance(self.path, str) else self.path(facts, actor, n)

    def form_for(self, facts: Facts, actor: Actor, n: int) -> dict | None:
        if self.method != "POST":
            return None
        fields = self.form(facts, actor, n) if self.form else {}
        return {**fields, "csrf_token": actor.csrf_token}


def _details_form(facts: Facts, actor: Actor, n: int) -> dict:
    # Alternate the name so that every other POST really changes the row.
    return {"display_name": f"Resident {actor.user_id}{' (bench)' if n % 2 else ''}", "ward_id": actor.ward_id}


# --- Scenarios that run today ----------------------------------------------------------------

SCENARIOS: list[Scenario] = [
    Scenario("home page", endpoint="pages.home", path="/", surge_class="read"),
    Scenario("sign-in page", endpoint="accounts.sign_in", path="/sign-in", sql="none"),
    Scenario("account page", endpoint="accounts.account", path="/account", people="residents", surge_class="read"),
    Scenario(
        "account details POST",
        endpoint="accounts.edit_details",
        path="/account/details",
        method="POST",
        people="residents",
        variants=2,
        csrf_from="/account/details",
        form=_details_form,
        expect=(302,),
        notes="stands in for supports and responses in the surge until they exist",
    ),
    # Dashboards: a councillor lands on their own ward; an officer on the whole authority. The
    # run builds the publication once (timed), then app servers read the stored publication while
    # `flask dashboards refresh --loop` rebuilds it beside them (bench/run.py, DashboardsWorker).
    Scenario(
        "councillor dashboard",
        endpoint="dashboards.overview",
        path="/dashboard",
        people="councillors",
        pool=30,
        warm_up=10,  # the first publication and each ward's figures are built once
        paced_rps=20,  # issue 6: p95 under 150 ms warm; 2.5 × the surge's dashboard share at its peak
        sql="none",  # a page reads the stored publication in memory: no SQL to replay
    ),
    Scenario(
        "officer dashboard (authority)",
        endpoint="dashboards.area",
        path="/dashboard/areas/E47900001",
        people="officers",
        pool=1,
        surge_class="dashboard",
        warm_up=5,
        paced_rps=20,
        sql="none",  # a page reads the stored publication in memory: no SQL to replay
    ),
    Scenario(
        "officer dashboard (busiest consultation)",
        endpoint="dashboards.consultation",
        path=lambda facts, actor, n: f"/dashboard/consultations/{facts.extra['hot_ideas_consultation_slug']}",
        people="officers",
        pool=1,
        warm_up=5,
        paced_rps=20,  # issue 6: the busiest consultation's dashboard, p95 under 150 ms
        sql="none",  # a page reads the stored publication in memory: no SQL to replay
    ),
    # Moderation: the public policy page (figures by month through disclosure control) and an
    # officer's queue (whatever the dataset has pending or reported; empty on a plain dataset).
    Scenario("moderation policy page", endpoint="moderation.policy", path="/moderation/policy"),
    Scenario("moderation queue", endpoint="moderation.queue", path="/moderation", people="officers", pool=1),
]


# --- CONTENT: supports, idea lists and consultation responses ---------------------------------
# Each runs when its endpoint exists and its dataset builder (bench/dataset.py) provides the
# facts named in `needs`.


def _hot_idea(facts: Facts, actor: Actor, n: int) -> int:
    ideas = facts.extra["hot_idea_ids"]
    return ideas[(actor.index * 7 + n) % len(ideas)]


def _idea_list_page(page: int) -> PathFn:
    # The ideas builder's consultation (the consultations builder may claim hot_consultation_slug).
    return lambda facts, actor, n: (
        f"/consultations/{facts.extra.get('hot_ideas_consultation_slug', facts.extra['hot_consultation_slug'])}"
        f"/ideas?sort=top&page={page}"
    )


def _response_form(facts: Facts, actor: Actor, n: int) -> dict:
    return dict(facts.extra["response_answers"])


CONTENT: list[Scenario] = [
    Scenario(
        "support POST",
        endpoint="ideas.support",
        path=lambda facts, actor, n: f"/ideas/{_hot_idea(facts, actor, n)}/support",
        method="POST",
        people="residents",
        sessions="minted",
        pool=5_000,
        variants=4,
        csrf_from="/account",  # any page with a form carries the session's CSRF token
        expect=(302, 303),
        replay="rollback",
        needs=("hot_idea_ids",),
        surge_class="support",
        paced_rps=300,  # issue 4: at least 300 a second with p95 under 50 ms
    ),
    *[
        Scenario(
            f"idea list page {page}",
            endpoint="ideas.list",
            path=_idea_list_page(page),
            needs=("hot_consultation_slug", "hot_idea_ids"),
            surge_class="read",
            paced_rps=300,  # p95 under 60 ms at each depth, at the rate supports are asked to reach
        )
        for page in (1, 50, 500)
    ],
    # A response is two writes (consultations/README.md, "For benchmarks"): the page of answers
    # is saved as the person's draft, then submitted from the check page. The submit scenario
    # runs after the save scenario, with the same people, so every draft exists: the pool is
    # small enough for the save scenario to reach everyone in one run at ~60 saves a second.
    Scenario(
        "consultation response: save answers",
        endpoint="consultations.respond_page",
        path=lambda facts, actor, n: f"/consultations/{facts.extra['hot_consultation_slug']}/respond/1",
        method="POST",
        people="residents",
        sessions="minted",
        pool=500,
        csrf_from="/account",
        form=_response_form,
        expect=(302,),
        needs=("hot_consultation_slug", "response_answers"),
        surge_class="response",
    ),
    Scenario(
        "consultation response: submit",
        endpoint="consultations.check",
        path=lambda facts, actor, n: f"/consultations/{facts.extra['hot_consultation_slug']}/respond/check",
        method="POST",
        people="residents",
        sessions="minted",
        pool=500,
        csrf_from="/account",
        expect=(302,),
        needs=("hot_consultation_slug", "response_answers"),
        notes="after the first round every submit is a repeat, answered 'unchanged'",
    ),
]


# --- The deadline surge ----------------------------------------------------------------------


@dataclass(frozen=True)
class SurgeClass:
    name: str
    share: float  # of all requests
    # Scenarios of this class that exist are used; if none does yet, these stand in.
    stand_ins: tuple[str, ...] = ()


SURGE_MIX = (
    SurgeClass("read", 0.80),
    SurgeClass("support", 0.15, stand_ins=("account details POST",)),
    SurgeClass("response", 0.04, stand_ins=("account details POST",)),
    SurgeClass("dashboard", 0.01, stand_ins=("account page",)),
)
# Baseline → 25× is the modelled deadline peak (B3); the stages after it look for the
# saturation point, where the service must shed load (503/429 + Retry-After), not time out.
SURGE_RAMP = (1, 5, 10, 15, 20, 25)
SURGE_BEYOND = (40, 60, 90, 135, 200)


@dataclass
class Availability:
    scenario: Scenario
    runnable: bool
    waiting_for: list[str] = field(default_factory=list)


def availability(scenario: Scenario, endpoints: set[str], facts: Facts) -> Availability:
    waiting = []
    if scenario.endpoint not in endpoints:
        waiting.append(f"endpoint {scenario.endpoint}")
    waiting += [f"dataset {key}" for key in scenario.needs if key not in facts.extra]
    if scenario.people and not facts.people.get(scenario.people):
        waiting.append(f"people {scenario.people}")
    if facts.tier.name not in scenario.tiers:
        waiting.append(f"tier {facts.tier.name}")
    return Availability(scenario, not waiting, waiting)
