"""《退减灌溉（休耕轮作）协议书》: one per operator and year (domain.md §1).

The agreement is the one document that carries the operator's full ID number and phone: it is
signed by the operator and kept by the three parties, never posted. A village batch prints every
live agreement into one PDF, each starting on a new page with its own "第X页 共Y页".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table

from wq_desktop import figures
from wq_desktop.errors import ValidationError
from wq_desktop.model import MeasureKind, OperatorKind
from wq_desktop.printing.common import cell_styles, cells, full_phone, money, mu
from wq_desktop.printing.page import (
    PageGroupStart,
    format_cn_date,
    para,
    styles,
    table_style,
    text_block_size,
)
from wq_desktop.rules import amount_words
from wq_desktop.store import Store
from wq_desktop.summary import ZERO, Household, find_operator, find_village, load_households

BLANK_DATE = "\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日"


@dataclass(frozen=True)
class SubsidyLine:
    kind: str
    rate: Decimal | None
    area: Decimal
    amount: Decimal


def mode_name(h: Household) -> str:
    """退减灌溉, 休耕轮作, or both, as the measures of the year say."""
    retired = any(p.retired_mu > 0 for p in h.parcels)
    fallow = any(p.fallow_mu > 0 for p in h.parcels)
    if retired and fallow:
        return "退减灌溉（休耕轮作）"
    return "休耕轮作" if fallow else "退减灌溉"


def subsidy_lines(h: Household) -> list[SubsidyLine]:
    """The clause's "面积×标准=金额" lines: per measure and rate, the summed areas and amounts of
    record. A line must multiply out on paper; where the parcels' amounts (each rounded to the 分)
    do not add up to the summed area × rate, that measure and rate is listed parcel by parcel.
    Either way the lines add up to the household's amounts of record, as in the 公示."""
    groups: dict[tuple[str, Decimal | None], list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for p in h.retiring_parcels:
        for kind, area in ((MeasureKind.RETIRED.value, p.retired_mu),
                           (MeasureKind.FALLOW.value, p.fallow_mu)):
            if area > 0:
                groups[(kind, p.rates.get(kind))].append((area, p.amounts.get(kind, ZERO)))
    lines: list[SubsidyLine] = []
    for (kind, rate), parts in groups.items():
        area, amount = figures.total(a for a, _ in parts), figures.total(m for _, m in parts)
        if rate is None or figures.amount(area, rate) == amount:
            lines.append(SubsidyLine(kind, rate, area, amount))
        else:
            lines += [SubsidyLine(kind, rate, a, m) for a, m in parts]
    return sorted(lines, key=lambda s: (s.kind != MeasureKind.RETIRED, s.rate or 0))


def _party_lines(h: Household, township_name: str, village_name: str) -> list[str]:
    is_person = h.kind == OperatorKind.FARMER
    id_label = "居民身份证号" if is_person else "统一社会信用代码"
    rep = f"\u3000\u3000法定代表人：{h.legal_rep}" if h.legal_rep else ""
    return [
        f"甲方：{township_name}人民政府",
        f"乙方（耕地经营者）：{h.name}{rep}",
        f"{id_label}：{h.id_code}",
        f"联系电话：{full_phone(h.phone) or '＿＿＿＿＿＿'}\u3000\u3000住址：{h.address or '＿＿＿＿＿＿'}",
        f"丙方（见证方）：{village_name}村民委员会",
    ]


def _parcel_table(h: Household) -> Table:
    width, _ = text_block_size()
    cs = cell_styles(9)
    head = ["序号", "地块编号", "坐落（小地名）及水源", "土地属性", "四至",
            "核实种植面积(亩)", "退减灌溉面积(亩)", "休耕轮作面积(亩)", "原种植作物"]
    rows: list[list] = [cells(head, cs["header"])]
    parcels = h.retiring_parcels
    for n, p in enumerate(parcels, start=1):
        place = "\n".join(t for t in (p.place_name, p.water_source) if t)
        rows.append([
            str(n), para(p.code, cs["center"]), para(place, cs["left"]), para(p.land_attribute, cs["left"]),
            para(p.boundaries.replace("；", "\n"), cs["left"]), mu(p.verified_mu), mu(p.retired_mu),
            mu(p.fallow_mu), para(p.crop, cs["center"])])
    totals = h.totals(parcels)
    rows.append(["合计", "", "", "", f"{totals.parcels}块", mu(totals.verified_mu),
                 mu(totals.retired_mu), mu(totals.fallow_mu), ""])
    fractions = (0.05, 0.10, 0.13, 0.13, 0.17, 0.11, 0.11, 0.11, 0.09)
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1,
                  style=table_style(("SPAN", (0, -1), (3, -1)), ("ALIGN", (5, 1), (7, -1), "RIGHT"),
                                    ("FONTSIZE", (0, 1), (-1, -1), 9), size=9))
    return table


