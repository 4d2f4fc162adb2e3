"""Parcel vector data in and out of GIS files, and the per-year parcel layer the map draws.

The work is split by direction: gis_import.py (Shapefile/GeoPackage/GeoJSON/FileGDB/坐标TXT into
the store, with a preview first), gis_export.py (the year's parcels out to GIS files) and
coord_txt.py (the natural-resources 坐标TXT text format). This module holds what both the map and
the export read: one query for a year's parcels with household and measure, the categories and
formats they share, and the villages the import and new-parcel dialogs offer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .model import MeasureKind
from .schema import SANDIAO_FIELDS
from .store import Store

__all__ = [
    "GIS_FORMATS",
    "UNVERIFIED",
    "ParcelLayer",
    "measure_category",
    "merge_layer",
    "parcel_layer",
]

# What the map colours a parcel by when no measure is recorded for the year.
UNVERIFIED = "未核实"
# The legend order: most important first.
CATEGORIES = (MeasureKind.RETIRED.value, MeasureKind.FALLOW.value, MeasureKind.PLANTED.value, UNVERIFIED)

GIS_FORMATS = ("gpkg", "shp", "geojson", "txt")


def measure_category(retired_mu: float, fallow_mu: float, planted_mu: float) -> str:
    """One colour per parcel: any retired area makes it 退减灌溉, then 休耕轮作, then 实际种植."""
    if retired_mu > 0:
        return MeasureKind.RETIRED.value
    if fallow_mu > 0:
        return MeasureKind.FALLOW.value
    if planted_mu > 0:
        return MeasureKind.PLANTED.value
    return UNVERIFIED


@dataclass
class ParcelLayer:
    """A year's live parcels as parallel columns (fast to filter with numpy for 100,000 rows).

    `wkb` holds None for parcels not yet mapped; their bbox rows are NaN.
    """

    year: int
    uuid: list[str]
    code: list[str]
    village: list[str]
    village_code: list[str]
    village_name: list[str]
    operator: list[str | None]
    household: list[str]
    operator_kind: list[str]
    land_attribute: list[str]
    place_name: list[str]
    crop: list[str]
    water_source: list[str]
    east: list[str]
    south: list[str]
    west: list[str]
    north: list[str]
    area_mu: np.ndarray
    planted_mu: np.ndarray
    retired_mu: np.ndarray
    fallow_mu: np.ndarray
    subsidy: np.ndarray
    category: list[str]
    bbox: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    wkb: list[bytes | None]
    # 三调 keys (schema.SANDIAO_FIELDS), "" or NaN when absent: what the bureau joins results on.
    bsm: list[str]
    tbbh: list[str]
    dlbm: list[str]
    dlmc: list[str]
    tbmj: np.ndarray  # m², as the bureau's file had it
    qsxz: list[str]
    zldwdm: list[str]

    def __len__(self) -> int:
        return len(self.uuid)

    def index_of(self, parcel_uuid: str) -> int:
        return self.uuid.index(parcel_uuid)


_LAYER_SQL = """
SELECT p.uuid, p.code, p.village, v.code, v.name, p.operator, o.name, o.kind, p.land_attribute,
       p.place_name, p.crop, p.water_source, p.east, p.south, p.west, p.north, p.area_mu,
       coalesce(m.planted, 0), coalesce(m.retired, 0), coalesce(m.fallow, 0), coalesce(m.subsidy, 0),
       p.minx, p.miny, p.maxx, p.maxy, p.geometry, {sandiao}
