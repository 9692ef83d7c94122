"""Benchmark datasets: deterministic (seeded), sized by tier, loaded with COPY.

Sizes come from reference/uk-domain-and-performance.md part B3. Each domain adds its rows by
appending a builder to ``BUILDERS``; a builder receives an open psycopg connection (inside the
load transaction), the tier, a seeded ``random.Random`` and the ``Facts`` gathered so far, and
records what scenarios need to know (ids, pools of people) in ``facts``.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from argon2 import PasswordHasher

from civic.accounts.demographics import DIMENSIONS
from civic.seed import PARTICIPANT_AGE, PARTICIPANT_ETHNIC, _ward_baselines

BENCH_PASSWORD = "bench marks the busy deadline day"  # noqa: S105 - throw-away benchmark database
SOURCE = "Benchmark data: generated (not real)"


@dataclass(frozen=True)
class Tier:
    name: str
    residents: int
    boroughs: int
    wards: int
    ideas: int
    hot_ideas: int
    supports: int
    comments: int
    responses: int
    # How long each measurement runs, and the surge's baseline rate (requests per second).
    seconds: int
    surge_baseline_rps: float
    surge_stage_seconds: int


TIERS = {
    # A district council (~120k people), the tier CI runs.
    "district": Tier("district", 5_000, 1, 30, 2_000, 2_000, 100_000, 10_000, 3_500, 10, 4.0, 5),
    # Greater Manchester scale; the hot process has 10,000 ideas and 1,000,000 supports.
    "metro": Tier("metro", 250_000, 10, 215, 50_000, 10_000, 5_000_000, 500_000, 100_000, 30, 32.0, 30),
}


@dataclass
class Facts:
    """What the loaded dataset contains, for scenarios to use."""

    tier: Tier
    ward_ids: list[int] = field(default_factory=list)
    # Pools of accounts by purpose: {"residents": [(user_id, email, ward_id), ...], ...}
    people: dict[str, list[tuple[int, str, int | None]]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # anything a domain's builder wants to pass on
    progress: Callable[[int], None] | None = None  # builders report rows written (a progress bar)


Builder = Callable[[psycopg.Connection, Tier, random.Random, Facts], None]


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows) -> None:
    with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _set_sequence(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))")


def _square(col: int, row: int) -> str:
    x, y = -2.6 + col * 0.03, 53.3 + row * 0.02
    ring = [[x, y], [x + 0.03, y], [x + 0.03, y + 0.02], [x, y + 0.02], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [[[round(a, 5), round(b, 5)] for a, b in ring]]})


def build_geography(conn, tier: Tier, rng: random.Random, facts: Facts) -> None:
    """One authority, its boroughs and wards (square boundaries), and census-like baselines."""
    now = datetime.now(UTC)
    areas = [(1, "authority", "E47900001", "Bench Combined Authority", None, None, 0, 0, now, now)]
    baselines = []
    next_id = 2
    wards_per_borough = -(-tier.wards // tier.boroughs)
    ward_no = 0
    for b in range(tier.boroughs):
        borough_id = next_id
        next_id += 1
        areas.append((borough_id, "district", f"E0890{b + 1:04d}", f"Bench Borough {b + 1}", 1, None, 0, 0, now, now))
        for _ in range(wards_per_borough):
            if ward_no == tier.wards:
                break
            ward_no += 1
            population, adults, counts = _ward_baselines(rng, rng.uniform(0.0, 0.4))
            areas.append(
                (
                    next_id,
                    "ward",
                    f"E0590{ward_no:04d}",
                    f"Bench Ward {ward_no}",
                    borough_id,
                    _square(ward_no % 20, ward_no // 20),
                    population,
                    adults,
                    now,
                    now,
                )
            )
            baselines += [(next_id, dim, cat, n, SOURCE) for (dim, cat), n in counts.items()]
            facts.ward_ids.append(next_id)
            next_id += 1
    columns = ["id", "level", "gss_code", "name", "parent_id", "boundary", "population", "adult_population"]
    _copy(conn, "area", [*columns, "created_at", "updated_at"], areas)
    _copy(conn, "area_baseline", ["area_id", "dimension", "category", "count", "source"], baselines)
    _set_sequence(conn, "area")


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def build_people(conn, tier: Tier, rng: random.Random, facts: Facts) -> None:
    """Residents spread over the wards (skewed older and whiter, as participants are), a
    councillor per ward, an officer and an admin. All share one password (hashed once, with
    the production argon2 settings, so that signing in costs what it costs in production)."""
    password_hash = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(BENCH_PASSWORD)
    now = datetime.now(UTC)
    verified = now - timedelta(days=30)
    users, roles = [], []
    residents, councillors = [], []
    sexes = {"female": 0.55, "male": 0.45}
    for user_id in range(1, tier.residents + 1):
        ward = facts.ward_ids[user_id % len(facts.ward_ids)]
        email = f"resident{user_id}@bench.example.org"
        users.append(
            (
                user_id,
                email,
                f"Resident {user_id}",
                password_hash,
                verified,
                ward,
                _pick(rng, PARTICIPANT_AGE),
                _pick(rng, sexes),
                _pick(rng, PARTICIPANT_ETHNIC),
                rng.choice(DIMENSIONS["disability"].values),
                now,
                now,
            )
        )
        roles.append((user_id, "resident", None, now))
        residents.append((user_id, email, ward))
    user_id = tier.residents
    for ward in facts.ward_ids:
        user_id += 1
        email = f"councillor{user_id}@bench.example.org"
        users.append((user_id, email, f"Councillor {user_id}", password_hash, verified, ward, None, None, None, None, now, now))
        roles += [(user_id, "resident", None, now), (user_id, "councillor", ward, now)]
        councillors.append((user_id, email, ward))
    staff = []
    for role in ("officer", "admin"):
        user_id += 1
        email = f"{role}@bench.example.org"
        users.append((user_id, email, role.title(), password_hash, verified, None, None, None, None, None, now, now))
        roles.append((user_id, role, None, now))
        staff.append((user_id, email, None))
    columns = ["id", "email", "display_name", "password_hash", "email_verified_at", "ward_id"]
    columns += ["age_band", "sex", "ethnic_group", "disability", "created_at", "updated_at"]
    _copy(conn, "user", columns, users)
    _copy(conn, "user_role", ["user_id", "role", "area_id", "granted_at"], roles)
    _set_sequence(conn, "user")
    facts.people["residents"] = residents
    facts.people["councillors"] = councillors
    facts.people["officers"] = staff[:1]
    facts.people["admins"] = staff[1:]


def _rows_with_progress(rows, facts: Facts, every: int = 10_000):
    for n, row in enumerate(rows, 1):
        yield row
        if facts.progress and n % every == 0:
            facts.progress(every)


IDEA_TITLES = ["Safer crossing on", "More trees along", "Cycle lane for", "Better lighting in", "Benches near", "Bins for"]
IDEA_PLACES = ["the high street", "the park", "the station", "the school", "the canal", "the market", "the library"]


def build_ideas(conn, tier: Tier, rng: random.Random, facts: Facts) -> None:
    """Consultations collecting ideas, their ideas, supports and comments (civic/ideas).

    One open authority-wide consultation holds ``tier.hot_ideas`` ideas (the one the list and
    support scenarios use: ``hot_ideas_consultation_slug``, ``hot_idea_ids``); the other ideas
    are spread over borough consultations of 2,000 each. Supports are shared out in proportion
    to ideas, skewed (a few ideas get many), each idea's supporters distinct residents;
    ``support_count`` equals the rows. Hot ideas are written by councillors, so that no
    resident in the support scenario's pool is refused for supporting their own idea.
    """
    now = datetime.now(UTC)
    opens, closes = now - timedelta(days=10), now + timedelta(days=60)
    residents = facts.people["residents"]
    councillors = facts.people["councillors"]
    n_res = len(residents)
    boroughs = [row[0] for row in conn.execute("SELECT id FROM area WHERE level = 'district' ORDER BY id").fetchall()]
    plan = [("bench-ideas-hot", 1, tier.hot_ideas)]  # (slug, area id, ideas)
    remaining, b = tier.ideas - tier.hot_ideas, 0
    while remaining > 0:
        size = min(2_000, remaining)
        plan.append((f"bench-ideas-{b + 1}", boroughs[b % len(boroughs)], size))
        remaining -= size
        b += 1
    first_id = (conn.execute("SELECT coalesce(max(id), 0) FROM consultation").fetchone()[0] or 0) + 1
    consultations, scopes, collections = [], [], []
    for i, (slug, area_id, _) in enumerate(plan):
        cid = first_id + i
        title = f"Bench ideas {i}"
        consultations.append((cid, slug, title, "", "", opens, closes, opens - timedelta(days=7), False, False, "", 1, now, now))
        scopes.append((cid, area_id))
        collections.append((cid, "post", 100, json.dumps(["Transport", "Parks", "Housing"])))
    columns = ["id", "slug", "title", "summary", "body", "opens_at", "closes_at", "scheduled_at"]
    columns += ["results_while_open", "publish_free_text", "outcome_decision", "questions_per_page", "created_at", "updated_at"]
    _copy(conn, "consultation", columns, consultations)
    _copy(conn, "consultation_area", ["consultation_id", "area_id"], scopes)
    _copy(conn, "idea_collection", ["consultation_id", "moderation", "threshold_basis_points", "categories_json"], collections)
    _set_sequence(conn, "consultation")

    # Supports per idea: a skewed share of the consultation's supports, at most every resident.
    ideas, counts, idea_id = [], [], 0
    hot_ids = []
    for i, (_slug, _area, size) in enumerate(plan):
        share = tier.supports * size // tier.ideas
        weights = [1.0 / (rank + 5) ** 0.8 for rank in range(size)]
        total = sum(weights)
        shares = [min(n_res - 1, int(share * w / total)) for w in weights]
        for extra in range(share - sum(shares)):  # the rounding's remainder, one each from the top
            shares[extra % size] = min(n_res - 1, shares[extra % size] + 1)
        for rank in range(size):
            idea_id += 1
            count = shares[rank]
            cid = first_id + i
            if i == 0:
                author = councillors[idea_id % len(councillors)]
                hot_ids.append(idea_id)
            else:
                author = residents[(idea_id * 31) % n_res]
            created = opens + timedelta(seconds=idea_id % 800_000)
            title = f"{rng.choice(IDEA_TITLES)} {rng.choice(IDEA_PLACES)} #{idea_id}"
            ideas.append(
                (
                    idea_id,
                    cid,
                    author[0],
                    title,
                    f"Idea {idea_id}: {title}.",
                    "Transport",
                    author[2],
                    "published",
                    count,
                    created,
                    created,
                )
            )
            counts.append(count)
    columns = ["id", "consultation_id", "author_id", "title", "body", "category", "ward_id", "status", "support_count"]
    _copy(conn, "idea", [*columns, "created_at", "updated_at"], _rows_with_progress(ideas, facts, 1_000))
    _set_sequence(conn, "idea")

    stride = 7919 if n_res % 7919 else 7907

    def supports():
        for n, count in enumerate(counts):
            iid = n + 1
            offset = (iid * 2_654_435_761) % n_res
            at = opens + timedelta(seconds=iid % 700_000)
            for j in range(count):
                yield (iid, residents[(offset + j * stride) % n_res][0], at)

    _copy(conn, "support", ["idea_id", "user_id", "created_at"], _rows_with_progress(supports(), facts))

    def comments():
        tops: dict[int, int] = {}
        cumulative = list(itertools.accumulate(c + 1 for c in counts))
        for cid in range(1, tier.comments + 1):
            iid = bisect.bisect_left(cumulative, rng.randrange(cumulative[-1])) + 1
            parent = tops.get(iid) if cid % 5 == 0 else None
            if parent is None:
                tops[iid] = cid
            at = opens + timedelta(seconds=cid % 600_000)
            yield (cid, iid, residents[(cid * 17) % n_res][0], parent, f"Comment {cid}", "published", at, at)

    columns = ["id", "idea_id", "author_id", "parent_id", "body", "status", "created_at", "updated_at"]
    _copy(conn, "comment", columns, _rows_with_progress(comments(), facts))
    _set_sequence(conn, "comment")
    facts.extra["hot_ideas_consultation_slug"] = plan[0][0]
    facts.extra.setdefault("hot_consultation_slug", plan[0][0])
    facts.extra["hot_idea_ids"] = hot_ids[:2_000]


def rows_to_load(tier: Tier) -> int:
    """Rows the builders report as they go (for a progress bar's length)."""
    return tier.ideas + tier.supports + tier.comments


# Builders run in this order. Domains append theirs (ideas, supports, comments, consultation
# responses, dashboard rollups) here when they land; see bench/README.md.
BUILDERS: list[Builder] = [build_geography, build_people, build_ideas]


# --- Builders that go through the application ------------------------------------------------
# For data best made by a domain's own services (a questionnaire with its questions and
# options), run inside an app context after the COPY loads. Bulk rows still belong in BUILDERS.

AppBuilder = Callable[[object, Tier, random.Random, Facts], None]


def build_consultation(app, tier: Tier, rng: random.Random, facts: Facts) -> None:
    """The open 20-question consultation the response scenarios
    answer, for the whole authority, and one valid set of answers. Waits until the consultations
    package (its documented benchmark helpers) is in the application."""
    try:
        from civic.consultations.seed import build_twenty_question_consultation, sample_form_data
    except ImportError:
        return
    from civic.areas.models import Area, AreaLevel
    from civic.extensions import db

    with app.app_context():
        authority = db.session.execute(db.select(Area).where(Area.level == AreaLevel.AUTHORITY)).scalar_one()
        consultation = build_twenty_question_consultation([authority])
        facts.extra["hot_consultation_slug"] = consultation.slug
        facts.extra["response_answers"] = sample_form_data(consultation, rng)


APP_BUILDERS: list[AppBuilder] = [build_consultation]


def build_with_app(app, tier: Tier, facts: Facts, seed: int = 20260507) -> None:
    rng = random.Random(seed + 1)
    for builder in APP_BUILDERS:
        builder(app, tier, rng, facts)


def load(database_url: str, tier: Tier, seed: int = 20260507, progress: Callable[[int], None] | None = None) -> Facts:
    """Fill an empty, migrated database with the tier's dataset; returns what it contains."""
    rng = random.Random(seed)
    facts = Facts(tier, progress=progress)
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for builder in BUILDERS:
            builder(conn, tier, rng, facts)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return facts
