"""村/乡镇/市 三级汇总表: village rows, a 小计 per township, the city 合计 (domain.md "Other tables").

The numbers come from `wq_desktop.summary.summarize`; this module only lays them out and rounds
them for display. No personal data appears in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.platypus import Flowable, Spacer, Table

from wq_desktop.model import LandAttribute
from wq_desktop.printing.common import cell_styles, money, mu
from wq_desktop.printing.page import para, styles, table_style, text_block_size
from wq_desktop.store import Store
from wq_desktop.summary import COVERAGE_STAGES, Summary, find_village, fmt_rate, summarize

ATTRIBUTE_SHORT = ("承包确权地", "集体机动地", "确权外国有地")  # order of LandAttribute
# Flat column titles (Excel and tests use these); the PDF groups some under two-row headers.
COLUMNS = ("单位", "户数", "地块数", "核实种植面积(亩)",
           *(f"退减灌溉-{a}(亩)" for a in ATTRIBUTE_SHORT), "退减灌溉-小计(亩)", "休耕轮作面积(亩)",
           "补助金额(元)", "签约户数", "签约率", "已公示村数",
           *(f"巡查覆盖率-{s}" for s in COVERAGE_STAGES), "违规数", "整改完成率")
NOTE = ("注：户数、地块数指本年度实施退减灌溉或休耕轮作的农户和地块（协议终止的不计）；巡查覆盖率＝"
        "该节点巡查过的退减地块数÷退减地块数；整改完成率＝已结案违规数÷违规数；“—”表示无可计算的数据。")


@dataclass(frozen=True)
class SummaryLine:
    label: str
    level: str
    cells: tuple[str, ...]  # display values, same order as COLUMNS[1:]


def line_values(s: Summary) -> tuple[str, ...]:
    return (
        str(s.households), str(s.parcels), mu(s.verified_mu),
        *(mu(s.retired_by_attribute.get(a.value, 0)) for a in LandAttribute), mu(s.retired_mu),
        mu(s.fallow_mu), money(s.subsidy), str(s.signed), fmt_rate(s.signing_rate),
        f"{s.villages_publicized}/{s.villages}",
        *(fmt_rate(s.coverage(stage)) for stage in COVERAGE_STAGES), str(s.violations),
        fmt_rate(s.rectification_rate))


def summary_lines(root: Summary, village_code: str | None = None) -> list[SummaryLine]:
    """Rows in print order: each township's villages, its 小计, then the city 合计."""
    if village_code:
        row = root.find(village_code)
        return [SummaryLine(row.name, row.level, line_values(row))] if row else []
    lines: list[SummaryLine] = []
    for township in root.children:
        lines += [SummaryLine(v.name, v.level, line_values(v)) for v in township.children]
        lines.append(SummaryLine(f"{township.name}小计", township.level, line_values(township)))
    lines.append(SummaryLine(f"{root.name}合计", root.level, line_values(root)))
    return lines


@dataclass(frozen=True)
class SummaryTableData:
    title: str
    lines: list[SummaryLine]


def summary_table_data(store: Store, year: int, village: str | None = None,
                       only_township: str | None = None) -> SummaryTableData:
    root = summarize(store, year, only_township)
    if village:
        v = find_village(store, village)
        return SummaryTableData(f"{v['name']}{year}年度退地减水汇总表", summary_lines(root, v["code"]))
    scope = "、".join(t.name for t in root.children) if len(root.children) == 1 else root.name
    return SummaryTableData(f"{scope}{year}年度退地减水三级汇总表", summary_lines(root))


def summary_story(data: SummaryTableData) -> list[Flowable]:
    st = styles()
    width, _ = text_block_size(landscape=True)
    cs = cell_styles(8)
    top = ["单位", "户数", "地块数", "核实种植面积(亩)", "退减灌溉面积(亩)", "", "", "",
           "休耕轮作面积(亩)", "补助金额(元)", "签约户数", "签约率", "已公示村数", "巡查覆盖率", "", "",
           "违规数", "整改完成率"]
    second = ["", "", "", "", *ATTRIBUTE_SHORT, "小计", "", "", "", "", "", *COVERAGE_STAGES, "", ""]
    body: list[list] = [[para(t, cs["header"]) for t in top], [para(t, cs["header"]) for t in second]]
    for line in data.lines:
        body.append([para(line.label, cs["left"] if line.level == "village" else cs["header"]),
                     *line.cells])
    spans = [("SPAN", (c, 0), (c, 1)) for c in (0, 1, 2, 3, 8, 9, 10, 11, 12, 16, 17)]
    spans += [("SPAN", (4, 0), (7, 0)), ("SPAN", (13, 0), (15, 0))]
    bold_rows = [("FONT", (0, r), (-1, r), cs["header"].fontName, 8)
                 for r, line in enumerate(data.lines, start=2) if line.level != "village"]
    fractions = (0.105, 0.04, 0.04, 0.065, 0.065, 0.065, 0.065, 0.065, 0.06, 0.08, 0.04, 0.045, 0.045,
                 0.045, 0.045, 0.045, 0.035, 0.05)
    widths = [width * f for f in fractions]
    table = Table(body, colWidths=widths, repeatRows=2,
                  style=table_style(*spans, *bold_rows, ("ALIGN", (1, 2), (-1, -1), "RIGHT"),
                                    ("FONTSIZE", (1, 2), (-1, -1), 7.5), header_rows=2, size=8))
    return [para(data.title, st["title"]), table, Spacer(1, 4), para(NOTE, st["note"])]
