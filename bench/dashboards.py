"""`python -m bench.dashboards`: where the time goes when the dashboards build their publication.

Not the wrk benchmark (bench/run.py): this loads a dataset of a chosen size into a throw-away
PostgreSQL database, with activity spread over a year (the other domains' builders are not in
this branch, so ideas, supports, responses and decisions are generated here with COPY), and times
in-process: the raw aggregate SQL (one GROUP BY per source: the floor for any design that reads
raw rows), each stage of ``build_publication``, and a warm page slice. Prints one line per stage.

    python -m bench.dashboards --residents 5000 --supports 100000 --responses 3500
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench.dataset import BUILDERS, Facts, Tier, _copy, _set_sequence

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://civic:civic@127.0.0.1:5432/postgres")


def _content(conn, rng, facts, consultations: int, ideas: int, supports: int, responses: int, decisions: int) -> None:
    now = datetime.now(UTC)
    residents = [p[0] for p in facts.people["residents"]]
    # Registration dates over the last year, so that the daily cube has a year of days.
    conn.execute("UPDATE \"user\" SET created_at = now() - (random() * interval '365 days')")
    rows, questions, options = [], [], []
    qid = oid = 0
    for c in range(1, consultations + 1):
        opens = now - timedelta(days=rng.uniform(20, 360))
        rows.append(
            (c, f"bench-{c}", f"Bench consultation {c}", "", "", opens, opens + timedelta(days=60), False, False, "", 1, now, now)
        )
        for position in range(1, 6):
            qid += 1
            questions.append((qid, c, position, "single_choice", f"Question {position}", "", True))
            for p in range(1, 4):
                oid += 1
                options.append((oid, qid, p, f"Option {p}"))
    cols = ["id", "slug", "title", "summary", "body", "opens_at", "closes_at", "results_while_open", "publish_free_text"]
    _copy(conn, "consultation", [*cols, "outcome_decision", "questions_per_page", "created_at", "updated_at"], rows)
    _copy(conn, "question", ["id", "consultation_id", "position", "kind", "text", "hint", "required"], questions)
    _copy(conn, "question_option", ["id", "question_id", "position", "label"], options)
    for table in ("consultation", "question", "question_option"):
        _set_sequence(conn, table)

    def when():
        return now - timedelta(days=rng.random() ** 2 * 360)

    idea_rows = [
        (i, rng.randint(1, consultations), rng.choice(residents), f"Idea {i}", "", "published", 0, when(), now)
        for i in range(1, ideas + 1)
    ]
    _copy(
        conn,
        "idea",
        ["id", "consultation_id", "author_id", "title", "body", "status", "support_count", "created_at", "updated_at"],
        idea_rows,
    )
    _set_sequence(conn, "idea")
    hot = max(1, ideas // 5)
    seen = set()
    support_rows = []
    while len(support_rows) < supports:
        idea = rng.randint(1, hot) if rng.random() < 0.8 else rng.randint(1, ideas)
        user = rng.choice(residents)
        if (idea, user) not in seen:
            seen.add((idea, user))
            support_rows.append((len(support_rows) + 1, idea, user, when()))
    _copy(conn, "support", ["id", "idea_id", "user_id", "created_at"], support_rows)
    _set_sequence(conn, "support")
    seen = set()
    response_rows, answers = [], []
    while len(response_rows) < responses:
        c, user = rng.randint(1, consultations), rng.choice(residents)
        if (c, user) in seen:
            continue
        seen.add((c, user))
        rid = len(response_rows) + 1
        response_rows.append((rid, c, user, when(), now, now))
        for position in range(5):
            q = (c - 1) * 5 + position + 1
            answers.append((len(answers) + 1, rid, q, (q - 1) * 3 + rng.choice((1, 1, 2, 3))))
    _copy(conn, "response", ["id", "consultation_id", "user_id", "submitted_at", "created_at", "updated_at"], response_rows)
    _copy(conn, "answer", ["id", "response_id", "question_id", "option_id"], answers)
    _set_sequence(conn, "response")
    _set_sequence(conn, "answer")
    outcomes = ["approve"] * 8 + ["reject", "hide"]
    decision_rows = []
    for i in range(1, decisions + 1):
        submitted = when()
        decision_rows.append(
            (i, "idea", i, rng.choice(outcomes), "", submitted, submitted + timedelta(hours=rng.uniform(0.1, 48)))
        )
    _copy(
        conn,
        "moderation_decision",
        ["id", "subject_type", "subject_id", "outcome", "note", "submitted_at", "decided_at"],
        decision_rows,
    )


# The sizes of `flask seed scale` (bench/dataset.py TIERS), and a tenth of the metro tier.
PRESETS = {
    "district": {"residents": 5_000, "wards": 30, "boroughs": 1, "ideas": 2_000, "supports": 100_000, "responses": 3_500},
    "tenth": {"residents": 25_000, "wards": 60, "boroughs": 3, "ideas": 5_000, "supports": 500_000, "responses": 10_000},
    "metro": {"residents": 250_000, "wards": 215, "boroughs": 10, "ideas": 50_000, "supports": 5_000_000, "responses": 100_000},
}
TIMES: dict[str, float] = {}


def _timed(label, fn):
    start = time.perf_counter()
    result = fn()
    TIMES[label] = time.perf_counter() - start
    print(f"{label:<48} {1000 * TIMES[label]:10.0f} ms", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=5_000)
    parser.add_argument("--wards", type=int, default=30)
    parser.add_argument("--boroughs", type=int, default=1)
    parser.add_argument("--consultations", type=int, default=10)
    parser.add_argument("--ideas", type=int, default=2_000)
    parser.add_argument("--supports", type=int, default=100_000)
    parser.add_argument("--responses", type=int, default=3_500)
    parser.add_argument("--decisions", type=int, default=2_000)
    parser.add_argument("--tier", choices=sorted(PRESETS), help="a preset size (overrides the counts above)")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--db", help="measure an existing database kept with --keep-db (its name): no load")
    args = parser.parse_args(argv)
    if args.tier:
        for key, value in PRESETS[args.tier].items():
            setattr(args, key, value)
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    if args.db:
        os.environ.update(DATABASE_URL=f"{base}/{args.db}", CIVIC_ENV="development")
        _measure(args)
        return 0
    name = f"civic_dash_bench_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    if args.keep_db:
        print(f"database {name} (kept; drop it when done)")
    env = {**os.environ, "DATABASE_URL": url, "CIVIC_ENV": "development", "FLASK_APP": "wsgi"}
    try:
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env, check=True, capture_output=True)
        tier = Tier("custom", args.residents, args.boroughs, args.wards, args.ideas, 0, args.supports, 0, args.responses, 0, 0, 0)
        rng = random.Random(6)
        facts = Facts(tier)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            for builder in BUILDERS[:2]:
                builder(conn, tier, rng, facts)
            _timed(
                "load content (COPY)",
                lambda: _content(conn, rng, facts, args.consultations, args.ideas, args.supports, args.responses, args.decisions),
            )
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        os.environ.update(DATABASE_URL=url, CIVIC_ENV="development")
        _measure(args)
    finally:
        if not args.keep_db:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def _measure(args) -> None:
    from sqlalchemy import func, select

    from civic import create_app
    from civic.core import disclosure
    from civic.dashboards import metrics, queries, store, views
    from civic.dashboards.sources import register_content_sources
    from civic.extensions import db

    # The raw SQL and the row read below are not a build (which sets its own statement timeout):
    # at the metro tier they can take longer than the request timeout.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "600000")
    app = create_app()
    register_content_sources()
    with app.app_context():
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the start")
        print(f"residents {args.residents:,}, supports {args.supports:,}, responses {args.responses:,}")
        print(f"consultations {args.consultations}, wards {args.wards}, boroughs {args.boroughs}")

        def raw():
            # The floor: one grouped count per source and ward and day, done by PostgreSQL.
            rows = metrics.activities().subquery()
            people = metrics.registered_residents().subquery()
            q = (
                select(people.c.ward_id, rows.c.kind, rows.c.consultation_id, func.date(rows.c.occurred_at), func.count())
                .join(people, people.c.id == rows.c.user_id)
                .group_by(people.c.ward_id, rows.c.kind, rows.c.consultation_id, func.date(rows.c.occurred_at))
            )
            return db.session.execute(q).all()

        _timed("raw aggregate SQL (grouped in PostgreSQL)", raw)
        _timed("read every activity row into Python", lambda: db.session.execute(metrics.activities()).all())
        counted = _timed("count_cells (reads + counts + relations)", queries.count_cells)
        print(f"  cells {len(counted.values):,}, relations {len(counted.relations):,}")
        rounds, parts, runs = [], [], []
        attack_class = disclosure._IncrementalAttack
        withhold = attack_class.withhold

        def counted_withhold(self, cells):
            before = self.replayed
            withhold(self, cells)
            rounds.append(1)
            runs.append(self.replayed - before)

        attack_class.withhold = counted_withhold
        protect_part = disclosure._protect_part

        def timed_part(cells, *a, **k):
            start, before = time.perf_counter(), len(rounds)
            out = protect_part(cells, *a, **k)
            parts.append((time.perf_counter() - start, len(cells), len(rounds) - before, counted_keys[cells[0]][:3]))
            return out

        counted_keys = list(counted.values)
        disclosure._protect_part = timed_part
        cells = _timed(
            "protect_linked",
            lambda: disclosure.protect_linked(
                counted.values,
                counted.relations,
                counted.published,
                cost=queries._cost,
                limit=counted.limit,
                zero_is_small=True,
                known=counted.known,
            ),
        )
        attack_class.withhold, disclosure._protect_part = withhold, protect_part
        print(
            f"  rounds {len(rounds)}, parts with small cells {len(parts)}, cells reset by the replays {sum(runs):,}"
            f" (largest round {max(runs, default=0):,}); the slowest parts:"
        )
        for seconds, size, n, example in sorted(parts, reverse=True)[:4]:
            print(f"    {1000 * seconds:8.0f} ms  {size:8,} cells  {n:4} rounds  e.g. {example}")
        pub = queries.publish(counted, datetime.now(UTC), cells)
        cold = TIMES["count_cells (reads + counts + relations)"] + TIMES["protect_linked"]
        floor = TIMES["raw aggregate SQL (grouped in PostgreSQL)"]
        print(
            f"cold build (count_cells + protect_linked) {cold:.1f} s = {cold / floor:.1f} x the raw aggregate SQL"
            f" ({floor:.2f} s); target 1.3 x + 0.1 s = {1.3 * floor + 0.1:.2f} s"
        )
        # The refresh worker's next builds: warm, from this one (the activity since its cutoff,
        # the disclosure control from its partners). Nothing was added meanwhile here, so this
        # is the floor of a warm build; activity added since costs what it adds.
        db.session.commit()
        warm_count, warm_protect = "warm count_cells (activity since the cutoff)", "warm protect_linked (from the partners)"
        warm_counted = _timed(warm_count, lambda: queries.count_cells(history=counted.history))
        _timed(warm_protect, lambda: queries.publish(warm_counted, datetime.now(UTC), withheld_before=pub.withheld_partners()))
        warm = TIMES[warm_count] + TIMES[warm_protect]
        same = warm_counted.values == counted.values
        print(f"warm build {warm:.1f} s = {warm / floor:.2f} x the raw aggregate SQL; the same cells as cold: {same}")
        area = next(a for a in pub.areas.values() if a.parent_code is None)
        busiest = pub.consultations[0]
        _timed("warm slice: overview (authority, 90 days)", lambda: queries.dashboard(pub, queries.Filters(area, "90d")))
        board = _timed("warm slice: a consultation", lambda: queries.dashboard(pub, queries.Filters(area, "90d", busiest)))
        with app.test_request_context():
            charts = _timed("figures of that page (once per publication)", lambda: views._charts(board))
        biggest = max(len(json.dumps(c.data)) for c in charts.values())
        print(f"  published cells {len(cells):,}; largest figure JSON {biggest / 1024:.0f} KB")
        payload = _timed("stored publication: dumps", lambda: store.dumps(pub))
        print(f"  stored size {len(payload) / 1e6:.1f} MB compressed")
        _timed("stored publication: loads (an app server swapping it in)", lambda: store.loads(payload))
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    raise SystemExit(main())