def _signature_table(h: Household, township_name: str, village_name: str, signed: str) -> Table:
    width, _ = text_block_size()
    cs = cell_styles(12)
    rep = "法定代表人（签字）：" if h.legal_rep else ""
    seal_room = 24 * mm  # room for a 42 mm seal that may overlap the text
    rows = [
        cells([f"甲方（盖章）：{township_name}人民政府", "乙方（签字并按手印）："], cs["left"]),
        cells(["代表人（签字）：", rep], cs["left"]),
        cells([f"日期：{signed}", f"日期：{signed}"], cs["left"]),
        cells([f"丙方（盖章）：{village_name}村民委员会", "乙方手印："], cs["left"]),
        cells(["代表人（签字）：", ""], cs["left"]),
        cells([f"日期：{signed}", ""], cs["left"]),
    ]
    heights = [seal_room, None, None, seal_room, None, None]
    return Table(rows, colWidths=[width / 2, width / 2], rowHeights=heights,
                 style=table_style(("GRID", (0, 0), (-1, -1), 0, (1, 1, 1)),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"), header_rows=0, size=12))


def check_printable(h: Household, year: int) -> None:
    """An agreement (and its 附件1) needs the year's agreement record and land to retire."""
    if not h.agreement:
        raise ValidationError(f"{h.name}（{h.village_name}）{year}年度尚无协议记录，请先起草协议。")
    if not h.retiring_parcels:
        raise ValidationError(
            f"{h.name}（{h.village_name}）{year}年度没有退减灌溉或休耕轮作地块，无法生成协议。")


def agreement_story(h: Household, year: int) -> list[Flowable]:
    """The flowables of one agreement, starting a new page-number group."""
    check_printable(h, year)
    parcels = h.retiring_parcels
    st = styles()
    mode = mode_name(h)
    number = h.agreement["number"] or ""
    signed_on = h.agreement.get("signed_on")
    signed = format_cn_date(date.fromisoformat(signed_on)) if signed_on else BLANK_DATE
    lines = subsidy_lines(h)
    total = figures.total(s.amount for s in lines)
    totals = h.totals(parcels)
    retired, fallow = totals.retired_mu, totals.fallow_mu
    township, village = h.township_name, h.village_name

    def body(text: str) -> Flowable:
        return para(text, st["body"])

    def head(text: str) -> Flowable:
        return para(text, st["heading1"])

    rate_text = "；".join(
        f"{s.kind}{mu(s.area)}亩×{money(s.rate) if s.rate is not None else '—'}元/亩"
        f"={money(s.amount)}元" for s in lines)
    story: list[Flowable] = [
        PageGroupStart(f"协议编号：{number}"),
        para(f"昌吉市{township}{year}年度\n{mode}协议书", st["title"]),
        para(f"协议编号：{number}", st["date"]),
        Spacer(1, 4),
        *(para(line, st["body_noindent"]) for line in _party_lines(h, township, village)),
        body("为落实《昌吉市退地减水工作实施方案》，保护和合理利用地下水资源，根据《中华人民共和国水法》"
             "《地下水管理条例》《昌吉州地下水保护管理条例》等规定，甲、乙、丙三方本着自愿、平等的原则，"
             "经协商一致，签订本协议。"),
        head("一、退减地块"),
        body(f"乙方自愿对下列{len(parcels)}块耕地实施{mode}，面积合计{mu(retired + fallow)}亩，其中退减灌溉"
             f"{mu(retired)}亩、休耕轮作{mu(fallow)}亩。地块位于{township}{village}，地块示意图及界址点坐标见附件1。"),
        _parcel_table(h),
        head("二、退减方式与期限"),
        body(f"退减期限自本协议签订之日起至{year}年12月31日止。退减灌溉地块在期限内不得以任何方式灌溉；"
             "休耕轮作地块按甲方要求休耕或轮作，不得灌溉。土地承包经营权仍归乙方所有。"),
        head("三、补助标准与支付"),
        body(f"补助按面积计算：{rate_text}。补助金额合计人民币（大写）{amount_words.amount_in_words(total)}"
             f"（小写：¥{money(total)}元）。补助实行“先实施后补助、先公示后兑现”，经甲方组织验收合格、"
             "在本村公示期满无异议后，通过惠民惠农财政补贴资金“一卡通”发放至乙方账户。"),
        head("四、乙方义务"),
        body("（一）不得春灌、冬灌、压碱水等任何形式的灌溉；（二）不得种植或复播农作物，种植绿肥须经甲方同意；"
             "（三）不得使用机电井或私接水源，配合封井、铅封和计量；（四）不得将地块转包给他人灌溉种植，"
             "不得改变土地用途，保护地界标志；（五）配合甲方在秋翻、冬压、春播等节点的巡查。"),
        head("五、甲方义务"),
        body("（一）按本协议约定及时足额支付补助；（二）在本村公示退减面积及补助，接受监督；"
             "（三）对乙方给予技术指导，保护乙方的土地承包经营权益。"),
        head("六、违约责任"),
        body("乙方违反本协议第四条的，甲方责令其限期整改；拒不整改的，由乙方承担铲除作物等费用，"
             "甲方扣减或追回补助，取消乙方下一年度参与资格；情节严重的，移交水行政主管部门依照"
             "《中华人民共和国水法》《地下水管理条例》处理。"),
        head("七、争议解决"),
        body("履行本协议发生争议的，由各方协商解决；协商不成的，可申请村、乡（镇）调解，"
             "或向农村土地承包仲裁机构申请仲裁，也可依法向人民法院提起诉讼。"),
        # The last clause stays with the signatures, so no page carries signatures alone.
        KeepTogether([
            head("八、其他"),
            body("本协议一式三份，甲、乙、丙三方各执一份，具有同等法律效力，自三方签字盖章之日起生效。"),
            body("附件：1.地块示意图及界址点坐标表 2.乙方身份证明复印件 3.土地承包经营权证复印件"),
            Spacer(1, 8), _signature_table(h, township, village, signed)]),
    ]
    return story


def agreement_households(store: Store, year: int, *, village: str | None = None,
                         operator: str | None = None) -> list[Household]:
    """Households whose agreement for `year` is printable: one operator, or a whole village
    (terminated agreements left out), ordered by agreement number."""
    if operator:
        op = find_operator(store, operator)
        households = load_households(store, year, operators=[op["uuid"]])
        h = households[0]
        if h.terminated:
            raise ValidationError(f"{h.name}{year}年度的协议已终止，不再打印。")
        _audit_full_ids(store, households)
        return households
    if not village:
        raise ValidationError("请指定村（村代码）或经营者（身份证号），以确定要打印哪些协议。")
    v = find_village(store, village)
    households = [h for h in load_households(store, year, villages=[v["uuid"]])
                  if h.agreement and not h.terminated and h.retiring_parcels]
    if not households:
        raise ValidationError(f"{v['name']}{year}年度没有可打印的协议（需有协议记录和退减地块）。")
    _audit_full_ids(store, households)
    return sorted(households, key=lambda h: h.agreement["number"] or "")


def _audit_full_ids(store: Store, households: list[Household]) -> None:
    # Agreements carry the operator's full ID number: a personal-data export in the security log.
    from .. import audit

    audit.record(store, audit.EXPORT_UNMASKED, {"kind": "协议书", "rows": len(households)})


def agreements_story(households: list[Household], year: int, store: Store | None = None
                     ) -> list[Flowable]:
    """The agreements one after another; with the store, each is followed by its 附件1 (parcel
    sketches and boundary points), counted in the agreement's pages."""
    from wq_desktop.printing.parcel_attachment import attachment_story

    story: list[Flowable] = []
    for n, h in enumerate(households):
        if n:
            story.append(PageBreak())
        story += agreement_story(h, year)
        if store is not None:
            story += attachment_story(store, h, year, new_group=False)
    return story


def attachments_story(store: Store, households: list[Household], year: int) -> list[Flowable]:
    """附件1 alone, one page-number group per agreement."""
    from wq_desktop.printing.parcel_attachment import attachment_story

    story: list[Flowable] = []
    for h in households:
        check_printable(h, year)
        story += attachment_story(store, h, year, new_group=True)
    return story[1:]  # no blank first page
