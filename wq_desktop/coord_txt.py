"""The natural-resources 坐标TXT file (domain.md §6): one header block, then per parcel a title line
ending in "@" and its 界址点 rows "J1,1,X,Y" (X = northing, Y = easting with the zone prefix 29,
EPSG:4517). Rings close by repeating their first point; 圈号 > 1 marks holes.

Written in GBK with CRLF line ends, which is what the bureau's Windows converters read; read in
UTF-8 or GBK, whichever decodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from .errors import ValidationError, WqError
from .geo import boundary_points

HEADER_KEYS = ("格式版本号", "数据产生单位", "数据产生日期", "坐标系", "几度分带", "投影类型", "计量单位",
               "带号", "精度", "转换参数")
SQM_PER_HECTARE = 10_000.0


@dataclass(frozen=True)
class TxtParcel:
    """One parcel block: the title-line fields and its geometry (GIS order, project CRS)."""

    code: str
    name: str
    use: str
    land_class: str
    geometry: BaseGeometry
    line_no: int


def header_lines(producer: str, on: date | None = None) -> list[str]:
    on = on or date.today()
    return [
        "[属性描述]",
        "格式版本号=1.0",
        f"数据产生单位={producer}",
        f"数据产生日期={on:%Y-%m-%d}",
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "投影类型=高斯克吕格",
        "计量单位=米",
        "带号=29",
        "精度=0.01",
        "转换参数=,,,,,,",
        "[地块坐标]",
    ]


def _clean(text: str) -> str:
    # Commas and line breaks would break the comma-separated title line.
    return re.sub(r"[,，\r\n@]+", " ", text or "").strip()


def parcel_lines(geometry: BaseGeometry, code: str, name: str, use: str, land_class: str = "") -> list[str]:
    """Title line + 界址点 rows for one parcel (geometry in EPSG:4538 or 4517)."""
    points = boundary_points.format_boundary_points(geometry, zone_prefix=True)
    hectares = geometry.area / SQM_PER_HECTARE
    fields = [str(len(points)), f"{hectares:.4f}", _clean(code), _clean(name), "面", "", _clean(use),
              _clean(land_class), "@"]
    title = ",".join(fields)
    rows = [f"{p.point_name},{p.ring_no},{p.x_northing:.2f},{p.y_easting:.2f}" for p in points]
    return [title, *rows]


def write_txt(path: Path, blocks: list[list[str]], producer: str) -> None:
    text = "\r\n".join([*header_lines(producer), *(line for block in blocks for line in block)]) + "\r\n"
    try:
        data = text.encode("gbk")
    except UnicodeEncodeError:
        # A name outside GBK (rare Uyghur/Kazakh transliteration characters): GB18030 covers all.
        data = text.encode("gb18030")
    path.write_bytes(data)


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WqError("坐标TXT文件的文字编码无法识别（应为UTF-8或GBK）。")


def read_txt(path: Path, crs: str) -> list[TxtParcel]:
    """Every parcel block of a 坐标TXT file; a block that cannot be read raises with its line."""
    text = decode(path.read_bytes())
    lines = text.splitlines()
    if not any(line.strip().endswith("@") for line in lines):
        raise WqError(f"{path.name} 不是坐标TXT文件：没有以“@”结尾的地块行。")
    parcels: list[TxtParcel] = []
    title: list[str] = []
    start = 0
    body: list[str] = []

    def flush() -> None:
        if not title:
            return
        try:
            shape = boundary_points.parse_boundary_points("\n".join(body), crs)
        except ValidationError as err:
            # parse_boundary_points counts lines from the start of the block.
            raise ValidationError(f"第{start}行开始的地块（{title[2] if len(title) > 2 else ''}）：{err}",
                                  "geometry") from None
        fields = [*title, "", "", "", "", "", "", "", ""]
        parcels.append(TxtParcel(code=fields[2].strip(), name=fields[3].strip(), use=fields[6].strip(),
                                 land_class=fields[7].strip(), geometry=shape, line_no=start))

    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.endswith("@"):
            flush()
            title, start, body = [t.strip() for t in line.split(",")], n, []
        elif title:
            body.append(line)
    flush()
    return parcels
