"""Import parcels from Shapefile, GeoPackage, GeoJSON, File Geodatabase (.gdb) or 坐标TXT.

Three steps, so nothing is written before the user has seen what will happen:
  read_source(path)            the file's layer, fields, geometries and CRS (clear error if broken)
  preview_import(store, ...)   counts and problems: invalid shapes with the reason, duplicate codes,
                               overlaps with existing parcels, missing fields, other villages, and
                               the location and size checks (location_checks, shape_checks)
  apply_import(store, preview) every ready parcel through store.create (or store.update for a
                               parcel matched by its 三调 BSM) in ONE transaction
"""

from __future__ import annotations

import logging
import re
import struct
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from . import collector, coord_txt, location_checks, shape_checks
from .errors import ConflictError, NotFoundError, ValidationError, WqError
from .geo import projection
from .geo.overlaps import find_overlaps
from .geo.polygons import areas_mu, check_polygon, clearly_valid, from_wkb
from .model import LandAttribute
from .schema import SANDIAO_FIELDS
from .store import Store

log = logging.getLogger(__name__)

# Import targets (parcel fields plus helpers) and their Chinese names for the mapping dialog.
TARGETS: dict[str, str] = {
    "code": "地块编号",
    "village_code": "村代码（坐落单位代码）",
    "village_name": "村名称（坐落单位名称）",
    "household": "户主姓名",
    "operator_key": "经营者标识（本软件导出）",
    "land_attribute": "土地属性",
    "place_name": "小地名",
    "crop": "种植作物",
    "water_source": "灌溉水源",
    "east": "东至",
    "south": "南至",
    "west": "西至",
    "north": "北至",
    "land_class": "地类编码（只导入耕地）",
    "land_class_name": "地类名称",
    "declared_area_m2": "图斑面积（平方米，用于核对）",
}
REQUIRED_TARGETS = ("code",)
PARCEL_TEXT_TARGETS = ("place_name", "crop", "water_source", "east", "south", "west", "north")

PRESET_DLTB = "三调地类图斑（DLTB）"
PRESET_WQ = "本软件导出的地块"
PRESET_TXT = "坐标TXT"
PRESET_GUESS = "按字段名猜测"

# Candidate source names per target, most specific first. The 三调 DLTB names are TD/T 1016's.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    PRESET_DLTB: {
        "code": ("TBBH",), "village_code": ("ZLDWDM",), "village_name": ("ZLDWMC",),
        "land_class": ("DLBM",), "land_class_name": ("DLMC",), "declared_area_m2": ("TBMJ",),
    },
    PRESET_WQ: {
        "code": ("地块编号", "DKBM"), "village_code": ("村代码", "CUNDM"),
        "village_name": ("村名称", "CUNMC"), "household": ("户主姓名", "HZXM"),
        "operator_key": ("经营者标识", "JYZBS"), "land_attribute": ("土地属性", "TDSX"),
        "place_name": ("小地名", "XDM"),
        "crop": ("种植作物", "ZZZW"), "water_source": ("灌溉水源", "GGSY"), "east": ("东至", "DZ"),
        "south": ("南至", "NZ"), "west": ("西至", "XZ"), "north": ("北至", "BZ"),
    },
    PRESET_TXT: {"code": ("地块编号",), "household": ("地块名称",)},
}
_GUESSES: dict[str, tuple[str, ...]] = {
    "code": ("地块编号", "DKBM", "TBBH", "BH", "编号", "CODE"),
    "village_code": ("村代码", "CUNDM", "ZLDWDM", "QSDWDM"),
    "village_name": ("村名称", "CUNMC", "ZLDWMC", "QSDWMC", "村"),
    "household": ("户主姓名", "户主", "HZXM", "承包方", "CBFMC", "姓名"),
    "land_attribute": ("土地属性", "TDSX"),
    "place_name": ("小地名", "XDM", "DKMC", "地块名称"),
    "crop": ("种植作物", "ZZZW", "作物"),
    "water_source": ("灌溉水源", "GGSY"),
    "east": ("东至", "DZ", "DKDZ"), "south": ("南至", "NZ", "DKNZ"),
    "west": ("西至", "XZ", "DKXZ"), "north": ("北至", "BZ", "DKBZ"),
    "land_class": ("DLBM", "地类编码"), "land_class_name": ("DLMC", "地类名称"),
    "declared_area_m2": ("TBMJ",),
}

FARMLAND_PREFIX = "01"  # 三调 地类编码 01xx = 耕地 (0101 水田, 0102 水浇地, 0103 旱地)
# 三调 columns kept with the parcel whenever the file has them, under their TD/T 1016 names.
SANDIAO_COLUMNS = {name.upper(): name for name, _, _ in SANDIAO_FIELDS}
SUPPORTED = (".shp", ".gpkg", ".geojson", ".json", ".gdb", ".txt")
_MAX_LISTED = 200  # problems kept per kind; counts stay exact


