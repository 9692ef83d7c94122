"""Reading the geography: wards with their boroughs, the tree, the map."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import aliased, defer, joinedload

from civic.areas.models import Area, AreaLevel
from civic.extensions import db


def wards_with_boroughs(*, boundaries: bool = False) -> list[Area]:
    """Every ward with its parent loaded, ordered by borough then ward name.

    Boundaries are loaded only when asked for: the ward lists of the registration and account
    forms must not pull every ward's outline (about 0.8 MB for Greater Manchester's generalised
    ones) from the database on each request. The borough's outline is never loaded here.
    """
    parent = aliased(Area)
    options = [joinedload(Area.parent).defer(Area.boundary)]
    if not boundaries:
        options.append(defer(Area.boundary))
    return list(
        db.session.execute(
            select(Area)
            .outerjoin(parent, Area.parent_id == parent.id)
            .options(*options)
            .where(Area.level == AreaLevel.WARD)
            .order_by(parent.name, Area.name)
        ).scalars()
    )


def area_by_code(gss_code: str) -> Area | None:
    return db.session.execute(select(Area).where(Area.gss_code == gss_code)).scalar_one_or_none()


def authorities() -> list[Area]:
    return list(db.session.execute(select(Area).where(Area.level == AreaLevel.AUTHORITY).order_by(Area.name)).scalars())


def districts() -> list[Area]:
    return list(db.session.execute(select(Area).where(Area.level == AreaLevel.DISTRICT).order_by(Area.name)).scalars())


def descendant_ward_ids(area: Area) -> list[int]:
    """The ids of the wards inside an area (the area itself if it is a ward)."""
    if area.level == AreaLevel.WARD:
        return [area.id]
    ids: list[int] = []
    frontier = [area.id]
    while frontier:
        rows = db.session.execute(select(Area.id, Area.level).where(Area.parent_id.in_(frontier))).all()
        frontier = [r.id for r in rows if r.level != AreaLevel.WARD]
        ids.extend(r.id for r in rows if r.level == AreaLevel.WARD)
    return ids


def ward_feature_collection(wards: list[Area]) -> dict:
    """GeoJSON for the wards that have a boundary; each feature's id is the GSS code."""
    features = [
        {"type": "Feature", "id": w.gss_code, "properties": {"name": w.name}, "geometry": json.loads(w.boundary)}
        for w in wards
        if w.boundary
    ]
    return {"type": "FeatureCollection", "features": features}


def area_tree() -> list[tuple[Area, list[tuple[Area, list[Area]]]]]:
    """Authorities → boroughs → wards, from one query, each level ordered by name."""
    areas = list(db.session.execute(select(Area).order_by(Area.name)).scalars())
    children: dict[int | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)
    tops = [a for a in areas if a.parent_id is None]
    return [(top, [(d, children.get(d.id, [])) for d in children.get(top.id, [])]) for top in tops]


def baselines_table(area: Area) -> list[dict]:
    """The area's census baselines by dimension: label, count and share, in census order."""
    from civic.accounts.demographics import DIMENSIONS

    by_dim: dict[str, dict[str, int]] = {}
    for b in area.baselines:
        by_dim.setdefault(b.dimension, {})[b.category] = b.count
    tables = []
    for key, dimension in DIMENSIONS.items():
        cells = by_dim.get(key)
        if not cells:
            continue
        total = sum(cells.values())
        rows = [
            {"label": label, "count": cells.get(value, 0), "share": (100 * cells.get(value, 0) / total) if total else None}
            for value, label in dimension.choices
        ]
        source = next((b.source for b in area.baselines if b.dimension == key), "")
        tables.append({"key": key, "title": dimension.question, "rows": rows, "total": total, "source": source})
    return tables
