"""Export a year's parcels for the natural-resources bureau: GeoPackage, Shapefile, GeoJSON, 坐标TXT.

Attributes: parcel code, village, household name, land attribute, the year's measure and areas,
subsidy, and the 三调 keys (BSM, TBBH, DLBM, DLMC, TBMJ, QSXZ, ZLDWDM) under their 三调 names so
the bureau can join the result back to its 图斑. ID numbers and phone numbers are never exported.

Field names: GeoPackage and GeoJSON carry the Chinese names. A .dbf field name is at most 10 bytes
(3 Chinese characters in UTF-8, and GDAL would cut them mid-character), so the Shapefile uses the
short ASCII names of EXPORT_FIELDS and a 字段说明.txt beside it says what each one means.

Conventions the bureau's tools expect, chosen per export: Shapefile text in GBK (with a .cpg saying
so) or UTF-8; coordinates in EPSG:4517 (zone prefix 29, the 三调 convention) or EPSG:4538.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from . import coord_txt
from .errors import WqError
from .geo import polygons, projection
from .gisfiles import GIS_FORMATS, ParcelLayer, parcel_layer
from .model import MeasureKind
from .schema import SANDIAO_FIELDS
from .store import Store

# The CRS each format is written in. GeoJSON consumers expect longitude/latitude (RFC 7946);
# CGCS2000 and WGS84 agree to well under a metre, so no datum shift is applied.
GEOJSON_CRS = "EPSG:4326"
TXT_CRS = "EPSG:4517"
LAYER_NAME = "地块"
SHP_FIELD_NOTE = "字段说明.txt"
# What the dialog and the CLI offer: (key, what the user reads).
SHP_ENCODINGS = {"GBK": "GBK（多数国土软件默认）", "UTF-8": "UTF-8"}
EXPORT_CRS = {"EPSG:4517": "EPSG:4517（带“29”带号，三调成果惯例）", "EPSG:4538": "EPSG:4538（不带带号）"}


@dataclass(frozen=True)
class ExportField:
    short: str  # ASCII, ≤ 10 bytes: the .dbf name
    label: str  # the Chinese name (GeoPackage, GeoJSON, 字段说明)
    kind: str  # "text" or "real"
    value: Callable[[ParcelLayer, int], object]


def _text(attr: str) -> Callable[[ParcelLayer, int], object]:
    return lambda layer, i: getattr(layer, attr)[i]


def _real(attr: str) -> Callable[[ParcelLayer, int], object]:
    return lambda layer, i: round(float(np.nan_to_num(getattr(layer, attr)[i])), 4)


# The documented mapping; the importer recognises both names (gis_import.WQ_EXPORT_PRESET).
EXPORT_FIELDS: tuple[ExportField, ...] = (
    ExportField("DKBM", "地块编号", "text", _text("code")),
    ExportField("CUNDM", "村代码", "text", _text("village_code")),
    ExportField("CUNMC", "村名称", "text", _text("village_name")),
    ExportField("HZXM", "户主姓名", "text", _text("household")),
    ExportField("JYZLX", "经营者类型", "text", _text("operator_kind")),
    # The record key (not personal data): re-import links the same household even when two share a name.
    ExportField("JYZBS", "经营者标识", "text", lambda layer, i: layer.operator[i] or ""),
    ExportField("TDSX", "土地属性", "text", _text("land_attribute")),
    ExportField("XDM", "小地名", "text", _text("place_name")),
    ExportField("DZ", "东至", "text", _text("east")),
    ExportField("NZ", "南至", "text", _text("south")),
    ExportField("XZ", "西至", "text", _text("west")),
    ExportField("BZ", "北至", "text", _text("north")),
    ExportField("ZZZW", "种植作物", "text", _text("crop")),
    ExportField("GGSY", "灌溉水源", "text", _text("water_source")),
    ExportField("ND", "年度", "text", lambda layer, i: str(layer.year)),
    ExportField("CS", "措施", "text", _text("category")),
    ExportField("DKMJ", "地块面积亩", "real", _real("area_mu")),
    ExportField("ZZMJ", "实际种植亩", "real", _real("planted_mu")),
    ExportField("TJMJ", "退减灌溉亩", "real", _real("retired_mu")),
    ExportField("XGMJ", "休耕轮作亩", "real", _real("fallow_mu")),
    ExportField("BZJE", "补助金额元", "real", _real("subsidy")),
    # The 三调 keys under their own names in every format (ASCII, so they fit a .dbf as they are).
    *(ExportField(name.upper(), name.upper(), "real" if kind == "real" else "text",
                  _real(name) if kind == "real" else _text(name)) for name, kind, _ in SANDIAO_FIELDS),
)


@dataclass
class ExportResult:
    path: Path
    fmt: str
    year: int
    written: int
    unmapped: list[str] = field(default_factory=list)  # codes of parcels without a geometry
    extra_files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"已导出 {self.year} 年度 {self.written} 个地块到 {self.path}"]
        if self.extra_files:
            out.append("同时写出：" + "、".join(p.name for p in self.extra_files))
        if self.unmapped:
            shown = "、".join(self.unmapped[:10]) + ("等" if len(self.unmapped) > 10 else "")
            out.append(f"提示：{len(self.unmapped)} 个地块尚无图形，未导出（{shown}）。")
        return out


def _default_year(store: Store) -> int:
    row = store.conn.execute("SELECT max(year) FROM measure WHERE deleted=0").fetchone()
    return int(row[0]) if row and row[0] else date.today().year


def _village_uuid(store: Store, code: str | None) -> str | None:
    if not code:
        return None
    row = store.conn.execute("SELECT uuid FROM village WHERE code=? AND deleted=0",
                             (code.strip(),)).fetchone()
    if row is None:
        raise WqError(f"没有村代码为 {code} 的村。")
    return row[0]


_SUFFIXES = {"gpkg": (".gpkg",), "shp": (".shp",), "geojson": (".geojson", ".json"), "txt": (".txt",)}


def _target(path: Path, fmt: str) -> Path:
    if path.suffix.lower() not in _SUFFIXES[fmt]:
        path = path.with_name(path.name + _SUFFIXES[fmt][0])
    if path.is_dir():
        raise WqError(f"导出路径是一个文件夹：{path}")
    if not path.parent.is_dir():
        raise WqError(f"导出文件夹不存在：{path.parent}")
    return path


def export_parcels(store: Store, fmt: str, path: Path, *, year: int | None = None,
                   village_code: str | None = None, only_retired: bool = False,
                   encoding: str = "UTF-8", crs: str | None = None) -> ExportResult:
    """Write the year's parcels to `path` in `fmt` (gpkg, shp, geojson, txt); replaces the file.

    encoding: the Shapefile's text (GBK or UTF-8). crs: EPSG:4517 or EPSG:4538 for Shapefile and
    GeoPackage (default: the store's); GeoJSON is always 经纬度 and 坐标TXT always zone-prefixed."""
    fmt = (fmt or "").lower()
    if fmt not in GIS_FORMATS:
        raise WqError(f"不支持的导出格式：{fmt}（可选：{'、'.join(GIS_FORMATS)}）")
    encoding = (encoding or "UTF-8").upper()
    if encoding not in SHP_ENCODINGS:
        raise WqError(f"不支持的文字编码：{encoding}（可选：{'、'.join(SHP_ENCODINGS)}）")
    crs = (crs or store.crs).upper().replace(" ", "")
    if crs not in EXPORT_CRS and crs != store.crs:
        raise WqError(f"不支持的导出坐标系：{crs}（可选：{'、'.join(EXPORT_CRS)}）")
    year = year or _default_year(store)
    layer = parcel_layer(store, year, _village_uuid(store, village_code))
    keep = [i for i in range(len(layer)) if layer.wkb[i] is not None
            and (not only_retired or layer.category[i] in (MeasureKind.RETIRED, MeasureKind.FALLOW))]
    unmapped = [layer.code[i] for i in range(len(layer)) if layer.wkb[i] is None]
    if not keep:
        raise WqError(f"{year} 年度没有可导出的地块图形。")
    path = _target(path, fmt)
    result = ExportResult(path, fmt, year, len(keep), unmapped)
    if fmt == "txt":
        _write_txt(store, layer, keep, path)
    else:
        _write_ogr(store, layer, keep, path, fmt, result, encoding=encoding, crs=crs)
    return result


def _write_txt(store: Store, layer: ParcelLayer, keep: list[int], path: Path) -> None:
    blocks = []
    for i in keep:
        shape = polygons.from_wkb(layer.wkb[i])
        parts = list(shape.geoms) if shape.geom_type == "MultiPolygon" else [shape]
        for n, part in enumerate(parts, 1):
            code = layer.code[i] if len(parts) == 1 else f"{layer.code[i]}-{n}"
            shape_in = (projection.transform(part, store.crs, "EPSG:4538") if store.crs != "EPSG:4538"
                        else part)
            blocks.append(coord_txt.parcel_lines(shape_in, code, layer.household[i] or layer.place_name[i],
                                                 layer.category[i], layer.dlbm[i]))
    township = store.conn.execute("SELECT name FROM township WHERE deleted=0 LIMIT 1").fetchone()
    coord_txt.write_txt(path, blocks, (township[0] + "人民政府") if township else "")


def _remove_existing(path: Path, fmt: str) -> None:
    if fmt == "shp":
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"):
            path.with_suffix(suffix).unlink(missing_ok=True)
    else:
        path.unlink(missing_ok=True)


def _write_ogr(store: Store, layer: ParcelLayer, keep: list[int], path: Path, fmt: str,
               result: ExportResult, *, encoding: str, crs: str) -> None:
    # pyogrio (GDAL, ~50 MiB resident) is loaded when a file is written, not with the map.
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    shapes = shapely.from_wkb([layer.wkb[i] for i in keep])
    if fmt == "geojson":
        crs = GEOJSON_CRS
    if crs != store.crs:
        shapes = np.array([projection.transform(s, store.crs, crs) for s in shapes], dtype=object)
    multi = bool((shapely.get_type_id(shapes) == 6).any())
    if multi:  # a layer has one geometry type: promote so Shapefile readers see one kind
        shapes = np.array([s if s.geom_type == "MultiPolygon" else shapely.MultiPolygon([s]) for s in shapes],
                          dtype=object)
    wkb = np.array(shapely.to_wkb(shapes, output_dimension=2), dtype=object)
    names = [f.short if fmt == "shp" else f.label for f in EXPORT_FIELDS]
    data = []
    for f in EXPORT_FIELDS:
        values = [f.value(layer, i) for i in keep]
        data.append(np.array(values, dtype=float if f.kind == "real" else object))
    text_encoding = None
    if fmt == "shp":
        text_encoding = encoding
        if encoding == "GBK":
            _check_gbk(EXPORT_FIELDS, data)
    options: dict[str, object] = {}
    if fmt == "geojson":
        options["layer_options"] = {"COORDINATE_PRECISION": "9"}
    driver = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}[fmt]
    _remove_existing(path, fmt)
    try:
        pyogrio.raw.write(path, wkb, data, names, layer=LAYER_NAME if fmt == "gpkg" else path.stem,
                          driver=driver, geometry_type="MultiPolygon" if multi else "Polygon",
                          crs=crs, encoding=text_encoding, **options)
    except (DataSourceError, DataLayerError, OSError, UnicodeEncodeError) as err:
        _remove_existing(path, fmt)
        raise WqError(f"写出 {path.name} 失败：{err}") from None
    if fmt == "shp":
        note = path.with_name(f"{path.stem}_{SHP_FIELD_NOTE}")
        note.write_text("\n".join(["Shapefile 字段名（.dbf 限10字节）与中文含义：",
                                   *(f"{f.short}\t{f.label}" for f in EXPORT_FIELDS)]) + "\n",
                        encoding="utf-8-sig")
        result.extra_files += [path.with_suffix(s) for s in (".prj", ".cpg", ".dbf", ".shx")] + [note]


def _check_gbk(fields: tuple[ExportField, ...], data: list[np.ndarray]) -> None:
    """GBK cannot hold every character (rare Uyghur/Kazakh transliterations): say which, before
    GDAL writes a file with question marks."""
    for f, column in zip(fields, data, strict=True):
        if f.kind != "text":
            continue
        for value in column:
            try:
                str(value or "").encode("gbk")
            except UnicodeEncodeError:
                raise WqError(f"“{f.label}”中的“{value}”含有GBK编码无法表示的字符，"
                              "请改用UTF-8编码导出Shapefile。") from None