@dataclass
class SourceData:
    """What a file holds, read once: the dialog re-runs the preview on it as the mapping changes."""

    path: Path
    layer: str
    layers: list[str]
    crs: str | None  # EPSG:N, or None when the file has no CRS
    encoding: str
    fields: list[str]
    columns: dict[str, list[Any]]
    geometries: list[BaseGeometry | None]
    read_errors: list[str]  # per-row geometry parse errors, parallel to geometries ("" = fine)

    def __len__(self) -> int:
        return len(self.geometries)


@dataclass
class Mapping:
    fields: dict[str, str]  # target -> source field name
    preset: str = PRESET_GUESS
    default_land_attribute: str | None = None
    farmland_only: bool = True  # with a land-class field: import only 01xx 耕地

    def source(self, target: str) -> str | None:
        return self.fields.get(target) or None


@dataclass(frozen=True)
class Problem:
    feature: int  # 1-based row in the file
    code: str
    message: str

    def line(self) -> str:
        label = f"（编号 {self.code}）" if self.code else ""
        return f"第{self.feature}个图斑{label}：{self.message}"


@dataclass
class PlannedParcel:
    feature: int
    values: dict[str, Any]
    village_name: str
    household_matched: bool
    existing: tuple[str, int] | None = None  # (uuid, rev) of the parcel with the same 三调 BSM


@dataclass
class ImportPreview:
    source: SourceData
    mapping: Mapping
    target_crs: str
    ready: list[PlannedParcel] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # not farmland, other village
    overlaps_existing: list[Problem] = field(default_factory=list)
    overlaps_within: list[Problem] = field(default_factory=list)
    area_differences: list[Problem] = field(default_factory=list)
    outside: list[Problem] = field(default_factory=list)  # not inside the township extent
    small: list[Problem] = field(default_factory=list)  # under the minimum area, or slivers
    overlap_refused: list[Problem] = field(default_factory=list)  # other village's land, or too much
    missing_fields: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    source_crs: str = ""  # the CRS the coordinates were read in
    suggested_crs: location_checks.CrsSuggestion | None = None
    unknown_units: Counter[str] = field(default_factory=Counter)  # 坐落单位代码 not in the store
    target_village: str = ""  # the chosen village's name, when one was chosen
    confirmed_small: int = 0  # small or thin parcels the user confirmed one by one

    @property
    def updates(self) -> int:
        return sum(1 for p in self.ready if p.existing is not None)

    @property
    def blocking(self) -> str | None:
        """Why nothing can be imported, or None."""
        if self.missing_fields:
            return "缺少必需的字段对应：" + "、".join(self.missing_fields)
        if not self.ready:
            return "没有可导入的地块。"
        return None

    @property
    def has_errors(self) -> bool:
        return bool(self.invalid or self.duplicates or self.outside or self.small or self.overlap_refused)

    @property
    def refused(self) -> int:
        """Rows that will not be imported because of a problem (not the skipped ones)."""
        c = self.counts
        return c["invalid"] + c["duplicates"] + c["outside"] + c["small"] + c["overlap_refused"]

    def lines(self) -> list[str]:
        c = self.counts
        src = self.source
        read_as = self.source_crs or src.crs or "未知"
        if src.crs and self.source_crs and self.source_crs != src.crs:
            read_as = f"{self.source_crs}（按指定读取，文件自带 {src.crs}）"
        out = [f"文件：{src.path.name}　图层：{src.layer}　坐标系：{read_as} → {self.target_crs}"
               f"　文字编码：{src.encoding}",
               f"共 {len(src)} 个图斑：可导入 {len(self.ready)}，图形无效 {c['invalid']}，"
               f"编号重复 {c['duplicates']}，不在本乡镇范围 {c['outside']}，面积过小或狭长 {c['small']}，"
               f"重叠被拒 {c['overlap_refused']}，跳过 {c['skipped']}。"]
        if self.suggested_crs is not None:
            out.append(self.suggested_crs.line())
        if self.missing_fields:
            out.append("缺少字段：" + "、".join(self.missing_fields))
        for unit, n in sorted(self.unknown_units.items()):
            if self.target_village:
                out.append(f"坐落单位代码 {unit}（{n} 个图斑）在数据库中没有对应的村，按选择导入到"
                           f"{self.target_village}。")
            else:
                out.append(f"坐落单位代码 {unit}（{n} 个图斑）在数据库中没有对应的村。要导入到某个村，"
                           "请在“导入到”中选择该村（命令行加 --village 12位村代码），"
                           "这些图斑将导入所选的村。")
        if self.updates:
            out.append(f"按标识码（BSM）匹配到已有地块 {self.updates} 个：更新其图形和三调字段，不重复导入。")
        if self.confirmed_small:
            out.append(f"{self.confirmed_small} 个面积过小或狭长的图斑已逐个确认，将导入。")
        by_village = Counter(p.village_name for p in self.ready)
        if by_village:
            out.append("按村：" + "；".join(f"{name} {n} 个" for name, n in sorted(by_village.items())))
        if self.ready:
            total = float(areas_mu([p.values["geometry"] for p in self.ready]).sum())
            out.append(f"可导入地块面积合计 {total:,.2f} 亩。")
            unmatched = sum(1 for p in self.ready if not p.household_matched)
            if self.mapping.source("household") and unmatched:
                out.append(f"{unmatched} 个地块的户主在该村找不到唯一对应的经营者，导入后请手工关联。")
        if c["overlaps_existing"]:
            out.append(f"与已有地块重叠 {c['overlaps_existing']} 处（仍可导入，请核对）。")
        if c["overlaps_within"]:
            out.append(f"文件内地块相互重叠 {c['overlaps_within']} 处（仍可导入，请核对）。")
        if c["area_differences"]:
            out.append(f"{c['area_differences']} 个图斑的计算面积与文件中的图斑面积（TBMJ）相差超过允许范围"
                       "（是否选错了坐标系？）。")
        for title, items in (("不在本乡镇范围", self.outside), ("面积过小或狭长", self.small),
                             ("重叠被拒", self.overlap_refused), ("图形无效", self.invalid),
                             ("编号重复", self.duplicates), ("跳过", self.skipped),
                             ("与已有地块重叠", self.overlaps_existing),
                             ("文件内重叠", self.overlaps_within), ("面积差异", self.area_differences)):
            for p in items[:20]:
                out.append(f"  [{title}] {p.line()}")
            if len(items) > 20:
                out.append(f"  [{title}] ……另有 {len(items) - 20} 条")
        return out


