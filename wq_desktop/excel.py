"""Excel in and out (openpyxl), for offices that work in WPS or Excel.

Out: the 包联清单, the 公示 table and the 三级汇总表, each with a merged title row, a bold filled
header, borders, widths, numbers as numbers (two decimals), a frozen header and A4 landscape print
setup that repeats the header. IDs and phones are masked as in the printed documents.

In: an operator roster, in three steps so nothing is written before the user agrees:
``read_roster(path)`` → columns and rows; ``preview_roster(store, rows, mapping, village)`` →
one result per row (ok, or a Chinese error); ``import_roster(store, preview)`` writes the ok rows
in one transaction through ``store.create``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import figures, validation
from .errors import ValidationError
from .model import OperatorKind
from .rules import identity, masking
from .rules.phones import format_phone, normalize_phone
from .store import Store
from .summary import COVERAGE_STAGES, Summary, find_village, summarize

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_FONT = "宋体"  # present in every Windows and WPS install


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    kind: str = "text"  # text | int | mu (2 decimals) | pct | rate (a number when it is one, else text)


def _cell_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "mu":  # a figure of record, as a number Excel's SUM adds up to the printed 合计
        return float(figures.show(value))
    if kind == "pct":
        return float(value) if isinstance(value, Fraction) else value
    if kind == "rate":  # "400.00" is a number; "400.00/300.00" (two measures) stays text
        try:
            return float(figures.show(value))
        except ValueError:
            return str(value) or None
    return value


def write_table(path: str | os.PathLike[str], title: str, columns: Sequence[Column],
                rows: Sequence[Sequence[Any]], *, sheet: str = "Sheet1", note: str = "",
                bold_rows: Sequence[int] = ()) -> Path:
    """One formatted sheet: title row 1, header row 2, data from row 3 (bold_rows: 0-based)."""
    wb = Workbook()
    ws: Worksheet = wb.active
    ws.title = sheet[:31]
    fill_sheet(ws, title, columns, rows, note=note, bold_rows=bold_rows)
    out = Path(path)
    wb.save(out)
    return out


def fill_sheet(ws: Worksheet, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]],
               *, note: str = "", bold_rows: Sequence[int] = ()) -> None:
    """Lay one table out on a sheet as `write_table` does (several sheets in one workbook)."""
    n = len(columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(1, 1, title).font = Font(name=_FONT, size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    for c, col in enumerate(columns, start=1):
        cell = ws.cell(2, c, col.title)
        cell.font = Font(name=_FONT, size=10, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = col.width
    ws.row_dimensions[2].height = 32
    body_font, bold_font = Font(name=_FONT, size=10), Font(name=_FONT, size=10, bold=True)
    bold = set(bold_rows)
    for r, row in enumerate(rows, start=3):
        for c, (col, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = ws.cell(r, c, _cell_value(value, col.kind))
            cell.border = _BORDER
            cell.font = bold_font if r - 3 in bold else body_font
            if col.kind == "mu" or (col.kind == "rate" and isinstance(cell.value, float)):
                cell.number_format = "0.00"
                cell.alignment = Alignment(horizontal="right", vertical="center")
            elif col.kind == "pct":
                cell.number_format = "0.0%"
                cell.alignment = Alignment(horizontal="right", vertical="center")
            elif col.kind == "int":
                cell.number_format = "0"
                cell.alignment = Alignment(horizontal="right", vertical="center")
            else:
                # "@" keeps masked IDs and codes as text in WPS/Excel, never as numbers.
                cell.number_format = "@"
                cell.alignment = Alignment(vertical="center", wrap_text=True)
    if note:
        r = len(rows) + 4
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
        ws.cell(r, 1, note).font = Font(name=_FONT, size=9)
        ws.cell(r, 1).alignment = Alignment(wrap_text=True)
        ws.row_dimensions[r].height = 30
    ws.freeze_panes = "A3"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


# --- exports ---------------------------------------------------------------------------


def export_contacts(store: Store, year: int, path: str | os.PathLike[str], village: str | None = None,
                    *, masked: bool = True) -> Path:
    from .printing.contact_list import HEADERS, contact_list_data

    data = contact_list_data(store, year, village, masked=masked)
    kinds = ("int", "text", "text", "text", "text", "text", "text", "int", "mu", "mu", "mu", "text",
             "text", "text", "text", "int", "text")
    widths = (6, 10, 18, 14, 22, 14, 16, 7, 11, 11, 11, 24, 18, 16, 6, 7, 14)
    columns = [Column(t, w, k) for t, w, k in zip(HEADERS, widths, kinds, strict=True)]
    rows: list[list[Any]] = [
        [n, r.township, r.village, r.name, r.id_code, r.phone, r.land_attributes, r.parcels,
         r.verified_mu, r.retired_mu, r.fallow_mu, r.leader.replace("\n", " "), r.staff.replace("\n", " "),
         r.signed, r.publicized, r.patrols, r.note] for n, r in enumerate(data.rows, start=1)]
    rows.append([None, f"合计（{len(data.rows)}户）", None, None, None, None, None, data.total("parcels"),
                 data.total("verified_mu"), data.total("retired_mu"), data.total("fallow_mu"), None, None,
                 None, None, data.total("patrols"), None])
    from .printing.contact_list import INTERNAL_ONLY

    sheet = "包联清单" if masked else f"包联清单（{INTERNAL_ONLY}）"
    return write_table(path, data.title, columns, rows, sheet=sheet, note=data.left_out_note,
                       bold_rows=[len(rows) - 1])


def export_notice(store: Store, year: int, path: str | os.PathLike[str], village: str) -> Path:
    from .printing.notice import HEADERS, notice_data

    data = notice_data(store, year, village)
    kinds = ("int", "text", "text", "text", "text", "text", "mu", "mu", "mu", "rate", "mu", "text")
    widths = (6, 8, 16, 22, 22, 16, 12, 12, 12, 12, 13, 10)
    columns = [Column(t, w, k) for t, w, k in zip(HEADERS, widths, kinds, strict=True)]
    rows: list[list[Any]] = [
        [n, r.group, r.name, r.masked_id, r.land_attribute, r.parcel, r.verified_mu, r.retired_mu,
         r.fallow_mu, r.rate, r.subsidy, r.note] for n, r in enumerate(data.rows, start=1)]
    rows.append([None, f"合计（{data.households}户，{len(data.rows)}块）", None, None, None, None,
                 data.total("verified_mu"), data.total("retired_mu"), data.total("fallow_mu"), None,
                 data.total("subsidy"), None])
    note = (f"公示时间：{data.start_on.year}年{data.start_on.month}月{data.start_on.day}日至"
            f"{data.end_on.year}年{data.end_on.month}月{data.end_on.day}日，共{data.days}天")
    return write_table(path, data.title, columns, rows, sheet="公示", note=note, bold_rows=[len(rows) - 1])


def summary_rows(root: Summary, village_code: str | None = None) -> list[tuple[str, Summary]]:
    if village_code:
        row = root.find(village_code)
        return [(row.name, row)] if row else []
    out: list[tuple[str, Summary]] = []
    for township in root.children:
        out += [(v.name, v) for v in township.children]
        out.append((f"{township.name}小计", township))
    out.append((f"{root.name}合计", root))
    return out


def export_summary(store: Store, year: int, path: str | os.PathLike[str], village: str | None = None,
                   only_township: str | None = None) -> Path:
    from .model import LandAttribute
    from .printing.summary_table import COLUMNS, NOTE, summary_table_data

    root = summarize(store, year, only_township)
    code = find_village(store, village)["code"] if village else None
    title = summary_table_data(store, year, village, only_township).title
    kinds = ("text", "int", "int", "mu", "mu", "mu", "mu", "mu", "mu", "mu", "int", "pct", "text",
             "pct", "pct", "pct", "int", "pct")
    widths = (22, 8, 8, 13, 13, 13, 13, 13, 13, 14, 8, 9, 9, 9, 9, 9, 8, 10)
    columns = [Column(t, w, k) for t, w, k in zip(COLUMNS, widths, kinds, strict=True)]
    lines = summary_rows(root, code)
    rows = [[label, s.households, s.parcels, s.verified_mu,
             *(s.retired_by_attribute.get(a.value, 0) for a in LandAttribute), s.retired_mu, s.fallow_mu,
             s.subsidy, s.signed, s.signing_rate, f"{s.villages_publicized}/{s.villages}",
             *(s.coverage(stage) for stage in COVERAGE_STAGES), s.violations, s.rectification_rate]
            for label, s in lines]
    bold = [i for i, (_, s) in enumerate(lines) if s.level != "village"]
    return write_table(path, title, columns, rows, sheet="汇总表", note=NOTE, bold_rows=bold)


def export_roster(store: Store, path: str | os.PathLike[str], village: str | None = None, *,
                  masked: bool = True) -> Path:
    """The operators as a roster with the import's own column titles, so an unmasked copy can be
    read back by the roster import; masked (the default) it can be handed out."""
    from .ordering import group_sort_key
    from .printing.contact_list import INTERNAL_ONLY

    where, params = ("o.deleted=0", [])
    if village:
        where += " AND o.village=?"
        params.append(find_village(store, village)["uuid"])
    rows = store.conn.execute(
        "SELECT v.code, v.name, coalesce(g.name, ''), o.name, o.id_code, o.kind, o.phone, o.address,"
        " o.legal_rep, o.note, o.rowid FROM operator o JOIN village v ON v.uuid=o.village"
        ' LEFT JOIN village_group g ON g.uuid=o."group" AND g.deleted=0'
        f" WHERE {where}", params).fetchall()
    rows.sort(key=lambda r: (r[0], group_sort_key(r[2]) if r[2] else (-1, ""), r[10]))
    titles = ["序号", "村", *(ROSTER_FIELDS[f][0] for f in
                            ("name", "id_code", "kind", "phone", "group", "address", "legal_rep", "note"))]
    kinds = ("int", "text", "text", "text", "text", "text", "text", "text", "text", "text")
    widths = (6, 18, 14, 24, 12, 16, 8, 24, 12, 18)
    columns = [Column(t, w, k) for t, w, k in zip(titles, widths, kinds, strict=True)]
    table = [[n, r[1], r[3], masking.mask_id(r[4]) if masked else r[4], r[5],
              (masking.mask_phone(r[6]) if masked else format_phone(r[6])) if r[6] else "",
              r[2], r[7], r[8], r[9]] for n, r in enumerate(rows, start=1)]
    internal = "" if masked else f"（{INTERNAL_ONLY}）"
    scope = find_village(store, village)["name"] if village else "全部"
    return write_table(path, f"{scope}耕地经营者花名册{internal}", columns, table,
                       sheet=f"花名册{internal}")


def export_patrols(store: Store, year: int, path: str | os.PathLike[str], village: str | None = None
                   ) -> Path:
    """The year's patrol records with their rectification state (no personal data)."""
    from .queries.household import rectification_state

    where, params = ("t.deleted=0 AND p.deleted=0 AND t.year=?", [year])
    if village:
        where += " AND p.village=?"
        params.append(find_village(store, village)["uuid"])
    cur = store.conn.execute(
        "SELECT v.name, coalesce(o.name, ''), p.code, t.stage, t.visited_on, t.patrollers, t.result,"
        " t.description, t.rect_requirement, t.rect_deadline, t.recheck_on, t.closed_on"
        " FROM patrol t JOIN parcel p ON p.uuid=t.parcel JOIN village v ON v.uuid=p.village"
        f" LEFT JOIN operator o ON o.uuid=p.operator WHERE {where}"
        " ORDER BY v.code, t.visited_on, p.code", params)
    titles = ("序号", "村", "户主", "地块编号", "巡查节点", "巡查日期", "巡查人", "判定", "问题描述",
              "整改要求", "整改期限", "整改状态", "复查日期", "结案日期")
    widths = (6, 18, 12, 12, 8, 12, 16, 12, 24, 24, 12, 10, 12, 12)
    columns = [Column(t, w, "int" if t == "序号" else "text") for t, w in zip(titles, widths, strict=True)]
    import json

    table = []
    for n, r in enumerate(cur.fetchall(), start=1):
        state = rectification_state({"result": r[6], "rect_requirement": r[8], "rect_deadline": r[9],
                                     "closed_on": r[11]})
        table.append([n, r[0], r[1], r[2], r[3], r[4], "、".join(json.loads(r[5] or "[]")), r[6],
                      r[7], r[8], r[9], state, r[10], r[11]])
    scope = find_village(store, village)["name"] if village else "全部"
    return write_table(path, f"{scope}{year}年度退地减水巡查记录", columns, table, sheet="巡查记录")


