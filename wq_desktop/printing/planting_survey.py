"""种植面积摸底核查汇总表及用水量测算 (plan (二)1, (三)4, (五), (六)1): four tables on GB/T 9704 pages.

一、三级种植面积摸底核查汇总表: 实际种植 (含庭院) by land attribute, 退减灌溉, 休耕轮作.
二、种植作物结构及用水量测算表: per unit each crop's area, share, 亩均需水量 and water use, the unit's
    合计 beside its target.
三、退减目标完成情况: each village's planned 亩 beside the measures and the signed agreements.
四、2021–2025 年度变化: toward the city's 2025 cap.

The figures come from wq_desktop.planting / water_use / targets (figures of record); this module
lays them out. The Excel export reads the same `*_lines` functions, so paper and sheet agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from reportlab.platypus import Flowable, PageBreak, Spacer, Table

from wq_desktop import targets as targets_mod
from wq_desktop.figures import ZERO
from wq_desktop.planting import ATTRIBUTES, PlantingRow, planting_survey, scoped
from wq_desktop.printing.common import cell_styles, mu
from wq_desktop.printing.page import para, styles, table_style, text_block_size
from wq_desktop.store import Store
from wq_desktop.summary import find_village, fmt_rate
from wq_desktop.water_use import WaterUseRow, water_use

ATTRIBUTE_SHORT = ("承包确权地", "集体机动地", "确权外国有地")  # order of LandAttribute
DASH = "—"

SURVEY_COLUMNS = ("单位", "实际种植-合计(亩)", *(f"实际种植-{a}(亩)" for a in ATTRIBUTE_SHORT),
                  "实际种植-庭院种植(亩)", "退减灌溉-合计(亩)",
                  *(f"退减灌溉-{a}(亩)" for a in ATTRIBUTE_SHORT), "休耕轮作-合计(亩)",
                  *(f"休耕轮作-{a}(亩)" for a in ATTRIBUTE_SHORT), "庭院种植户数")
CROP_COLUMNS = ("单位", "作物", "种植面积(亩)", "占实际种植", "亩均需水量(m³/亩)", "测算用水量(万m³)",
                "未定额面积(亩)", "用水量控制目标(万m³)", "与目标相差(万m³)")
PROGRESS_COLUMNS = ("村", "计划退减灌溉(亩)", "计划休耕轮作(亩)", "计划合计(亩)", "已落实措施(亩)",
                    "落实率", "已签协议(亩)", "签约率", "村用水量目标(万m³)", "碎片化地块")
SERIES_COLUMNS = ("年度", "实际种植(含庭院)(亩)", "退减灌溉(亩)", "休耕轮作(亩)", "测算用水量(万m³)",
                  "用水总量控制目标(万m³)", "地下水用水量控制目标(万m³)")

SURVEY_NOTE = ("注：实际种植面积含庭院种植面积；退减灌溉、休耕轮作面积按本年度措施统计，协议终止的不计；"
               "庭院种植不退减、不享受补助。面积单位：亩。")
CROP_NOTE = ("注：测算用水量＝种植面积×亩均需水量÷10000，每行按0.01万立方米取整，合计为各行之和；"
             "没有亩均需水量的作物面积列为未定额面积，不计入用水量（不按零计）。"
             "“与目标相差”为正表示低于控制目标，为负表示超出。")
PROGRESS_NOTE = ("注：已落实措施为本年度登记的退减灌溉和休耕轮作面积（协议终止的不计），已签协议为其中"
                 "协议已签订、已公示或已报备的面积；落实率、签约率以计划合计为分母；碎片化地块按数据检查"
                 "“碎片化”规则认定。")


def series_note() -> str:
    return (f"注：按方案要求，确保{targets_mod.CAP_YEAR}年全市地下水用水量控制在"
            f"{targets_mod.CITY_GROUNDWATER_CAP_2025}万立方米以内；本表为本数据库所含乡镇的农业种植测算，"
            "“尚无数据”表示该年度未登记措施或庭院种植。")


def water(value: Decimal | None) -> str:
    return DASH if value is None else mu(value)


@dataclass(frozen=True)
class Line:
    level: str  # "village" | "township" | "city" | "crop"
    cells: tuple[str, ...]  # display texts, in the order of the table's columns
    values: tuple[object, ...] = ()  # the same cells as numbers (Decimal/int/Fraction/None) for Excel


def _survey_line(label: str, row: PlantingRow) -> Line:
    values: tuple[object, ...] = (
        row.planted_mu, *(row.planted_by_attribute[a] for a in ATTRIBUTES), row.courtyard_mu,
        row.retired_mu, *(row.retired_by_attribute[a] for a in ATTRIBUTES),
        row.fallow_mu, *(row.fallow_by_attribute[a] for a in ATTRIBUTES))
    cells = (*(mu(v) for v in values), str(row.courtyard_households))
    return Line(row.level, (label, *cells), (label, *values, row.courtyard_households))


Unit = PlantingRow | WaterUseRow


def _units(root: Unit, village_code: str | None) -> list[tuple[str, Unit]]:
    """(label, row) in print order: each township's villages, its 小计, then the city 合计."""
    if village_code:
        row = root.find(village_code)
        return [(row.name, row)]
    out: list[tuple[str, Unit]] = []
    for township in root.children:
        out += [(v.name, v) for v in township.children]
        out.append((f"{township.name}小计", township))
    out.append((f"{root.name}合计", root))
    return out