# ------------------------------------------------------------------------------------------ reading


def _check_shapefile(path: Path) -> None:
    """GDAL reads a truncated .shp as rows without geometry; refuse it outright instead."""
    for suffix in (".shx", ".dbf"):
        if not path.with_suffix(suffix).exists() and not path.with_suffix(suffix.upper()).exists():
            raise WqError(f"Shapefile 不完整：缺少 {path.stem}{suffix} 文件"
                          "（.shp、.shx、.dbf 须放在同一文件夹）。")
    for suffix in (".shp", ".shx"):
        part = path.with_suffix(suffix)
        data = part.read_bytes()[:100] if part.exists() else b""
        if len(data) < 100 or struct.unpack(">i", data[:4])[0] != 9994:
            raise WqError(f"{part.name} 已损坏：文件头不是 Shapefile 格式。")
        declared = struct.unpack(">i", data[24:28])[0] * 2
        actual = part.stat().st_size
        if actual < declared:
            raise WqError(f"{part.name} 已损坏：文件只有 {actual} 字节，文件头记录应为 {declared} 字节"
                          "（可能复制或下载不完整）。请重新获取完整的文件。")


def _pick_layer(path: Path, layer: str | None) -> tuple[str, list[str]]:
    # pyogrio (GDAL, ~50 MiB resident) is loaded when a file is read, not with the map.
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        listed = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError) as err:
        raise WqError(f"无法打开 {path.name}：{_gdal_message(err)}") from None
    names = [str(n) for n, _ in listed]
    polygons = [str(n) for n, t in listed if t is None or "Polygon" in str(t) or "Surface" in str(t)]
    if layer:
        if layer not in names:
            raise WqError(f"{path.name} 中没有图层“{layer}”。可选图层：{'、'.join(names)}")
        return layer, names
    for preferred in ("DLTB", "地块", "dltb"):
        if preferred in polygons:
            return preferred, names
    if len(polygons) == 1:
        return polygons[0], names
    if not polygons:
        raise WqError(f"{path.name} 中没有面（多边形）图层。图层：{'、'.join(names) or '无'}")
    raise WqError(f"{path.name} 有多个面图层，请指定要导入的图层：{'、'.join(polygons)}")


def _gdal_message(err: Exception) -> str:
    """GDAL's English reason in Chinese; an unknown one is logged and summarised (never shown raw)."""
    text = str(err).split("; It might help")[0]
    if "not recognized as being in a supported file format" in text:
        return "不是可识别的GIS文件格式（文件可能已损坏）"
    if "No such file" in text:
        return "文件不存在"
    at = re.search(r"At line (\d+), character (\d+)", text)
    if "GeoJSON" in text or "JSON" in text:
        where = f"，第{at.group(1)}行第{at.group(2)}个字符附近" if at else ""
        return f"GeoJSON 内容格式错误{where}（文件可能不完整或已损坏）。请重新导出或获取完整的文件"
    if "Permission denied" in text:
        return "没有读取权限"
    log.warning("GDAL could not read a file: %s", text[:300])
    return "文件内容无法读取（可能已损坏或格式不受支持）"


def _read_raw(path: Path, layer: str, encoding: str | None) -> tuple[dict, list, list]:
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer, encoding=encoding, force_2d=True)
    return meta, list(wkb), list(columns)


