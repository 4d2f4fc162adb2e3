"""附件1《地块示意图及界址点坐标表》: for each parcel of an agreement, its sketch drawn to scale and
its boundary points (domain.md §1: 界址点坐标 go in an attachment).

The sketch shows the parcel's outline, neighbouring parcels in grey, the 四至, the 界址点 numbers
J1…Jn, a north arrow, a scale bar with the numeric scale, and the parcel code and 亩 of record.
The table lists 点号, X (northing) and Y (easting with the zone prefix) in CGCS2000 3° zone 29
(EPSG:4517) and 边长 to the next point, numbered exactly as the 坐标TXT export numbers them: each
part of a multi-part parcel is its own block (code-1, code-2 …), holes continue the numbering
with 圈号 2, 3 …, and every ring closes on its first point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table
from shapely.geometry.base import BaseGeometry

from wq_desktop.geo import boundary_points, projection
from wq_desktop.geo.polygons import from_wkb
from wq_desktop.printing.common import cell_styles, mu
from wq_desktop.printing.fonts import font_for
from wq_desktop.printing.page import PageGroupStart, para, styles, table_style, text_block_size
from wq_desktop.store import Store
from wq_desktop.summary import Household, ParcelYear, boundary_text

SURVEY_CRS = "EPSG:4538"  # the zone without prefix; the table adds 29 in front like 坐标TXT
ZONE = 29
CENTRAL_MERIDIAN = 87
# Scales a surveyor would print (1:N); the smallest that fits the drawing is chosen.
SCALES = (200, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)
GREY = Color(0.6, 0.6, 0.6)
SKETCH_HEIGHT = 90 * mm  # leaves room for the heading and a table of a dozen points below


@dataclass(frozen=True)
class PartSketch:
    """One block of the attachment: a parcel, or one part of a multi-part parcel."""

    code: str
    parcel: ParcelYear
    shape: BaseGeometry  # in SURVEY_CRS (metres, easting without the zone prefix)
    points: list[boundary_points.BoundaryPoint]
    neighbours: list[BaseGeometry]


def edge_lengths(points: list[boundary_points.BoundaryPoint]) -> list[float | None]:
    """边长 (m) from each row to the next one of its ring; None on a ring's closing row (its first
    point repeated), which ends the ring."""
    out: list[float | None] = []
    for i, here in enumerate(points):
        after = points[i + 1] if i + 1 < len(points) else None
        closing = after is None or after.ring_no != here.ring_no
        out.append(None if closing else
                   math.hypot(after.x_northing - here.x_northing, after.y_easting - here.y_easting))
    return out


def parcel_sketches(store: Store, h: Household) -> tuple[list[PartSketch], list[ParcelYear]]:
    """The blocks for a household's retiring parcels, and the parcels that have no drawn shape."""
    blocks: list[PartSketch] = []
    undrawn: list[ParcelYear] = []
    for p in h.retiring_parcels:
        row = store.conn.execute("SELECT geometry FROM parcel WHERE uuid=?", (p.uuid,)).fetchone()
        if row is None or row[0] is None:
            undrawn.append(p)
            continue
        shape = from_wkb(row[0])
        if store.crs != SURVEY_CRS:
            shape = projection.transform(shape, store.crs, SURVEY_CRS)
        parts = list(shape.geoms) if shape.geom_type == "MultiPolygon" else [shape]
        neighbours = _neighbours(store, p.uuid, shape)
        for n, part in enumerate(parts, 1):
            code = p.code if len(parts) == 1 else f"{p.code}-{n}"
            others = [q for q in parts if q is not part] + neighbours
            points = boundary_points.format_boundary_points(part, zone_prefix=True)
            blocks.append(PartSketch(code, p, part, points, others))
    return blocks, undrawn


def _neighbours(store: Store, parcel_uuid: str, shape: BaseGeometry) -> list[BaseGeometry]:
    """Parcels near this one (by the stored bounding boxes), in the survey CRS."""
    minx, miny, maxx, maxy = shape.bounds
    pad = max(maxx - minx, maxy - miny) * 0.6 + 20
    if store.crs != SURVEY_CRS:
        box = projection.transform(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad), SURVEY_CRS,
                            store.crs)
        qminx, qminy, qmaxx, qmaxy = box.bounds
    else:
        qminx, qminy, qmaxx, qmaxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    rows = store.conn.execute(
        "SELECT geometry FROM parcel WHERE deleted=0 AND uuid<>? AND geometry IS NOT NULL"
        " AND maxx>=? AND minx<=? AND maxy>=? AND miny<=?",
        (parcel_uuid, qminx, qmaxx, qminy, qmaxy)).fetchall()
    out = [from_wkb(g) for (g,) in rows]
    return [projection.transform(s, store.crs, SURVEY_CRS) for s in out] if store.crs != SURVEY_CRS else out


