"""`flask seed demo`: a believable fictional metro authority for development and demos.

Greater Northam Combined Authority: four boroughs, 42 wards with generated boundaries and
census-like baselines, a few thousand residents whose equalities answers are skewed the way real
participation is (older, whiter, more often female than the population), and one demo account
per role. Deterministic and idempotent: running it twice changes nothing. Other domains add
their own demo content by appending to ``SEEDERS``. Refused outside development and testing.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, func, select

from civic.accounts.models import User, UserRole
from civic.accounts.services import hash_password
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.core.mail import OutboundEmail
from civic.core.models import utcnow
from civic.core.permissions import Role
from civic.extensions import db

seed_cli = AppGroup("seed", help="Load demonstration data (development only).")

DEMO_PASSWORD = "town hall tuesday lanterns"  # noqa: S105 - printed for the demo; seeding is refused in production
DEMO_SOURCE = "Demo data: generated, census-like (not real)"
AUTHORITY = ("E47999001", "Greater Northam Combined Authority")
GRID_COLS, GRID_ROWS = 7, 6


def _cells(cols, rows) -> list[tuple[int, int]]:
    return [(c, r) for c in cols for r in rows]


# Borough, GSS code, and the cells of the 7 × 6 grid its wards occupy on the generated map.
BOROUGHS = [
    ("Northam", "E08999001", _cells(range(0, 4), range(0, 3))),
    ("Eastbrook", "E08999002", _cells(range(4, 7), range(0, 4))),
    ("Westmere", "E08999003", _cells(range(0, 3), range(3, 6))),
    ("Southvale", "E08999004", [(3, 3), *_cells(range(3, 7), range(4, 6))]),
]
WARD_NAMES = [
    "Abbey Fields",
    "Ashworth",
    "Barrow Green",
    "Bridgefoot",
    "Castle Mill",
    "Church Lane",
    "Clough Top",
    "Deanwater",
    "Elm Bank",
    "Fallowfield Moor",
    "Gorse Hill",
    "Hallam Park",
    "Hollins",
    "Kersal Vale",
    "Larkrise",
    "Lowgate",
    "Marsh End",
    "Moorside",
    "Newtown",
    "Oakwood",
    "Old Quay",
    "Pennine View",
    "Riverside",
    "Saltley",
    "Smithy Bridge",
    "St Anne's",
    "Thornfield",
    "Upper Heaton",
    "Victoria",
    "Waterhead",
    "Weaver's Row",
    "Whitegate",
    "Windmill Hill",
    "Woodhouse",
    "Yew Tree",
    "Cinder Hill",
    "Ferry Road",
    "Holme Wood",
    "Kingsway",
    "Linden Grove",
    "Mill Brow",
    "Parkside",
]
ORIGIN_LON, ORIGIN_LAT = -2.62, 53.36
CELL_LON, CELL_LAT = 0.085, 0.052


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    roles: tuple[Role, ...]
    purpose: str


DEMO_ACCOUNTS = (
    DemoAccount("resident@example.org", "Rhiannon Resident", (Role.RESIDENT,), "a verified resident"),
    DemoAccount(
        "councillor@example.org", "Cllr Chidi Okafor", (Role.RESIDENT, Role.COUNCILLOR), "a ward councillor (dashboards)"
    ),
    DemoAccount(
        "officer@example.org", "Olu Officer", (Role.RESIDENT, Role.OFFICER), "a council officer (consultations, moderation)"
    ),
    DemoAccount("admin@example.org", "Ada Admin", (Role.ADMIN,), "an administrator (people, roles, audit log)"),
)

# --- Geography ------------------------------------------------------------------------------


def _vertex(rng_seed: int, col: int, row: int) -> tuple[float, float]:
    """A grid vertex nudged by a deterministic amount (shared by the cells that meet there)."""
    rng = random.Random(rng_seed * 10007 + col * 101 + row)
    edge = col in (0, GRID_COLS) or row in (0, GRID_ROWS)
    jitter = 0.12 if edge else 0.3
    lon = ORIGIN_LON + (col + rng.uniform(-jitter, jitter)) * CELL_LON
    lat = ORIGIN_LAT + (row + rng.uniform(-jitter, jitter)) * CELL_LAT
    return lon, lat


def _edge_point(seed: int, a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float]:
    """A bend in the middle of an edge, the same for both cells that share the edge."""
    key = tuple(sorted((a, b)))
    rng = random.Random(seed * 1_000_003 + key[0][0] * 7919 + key[0][1] * 104_729 + key[1][0] * 31 + key[1][1])
    (ax, ay), (bx, by) = _vertex(seed, *key[0]), _vertex(seed, *key[1])
    t = 0.5 + rng.uniform(-0.1, 0.1)
    on_border = (key[0][0] == key[1][0] and key[0][0] in (0, GRID_COLS)) or (
        key[0][1] == key[1][1] and key[0][1] in (0, GRID_ROWS)
    )
    bend = 0 if on_border else rng.uniform(-0.18, 0.18)
    mx, my = ax + (bx - ax) * t, ay + (by - ay) * t
    # Push the midpoint sideways to make the boundary look less like a grid.
    return mx + bend * (by - ay) * CELL_LON / CELL_LAT, my - bend * (bx - ax) * CELL_LAT / CELL_LON


def _cell_polygon(seed: int, col: int, row: int) -> dict:
    corners = [(col, row), (col + 1, row), (col + 1, row + 1), (col, row + 1)]
    ring = []
    for i, corner in enumerate(corners):
        ring.append(_vertex(seed, *corner))
        ring.append(_edge_point(seed, corner, corners[(i + 1) % 4]))
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[[round(x, 5), round(y, 5)] for x, y in ring]]}


def _merge_boundary(cells: list[dict]) -> dict:
    return {"type": "MultiPolygon", "coordinates": [c["coordinates"] for c in cells]}


# Population structure for the baselines: shares of residents aged 16+ by band.
AGE_SHARES = {"16-24": 0.15, "25-34": 0.18, "35-44": 0.16, "45-54": 0.16, "55-64": 0.14, "65-74": 0.11, "75+": 0.10}
ETHNIC_SHARES = {"white": 0.74, "asian": 0.13, "black": 0.05, "mixed": 0.04, "other": 0.04}


def _ward_baselines(rng: random.Random, diversity: float) -> tuple[int, int, dict[tuple[str, str], int]]:
    population = rng.randint(9000, 17000)
    adults = int(population * rng.uniform(0.76, 0.82))
    counts: dict[tuple[str, str], int] = {}
    young = rng.uniform(0.7, 1.4)  # student wards skew young, others old
    age_weights = {band: share * (young if band in ("16-24", "25-34") else 1 / young) for band, share in AGE_SHARES.items()}
    total_weight = sum(age_weights.values())
    for band, weight in age_weights.items():
        counts[("age_band", band)] = round(adults * weight / total_weight)
    female = round(population * rng.uniform(0.49, 0.52))
    counts[("sex", "female")] = female
    counts[("sex", "male")] = population - female
    white = ETHNIC_SHARES["white"] * (1 - diversity)
    others = {k: v for k, v in ETHNIC_SHARES.items() if k != "white"}
    scale = (1 - white) / sum(others.values())
    shares = {"white": white, **{k: v * scale for k, v in others.items()}}
    for group, share in shares.items():
        counts[("ethnic_group", group)] = round(population * share)
    disabled = round(population * rng.uniform(0.15, 0.23))
    counts[("disability", "disabled")] = disabled
    counts[("disability", "not_disabled")] = population - disabled
    return population, adults, counts


def seed_geography(rng: random.Random) -> None:
    existing = {a.gss_code: a for a in db.session.execute(select(Area)).scalars()}
    authority = existing.get(AUTHORITY[0]) or Area(gss_code=AUTHORITY[0], level=AreaLevel.AUTHORITY, name=AUTHORITY[1])
    db.session.add(authority)
    ward_no = 0
    all_cells: list[dict] = []
    for b_index, (name, code, grid_cells) in enumerate(BOROUGHS):
        borough = existing.get(code) or Area(gss_code=code, level=AreaLevel.DISTRICT, name=name)
        borough.parent = authority
        db.session.add(borough)
        cells = []
        for col, row in grid_cells:
            ward_no += 1
            ward_code = f"E05999{ward_no:03d}"
            geometry = _cell_polygon(7, col, row)
            cells.append(geometry)
            ward = existing.get(ward_code)
            if ward is None:
                ward = Area(gss_code=ward_code, level=AreaLevel.WARD, name=WARD_NAMES[ward_no - 1])
                db.session.add(ward)
            ward.parent = borough
            ward.boundary = json.dumps(geometry, separators=(",", ":"))
            # Central wards of the first borough are the most diverse, as in a real city.
            diversity = 0.45 if (b_index == 0 and col in (1, 2)) else rng.uniform(0.0, 0.25)
            population, adults, counts = _ward_baselines(rng, diversity)
            ward.population, ward.adult_population = population, adults
            db.session.flush()
            db.session.execute(delete(AreaBaseline).where(AreaBaseline.area_id == ward.id))
            for (dim, cat), count in counts.items():
                db.session.add(AreaBaseline(area_id=ward.id, dimension=dim, category=cat, count=count, source=DEMO_SOURCE))
        borough.boundary = json.dumps(_merge_boundary(cells), separators=(",", ":"))
        all_cells.extend(cells)
    authority.boundary = json.dumps(_merge_boundary(all_cells), separators=(",", ":"))
    db.session.flush()
    _roll_up_baselines()


def _roll_up_baselines() -> None:
    """Boroughs and the authority get the sums of their wards' baselines."""
    for level in (AreaLevel.DISTRICT, AreaLevel.AUTHORITY):
        for area in db.session.execute(select(Area).where(Area.level == level)).scalars():
            children = area.children
            area.population = sum(c.population or 0 for c in children)
            area.adult_population = sum(c.adult_population or 0 for c in children)
            sums: dict[tuple[str, str], int] = {}
            for child in children:
                for b in child.baselines:
                    sums[(b.dimension, b.category)] = sums.get((b.dimension, b.category), 0) + b.count
            db.session.execute(delete(AreaBaseline).where(AreaBaseline.area_id == area.id))
            for (dim, cat), count in sums.items():
                db.session.add(AreaBaseline(area_id=area.id, dimension=dim, category=cat, count=count, source=DEMO_SOURCE))
            db.session.flush()


