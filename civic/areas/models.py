"""Areas with their ONS codes, boundaries and population baselines."""

from __future__ import annotations

import json
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.core.models import TimestampMixin
from civic.extensions import db


class AreaLevel(StrEnum):
    AUTHORITY = "authority"  # a combined authority (E47…) or a single council
    DISTRICT = "district"  # a local authority district / borough (E06…, E07…, E08…, E09…)
    WARD = "ward"  # an electoral ward (E05…)

    @property
    def label(self) -> str:
        return {"authority": "Authority", "district": "Borough", "ward": "Ward"}[self.value]


class Area(TimestampMixin, db.Model):
    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84 lon/lat), coordinates rounded on import.
    boundary: Mapped[str | None] = mapped_column(Text)
    # Usual residents (all ages) and residents aged 16 and over, from the census.
    population: Mapped[int | None] = mapped_column(Integer)
    adult_population: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.name")
    baselines: Mapped[list[AreaBaseline]] = relationship(back_populates="area", cascade="all, delete-orphan")

    @property
    def level_label(self) -> str:
        return AreaLevel(self.level).label

    @property
    def geometry(self) -> dict | None:
        return json.loads(self.boundary) if self.boundary else None

    def __repr__(self) -> str:
        return f"<Area {self.gss_code} {self.name}>"


class AreaBaseline(db.Model):
    """How many residents of an area fall in one census category (e.g. sex=female: 6,599)."""

    __tablename__ = "area_baseline"
    __table_args__ = (UniqueConstraint("area_id", "dimension", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    dimension: Mapped[str] = mapped_column(String(20))  # age_band | sex | ethnic_group | disability
    category: Mapped[str] = mapped_column(String(20))  # a value from accounts.demographics
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(120))

    area: Mapped[Area] = relationship(back_populates="baselines")


def wards_query():
    return select(Area).where(Area.level == AreaLevel.WARD).order_by(Area.name)