def survey_lines(root: PlantingRow, village_code: str | None = None) -> list[Line]:
    return [_survey_line(label, row) for label, row in _units(root, village_code)]


def _crop_block(label: str, row: WaterUseRow, with_crops: bool) -> list[Line]:
    lines = []
    if with_crops:
        for i, c in enumerate(row.lines):
            share = Fraction(c.area_mu) / Fraction(row.planted_mu) if row.planted_mu else None
            quota = c.quota
            lines.append(Line("crop", (
                label if i == 0 else "", c.crop, mu(c.area_mu), fmt_rate(share),
                DASH if quota is None else mu(quota),
                water(c.water_wan_m3), mu(c.unquoted_mu) if c.unquoted_mu else "", "", ""),
                (label, c.crop, c.area_mu, share, quota, c.water_wan_m3, c.unquoted_mu or None, None,
                 None)))
    total_label = "合计" if row.level != "village" or with_crops else ""
    lines.append(Line(row.level, (
        label, total_label, mu(row.planted_mu),
        fmt_rate(Fraction(1) if row.planted_mu else None), "",
        mu(row.water_wan_m3), mu(row.unquoted_mu), water(row.target_wan_m3), water(row.margin_wan_m3)),
        (label, total_label, row.planted_mu, Fraction(1) if row.planted_mu else None, None,
         row.water_wan_m3, row.unquoted_mu, row.target_wan_m3, row.margin_wan_m3)))
    return lines


def crop_lines(root: WaterUseRow, village_code: str | None = None) -> list[Line]:
    """Crop rows for every village and township (and the city when it holds several townships),
    each followed by its 合计 row."""
    lines: list[Line] = []
    for label, row in _units(root, village_code):
        with_crops = row.level != "city" or len(root.children) > 1
        lines += _crop_block(label, row, with_crops)
    return lines


def progress_lines(rows: list[targets_mod.VillageProgress]) -> list[Line]:
    lines = []
    sums = [ZERO] * 5
    for r in rows:
        values = (r.target_retired_mu, r.target_fallow_mu, r.target_mu, r.measured_mu, r.signed_mu)
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        lines.append(Line("village", (
            r.name, *(mu(v) for v in values[:4]), fmt_rate(r.measured_share), mu(r.signed_mu),
            fmt_rate(r.signed_share), water(r.target_water_wan_m3),
            str(len(r.fragmented)) if r.fragmented else "无"),
            (r.name, *values[:4], r.measured_share, r.signed_mu, r.signed_share, r.target_water_wan_m3,
             len(r.fragmented))))
    if rows:
        target, measured, signed = sums[2], sums[3], sums[4]
        measured_share = Fraction(measured) / Fraction(target) if target else None
        signed_share = Fraction(signed) / Fraction(target) if target else None
        fragments = sum(len(r.fragmented) for r in rows)
        lines.append(Line("township", (
            "合计", *(mu(v) for v in sums[:4]), fmt_rate(measured_share), mu(signed),
            fmt_rate(signed_share), "", str(fragments) if fragments else "无"),
            ("合计", *sums[:4], measured_share, signed, signed_share, None, fragments)))
    return lines


def series_lines(points: list[targets_mod.YearPoint]) -> list[Line]:
    lines = []
    for p in points:
        if not p.has_data:
            cells = (f"{p.year}年", "尚无数据", "", "", "", water(p.target_wan_m3),
                     water(p.groundwater_target_wan_m3))
            values: tuple[object, ...] = (f"{p.year}年", None, None, None, None, p.target_wan_m3,
                                          p.groundwater_target_wan_m3)
        else:
            cells = (f"{p.year}年", mu(p.planted_mu), mu(p.retired_mu), mu(p.fallow_mu),
                     mu(p.water_wan_m3), water(p.target_wan_m3), water(p.groundwater_target_wan_m3))
            values = (f"{p.year}年", p.planted_mu, p.retired_mu, p.fallow_mu, p.water_wan_m3,
                      p.target_wan_m3, p.groundwater_target_wan_m3)
        lines.append(Line("village", cells, values))
    return lines