# --- People ---------------------------------------------------------------------------------

# Who takes part, skewed against the baseline: older, whiter, more female.
PARTICIPANT_AGE = {"16-24": 0.05, "25-34": 0.10, "35-44": 0.14, "45-54": 0.17, "55-64": 0.21, "65-74": 0.20, "75+": 0.13}
PARTICIPANT_ETHNIC = {"white": 0.88, "asian": 0.06, "black": 0.02, "mixed": 0.02, "other": 0.02}
FIRST_NAMES = [
    "Aisha",
    "Alan",
    "Amir",
    "Beth",
    "Bilal",
    "Carol",
    "Chloe",
    "Dave",
    "Deborah",
    "Dylan",
    "Eileen",
    "Fatima",
    "Gareth",
    "Grace",
    "Hannah",
    "Harjit",
    "Ian",
    "Jade",
    "Janet",
    "Kwame",
    "Leanne",
    "Liam",
    "Margaret",
    "Mohammed",
    "Niamh",
    "Olivia",
    "Pat",
    "Priya",
    "Ray",
    "Rosa",
    "Sandra",
    "Sean",
    "Tariq",
    "Tom",
    "Una",
    "Wendy",
    "Yusuf",
    "Zara",
]
# Enough residents that the dashboards have published figures at authority and ward level, and
# still suppressed cells (small groups, quiet days) for the disclosure control to show.
RESIDENTS = 2400


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _maybe(rng: random.Random, value: str, missing: float = 0.08, prefer_not: float = 0.05) -> str | None:
    roll = rng.random()
    if roll < missing:
        return None
    if roll < missing + prefer_not:
        return "prefer_not_to_say"
    return value


