"""巡查记录表 (domain.md §3): blank for field use (one per 退减 parcel, target prefilled) or filled
from a logged patrol with photo thumbnails. Internal record: no ID or phone numbers on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, PageBreak, Table

from wq_desktop.errors import ValidationError
from wq_desktop.model import (
    GROUND_STATES,
    IRRIGATION_SIGNS,
    RECT_SIGNATURES,
    RECTIFICATION_ACTIONS,
    WELL_STATES,
    PatrolResult,
    PatrolStage,
)
from wq_desktop.photos import has_photo, photo_bytes
from wq_desktop.printing.common import boxes, cell_styles, mu
from wq_desktop.printing.page import (
    PageGroupStart,
    format_cn_date,
    para,
    styles,
    table_style,
    text_block_size,
)
from wq_desktop.store import Store
from wq_desktop.summary import Household, ParcelYear, find_operator, find_village, load_households

PHOTO_SLOTS = ("全景", "近景", "机井/电表")
THUMB_W = 48 * mm
THUMB_H = 30 * mm


@dataclass
class PatrolSheet:
    """What one sheet shows; a blank sheet has only the target filled."""

    year: int
    township: str = ""
    village: str = ""
    household: str = ""
    parcel: str = ""
    agreement: str = ""
    measure: str = ""
    record: dict | None = None
    # (the photo's bytes, or a file path, or "" when missing; caption)
    photos: list[tuple[bytes | str, str]] = field(default_factory=list)


def _date(value: str | None) -> str:
    return format_cn_date(date.fromisoformat(value)) if value else ""


def _target(h: Household, p: ParcelYear, year: int, record: dict | None = None) -> PatrolSheet:
    parts = [f"退减灌溉{mu(p.retired_mu)}亩" if p.retired_mu else "",
             f"休耕轮作{mu(p.fallow_mu)}亩" if p.fallow_mu else ""]
    return PatrolSheet(year, h.township_name, h.village_name, h.name,
                       f"{p.code} {p.place_name}".strip(), (h.agreement or {}).get("number") or "",
                       "，".join(t for t in parts if t), record)


def blank_sheets(store: Store, year: int, *, village: str | None = None,
                 operator: str | None = None) -> list[PatrolSheet]:
    """One blank sheet per 退减 parcel of the village or household; one empty sheet otherwise."""
    if operator:
        households = load_households(store, year, operators=[find_operator(store, operator)["uuid"]])
    elif village:
        households = load_households(store, year, villages=[find_village(store, village)["uuid"]])
    else:
        return [PatrolSheet(year)]
    sheets = [_target(h, p, year) for h in households if h.participates for p in h.retiring_parcels]
    if not sheets:
        raise ValidationError(f"{year}年度没有需要巡查的退减地块。")
    return sheets


def filled_sheet(store: Store, patrol_uuid: str) -> PatrolSheet:
    record = store.get("patrol", patrol_uuid)
    parcel = store.get("parcel", record["parcel"])
    households = load_households(store, record["year"], operators=[parcel["operator"]]) \
        if parcel["operator"] else []
    p = next((p for h in households for p in h.parcels if p.uuid == parcel["uuid"]), None)
    if households and p:
        sheet = _target(households[0], p, record["year"], record)
    else:
        village = store.get("village", parcel["village"])
        sheet = PatrolSheet(record["year"], store.get("township", village["township"])["name"],
                            village["name"], "", parcel["code"], record=record)
    for n, photo in enumerate(store.find("photo", "owner=?", (patrol_uuid,))):
        present = has_photo(store, photo["sha256"])
        caption = PHOTO_SLOTS[n] if n < len(PHOTO_SLOTS) else f"照片{n + 1}"
        taken = (photo.get("taken_at") or "").replace("T", " ")
        # The plain bytes (an encrypted store's photo files are encrypted): printed from memory.
        sheet.photos.append((photo_bytes(store, photo["sha256"]) if present else "",
                             f"{caption} {taken}".strip() if present
                             else f"{caption}：照片文件缺失（{photo['sha256'][:8]}）"))
    return sheet


def _photo_cell(photo: bytes | str, caption: str, style) -> list[Flowable]:
    if not photo:
        return [para(caption, style)]
    import io

    from PIL import Image as PILImage

    def source() -> io.BytesIO | str:
        return io.BytesIO(photo) if isinstance(photo, bytes) else photo

    with PILImage.open(source()) as im:
        w, h = im.size
    scale = min(THUMB_W / w, THUMB_H / h)
    return [Image(source(), width=w * scale, height=h * scale), para(caption, style)]


def sheet_story(sheet: PatrolSheet) -> list[Flowable]:
    st = styles()
    width, _ = text_block_size()
    cs = cell_styles(10.5)
    r = sheet.record or {}

    def p(text: str) -> Flowable:
        return para(text, cs["left"])

    def line(value: object, blank: str = "") -> str:
        return str(value) if value not in (None, "") else blank

    stage = [r["stage"]] if r else []
    result = [r["result"]] if r else []
    patrollers = "、".join(r.get("patrollers") or []) if r else ""
    meter = line(r.get("meter_reading"))
    rows: list[list] = [
        [p("巡查编号"), p(r.get("uuid", "")[:8] if r else ""), p("年度"), p(str(sheet.year))],
        [p("巡查节点"), p(boxes(list(PatrolStage), stage)), "", ""],
        [p("巡查日期"), p(_date(r.get("visited_on")) if r else "\u3000\u3000年\u3000月\u3000日"),
         p("巡查人"), p(patrollers)],
        [p("陪同人"), p(line(r.get("escort"))), p("协议编号"), p(sheet.agreement)],
        [p("乡镇/村"), p(f"{sheet.township} {sheet.village}".strip()), p("户主"), p(sheet.household)],
        [p("地块"), p(sheet.parcel), p("退减方式/面积"), p(sheet.measure)],
        [p("地表状况"), p(boxes(GROUND_STATES, r.get("ground_state") or [])), "", ""],
        [p("灌溉痕迹"), p(boxes(IRRIGATION_SIGNS, r.get("irrigation_signs") or [])), "", ""],
        [p("机井状况"), p(boxes(WELL_STATES, r.get("well_state") or []) + f"  电表读数：{meter}"), "", ""],
        [p("判定"), p(boxes(list(PatrolResult), result)), "", ""],
        [p("问题描述"), p(line(r.get("description"))), "", ""],
        [p("整改要求"), p(line(r.get("rect_requirement"))), "", ""],
        [p("整改期限"), p(_date(r.get("rect_deadline"))), p("责任人"), p(line(r.get("rect_responsible")))],
        [p("通知日期"), p(_date(r.get("rect_notified_on"))), p("当事人签字"),
         p(boxes(RECT_SIGNATURES, [r["rect_signature"]] if r.get("rect_signature") else []))],
        [p("处理措施"), p(boxes(RECTIFICATION_ACTIONS, [r["rect_action"]] if r.get("rect_action") else [])),
         "", ""],
        [p("复查日期"), p(_date(r.get("recheck_on"))), p("结案日期"), p(_date(r.get("closed_on")))],
        [p("复查结果"), p(line(r.get("recheck_result"))), "", ""],
    ]
    photos = sheet.photos or [("", f"{slot}照片（粘贴或冲印）") for slot in PHOTO_SLOTS]
    photo_cells = [_photo_cell(photo, caption, cs["center"]) for photo, caption in photos[:3]]
    photo_cells += [[] for _ in range(3 - len(photo_cells))]
    rows.append([p("现场照片"), *photo_cells])
    rows.append([p("签字"), p("巡查人："), p("当事人（拒签的注明）："), p("村委会：")])
    spans = [("SPAN", (1, i), (3, i)) for i, row in enumerate(rows) if row[2] == ""]
    last = len(rows) - 1  # the signature row; the photo row is just above it
    tall = {10: 16 * mm, 11: 10 * mm, last - 1: THUMB_H + 8 * mm, last: 14 * mm}
    heights = [tall.get(i) for i in range(len(rows))]
    col = [width * 0.14, width * 0.3, width * 0.26, width * 0.3]
    table = Table(rows, colWidths=col, rowHeights=heights,
                  style=table_style(*spans, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                    ("VALIGN", (1, 10), (-1, 11), "TOP"), header_rows=0))
    title = "退地减水巡查记录表"
    how = "■为勾选项" if sheet.record else "请在□内打√"
    legend = f"说明：{how}；现场照片不少于3张（全景、近景、机井/电表）。"
    title_style = ParagraphStyle("patrol_title", parent=st["title"], fontSize=18, leading=24, spaceAfter=8)
    return [PageGroupStart(), para(title, title_style), table, para(legend, st["note"])]


def sheets_story(sheets: list[PatrolSheet]) -> list[Flowable]:
    story: list[Flowable] = []
    for n, sheet in enumerate(sheets):
        if n:
            story.append(PageBreak())
        story += sheet_story(sheet)
    return story