def choose_scale(extent_m: tuple[float, float], room: tuple[float, float]) -> int:
    """The smallest printed scale 1:N at which an extent (metres) fits the room (points)."""
    for n in SCALES:
        if all(e / n * 1000 * mm <= r for e, r in zip(extent_m, room, strict=True)):
            return n
    return SCALES[-1]


class ParcelSketch(Flowable):
    """A parcel drawn to scale in a frame as wide as the 版心."""

    def __init__(self, block: PartSketch, width: float, height: float = SKETCH_HEIGHT) -> None:
        super().__init__()
        self.block = block
        self.width, self.height = width, height
        minx, miny, maxx, maxy = block.shape.bounds
        # Room inside the frame for the 四至 labels around the parcel.
        self.scale = choose_scale((maxx - minx, maxy - miny), (width - 60 * mm, height - 30 * mm))
        self.units = 1000 * mm / self.scale  # points per metre on paper
        self.centre = ((minx + maxx) / 2, (miny + maxy) / 2)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return (self.width / 2 + (x - self.centre[0]) * self.units,
                self.height / 2 + (y - self.centre[1]) * self.units)

    def _path(self, shape: BaseGeometry) -> Any:
        path = self.canv.beginPath()
        polygons = list(shape.geoms) if shape.geom_type == "MultiPolygon" else [shape]
        for polygon in polygons:
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = [self._xy(x, y) for x, y in ring.coords]
                path.moveTo(*coords[0])
                for c in coords[1:]:
                    path.lineTo(*c)
                path.close()
        return path

    def draw(self) -> None:
        c = self.canv
        song, hei = font_for("song"), font_for("hei")
        c.saveState()
        c.setLineWidth(0.6)
        c.rect(0, 0, self.width, self.height)
        clip = c.beginPath()
        clip.rect(0, 0, self.width, self.height)
        c.clipPath(clip, stroke=0, fill=0)
        c.setStrokeColor(GREY)
        c.setLineWidth(0.5)
        for other in self.block.neighbours:
            c.drawPath(self._path(other), stroke=1, fill=0)
        c.setStrokeColor(black)
        c.setFillColor(Color(0.93, 0.93, 0.93))
        c.setLineWidth(1.2)
        c.drawPath(self._path(self.block.shape), stroke=1, fill=1, fillMode=0)
        self._points(song)
        self._label(hei, song)
        self._boundaries(song)
        c.restoreState()
        self._north_arrow(hei)
        self._scale_bar(song)

    def _points(self, font: str) -> None:
        c = self.canv
        cx, cy = self._xy(*self.centre)
        c.setFont(font, 7.5)
        seen: set[str] = set()
        for p in self.block.points:
            if p.point_name in seen:
                continue
            seen.add(p.point_name)
            x, y = self._xy(p.y_easting - boundary_points.ZONE_29_OFFSET, p.x_northing)
            c.setFillColor(black)
            c.circle(x, y, 1.2, stroke=0, fill=1)
            # The number sits just outside the corner, away from the parcel's centre.
            dx, dy = x - cx, y - cy
            d = math.hypot(dx, dy) or 1.0
            lx, ly = x + dx / d * 7, y + dy / d * 7 - 2.5
            c.setFillColor(white)
            w = c.stringWidth(p.point_name, font, 7.5)
            c.rect(lx - w / 2 - 0.5, ly - 1, w + 1, 8, stroke=0, fill=1)
            c.setFillColor(black)
            c.drawCentredString(lx, ly, p.point_name)

    def _label(self, hei: str, song: str) -> None:
        c = self.canv
        point = self.block.shape.representative_point()
        x, y = self._xy(point.x, point.y)
        c.setFillColor(black)
        c.setFont(hei, 9)
        c.drawCentredString(x, y + 2, self.block.code)
        c.setFont(song, 8)
        whole = "（全地块）" if self.block.code != self.block.parcel.code else ""
        c.drawCentredString(x, y - 8, f"{mu(self.block.parcel.area_mu)}亩{whole}")

    def _boundaries(self, font: str) -> None:
        c = self.canv
        p = self.block.parcel
        minx, miny, maxx, maxy = self.block.shape.bounds
        left, bottom = self._xy(minx, miny)
        right, top = self._xy(maxx, maxy)
        midx, midy = (left + right) / 2, (bottom + top) / 2
        c.setFont(font, 8.5)
        c.setFillColor(black)
        for side, value in (("东", p.east), ("南", p.south), ("西", p.west), ("北", p.north)):
            if not value:
                continue
            text = boundary_text(side, value)
            w = c.stringWidth(text, font, 8.5)
            if side == "东":
                x = min(right + 6, self.width - w - 3)
                c.drawString(x, midy - 3, text)
            elif side == "西":
                c.drawString(max(left - 6 - w, 3), midy - 3, text)
            elif side == "北":
                c.drawCentredString(midx, min(top + 11, self.height - 26), text)
            else:
                c.drawCentredString(midx, max(bottom - 18, 22), text)

    def _north_arrow(self, font: str) -> None:
        c = self.canv
        x, y = self.width - 14 * mm, self.height - 20 * mm
        c.saveState()
        path = c.beginPath()
        path.moveTo(x, y + 12 * mm)
        path.lineTo(x - 3 * mm, y)
        path.lineTo(x, y + 3 * mm)
        path.close()
        c.setFillColor(black)
        c.drawPath(path, stroke=1, fill=1)
        path = c.beginPath()
        path.moveTo(x, y + 12 * mm)
        path.lineTo(x + 3 * mm, y)
        path.lineTo(x, y + 3 * mm)
        path.close()
        c.setFillColor(white)
        c.drawPath(path, stroke=1, fill=1)
        c.setFillColor(black)
        c.setFont(font, 10)
        c.drawCentredString(x, y + 13.5 * mm, "北")
        c.restoreState()

    def _scale_bar(self, font: str) -> None:
        c = self.canv
        # A round length of ground near 30 mm of paper.
        target = 30 * mm / self.units
        length = next(v for v in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
                      if v >= target * 0.6)
        bar = length * self.units
        x, y = 6 * mm, 6 * mm
        c.saveState()
        c.setLineWidth(0.6)
        c.setFillColor(black)
        c.rect(x, y, bar / 2, 1.5 * mm, stroke=1, fill=1)
        c.setFillColor(white)
        c.rect(x + bar / 2, y, bar / 2, 1.5 * mm, stroke=1, fill=1)
        c.setFillColor(black)
        c.setFont(font, 7.5)
        c.drawCentredString(x, y + 2.5 * mm, "0")
        c.drawCentredString(x + bar, y + 2.5 * mm, f"{length:g}米")
        c.drawString(x + bar + 4 * mm, y, f"比例尺 1:{self.scale}")
        c.restoreState()