def _source_crs(meta_crs: str | None, path: Path) -> str | None:
    if not meta_crs:
        return None
    try:
        return projection.normalize_crs(meta_crs)
    except ValidationError:
        raise WqError(f"{path.name} 的坐标系无法识别：{meta_crs[:120]}。"
                      "请用 --crs 指定（例如 EPSG:4517）。") from None


def _parse_geometries(wkb: list) -> tuple[list[BaseGeometry | None], list[str]]:
    errors = ["没有图形" if blob is None else "" for blob in wkb]
    try:
        return list(shapely.from_wkb(np.array(wkb, dtype=object))), errors  # all at once, in C
    except (shapely.errors.GEOSException, ValueError):
        pass  # some are unreadable: find which, one by one
    shapes: list[BaseGeometry | None] = []
    for row, blob in enumerate(wkb):
        try:
            shapes.append(None if blob is None else shapely.from_wkb(blob))
        except (shapely.errors.GEOSException, ValueError) as err:
            shapes.append(None)
            log.warning("unreadable geometry: %s", err)
            errors[row] = "图形无法读取（可能是曲线等不支持的类型，或数据已损坏）"
    return shapes, errors


def read_source(path: str | Path, layer: str | None = None) -> SourceData:
    """Read a parcel file. Raises WqError with a Chinese message for missing, broken or unsupported files."""
    from pyogrio.errors import DataLayerError, DataSourceError

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise WqError(f"文件不存在：{path}")
    if suffix not in SUPPORTED:
        raise WqError(f"不支持的文件类型“{path.suffix or path.name}”。"
                      "可导入：Shapefile（.shp）、GeoPackage（.gpkg）、GeoJSON（.geojson）、"
                      "File Geodatabase（.gdb 文件夹）、坐标TXT（.txt）。")
    if suffix == ".txt":
        return _read_txt(path)
    if suffix == ".shp":
        _check_shapefile(path)
    layer_name, layers = _pick_layer(path, layer)
    encoding = None
    try:
        meta, wkb, columns = _read_raw(path, layer_name, None)
        encoding = meta.get("encoding") or "UTF-8"
        cpg = path.with_suffix(".cpg")
        if suffix == ".shp" and cpg.exists():
            # GDAL reports the text as it hands it over (UTF-8); the user wants the file's own.
            encoding = cpg.read_text(encoding="ascii", errors="replace").strip() + "（.cpg）"
        elif suffix == ".shp" and encoding.upper() in ("ISO-8859-1", "LATIN1"):
            # No .cpg and no code page in the .dbf: GDAL guessed Latin-1. Chinese files are
            # UTF-8 or GBK; UTF-8 fails loudly on GBK bytes, so try it first.
            try:
                meta, wkb, columns = _read_raw(path, layer_name, "UTF-8")
                encoding = "UTF-8（自动识别）"
            except UnicodeDecodeError:
                meta, wkb, columns = _read_raw(path, layer_name, "GB18030")
                encoding = "GBK（自动识别）"
    except UnicodeDecodeError:
        raise WqError(f"{path.name} 的属性文字编码与 .cpg 文件所写不符，无法读取。") from None
    except (DataSourceError, DataLayerError, OSError, RuntimeError) as err:
        raise WqError(f"无法读取 {path.name}：{_gdal_message(err)}") from None
    fields = [str(f) for f in meta["fields"]]
    shapes, errors = _parse_geometries(wkb)
    return SourceData(path=path, layer=layer_name, layers=layers, crs=_source_crs(meta.get("crs"), path),
                      encoding=encoding, fields=fields,
                      columns={name: list(col) for name, col in zip(fields, columns, strict=True)},
                      geometries=shapes, read_errors=errors)


def _read_txt(path: Path) -> SourceData:
    try:
        parcels = coord_txt.read_txt(path, "EPSG:4538")
    except ValidationError as err:
        raise WqError(f"{path.name}：{err}") from None
    return SourceData(
        path=path, layer=PRESET_TXT, layers=[PRESET_TXT], crs="EPSG:4538", encoding="自动识别",
        fields=["地块编号", "地块名称", "地块用途", "地类编码"],
        columns={"地块编号": [p.code for p in parcels], "地块名称": [p.name for p in parcels],
                 "地块用途": [p.use for p in parcels], "地类编码": [p.land_class for p in parcels]},
        geometries=[p.geometry for p in parcels], read_errors=[""] * len(parcels))


# ------------------------------------------------------------------------------------------ mapping


