"""Consultations as the dashboards see them, through a lookup the consultations domain plugs in.

Until it does, there are none: the consultation filter offers nothing and
``/dashboard/consultations/<slug>`` answers 404. To wire it, the consultations domain calls
``set_consultation_lookup`` with two functions: one listing every consultation the dashboards
may show, one finding a consultation by its slug. Activity sources give ``consultation_id``;
the dashboards match it to ``ConsultationRef.id``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsultationRef:
    id: int
    slug: str
    title: str


_list: Callable[[], Iterable[ConsultationRef]] = lambda: ()  # noqa: E731 - the default lookup finds nothing
_find: Callable[[str], ConsultationRef | None] = lambda slug: None  # noqa: E731


def set_consultation_lookup(
    list_all: Callable[[], Iterable[ConsultationRef]], find: Callable[[str], ConsultationRef | None] | None = None
) -> None:
    """Plug in the consultations: ``list_all()`` and (optionally, else searched in the list) ``find(slug)``."""
    global _list, _find
    _list = list_all
    _find = find or (lambda slug: next((c for c in list_all() if c.slug == slug), None))


def reset_consultation_lookup() -> None:
    set_consultation_lookup(lambda: (), lambda slug: None)


def all_consultations() -> list[ConsultationRef]:
    return sorted(_list(), key=lambda c: (c.title.lower(), c.slug))


def consultation_by_slug(slug: str) -> ConsultationRef | None:
    return _find(slug)
