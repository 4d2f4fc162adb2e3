"""Village 公示: 《××镇××村××年度退减灌溉（休耕轮作）面积及农户名单公示》 (domain.md §2).

Posted on the village board, so ID numbers are masked (652301********1234); names stay whole
because villagers must recognise the household. Landscape A4, the table header repeats on every
page, one row per 退减 parcel and a 合计 row of exact sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.platypus import Flowable, Spacer, Table

from wq_desktop.errors import ValidationError
from wq_desktop.model import MeasureKind
from wq_desktop.printing.common import cell_styles, full_phone, money, mu, public_id
from wq_desktop.printing.page import (
    format_cn_date,
    para,
    signature_block,
    styles,
    table_style,
    text_block_size,
)
from wq_desktop.rules import phones
from wq_desktop.store import Store
from wq_desktop.summary import ZERO, Contact, find_village, load_households

HEADERS = ("序号", "组", "户主姓名", "身份证号（脱敏）", "土地属性", "地块编号/位置",
           "核实种植面积(亩)", "退减灌溉面积(亩)", "休耕轮作面积(亩)", "补助标准(元/亩)", "补助金额(元)",
           "备注")
_WIDTHS = (0.035, 0.05, 0.10, 0.15, 0.11, 0.10, 0.075, 0.075, 0.075, 0.07, 0.085, 0.075)


# The township office's landline printed on every notice as 监督电话 (kept with the data file, so
# the window and the CLI print the same).
SUPERVISION_PHONE_KEY = "supervision_phone"
BLANK_PHONE = "\u3000" * 8


def supervision_phone(store: Store) -> str:
    return store.meta(SUPERVISION_PHONE_KEY) or ""


def set_supervision_phone(store: Store, text: str) -> str:
    """Save the 监督电话 (a landline like 0994-2345678, or empty); Chinese error when invalid."""
    text = (text or "").strip()
    value = phones.normalize_phone(text, "supervision_phone") if text else None
    store.set_meta(SUPERVISION_PHONE_KEY, value)
    return value or ""


@dataclass(frozen=True)
class NoticeRow:
    """One parcel line of the 公示 table, already in its public (masked) form."""

    group: str
    name: str
    masked_id: str
    land_attribute: str
    parcel: str
    verified_mu: Decimal
    retired_mu: Decimal
    fallow_mu: Decimal
    rate: str  # "400.00" or "400.00/300.00" when a parcel has both measures
    subsidy: Decimal
    note: str


@dataclass(frozen=True)
class NoticeData:
    township: str
    village: str
    village_code: str
    year: int
    start_on: date
    end_on: date
    rows: list[NoticeRow]
    contacts: list[Contact]  # objection contacts (the village's 包联负责人)
    households: int
    supervision_phone: str = ""  # normalized; "" prints a blank to fill in by hand

    @property
    def title(self) -> str:
        return f"{self.township}{self.village}{self.year}年度退减灌溉（休耕轮作）面积及农户名单公示"

    @property
    def title_lines(self) -> str:
        return f"{self.township}{self.village}{self.year}年度\n退减灌溉（休耕轮作）面积及农户名单公示"

    @property
    def days(self) -> int:
        return (self.end_on - self.start_on).days + 1

    def total(self, attr: str) -> Decimal:
        return sum((getattr(r, attr) for r in self.rows), ZERO)


def notice_data(store: Store, year: int, village: str) -> NoticeData:
    v = find_village(store, village)
    notice = store.find_one("notice", "village=? AND year=?", (v["uuid"], year))
    if notice is None:
        raise ValidationError(f"{v['name']}{year}年度尚无公示记录，请先登记公示起止日期后再打印公示。")
    township = store.get("township", v["township"])["name"]
    rows: list[NoticeRow] = []
    leaders: dict[str, Contact] = {}
    households = 0
    for h in load_households(store, year, villages=[v["uuid"]]):
        if h.leader:
            leaders.setdefault(h.leader.name, h.leader)
        if not h.participates:
            continue
        households += 1
        for p in h.retiring_parcels:
            rates = [money(p.rates[k]) for k in (MeasureKind.RETIRED, MeasureKind.FALLOW)
                     if k in p.rates and (p.retired_mu if k == MeasureKind.RETIRED else p.fallow_mu) > 0]
            place = f"{p.code} {p.place_name}".strip()
            rows.append(NoticeRow(h.group, h.name, public_id(h.id_code), p.land_attribute, place,
                                  p.verified_mu, p.retired_mu, p.fallow_mu, "/".join(rates), p.subsidy,
                                  "" if h.kind == "农户" else h.kind))
    return NoticeData(township, v["name"], v["code"], year, date.fromisoformat(notice["start_on"]),
                      date.fromisoformat(notice["end_on"]), rows, list(leaders.values()), households,
                      supervision_phone(store))


def _table(data: NoticeData) -> Table:
    width, _ = text_block_size(landscape=True)
    cs = cell_styles(9)
    body: list[list] = [[para(h, cs["header"]) for h in HEADERS]]
    for n, r in enumerate(data.rows, start=1):
        body.append([str(n), r.group, para(r.name, cs["center"]), r.masked_id,
                     para(r.land_attribute, cs["center"]), para(r.parcel, cs["center"]),
                     mu(r.verified_mu), mu(r.retired_mu), mu(r.fallow_mu),
                     # Two rates break after the slash, inside their cell.
                     para(r.rate.replace("/", "/\n"), cs["right"]), money(r.subsidy),
                     para(r.note, cs["center"])])
    body.append([f"合计（{data.households}户，{len(data.rows)}块）", "", "", "", "", "",
                 mu(data.total("verified_mu")), mu(data.total("retired_mu")), mu(data.total("fallow_mu")),
                 "", money(data.total("subsidy")), ""])
    return Table(body, colWidths=[width * f for f in _WIDTHS], repeatRows=1,
                 style=table_style(("SPAN", (0, -1), (5, -1)), ("ALIGN", (6, 1), (10, -1), "RIGHT"),
                                   size=9))


def notice_story(data: NoticeData) -> list[Flowable]:
    st = styles()
    start, end = format_cn_date(data.start_on), format_cn_date(data.end_on)
    # Officials' numbers are the objection channel the notice exists to publish, so they stay whole;
    # households' numbers never appear here.
    contacts = "；".join(f"{c.name}{f'（{c.post}）' if c.post else ''} {full_phone(c.phone)}".strip()
                        for c in data.contacts)
    return [
        para(data.title_lines, st["title"]),
        para(f"根据《昌吉市{data.year}年退地减水工作实施方案》，经入户核实、村两委审核，现将本村"
             f"{data.year}年度退减灌溉（休耕轮作）面积及农户名单予以公示。公示期内，如有异议，请以书面形式"
             "实名向村民委员会或乡镇人民政府反映，并留下联系方式。", st["body_small"]),
        Spacer(1, 6),
        _table(data),
        Spacer(1, 6),
        para(f"公示时间：{start}至{end}，共{data.days}天", st["body_small"]),
        para(f"异议受理联系人：{contacts or '村民委员会'}", st["body_small"]),
        para(f"监督电话：{full_phone(data.supervision_phone) or BLANK_PHONE}（{data.township}人民政府）",
             st["body_small"]),
        # The seal goes over the issuer and the date (GB/T 9704 §7.3.5.1).
        *signature_block(f"{data.village}村民委员会（盖章）", data.start_on),
    ]