# --- roster import ---------------------------------------------------------------------

# field -> (Chinese label, header words that suggest it, required)
ROSTER_FIELDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "name": ("户主姓名/名称", ("户主", "姓名", "名称", "经营者"), True),
    "id_code": ("身份证号/统一社会信用代码", ("身份证", "证件", "信用代码"), True),
    "kind": ("经营者类型", ("类型", "主体"), False),
    "phone": ("联系电话", ("电话", "手机"), False),
    "group": ("所属组", ("组",), False),
    "address": ("住址", ("住址", "地址"), False),
    "legal_rep": ("法定代表人", ("法定代表人", "法人"), False),
    "note": ("备注", ("备注",), False),
}


@dataclass(frozen=True)
class Roster:
    columns: list[str]
    rows: list[dict[str, Any]]  # column title -> cell value; "_row" -> Excel row number


@dataclass(frozen=True)
class RosterResult:
    row: int  # Excel row number, as the user sees it
    values: dict[str, Any]  # field -> value ready for store.create
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class RosterPreview:
    village: str  # UUID
    village_name: str
    results: list[RosterResult] = field(default_factory=list)

    @property
    def ok_rows(self) -> list[RosterResult]:
        return [r for r in self.results if r.ok]

    @property
    def error_rows(self) -> list[RosterResult]:
        return [r for r in self.results if not r.ok]


