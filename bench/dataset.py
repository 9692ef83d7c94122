"""Benchmark datasets: deterministic (seeded), sized by tier, loaded with COPY.

Sizes come from reference/uk-domain-and-performance.md part B3. Each domain adds its rows by
appending a builder to ``BUILDERS``; a builder receives an open psycopg connection (inside the
load transaction), the tier, a seeded ``random.Random`` and the ``Facts`` gathered so far, and
records what scenarios need to know (ids, pools of people) in ``facts``.
"""

from __future__ import annotations

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


# Builders run in this order. Domains append theirs (ideas, supports, comments, consultation
# responses, dashboard rollups) here when they land; see bench/README.md.
BUILDERS: list[Builder] = [build_geography, build_people]


# --- Builders that go through the application ------------------------------------------------
# For data best made by a domain's own services (a questionnaire with its questions and
# options), run inside an app context after the COPY loads. Bulk rows still belong in BUILDERS.

AppBuilder = Callable[[object, Tier, random.Random, Facts], None]


def build_consultation(app, tier: Tier, rng: random.Random, facts: Facts) -> None:
    """PLANNED (consultations branch): the open 20-question consultation the response scenarios
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


def load(database_url: str, tier: Tier, seed: int = 20260507) -> Facts:
    """Fill an empty, migrated database with the tier's dataset; returns what it contains."""
    rng = random.Random(seed)
    facts = Facts(tier)
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for builder in BUILDERS:
            builder(conn, tier, rng, facts)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return facts