@dataclass(frozen=True)
class PlantingDocument:
    title: str
    scope: str
    year: int
    survey: list[Line]
    crops: list[Line]
    progress: list[Line]
    series: list[Line]  # empty for a single village


def planting_document(store: Store, year: int, village: str | None = None) -> PlantingDocument:
    root = planting_survey(store, year)
    code = find_village(store, village)["code"] if village else None
    scoped(root, code)  # a clear message for a code outside the tree
    use = water_use(store, year, root)
    progress = targets_mod.progress(store, year)
    if code:
        scope = root.find(code).name
        progress = [p for p in progress if p.code == code]
    else:
        scope = "、".join(t.name for t in root.children) if len(root.children) == 1 else root.name
    series = [] if code else series_lines(targets_mod.five_year_series(
        store, targets_mod.series_years(year)))
    return PlantingDocument(f"{scope}{year}年度种植面积摸底核查汇总表及用水量测算", scope, year,
                            survey_lines(root, code), crop_lines(use, code), progress_lines(progress),
                            series)


def _table(header_rows: list[list[str]], lines: list[Line], fractions: tuple[float, ...],
           spans: list[tuple], *, left_columns: int = 1, size: float = 8) -> Table:
    width, _ = text_block_size(landscape=True)
    cs = cell_styles(size)
    body: list[list] = [[para(t, cs["header"]) for t in row] for row in header_rows]
    for line in lines:
        bold = line.level in ("township", "city")
        body.append([para(t, cs["header"] if bold else cs["left"]) if i < left_columns else t
                     for i, t in enumerate(line.cells)])
    n = len(header_rows)
    bold_rows = [("FONT", (0, r), (-1, r), cs["header"].fontName, size)
                 for r, line in enumerate(lines, start=n) if line.level in ("township", "city")]
    return Table(body, colWidths=[width * f for f in fractions], repeatRows=n,
                 style=table_style(*spans, *bold_rows, ("ALIGN", (left_columns, n), (-1, -1), "RIGHT"),
                                   ("FONTSIZE", (left_columns, n), (-1, -1), size - 0.5),
                                   header_rows=n, size=size))


def planting_story(doc: PlantingDocument) -> list[Flowable]:
    st = styles()
    story: list[Flowable] = [para(doc.title, st["title"])]
    top = ["单位", "实际种植面积（含庭院种植面积）", "", "", "", "", "退减灌溉面积", "", "", "",
           "休耕轮作面积", "", "", "", "庭院种植户数"]
    second = ["", "合计", *ATTRIBUTE_SHORT, "庭院种植", "合计", *ATTRIBUTE_SHORT, "合计",
              *ATTRIBUTE_SHORT, ""]
    spans = [("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (5, 0)), ("SPAN", (6, 0), (9, 0)),
             ("SPAN", (10, 0), (13, 0)), ("SPAN", (14, 0), (14, 1))]
    fractions = (0.13, *([0.062] * 13), 0.064)
    story += [para(f"一、{doc.year}年度村、乡镇、市三级种植面积摸底核查汇总表（单位：亩）", st["heading1"]),
              _table([top, second], doc.survey, fractions, spans), Spacer(1, 4),
              para(SURVEY_NOTE, st["note"]), PageBreak()]
    story += [para(f"二、{doc.year}年度种植作物结构及用水量测算表", st["heading1"]),
              _table([list(CROP_COLUMNS)], doc.crops,
                     (0.17, 0.1, 0.1, 0.08, 0.1, 0.11, 0.1, 0.12, 0.12), [], left_columns=2),
              Spacer(1, 4), para(CROP_NOTE, st["note"]), PageBreak()]
    story += [para(f"三、{doc.year}年度退减目标完成情况", st["heading1"])]
    if doc.progress:
        story += [_table([list(PROGRESS_COLUMNS)], doc.progress,
                         (0.17, 0.09, 0.09, 0.09, 0.09, 0.08, 0.09, 0.08, 0.12, 0.1), []),
                  Spacer(1, 4), para(PROGRESS_NOTE, st["note"])]
    else:
        story.append(para("尚未登记村级退减目标。", st["body"]))
    if doc.series:
        story += [Spacer(1, 12), para(f"四、{targets_mod.PLAN_YEARS[0]}—{doc.series[-1].cells[0]}"
                                      "各年度种植、退减与用水量", st["heading1"]),
                  _table([list(SERIES_COLUMNS)], doc.series, (0.1, 0.16, 0.13, 0.13, 0.15, 0.16, 0.17), []),
                  Spacer(1, 4), para(series_note(), st["note"])]
    return story