ROSTER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def _roster_cells(path: Path) -> list[list[Any]]:
    """The first sheet's cells, from .xlsx as well as the .xls old WPS/Excel write (calamine
    reads both); every failure is a Chinese message, never the library's own text."""
    from python_calamine import CalamineWorkbook, PasswordError

    if path.suffix.lower() not in ROSTER_SUFFIXES:
        raise ValidationError(f"“{path.name}”不是Excel文件：花名册请用 .xlsx 或 .xls 格式。")
    if not path.is_file():
        raise ValidationError(f"找不到文件“{path.name}”。")
    try:
        book = CalamineWorkbook.from_path(str(path))
        if not book.sheet_names:
            raise ValidationError(f"“{path.name}”中没有工作表。")
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except ValidationError:
        raise
    except PasswordError:
        raise ValidationError(f"“{path.name}”设有打开密码：请在WPS或Excel中取消密码后另存，再导入。"
                              ) from None
    except Exception:  # calamine raises several kinds, all meaning "not a readable workbook"
        raise ValidationError(f"无法读取“{path.name}”：文件已损坏，或不是Excel表格（扩展名与内容不符）。"
                              "请在WPS或Excel中打开后另存为 .xlsx 再导入。") from None


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """The first sheet: the header is the first row with at least two filled cells (a merged
    title row above it is skipped); rows with nothing in them are dropped."""
    columns: list[str] | None = None
    rows: list[dict[str, Any]] = []
    for number, values in enumerate(_roster_cells(Path(path)), start=1):
        values = [None if v == "" else v for v in values]
        if columns is None:
            if sum(v is not None for v in values) >= 2:
                columns = [str(v).strip() if v is not None else f"第{i + 1}列"
                           for i, v in enumerate(values)]
            continue
        if all(v is None for v in values):
            continue
        row = {c: v for c, v in zip(columns, values, strict=False)}
        row["_row"] = number
        rows.append(row)
    if columns is None:
        raise ValidationError("Excel文件中没有找到表头（至少两列有标题的一行）。")
    return Roster(columns, rows)


