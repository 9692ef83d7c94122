"""The publication as stored JSON, so that one worker builds it and every app server reads it.

``flask dashboards refresh`` builds the publication and stores it (``--loop``: every
``DASHBOARD_REFRESH_SECONDS``, keeping the last few). With ``DASHBOARD_STORED_PUBLICATION`` set,
app servers read the newest stored one instead of building their own (see
``queries.current_publication``); no request then pays for a build. JSON, not pickle: the
database is not trusted to hand the app code to run.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from sqlalchemy import delete, select

from civic.core.disclosure import Protected
from civic.dashboards import lookups
from civic.dashboards.models import StoredPublication
from civic.dashboards.queries import AreaInfo, ContentShape, Publication, QuestionShape
from civic.extensions import db

KEEP = 3  # stored publications kept (the newest is read; older ones are for a reader mid-load)


def dumps(pub: Publication) -> bytes:
    data = {
        "built_at": pub.built_at.isoformat(),
        "today": pub.today,
        "first": pub.first,
        "limit": pub.limit,
        "cells": [[list(k), v.value, v.secondary] for k, v in pub.cells.items()],
        "areas": [
            [a.id, a.code, a.name, a.level, a.parent_code, a.population, a.adults, a.children, a.wards]
            for a in pub.areas.values()
        ],
        "baselines": {code: [[d, c, n] for (d, c), n in b.items()] for code, b in pub.baselines.items()},
        "kinds": list(pub.kinds.items()),
        "consultation_kinds": list(pub.consultation_kinds),
        "consultations": [[c.id, c.slug, c.title] for c in pub.consultations],
        "content": {
            slug: {
                "questions": [[q.id, q.position, q.kind, q.text, [list(o) for o in q.options]] for q in shape.questions],
                "top_ideas": [list(t) for t in shape.top_ideas],
            }
            for slug, shape in pub.content.items()
        },
        "medians": [[list(k), v] for k, v in pub.medians.items()],
    }
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def loads(payload: bytes) -> Publication:
    data = json.loads(zlib.decompress(payload))
    limit = data["limit"]
    return Publication(
        built_at=datetime.fromisoformat(data["built_at"]),
        today=data["today"],
        first=data["first"],
        cells={tuple(k): Protected(v, limit, secondary) for k, v, secondary in data["cells"]},
        areas={a[1]: AreaInfo(a[0], a[1], a[2], a[3], a[4], a[5], a[6], tuple(a[7]), tuple(a[8])) for a in data["areas"]},
        baselines={code: {(d, c): n for d, c, n in rows} for code, rows in data["baselines"].items()},
        kinds=dict(data["kinds"]),
        consultation_kinds=tuple(data["consultation_kinds"]),
        consultations=tuple(lookups.ConsultationRef(*c) for c in data["consultations"]),
        limit=limit,
        content={
            slug: ContentShape(
                tuple(QuestionShape(q[0], q[1], q[2], q[3], tuple(tuple(o) for o in q[4])) for q in shape["questions"]),
                tuple(tuple(t) for t in shape["top_ideas"]),
            )
            for slug, shape in data["content"].items()
        },
        medians={tuple(k): v for k, v in data["medians"]},
    )


def store(pub: Publication) -> StoredPublication:
    """Store a publication and drop all but the newest KEEP. One transaction."""
    row = StoredPublication(built_at=pub.built_at, payload=dumps(pub))
    db.session.add(row)
    db.session.flush()
    keep = select(StoredPublication.id).order_by(StoredPublication.built_at.desc(), StoredPublication.id.desc()).limit(KEEP)
    db.session.execute(delete(StoredPublication).where(StoredPublication.id.not_in(keep.scalar_subquery())))
    db.session.commit()
    return row


def newest_built_at() -> datetime | None:
    return db.session.execute(select(StoredPublication.built_at).order_by(StoredPublication.built_at.desc()).limit(1)).scalar()


def load_newest() -> Publication | None:
    payload = db.session.execute(
        select(StoredPublication.payload).order_by(StoredPublication.built_at.desc(), StoredPublication.id.desc()).limit(1)
    ).scalar()
    return loads(payload) if payload is not None else None