FROM parcel p
JOIN village v ON v.uuid = p.village
LEFT JOIN operator o ON o.uuid = p.operator AND o.deleted = 0
LEFT JOIN (
    SELECT parcel,
           sum(CASE WHEN kind = ? THEN area_mu END) AS planted,
           sum(CASE WHEN kind = ? THEN area_mu END) AS retired,
           sum(CASE WHEN kind = ? THEN area_mu END) AS fallow,
           sum(subsidy_amount) AS subsidy
    FROM measure WHERE deleted = 0 AND year = ? {measures} GROUP BY parcel
) m ON m.parcel = p.uuid
WHERE p.deleted = 0 {extra}
"""
# Not ORDER BY v.code, p.code: SQLite would sort whole rows, outlines included, in a temp b-tree
# (~100 MB at city size); the rows are put in that order by their two keys (_layer_order).


def _layer_order(cols: list[list[Any]]) -> list[list[Any]]:
    """The columns with their rows in layer order (see _order)."""
    order = _order(cols[3], cols[1])
    return cols if order is None else [[col[i] for i in order] for col in cols]


def _order(village_codes: list[Any], codes: list[Any]) -> list[int] | None:
    """Positions of rows by village code, then parcel code (SQLite's BINARY order: code points);
    None when they are in that order already."""
    keys = [(v or "", c or "") for v, c in zip(village_codes, codes, strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return None if all(i == k for k, i in enumerate(order)) else order


def merge_layer(layer: ParcelLayer, fresh: ParcelLayer, asked: Collection[str]) -> ParcelLayer:
    """`layer` after the parcels `asked` for were read again into `fresh` (the same year): each
    one fresh holds replaces its row or is added, the others (deleted) leave; in layer order.
    What the map does with a few added or deleted parcels instead of reading the township again."""
    gone = set(asked)
    keep = [i for i, u in enumerate(layer.uuid) if u not in gone]
    columns: dict[str, Any] = {}
    for f in fields(ParcelLayer):
        if f.name == "year":
            continue
        old, new = getattr(layer, f.name), getattr(fresh, f.name)
        columns[f.name] = (np.concatenate([old[keep], new]) if isinstance(old, np.ndarray)
                           else [old[i] for i in keep] + list(new))
    order = _order(columns["village_code"], columns["code"])
    if order is not None:
        columns = {name: (col[order] if isinstance(col, np.ndarray) else [col[i] for i in order])
                   for name, col in columns.items()}
    return ParcelLayer(year=layer.year, **columns)


def _columns(cursor: Any, width: int, unique: tuple[int, ...]) -> list[list[Any]]:
    """The cursor's rows as columns, read row by row (no second copy of the whole result), each
    repeated text one shared object: a city's 100,000 parcels repeat their village, household,
    land attribute and crop thousands of times, and one str per cell held ~300 MiB."""
    cols: list[list[Any]] = [[] for _ in range(width)]
    shared: dict[str, str] = {}
    share = shared.setdefault
    plain = [cols[i].append for i in unique]
    interned = [(i, cols[i].append) for i in range(width) if i not in unique]
    for row in cursor:
        for append, i in zip(plain, unique, strict=True):
            append(row[i])
        for i, append in interned:
            value = row[i]
            append(share(value, value) if type(value) is str else value)
    return cols


def parcel_layer(store: Store, year: int, village: str | None = None, *,
                 parcel_uuids: list[str] | None = None, with_geometry: bool = True) -> ParcelLayer:
    """The year's parcels (one village, or the whole store when village is None), by village
    code and parcel code. The measures are summed for the parcels asked for only: one saved
    parcel re-read by the map costs a lookup, not the year's measures of the whole township."""
    extra, measures, params, measure_params = "", "", [], []
    if village is not None:
        extra += " AND p.village = ?"
        measures += " AND parcel IN (SELECT uuid FROM parcel WHERE village = ?)"
        params.append(village)
        measure_params.append(village)
    if parcel_uuids is not None:
        marks = ",".join("?" * len(parcel_uuids))
        extra += f" AND p.uuid IN ({marks})"
        measures += f" AND parcel IN ({marks})"
        params += parcel_uuids
        measure_params += parcel_uuids
    sql = _LAYER_SQL.format(extra=extra, measures=measures,
                            sandiao=", ".join(f"p.{name}" for name, _, _ in SANDIAO_FIELDS))
    if not with_geometry:
        sql = sql.replace("p.maxy, p.geometry", "p.maxy, NULL")
    cursor = store.conn.execute(sql, (MeasureKind.PLANTED.value, MeasureKind.RETIRED.value,
                                      MeasureKind.FALLOW.value, year, *measure_params, *params))
    cols = _layer_order(_columns(cursor, 26 + len(SANDIAO_FIELDS), unique=(0, 25)))  # uuid, geometry

    def text(i: int) -> list[str]:
        return [v or "" for v in cols[i]]

    def num(i: int) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in cols[i]], dtype=float)

    planted, retired, fallow = num(17), num(18), num(19)
    bbox = np.column_stack([num(21), num(22), num(23), num(24)]) if cols[0] else np.empty((0, 4))
    return ParcelLayer(
        year=year, uuid=list(cols[0]), code=text(1), village=list(cols[2]), village_code=text(3),
        village_name=text(4), operator=list(cols[5]), household=text(6), operator_kind=text(7),
        land_attribute=text(8), place_name=text(9), crop=text(10), water_source=text(11),
        east=text(12), south=text(13), west=text(14), north=text(15), area_mu=num(16),
        planted_mu=planted, retired_mu=retired, fallow_mu=fallow, subsidy=num(20),
        category=[measure_category(r, f, p) for r, f, p in zip(retired, fallow, planted, strict=True)],
        bbox=bbox, wkb=[bytes(b) if b is not None else None for b in cols[25]],
        **{name: (num(26 + k) if kind == "real" else text(26 + k))
           for k, (name, kind, _) in enumerate(SANDIAO_FIELDS)})


def village_choices(store: Store) -> list[tuple[str, str, str]]:
    """(uuid, code, name) of every live village, by code: for the new-parcel and import dialogs."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT uuid, code, name FROM village WHERE deleted=0 ORDER BY code")]
