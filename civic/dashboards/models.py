"""The stored publication: built by ``flask dashboards refresh``, read by every app server."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from civic.core.models import UTCDateTime
from civic.extensions import db


class StoredPublication(db.Model):
    """One protected publication (every cell already through disclosure control), as
    zlib-compressed JSON. Only protected values are stored: never a true small count."""

    __tablename__ = "dashboard_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
