"""Who may see the dashboards, and where each person lands first."""

from __future__ import annotations

from civic.core.permissions import Permission, has_permission


def can_view_dashboards(user) -> bool:
    return has_permission(user, Permission.DASHBOARDS_DASHBOARD_VIEW)


def default_area_code(user, areas) -> str | None:
    """A councillor's own ward first; otherwise the top area (the authority), if there is one."""
    ward_id = getattr(user, "councillor_area_id", None)
    if ward_id:
        for area in areas.values():
            if area.id == ward_id:
                return area.code
    tops = sorted((a for a in areas.values() if a.parent_code is None), key=lambda a: (-len(a.wards), a.name))
    return tops[0].code if tops else None
