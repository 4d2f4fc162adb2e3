"""Parcel vector data in and out of GIS files, and the per-year parcel layer the map draws.

The work is split by direction: gis_import.py (Shapefile/GeoPackage/GeoJSON/FileGDB/坐标TXT into
the store, with a preview first), gis_export.py (the year's parcels out to GIS files) and
coord_txt.py (the natural-resources 坐标TXT text format). This module holds what both the map and
the export read: one query for a year's parcels with household and measure, the categories and
formats they share, and the villages the import and new-parcel dialogs offer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from itertools import chain
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
    """The columns with their rows in layer order (see _order), reordered one at a time: a
    second copy of all 33 columns at once was ~28 MiB more at city size."""
    order = _order(cols[3], cols[1])
    if order is not None:
        for k, col in enumerate(cols):
            cols[k] = [col[i] for i in order]
    return cols


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


def _columns(cursor: Any, width: int, unique: tuple[int, ...], known: Iterable[Any] = ()) -> list[list[Any]]:
    """The cursor's rows as columns, read row by row (no second copy of the whole result), each
    repeated text one shared object: a city's 100,000 parcels repeat their village, household,
    land attribute and crop thousands of times, and one str per cell held ~300 MiB. The `unique`
    columns are not collected for sharing, but a value equal to one of `known` is taken from it."""
    cols: list[list[Any]] = [[] for _ in range(width)]
    shared: dict[Any, Any] = {value: value for value in known}
    share, seen = shared.setdefault, shared.get
    plain = [(i, cols[i].append) for i in unique]
    interned = [(i, cols[i].append) for i in range(width) if i not in unique]
    for row in cursor:
        for i, append in plain:
            value = row[i]
            append(seen(value, value))
        for i, append in interned:
            value = row[i]
            append(share(value, value) if type(value) is str else value)
    return cols


def parcel_layer(store: Store, year: int, village: str | None = None, *,
                 parcel_uuids: list[str] | None = None, with_geometry: bool = True,
                 like: ParcelLayer | None = None) -> ParcelLayer:
    """The year's parcels (one village, or the whole store when village is None), by village
    code and parcel code. The measures are summed for the parcels asked for only: one saved
    parcel re-read by the map costs a lookup, not the year's measures of the whole township.
    `like`: a layer held meanwhile (the map's, while another year is read): a parcel's UUID
    text and outline equal to one of it are its objects, and each column equal to its is its
    column (see _sharing_columns), so a year change holds the new year's measures, not a second
    copy of the city (~80 MiB)."""
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
    known = chain(like.uuid, like.wkb) if like is not None else ()
    cols = _layer_order(_columns(cursor, 26 + len(SANDIAO_FIELDS), (0, 25), known))  # uuid, geometry
    n = len(cols[0])

    def take(i: int) -> list[Any]:
        """Column i, no longer held here: each is let go as soon as the layer's own is made."""
        col, cols[i] = cols[i], []
        return col

    def text(i: int) -> list[str]:
        return [v or "" for v in take(i)]

    def num(i: int) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in take(i)], dtype=float)

    planted, retired, fallow = num(17), num(18), num(19)
    bbox = np.column_stack([num(21), num(22), num(23), num(24)]) if n else np.empty((0, 4))
    layer = ParcelLayer(
        year=year, uuid=take(0), code=text(1), village=take(2), village_code=text(3),
        village_name=text(4), operator=take(5), household=text(6), operator_kind=text(7),
        land_attribute=text(8), place_name=text(9), crop=text(10), water_source=text(11),
        east=text(12), south=text(13), west=text(14), north=text(15), area_mu=num(16),
        planted_mu=planted, retired_mu=retired, fallow_mu=fallow, subsidy=num(20),
        category=[measure_category(r, f, p) for r, f, p in zip(retired, fallow, planted, strict=True)],
        bbox=bbox, wkb=take(25),
        **{name: (num(26 + k) if kind == "real" else text(26 + k))
           for k, (name, kind, _) in enumerate(SANDIAO_FIELDS)})
    return layer if like is None else _sharing_columns(layer, like)


def _sharing_columns(layer: ParcelLayer, like: ParcelLayer) -> ParcelLayer:
    """`layer` with every column equal to `like`'s replaced by `like`'s own: the same parcels
    read for another year share all but the year's measures. A shared column is one list or
    array: patch rows of one of the two layers only once the other is no longer used (the map
    drops its old layer when the new one is shown)."""
    for f in fields(ParcelLayer):
        new, old = getattr(layer, f.name), getattr(like, f.name)
        if isinstance(new, np.ndarray):
            same = new.shape == old.shape and np.array_equal(new, old, equal_nan=True)
        else:
            same = isinstance(new, list) and new == old
        if same:
            setattr(layer, f.name, old)
    return layer


def village_choices(store: Store) -> list[tuple[str, str, str]]:
    """(uuid, code, name) of every live village, by code: for the new-parcel and import dialogs."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT uuid, code, name FROM village WHERE deleted=0 ORDER BY code")]