def guess_mapping(source: SourceData, preset: str | None = None) -> Mapping:
    """The mapping a preset gives for this file's fields (chosen automatically when preset is None)."""
    present = {f.upper(): f for f in source.fields}
    if preset is None:
        if source.layer == PRESET_TXT:
            preset = PRESET_TXT
        elif "地块编号" in source.fields or "DKBM" in present:
            preset = PRESET_WQ  # first: this program's exports carry the 三调 columns too
        elif {"TBBH", "DLBM"} <= set(present):
            preset = PRESET_DLTB
        else:
            preset = PRESET_GUESS
    candidates = PRESETS.get(preset, _GUESSES)
    fields = {}
    for target, names in candidates.items():
        for name in names:
            if name.upper() in present:
                fields[target] = present[name.upper()]
                break
    return Mapping(fields=fields, preset=preset)


@lru_cache(maxsize=1024)  # a file has a few wordings, each on thousands of rows
def parse_land_attribute(text: str | None) -> str | None:
    """A land-attribute value from the file's wording ('承包地', '机动地', '国有' ...), or None."""
    if not text:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip()
    for value in LandAttribute:
        if t == value.value:
            return value.value
    if "机动" in t:
        return LandAttribute.COLLECTIVE_RESERVE.value
    if "国有" in t or "确权以外" in t:
        return LandAttribute.STATE_OUTSIDE.value
    if "承包" in t or "确权" in t:
        return LandAttribute.CONTRACTED.value
    return None


# ------------------------------------------------------------------------------------------ preview


class _Texts:
    """The file's cells as text, column by column, each column converted once (the preview reads
    a dozen cells of every row)."""

    _INTEGRAL = ("code", "village_code", "land_class")

    def __init__(self, source: SourceData, mapping: Mapping) -> None:
        self.source, self.mapping = source, mapping
        self._columns: dict[tuple[str, bool], list[str]] = {}
        self.blank = [""] * len(source)

    def target(self, target: str) -> list[str]:
        """The texts of the column mapped to `target` ("" for every row when none is)."""
        name = self.mapping.source(target)
        if not name or name not in self.source.columns:
            return self.blank
        return self.column(name, integral=target in self._INTEGRAL)

    def column(self, name: str, integral: bool = True) -> list[str]:
        key = (name, integral)
        if key not in self._columns:
            self._columns[key] = [_text(v, integral) for v in self.source.columns[name]]
        return self._columns[key]


def _text(value: Any, integral: bool) -> str:
    """A cell as text; codes stored as numbers (BSM 6523011234.0) lose the '.0'."""
    if type(value) is str:  # most cells of a file's text columns
        return value.strip()
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and integral:
        value = int(value)
    return str(value).strip()


def _village_key(code: str) -> str:
    # 三调 unit codes are often padded to 19 digits; the village is the first 12.
    digits = re.sub(r"\D", "", code)
    return digits[:12] if len(digits) >= 12 else digits


class _Villages:
    def __init__(self, store: Store) -> None:
        rows = store.conn.execute("SELECT uuid, code, name FROM village WHERE deleted=0").fetchall()
        self.by_code = {code: (uuid, name) for uuid, code, name in rows}
        self.by_name = {name: (uuid, name) for uuid, _, name in rows}
        self.names = {uuid: name for uuid, _, name in rows}
        self._resolved: dict[tuple[str, str], tuple[str, str] | None] = {}

    def resolve(self, code: str, name: str) -> tuple[str, str] | None:
        key = (code, name)
        if key not in self._resolved:  # a file names a few villages, each on thousands of rows
            self._resolved[key] = self._resolve(code, name)
        return self._resolved[key]

    def _resolve(self, code: str, name: str) -> tuple[str, str] | None:
        if code and _village_key(code) in self.by_code:
            return self.by_code[_village_key(code)]
        if name and name in self.by_name:
            return self.by_name[name]
        return None


