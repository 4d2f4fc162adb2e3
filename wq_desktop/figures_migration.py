"""Schema 6: existing areas, rates and amounts become figures of record (figures.py).

Files written before schema 6 kept parcel and measure areas with ~15 decimals and amounts from
the unrounded area. Each record is rewritten through the store's own write path (validation
derives the figure of record, the amount and the history entry, and the change is queued for
sync), so the history shows who changed what: the user "数据结构升级", old value and new.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from . import figures
from .errors import WqError

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)


def _is_record(value: float | None) -> bool:
    return value is None or figures.area_of_record(value) == figures.to_decimal(value)


def _measure_targets(parcel_area: Decimal, measures: list[tuple[str, float]]) -> dict[str, Decimal]:
    """Each measure's area of record; when rounding every part would exceed the parcel (3 × 3.335
    of a 10.01 parcel gives 10.02), the largest part gives up the excess."""
    targets = {uuid: figures.area_of_record(area) for uuid, area in measures}
    excess = figures.total(targets.values()) - parcel_area
    if excess > 0:
        largest = max(targets, key=lambda u: targets[u])
        targets[largest] -= excess
    return targets


def round_figures_of_record(store: Store) -> None:
    """Rewrite every live parcel and measure whose area is not yet a figure of record, through
    `store` (writing inside the migration's transaction)."""
    conn = store.conn
    parcels = conn.execute(
        "SELECT uuid, area_mu, geometry IS NOT NULL FROM parcel WHERE deleted=0").fetchall()
    measures: dict[str, list[tuple[str, int, float, float | None]]] = defaultdict(list)
    for uuid, parcel, year, area, rate in conn.execute(
            "SELECT uuid, parcel, year, area_mu, subsidy_rate FROM measure WHERE deleted=0"):
        measures[parcel].append((uuid, year, area, rate))
    from .geo import polygons

    failed = 0
    for uuid, area, has_geometry in parcels:
        own = measures.get(uuid, [])
        if has_geometry:
            shape = polygons.from_wkb(conn.execute("SELECT geometry FROM parcel WHERE uuid=?",
                                              (uuid,)).fetchone()[0])
            target = figures.area_of_record(polygons.area_mu(shape))
        else:
            target = figures.area_of_record(area)
        if figures.to_decimal(area) == target and all(
                _is_record(a) and (r is None or figures.rate_of_record(r) == figures.to_decimal(r))
                for _, _, a, r in own):
            continue
        by_year: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for m_uuid, year, m_area, _ in own:
            by_year[year].append((m_uuid, m_area))
        new_areas: dict[str, Decimal] = {}
        for parts in by_year.values():
            new_areas.update(_measure_targets(target, parts))
        old_areas = {m_uuid: figures.to_decimal(m_area) for m_uuid, _, m_area, _ in own}
        # Shrinking parts first, then the parcel, then growing parts: every step stays valid.
        order = sorted(new_areas, key=lambda u: new_areas[u] - old_areas[u])
        shrink = [u for u in order if new_areas[u] <= old_areas[u]]
        grow = [u for u in order if new_areas[u] > old_areas[u]]
        try:
            # A savepoint: one parcel's rewrite happens whole or not at all.
            conn.execute("SAVEPOINT round_parcel")
            for m_uuid in shrink:
                store.update("measure", m_uuid, {"area_mu": figures.stored(new_areas[m_uuid])})
            store.update("parcel", uuid, {} if has_geometry else {"area_mu": figures.stored(target)})
            for m_uuid in grow:
                store.update("measure", m_uuid, {"area_mu": figures.stored(new_areas[m_uuid])})
            conn.execute("RELEASE round_parcel")
        except WqError as err:
            # A record pulled with a warning may break a rule: it keeps its value and the data
            # checks show it; the file still opens.
            conn.execute("ROLLBACK TO round_parcel")
            conn.execute("RELEASE round_parcel")
            failed += 1
            log.warning("schema 6: parcel %s not rounded: %s", uuid, type(err).__name__)
    if failed:
        log.warning("schema 6: %d parcels keep unrounded areas (rules broken before the upgrade)",
                    failed)