def suggest_mapping(columns: Sequence[str]) -> dict[str, str]:
    """field -> column title, guessed from the header words; the user confirms or changes it."""
    mapping: dict[str, str] = {}
    for f, (_, words, _) in ROSTER_FIELDS.items():
        for col in columns:
            if col not in mapping.values() and any(w in col for w in words):
                mapping[f] = col
                break
    return mapping


def _text(value: Any, label: str) -> str:
    if isinstance(value, float):
        if value >= 1e15:
            # Excel keeps 15 significant digits: the last digits of an 18-digit ID are gone.
            raise ValidationError(f"{label}被Excel存成了数字，后几位已丢失；请将该列设为“文本”格式后重新录入")
        value = int(value) if value.is_integer() else value
    return "" if value is None else str(value).strip()


def preview_roster(store: Store, rows: Sequence[dict[str, Any]], mapping: dict[str, str],
                   village: str) -> RosterPreview:
    """Check every row as the store would, writing nothing; errors are Chinese and name the row."""
    missing = [ROSTER_FIELDS[f][0] for f, (_, _, required) in ROSTER_FIELDS.items()
               if required and not mapping.get(f)]
    if missing:
        raise ValidationError(f"请先为以下字段选择Excel列：{'、'.join(missing)}")
    v = find_village(store, village)
    groups = {g["name"]: g["uuid"] for g in store.find("village_group", "village=?", (v["uuid"],))}
    seen: dict[str, int] = {}
    results: list[RosterResult] = []
    for raw in rows:
        number = int(raw.get("_row", 0))
        try:
            values = _row_values(raw, mapping, v["uuid"], groups)
            values["id_code"] = identity.normalize_identity(values["kind"], values["id_code"])
            key = values["id_code"].upper()
            if key in seen:
                raise ValidationError(f"证件号与第{seen[key]}行重复")
            clash = validation.id_clash(store, v["uuid"], values["id_code"], None)
            if clash:  # the operator rule's own sentence, as the form and 数据检查 say it
                raise ValidationError(clash)
            seen[key] = number
            if values.get("phone"):
                values["phone"] = normalize_phone(values["phone"])
            needs_rep = values["kind"] in (OperatorKind.COOPERATIVE, OperatorKind.COMPANY)
            if needs_rep and not values.get("legal_rep"):
                raise ValidationError(f"{values['kind']}请填写法定代表人")
            results.append(RosterResult(number, values))
        except ValidationError as err:
            results.append(RosterResult(number, {}, f"第{number}行：{err.message.rstrip('。')}。"))
    return RosterPreview(v["uuid"], v["name"], results)