@collector.paused()
def preview_import(store: Store, source: SourceData, mapping: Mapping, *, village_code: str | None = None,
                   crs: str | None = None, checks: shape_checks.CheckSettings | None = None,
                   confirmed: Iterable[int] = ()) -> ImportPreview:
    """Plan the import without writing. `village_code` is the target village for rows that do not name
    one, or name a 坐落单位 the store does not know (rows naming another village are skipped); `crs`
    is required when the file has none and, given for a file that has one, reads the coordinates in
    it instead (the correction the preview suggests for a mislabelled .prj). `checks` defaults to the
    store's settings; `confirmed` holds the feature numbers of small or thin parcels the user accepted."""
    source_crs = projection.normalize_crs(crs) if crs else source.crs
    if source_crs is None:
        raise WqError(f"{source.path.name} 没有坐标系信息（例如缺少 .prj 文件），请指定坐标系"
                      "（如 EPSG:4517 为带“29”带号的2000国家大地坐标系3度带）。")
    preview = ImportPreview(source=source, mapping=mapping, target_crs=store.crs, source_crs=source_crs)
    preview.missing_fields = [TARGETS[t] for t in REQUIRED_TARGETS if not mapping.source(t)]
    sandiao = {SANDIAO_COLUMNS[f.upper()]: f for f in source.fields if f.upper() in SANDIAO_COLUMNS}
    by_bsm = _parcels_by_bsm(store) if "bsm" in sandiao else {}
    # Rows matched by BSM keep their land attribute: only a file of new parcels must give one.
    if mapping.default_land_attribute is None and not mapping.source("land_attribute") and not by_bsm:
        preview.missing_fields.append("土地属性（文件中没有时请选择一个默认值）")
    if preview.missing_fields:
        return preview
    settings = checks or shape_checks.load(store)
    villages = _Villages(store)
    target_village = None
    if village_code:
        target_village = villages.by_code.get(village_code.strip())
        if target_village is None:
            raise WqError(f"数据库中没有村代码为 {village_code} 的村。")
        preview.target_village = target_village[1]
    existing_codes = dict(((v, c), u) for u, v, c in store.conn.execute(
        "SELECT uuid, village, code FROM parcel WHERE deleted=0"))
    households_by_name = _household_index(store)
    operator_keys = set(store.conn.execute("SELECT village, uuid FROM operator WHERE deleted=0").fetchall())
    seen: dict[tuple[str, str], int] = {}
    extent = location_checks.township_extent(store)
    misplaced: list[BaseGeometry] = []  # raw shapes of rows outside: what suggest_crs reads
    confirmed = set(confirmed)
    target_crs = store.crs
    same_crs = projection.normalize_crs(source_crs) == projection.normalize_crs(target_crs)
    # Outlines check_polygon is sure to accept, found in one vectorized pass; the others are
    # checked one by one below, for their reason.
    sure = clearly_valid(source.geometries)
    # Where the checked outline is the file's own (sure, and in the store's CRS), its area,
    # length and place are measured for the whole file at once; other rows one by one.
    measured = sure & same_crs
    areas, lengths, inside = _measure(source.geometries, measured, extent)
    sure, measured = sure.tolist(), measured.tolist()  # read row by row below: plain bools
    texts = _Texts(source, mapping)
    codes, land_classes = texts.target("code"), texts.target("land_class")
    village_codes, village_names = texts.target("village_code"), texts.target("village_name")
    attributes, declared_areas = texts.target("land_attribute"), texts.target("declared_area_m2")
    households, operator_keys_given = texts.target("household"), texts.target("operator_key")
    parcel_texts = [(target, texts.target(target)) for target in PARCEL_TEXT_TARGETS
                    if mapping.source(target)]
    sandiao_texts = [(name, texts.column(column)) for name, column in sandiao.items()]
    bsms = texts.column(sandiao["bsm"]) if "bsm" in sandiao else texts.blank
    by_class = mapping.farmland_only and mapping.source("land_class")

    def note(kind: str, problem: Problem) -> None:
        preview.counts[kind] += 1
        items = getattr(preview, kind)
        if len(items) < _MAX_LISTED:
            items.append(problem)

    for row, shape in enumerate(source.geometries):
        n = row + 1
        code = codes[row]
        land_class = land_classes[row]
        if by_class and not land_class.startswith(FARMLAND_PREFIX):
            name = texts.target("land_class_name")[row] or land_class or "空"
            note("skipped", Problem(n, code, f"地类为{name}，不是耕地"))
            continue
        named_code, named_name = village_codes[row], village_names[row]
        village = villages.resolve(named_code, named_name)
        if village is None and (named_code or named_name):
            preview.unknown_units[named_code or named_name] += 1
        if target_village is not None and village is None:
            village = target_village  # the user chose where rows of an unknown 坐落单位 go
        if village is None:
            what = named_code or named_name
            note("skipped", Problem(n, code, f"坐落单位“{what}”在数据库中没有对应的村" if what
                                    else "没有村信息，请选择导入到哪个村"))
            continue
        if target_village is not None and village != target_village:
            note("skipped", Problem(n, code, f"属于{village[1]}，不是要导入的{target_village[1]}"))
            continue
        if not code:
            note("invalid", Problem(n, code, "缺少地块编号"))
            continue
        if source.read_errors[row]:
            note("invalid", Problem(n, code, source.read_errors[row]))
            continue
        try:
            raw = shape if sure[row] else check_polygon(shape)
        except ValidationError as err:
            note("invalid", Problem(n, code, str(err)))
            continue
        try:
            # In the store's own CRS the checked outline is the outline: no second check.
            shape = raw if same_crs else check_polygon(projection.transform(raw, source_crs, target_crs))
        except ValidationError:
            misplaced.append(raw)
            note("outside", Problem(n, code, location_checks.unprojectable(source_crs, extent)))
            continue
        if isinstance(shape, MultiPolygon) and len(shape.geoms) == 1:
            shape = shape.geoms[0]
        if measured[row]:
            area, length, place = areas[row], lengths[row], None if inside[row] else extent.problem(shape)
        else:
            area, length, place = shape.area, shape.length, extent.problem(shape)
        if place:
            misplaced.append(raw)
            note("outside", Problem(n, code, place))
            continue
        crumb = shape_checks.unrecordable(area)
        if crumb:
            note("small", Problem(n, code, crumb))
            continue
        size = shape_checks.size_problem(area, length, settings)
        if size and n not in confirmed:
            note("small", Problem(n, code, size + "；确认无误后可逐个确认导入"))
            continue
        preview.confirmed_small += bool(size)
        bsm = bsms[row]
        existing = by_bsm.get(bsm) if bsm else None
        if existing is not None and existing[2] != village[0]:
            owner = villages.names[existing[2]]
            note("duplicates", Problem(n, code, f"标识码（BSM）{bsm} 已属于{owner}的地块 {existing[3]}，"
                                                f"不能导入到{village[1]}"))
            continue
        key = (village[0], code)
        if key in existing_codes and (existing is None or existing_codes[key] != existing[0]):
            note("duplicates", Problem(n, code, f"{village[1]}已有地块编号 {code}"))
            continue
        if key in seen:
            note("duplicates", Problem(n, code, f"与文件中第{seen[key]}个图斑编号相同"))
            continue
        seen[key] = n
        if declared_areas[row]:
            _compare_area(note, n, code, area, declared_areas[row], settings)
        wording = attributes[row]
        attribute = parse_land_attribute(wording)
        if attribute is None and existing is None:
            attribute = mapping.default_land_attribute
        if attribute is None and existing is None:
            note("invalid", Problem(n, code, f"土地属性“{wording}”无法识别" if wording else
                                    "新地块没有土地属性，请选择默认土地属性"))
            del seen[key]
            continue
        values: dict[str, Any] = {"village": village[0], "code": code, "geometry": shape}
        if attribute:
            values["land_attribute"] = attribute
        for target, column in parcel_texts:
            if column[row]:
                values[target] = column[row]
        for name, column in sandiao_texts:
            values[name] = column[row] or None
        name = households[row]
        key_uuid = operator_keys_given[row]
        operator = key_uuid if (village[0], key_uuid) in operator_keys else None
        operator = operator or (households_by_name.get((village[0], name)) if name else None)
        if operator:
            values["operator"] = operator
        matched = existing[:2] if existing is not None else None
        preview.ready.append(PlannedParcel(n, values, village[1], operator is not None, matched))
    if misplaced:
        points = location_checks.representative_points(misplaced)
        preview.suggested_crs = location_checks.suggest_crs(points, source_crs, extent)
    _find_overlaps(store, preview, note, settings)
    return preview