def coordinate_table(block: PartSketch) -> Table:
    width, _ = text_block_size()
    cs = cell_styles(9)
    head = ["点号", "圈号", "X（北坐标，米）", "Y（东坐标，米）", "边长（米）"]
    rows: list[list[Any]] = [[para(t, cs["header"]) for t in head]]
    for point, edge in zip(block.points, edge_lengths(block.points), strict=True):
        rows.append([point.point_name, str(point.ring_no), f"{point.x_northing:.2f}",
                     f"{point.y_easting:.2f}", f"{edge:.2f}" if edge is not None else ""])
    fractions = (0.14, 0.10, 0.28, 0.28, 0.20)
    return Table(rows, colWidths=[width * f for f in fractions], repeatRows=1,
                 style=table_style(("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                                   ("TOPPADDING", (0, 1), (-1, -1), 1),
                                   ("BOTTOMPADDING", (0, 1), (-1, -1), 1), size=9))


def attachment_story(store: Store, h: Household, year: int, *, new_group: bool) -> list[Flowable]:
    """附件1 for one household's agreement; `new_group` starts its own page numbering (printed
    alone) instead of continuing the agreement's."""
    st = styles()
    width, _ = text_block_size()
    blocks, undrawn = parcel_sketches(store, h)
    number = (h.agreement or {}).get("number") or ""
    story: list[Flowable] = [PageBreak()]
    if new_group:
        story.append(PageGroupStart(f"协议编号：{number}"))
    story += [para("附件1", st["attachment_label"]),
              para("地块示意图及界址点坐标表", st["title"]),
              para(f"协议编号：{number}\u3000\u3000乙方：{h.name}\u3000\u3000{h.township_name}{h.village_name}",
                   st["note"]),
              para(f"坐标系：2000国家大地坐标系（CGCS2000），高斯-克吕格投影，3度分带，带号：{ZONE}，"
                   f"中央经线：东经{CENTRAL_MERIDIAN}°；X为北坐标，Y为东坐标（含带号），单位：米，精度0.01米。",
                   st["note"]),
              Spacer(1, 4)]
    note = cell_styles(9)["left"]
    for block in blocks:
        p = block.parcel
        caption = (f"地块 {block.code}\u3000{p.place_name}\u3000{p.land_attribute}\u3000"
                   f"面积 {mu(p.area_mu)} 亩（退减灌溉 {mu(p.retired_mu)} 亩，"
                   f"休耕轮作 {mu(p.fallow_mu)} 亩）")
        if block.code != p.code:
            caption += f"\u3000多部件地块第{block.code.rsplit('-', 1)[1]}部分"
        points = len({q.point_name for q in block.points})
        holes = "含内环（圈号2及以上）；" if any(q.ring_no > 1 for q in block.points) else ""
        # One parcel's sketch and table stay on one page when they fit (a long table still splits).
        story += [KeepTogether([para(caption, st["caption"]), ParcelSketch(block, width), Spacer(1, 3),
                                para(f"界址点 {points} 个，{holes}每圈以起点闭合。", note),
                                coordinate_table(block)]),
                  Spacer(1, 8)]
    if undrawn:
        codes = "、".join(p.code for p in undrawn)
        story.append(para(f"以下地块尚未绘制图形，无法出具示意图和界址点坐标：{codes}。", st["note"]))
    return story