def _row_values(raw: dict[str, Any], mapping: dict[str, str], village: str,
                groups: dict[str, str]) -> dict[str, Any]:
    def get(f: str) -> str:
        col = mapping.get(f)
        return _text(raw.get(col), ROSTER_FIELDS[f][0]) if col else ""

    name = get("name")
    if not name:
        raise ValidationError("户主姓名/名称为空")
    kind = get("kind") or OperatorKind.FARMER.value
    if kind not in {k.value for k in OperatorKind}:
        raise ValidationError(f"经营者类型“{kind}”无效，应为{'、'.join(k.value for k in OperatorKind)}之一")
    id_code = get("id_code")
    if not id_code:
        raise ValidationError("身份证号/统一社会信用代码为空")
    values: dict[str, Any] = {"village": village, "name": name, "kind": kind, "id_code": id_code}
    group = get("group")
    if group:
        if group not in groups:
            raise ValidationError(f"本村没有“{group}”，请先添加该组或修改表格")
        values["group"] = groups[group]
    for f in ("phone", "address", "legal_rep", "note"):
        text = get(f)
        if text:
            values[f] = text
    return values


def import_roster(store: Store, preview: RosterPreview) -> int:
    """Write the preview's ok rows in one transaction; if any row now fails (data changed since
    the preview), nothing is written and the row is named."""
    count = 0
    with store.transaction():
        for result in preview.ok_rows:
            try:
                store.create("operator", result.values)
            except ValidationError as err:
                raise ValidationError(
                    f"第{result.row}行导入失败：{err.message}本次没有导入任何记录，请重新预览后再导入。"
                ) from None
            count += 1
    return count