def _parcels_by_bsm(store: Store) -> dict[str, tuple[str, int, str, str]]:
    """三调 BSM -> (uuid, rev, village, code) of the live parcel carrying it."""
    return {bsm: (uuid, rev, village, code) for bsm, uuid, rev, village, code in store.conn.execute(
        "SELECT bsm, uuid, rev, village, code FROM parcel WHERE deleted=0 AND bsm IS NOT NULL")}


def _household_index(store: Store) -> dict[tuple[str, str], str]:
    """(village, name) -> operator uuid, only where the name is unique in the village."""
    index: dict[tuple[str, str], str] = {}
    ambiguous: set[tuple[str, str]] = set()
    for uuid, village, name in store.conn.execute("SELECT uuid, village, name FROM operator WHERE deleted=0"):
        key = (village, name)
        if key in index:
            ambiguous.add(key)
        index[key] = uuid
    for key in ambiguous:
        del index[key]
    return index


def _compare_area(note: Any, n: int, code: str, area_m2: float, declared: str,
                  settings: shape_checks.CheckSettings) -> None:
    try:
        declared_m2 = float(declared)
    except ValueError:
        return
    flag = shape_checks.area_difference(area_m2, declared_m2, settings)
    if flag:
        note("area_differences", Problem(n, code, flag))


def _measure(shapes: list[BaseGeometry | None], which: np.ndarray, extent: location_checks.Extent
             ) -> tuple[list[float], list[float], list[bool]]:
    """Area (m²), boundary length (m) and whether the township's extent covers it, for the
    outlines `which` marks, at once (in C); NaN / False elsewhere. Python floats, as the
    one-by-one shape.area gives."""
    areas, lengths = np.full(len(shapes), np.nan), np.full(len(shapes), np.nan)
    inside = np.zeros(len(shapes), dtype=bool)
    if which.any():
        chosen = np.asarray(shapes, dtype=object)[which]
        areas[which], lengths[which] = shapely.area(chosen), shapely.length(chosen)
        inside[which] = shapely.covers(extent.allowed, chosen)
    return areas.tolist(), lengths.tolist(), inside.tolist()


