"""The publication as stored JSON, so that one worker builds it and every app server reads it.

``flask dashboards refresh`` builds the publication and stores it (``--loop``: every
``DASHBOARD_REFRESH_SECONDS``, keeping the last few). With ``DASHBOARD_STORED_PUBLICATION`` set,
app servers read the newest stored one instead of building their own (see
``queries.current_publication``); no request then pays for a build. JSON, not pickle: the
database is not trusted to hand the app code to run.

The cells are stored as one JSON object from an encoded key to an encoded value
(``StoredCells``), so that loading a publication is one ``json.loads`` and nothing per cell
in Python: each app server loads every new publication while serving pages, and at the metro
tier building half a million key tuples and ``Protected`` objects stalled its threads for
seconds. A cell becomes a ``Protected`` when a page asks for it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import delete, select

from civic.core.disclosure import Protected
from civic.dashboards import lookups
from civic.dashboards.models import StoredPublication
from civic.dashboards.queries import AreaInfo, ContentShape, Publication, QuestionShape
from civic.extensions import db

KEEP = 3  # stored publications kept (the newest is read; older ones are for a reader mid-load)
FORMAT = 2  # the layout of the stored JSON; a stored publication of another layout is not read

_SEP = "\x1f"
_SUPPRESSED, _WITHHELD = -1, -2  # a value "fewer than the threshold", a value withheld as a partner


def encode_key(key: tuple) -> str:
    """A cell key as a string: each part tagged with its type, so "3" and 3 stay apart."""
    parts = []
    for part in key:
        if part is None:
            parts.append("~")
        elif type(part) is int:
            parts.append(f"#{part}")
        elif type(part) is str and _SEP not in part:
            parts.append("'" + part)
        else:
            raise ValueError(f"a cell key part cannot be stored: {part!r}")
    return _SEP.join(parts)


def decode_key(text: str) -> tuple:
    return tuple(None if p == "~" else int(p[1:]) if p[0] == "#" else p[1:] for p in text.split(_SEP))


def _encode_value(cell: Protected) -> int:
    if cell.value is not None:
        if cell.secondary or cell.value < 0:
            raise ValueError(f"a published cell cannot be stored: {cell!r}")
        return cell.value
    return _WITHHELD if cell.secondary else _SUPPRESSED


class StoredCells(Mapping):
    """The protected cells of a stored publication, as loaded: key -> ``Protected`` on demand."""

    def __init__(self, encoded: dict[str, int], limit: int):
        self._encoded = encoded
        self._limit = limit

    def __getitem__(self, key: tuple) -> Protected:
        try:
            value = self._encoded[encode_key(key)]
        except ValueError:
            raise KeyError(key) from None
        if value >= 0:
            return Protected(value, self._limit)
        return Protected(None, self._limit, secondary=value == _WITHHELD)

    def __contains__(self, key) -> bool:
        try:
            return encode_key(key) in self._encoded
        except (ValueError, TypeError):
            return False

    def __iter__(self) -> Iterator[tuple]:
        return (decode_key(k) for k in self._encoded)

    def __len__(self) -> int:
        return len(self._encoded)


def dumps(pub: Publication) -> bytes:
    data = {
        "format": FORMAT,
        "built_at": pub.built_at.isoformat(),
        "today": pub.today,
        "first": pub.first,
        "limit": pub.limit,
        "cells": {encode_key(k): _encode_value(v) for k, v in pub.cells.items()},
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


def loads(payload: bytes) -> Publication | None:
    """The stored publication, or None when it was stored in another layout (by an older or
    newer release: the worker stores a current one within a refresh)."""
    data = json.loads(zlib.decompress(payload))
    if data.get("format") != FORMAT:
        return None
    limit = data["limit"]
    return Publication(
        built_at=datetime.fromisoformat(data["built_at"]),
        today=data["today"],
        first=data["first"],
        cells=StoredCells(data["cells"], limit),
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
