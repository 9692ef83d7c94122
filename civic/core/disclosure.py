"""Statistical disclosure control: the one gate every published count passes through.

Rule (ONS "10 threshold" practice): a count from 1 to ``threshold - 1`` is not published; it is
shown as "fewer than 10". Zero is published (an empty group discloses nobody). Shares and rates
computed from a suppressed count, or from a total below the threshold, are withheld.

Secondary suppression: when cells add up to a published total, a single suppressed cell could
be recovered by subtraction, so the next smallest published non-zero cell is suppressed as well.
If the total itself is below the threshold, every cell and the total are suppressed.

``protect_counts`` handles one additive group (categories and their total). Dashboards with
several filters build on it (see ``civic.dashboards``) so that no combination of published
figures recovers a suppressed one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from flask import current_app, has_app_context

DEFAULT_THRESHOLD = 10


def threshold() -> int:
    if has_app_context():
        return int(current_app.config.get("DISCLOSURE_THRESHOLD", DEFAULT_THRESHOLD))
    return DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Protected:
    """A count as it may be published: ``value`` is None when suppressed."""

    value: int | None
    limit: int = DEFAULT_THRESHOLD

    @property
    def suppressed(self) -> bool:
        return self.value is None

    @property
    def label(self) -> str:
        return f"fewer than {self.limit}" if self.value is None else f"{self.value:,}"

    def __str__(self) -> str:
        return self.label


def protect_count(count: int, limit: int | None = None) -> Protected:
    """One count on its own (no published total to subtract it from)."""
    limit = threshold() if limit is None else limit
    return Protected(None if 0 < count < limit else count, limit)


def protect_counts(
    counts: Mapping[Hashable, int], total: int | None = None, limit: int | None = None
) -> tuple[dict[Hashable, Protected], Protected | None]:
    """Protect one additive group of cells and (if given) the total they add up to.

    Returns the protected cells (same keys, same order) and the protected total.
    """
    limit = threshold() if limit is None else limit
    if total is not None and 0 < total < limit:
        return {k: Protected(None if v else 0, limit) for k, v in counts.items()}, Protected(None, limit)
    suppressed = {k for k, v in counts.items() if 0 < v < limit}
    additive = total is not None and total == sum(counts.values())
    if additive and len(suppressed) == 1:
        # The total minus the published cells would give the one suppressed cell away.
        candidates = sorted((v, str(k), k) for k, v in counts.items() if v > 0 and k not in suppressed)
        if candidates:
            suppressed.add(candidates[0][2])
    cells = {k: Protected(None if k in suppressed else v, limit) for k, v in counts.items()}
    protected_total = None if total is None else Protected(total, limit)
    return cells, protected_total


def share(part: Protected, whole: Protected | int | None, places: int = 1) -> float | None:
    """A percentage, or None when either side is suppressed or the whole is below the threshold."""
    whole_value = whole.value if isinstance(whole, Protected) else whole
    limit = part.limit
    if part.value is None or whole_value is None or whole_value < limit:
        return None
    return round(100 * part.value / whole_value, places)