def _find_overlaps(store: Store, preview: ImportPreview, note: Any,
                   settings: shape_checks.CheckSettings) -> None:
    """Overlaps with stored parcels and within the file. Those with another village's land are
    errors, and so are overlaps above the store's threshold: such rows leave `ready`."""
    if not preview.ready:
        return
    new_shapes = [p.values["geometry"] for p in preview.ready]
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(new_shapes, dtype=object))
    updated = {p.existing[0] for p in preview.ready if p.existing is not None}
    existing = [row for row in store.conn.execute(
        "SELECT p.code, p.geometry, v.name, p.village, p.uuid FROM parcel p"
        " JOIN village v ON v.uuid = p.village WHERE p.deleted=0 AND p.geometry IS NOT NULL"
        " AND p.maxx >= ? AND p.minx <= ? AND p.maxy >= ?"
        " AND p.miny <= ?", (minx, maxx, miny, maxy)).fetchall() if row[4] not in updated]
    items = [(f"n{i}", g) for i, g in enumerate(new_shapes)]
    items += [(f"e{i}", from_wkb(row[1])) for i, row in enumerate(existing)]
    refused: dict[int, str] = {}
    limit = settings.refuse_overlap_mu
    for overlap in find_overlaps(items):
        a, b = overlap.a, overlap.b
        if a.startswith("e") and b.startswith("e"):
            continue  # an old problem in the store, not this import's business
        if a.startswith("e"):
            a, b = b, a
        i = int(a[1:])
        planned = preview.ready[i]
        if b.startswith("e"):
            code, _, village_name, village, _ = existing[int(b[1:])]
            text = f"与{village_name}已有地块 {code} 重叠 {overlap.area_mu:.2f} 亩"
            if village != planned.values["village"]:
                refused.setdefault(i, text + "（不同村的地块不能重叠）")
            elif limit is not None and overlap.area_mu > limit:
                refused.setdefault(i, text + f"（超过设定的 {limit:g} 亩）")
            else:
                note("overlaps_existing", Problem(planned.feature, planned.values["code"], text))
        else:
            j = int(b[1:])
            other = preview.ready[j]
            text = (f"与文件中第{other.feature}个图斑（{other.values['code']}）重叠 {overlap.area_mu:.2f} 亩")
            if other.values["village"] != planned.values["village"]:
                refused.setdefault(i, text + "（不同村的地块不能重叠）")
                refused.setdefault(j, f"与文件中第{planned.feature}个图斑（{planned.values['code']}）"
                                      f"重叠 {overlap.area_mu:.2f} 亩（不同村的地块不能重叠）")
            elif limit is not None and overlap.area_mu > limit:
                refused.setdefault(max(i, j), text + f"（超过设定的 {limit:g} 亩）")
            else:
                note("overlaps_within", Problem(planned.feature, planned.values["code"], text))
    for i in sorted(refused):
        planned = preview.ready[i]
        note("overlap_refused", Problem(planned.feature, planned.values["code"], refused[i]))
    if refused:
        preview.ready = [p for i, p in enumerate(preview.ready) if i not in refused]


# ------------------------------------------------------------------------------------------ writing


def apply_import(store: Store, preview: ImportPreview) -> list[str]:
    """Create every ready parcel (update those matched by BSM) in one transaction; any refusal
    rolls all of them back. Returns the uuids written, in the file's order. New parcels go through
    the store's batch path: the same validation, history and outbox as one create each."""
    reason = preview.blocking
    if reason:
        raise WqError(f"无法导入：{reason}")

    def refused(planned: PlannedParcel, err: WqError) -> WqError:
        reason = str(err).rstrip("。")
        return WqError(f"第{planned.feature}个图斑（编号 {planned.values['code']}）无法写入：{reason}"
                       "。本次没有导入任何地块。")

    written: dict[int, str] = {}
    with store.transaction():
        for i, planned in enumerate(preview.ready):
            if planned.existing is not None:  # the same 三调 图斑 (BSM): update it in place
                uuid, rev = planned.existing
                try:
                    store.update("parcel", uuid, planned.values, base_rev=rev)
                except (ValidationError, ConflictError, NotFoundError) as err:
                    raise refused(planned, err) from None
                written[i] = uuid
        fresh = [i for i, planned in enumerate(preview.ready) if planned.existing is None]
        try:
            made = store.create_many("parcel", (preview.ready[i].values for i in fresh))
        except ValidationError as err:
            raise refused(preview.ready[fresh[err.batch_index or 0]], err) from None
        written.update(zip(fresh, made, strict=True))
    return [written[i] for i in range(len(preview.ready))]


def boundary_from_file(store: Store, path: str, crs: str | None = None) -> BaseGeometry:
    """The union of every polygon in a GIS file (a 乡镇 boundary layer), in the store CRS."""
    source = read_source(path)
    src = source.crs or (projection.normalize_crs(crs) if crs else None)
    if src is None:
        raise WqError(f"{source.path.name} 没有坐标系信息，请指定坐标系（如 EPSG:4517）。")
    shapes = [check_polygon(g) for g in source.geometries if g is not None]
    if not shapes:
        raise WqError(f"{source.path.name} 中没有面图形。")
    return projection.transform(shapely.union_all(shapes), src, store.crs)
