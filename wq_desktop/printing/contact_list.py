"""《退地减水包联责任落实清单》 for a village or a whole township (domain.md "Other tables").

One row per household (every live operator: the list exists so nobody is missed), with its 包联
负责人 and 工作人员. IDs and phones are masked by default; `masked=False` is for the office copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.platypus import Flowable, Spacer, Table

from wq_desktop.errors import ValidationError
from wq_desktop.model import ATTRIBUTE_SHORT, INTERNAL_ONLY
from wq_desktop.printing.common import cell_styles, mu, public_id, public_phone
from wq_desktop.printing.page import format_cn_date, para, styles, table_style, text_block_size
from wq_desktop.rules.phones import format_phone
from wq_desktop.store import Store
from wq_desktop.summary import ZERO, Household, find_village, load_households

LEGEND = "注：承包确权地＝农民土地承包确权颁证耕地；确权外国有地＝确权以外国有耕地。面积单位：亩。"
LEGEND_MASKED = "身份证号、电话已按公开要求脱敏。"
LEGEND_FULL = "本清单含完整身份证号和电话，仅限内部使用，不得张贴或外传。"
HEADERS = ("序号", "乡镇", "村", "户主", "身份证号", "联系电话", "土地属性", "地块数", "核实面积",
           "退减灌溉面积", "休耕轮作面积", "包联负责人（姓名/职务/电话）", "工作人员（姓名/电话）",
           "协议签订", "公示", "巡查次数", "备注")
_WIDTHS = (0.025, 0.035, 0.075, 0.07, 0.115, 0.075, 0.07, 0.03, 0.05, 0.05, 0.05, 0.1, 0.085,
           0.06, 0.025, 0.03, 0.055)


@dataclass(frozen=True)
class ContactRow:
    township: str
    village: str
    name: str
    id_code: str
    phone: str
    land_attributes: str
    parcels: int
    verified_mu: Decimal
    retired_mu: Decimal
    fallow_mu: Decimal
    leader: str
    staff: str
    signed: str  # "是 2026年7月28日" / "否"
    publicized: str  # 是 / 否
    patrols: int
    note: str
    counted: bool = True  # False when the agreement is 终止: listed, but not in the 退减/休耕 合计


# The 合计 of these follows summary.counts_in_totals (a 终止 agreement is not paid).
RULED_TOTALS = ("retired_mu", "fallow_mu")


@dataclass(frozen=True)
class ContactListData:
    scope: str  # "六工镇" or "六工镇示范东三工村（演示）"
    year: int
    rows: list[ContactRow]
    masked: bool

    @property
    def title(self) -> str:
        internal = "" if self.masked else f"（{INTERNAL_ONLY}）"
        return f"{self.scope}{self.year}年度退地减水包联责任落实清单{internal}"

    @property
    def title_lines(self) -> str:
        internal = "" if self.masked else f"\n（{INTERNAL_ONLY}）"
        return f"{self.scope}\n{self.year}年度退地减水包联责任落实清单{internal}"

    def total(self, attr: str) -> Decimal | int:
        rows = [r for r in self.rows if r.counted] if attr in RULED_TOTALS else self.rows
        return sum((getattr(r, attr) for r in rows), ZERO if attr.endswith("_mu") else 0)

    @property
    def left_out(self) -> list[ContactRow]:
        """Terminated households with 退减/休耕 area: listed, but left out of those totals."""
        return [r for r in self.rows if not r.counted and (r.retired_mu or r.fallow_mu)]

    @property
    def left_out_note(self) -> str:
        rows = self.left_out
        if not rows:
            return ""
        area = sum((r.retired_mu + r.fallow_mu for r in rows), ZERO)
        return f"协议已终止的 {len(rows)} 户（退减/休耕 {mu(area)} 亩）不计入退减灌溉、休耕轮作面积合计。"


def _row(h: Household, masked: bool) -> ContactRow:
    show_id = public_id if masked else (lambda v: v)
    show_phone = public_phone if masked else format_phone
    leader = staff = ""
    if h.leader:
        leader = "\n".join(t for t in (h.leader.name, h.leader.post, show_phone(h.leader.phone)) if t)
    if h.staff:
        staff = "\n".join(t for t in (h.staff.name, show_phone(h.staff.phone)) if t)
    signed = "否"
    if h.signed and h.agreement and h.agreement.get("signed_on"):
        signed = "是 " + format_cn_date(date.fromisoformat(h.agreement["signed_on"]))
    notes = [h.note] if h.note else []
    if h.terminated:
        notes.append("协议已终止")
    attributes = sorted({p.land_attribute for p in h.parcels}, key=list(ATTRIBUTE_SHORT).index)
    totals = h.totals()
    return ContactRow(
        h.township_name, h.village_name, h.name, show_id(h.id_code), show_phone(h.phone) if h.phone else "",
        "、".join(ATTRIBUTE_SHORT.get(a, a) for a in attributes), len(h.parcels),
        totals.verified_mu, totals.retired_mu, totals.fallow_mu, leader, staff, signed,
        "是" if h.publicized else "否", h.patrol_count, "；".join(notes), not h.terminated)


def contact_list_data(store: Store, year: int, village: str | None = None, *, masked: bool = True
                      ) -> ContactListData:
    """For one village (code or UUID), or for every village of the store's township."""
    if village:
        v = find_village(store, village)
        township = store.get("township", v["township"])["name"]
        households = load_households(store, year, villages=[v["uuid"]])
        scope = f"{township}{v['name']}"
    else:
        townships = store.find("township", order_by="code")
        if not townships:
            raise ValidationError("数据库中还没有乡镇，无法生成包联清单。")
        households = load_households(store, year)
        scope = "、".join(t["name"] for t in townships)
    if not masked:  # the office copy with full IDs and phones: in the security log
        from .. import audit

        audit.record(store, audit.EXPORT_UNMASKED, {"kind": "包联清单", "rows": len(households)})
    return ContactListData(scope, year, [_row(h, masked) for h in households], masked)


def contact_list_story(data: ContactListData) -> list[Flowable]:
    st = styles()
    width, _ = text_block_size(landscape=True)
    cs = cell_styles(7.5)
    body: list[list] = [[para(h, cs["header"]) for h in HEADERS]]
    for n, r in enumerate(data.rows, start=1):
        body.append([str(n), para(r.township, cs["center"]), para(r.village, cs["center"]),
                     para(r.name, cs["center"]), r.id_code, r.phone,
                     para(r.land_attributes.replace("、", "\n"), cs["center"]), str(r.parcels),
                     mu(r.verified_mu),
                     mu(r.retired_mu), mu(r.fallow_mu), para(r.leader, cs["left"]), para(r.staff, cs["left"]),
                     para(r.signed, cs["center"]), r.publicized, str(r.patrols), para(r.note, cs["left"])])
    body.append([f"合计（{len(data.rows)}户）", "", "", "", "", "", "", str(data.total("parcels")),
                 mu(data.total("verified_mu")), mu(data.total("retired_mu")), mu(data.total("fallow_mu")),
                 "", "", "", "", str(data.total("patrols")), ""])
    table = Table(body, colWidths=[width * f for f in _WIDTHS], repeatRows=1,
                  style=table_style(("SPAN", (0, -1), (6, -1)), ("ALIGN", (8, 1), (10, -1), "RIGHT"),
                                    size=7.5))
    legend = LEGEND + data.left_out_note + (LEGEND_MASKED if data.masked else LEGEND_FULL)
    return [para(data.title_lines, st["title"]), table, Spacer(1, 4), para(legend, st["note"])]