def seed_people(rng: random.Random) -> None:
    wards = list(db.session.execute(select(Area).where(Area.level == AreaLevel.WARD).order_by(Area.gss_code)).scalars())
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()
    existing = set(db.session.execute(select(User.email)).scalars())
    home_ward = wards[1]
    for account in DEMO_ACCOUNTS:
        if account.email in existing:
            continue
        user = User(
            email=account.email,
            display_name=account.name,
            password_hash=password_hash,
            email_verified_at=now - timedelta(days=60),
            ward_id=home_ward.id,
            age_band="35-44",
            sex="female",
            ethnic_group="white",
            disability="not_disabled",
            created_at=now - timedelta(days=60),
        )
        for role in account.roles:
            user.roles.append(UserRole(role=role, area_id=home_ward.id if role == Role.COUNCILLOR else None))
        db.session.add(user)
    # Ward weights: busier near the centre, so the map has a pattern.
    positions = [cell for _, _, cells in BOROUGHS for cell in cells]
    ward_weights = [1.0 / (1 + 0.35 * math.dist(positions[i], (2, 2))) for i in range(len(wards))]
    for n in range(1, RESIDENTS + 1):
        email = f"resident{n:03d}@example.org"
        if email in existing:
            continue
        created = now - timedelta(days=rng.uniform(0, 120), minutes=rng.randint(0, 1440))
        verified = rng.random() < 0.86
        sex = "female" if rng.random() < 0.58 else "male"
        user = User(
            email=email,
            display_name=f"{rng.choice(FIRST_NAMES)} {chr(65 + n % 26)}.",
            password_hash=password_hash,
            email_verified_at=created + timedelta(minutes=rng.randint(2, 600)) if verified else None,
            ward_id=rng.choices(wards, weights=ward_weights)[0].id,
            age_band=_maybe(rng, _pick(rng, PARTICIPANT_AGE)),
            sex=_maybe(rng, sex),
            ethnic_group=_maybe(rng, _pick(rng, PARTICIPANT_ETHNIC)),
            disability=_maybe(rng, "disabled" if rng.random() < 0.11 else "not_disabled", missing=0.12),
            created_at=created,
        )
        user.roles.append(UserRole(role=Role.RESIDENT, granted_at=created))
        db.session.add(user)
    db.session.flush()


