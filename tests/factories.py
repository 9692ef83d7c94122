"""Test data. Free text carries markup by default so that escaping is always exercised."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from civic.accounts.models import User, UserRole
from civic.accounts.services import hash_password
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.core.models import utcnow
from civic.extensions import db
from tests.conftest import PASSWORD

XSS = '<script>alert("x")</script>'
_counter = itertools.count(1)


def square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Geography:
    authority: Area
    boroughs: list[Area] = field(default_factory=list)
    wards: list[Area] = field(default_factory=list)


def build_geography(wards_per_borough: int = 2) -> Geography:
    """An authority with two boroughs of two wards each, with boundaries and baselines."""
    authority = Area(level=AreaLevel.AUTHORITY, gss_code="E47900001", name="Testshire Combined Authority")
    geo = Geography(authority)
    db.session.add(authority)
    for b in range(2):
        borough = Area(level=AreaLevel.DISTRICT, gss_code=f"E0890000{b + 1}", name=f"Borough {b + 1}")
        db.session.add(borough)
        borough.parent = authority
        geo.boroughs.append(borough)
        for w in range(wards_per_borough):
            n = b * wards_per_borough + w + 1
            ward = Area(
                level=AreaLevel.WARD,
                gss_code=f"E0590{n:04d}",
                name=f"Ward {n} {XSS}" if n == 1 else f"Ward {n}",
                boundary=json.dumps(square(-2.3 + 0.01 * n, 53.4)),
                population=10000 + n,
                adult_population=8000 + n,
            )
            db.session.add(ward)
            ward.parent = borough
            ward.baselines = [
                AreaBaseline(dimension="sex", category="female", count=5100, source="test"),
                AreaBaseline(dimension="sex", category="male", count=4900 + n, source="test"),
            ]
            geo.wards.append(ward)
    db.session.commit()
    return geo


def make_user(*roles: str, ward: Area | None = None, verified: bool = True, password: str = PASSWORD, **kwargs) -> User:
    n = next(_counter)
    user = User(
        email=kwargs.pop("email", f"person{n}@example.org"),
        display_name=kwargs.pop("display_name", f"Person {n} {XSS}"),
        password_hash=hash_password(password),
        email_verified_at=utcnow() if verified else None,
        ward_id=ward.id if ward else None,
        **kwargs,
    )
    for role in roles or ("resident",):
        user.roles.append(UserRole(role=role, area_id=ward.id if role == "councillor" and ward else None))
    db.session.add(user)
    db.session.commit()
    return user