SEEDERS = [seed_geography, seed_people]

# The order seeders run in, whatever order their modules were imported in: content builds on
# people, ideas on open consultations, moderation on ideas and answers. Unlisted ones run last.
SEED_ORDER = ("seed_geography", "seed_people", "seed_consultations", "seed_ideas", "seed_moderation")


def _seed_rank(seeder) -> int:
    name = getattr(seeder, "__name__", "")
    return SEED_ORDER.index(name) if name in SEED_ORDER else len(SEED_ORDER)


def run_demo_seed() -> None:
    if not current_app.config.get("DEMO_ACCOUNTS_ALLOWED"):
        raise click.ClickException("Demo data is only for development (CIVIC_ENV=development); it creates known passwords.")
    rng = random.Random(2026)
    for seeder in sorted(dict.fromkeys(SEEDERS), key=_seed_rank):
        seeder(rng)
    # Demo data sends no email.
    db.session.execute(delete(OutboundEmail))
    db.session.commit()


def database_is_empty() -> bool:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has accounts.")
def demo(if_empty: bool):
    """Build the demo authority, people and content (idempotent; development only)."""
    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo not loaded again.")
        return
    run_demo_seed()
    click.echo("Demo data loaded.")
    print_demo_sign_ins()


def print_demo_sign_ins() -> None:
    click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD!r}):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.email:<26} {account.purpose}")


@seed_cli.command("sign-ins")
def sign_ins():
    """Print the demo accounts and their password."""
    print_demo_sign_ins()
